/**
 * Visiting every object inside an IR value (a plan, an expression). An explicit stack, not
 * recursion or JSON text: a too-deep expression (already an E0001) still gets here and must not
 * overflow the stack, and a 100,000-step plan is walked without copying it.
 */
import type { ExprIR } from './types.js';

/**
 * An expression's direct sub-expressions, in the order the evaluator reads them (left before
 * right, an object before its index): the one list every walk over an `ExprIR` takes.
 */
export function exprChildren(e: ExprIR): readonly ExprIR[] {
  switch (e.op) {
    case 'list':
      return e.items;
    case 'record':
      return e.fields.map((f) => f.value);
    case 'concat':
      return e.parts;
    case 'get':
      return [e.object];
    case 'index':
      return [e.object, e.index];
    case 'call':
      return e.args;
    case 'not':
    case 'neg':
      return [e.arg];
    case 'range':
      return [e.from, e.to];
    case 'lit':
    case 'var':
    case 'item':
    case 'step':
    case 'secret':
    case 'block':
    case 'previous':
      return [];
    default:
      return [e.left, e.right];
  }
}

/** Calls `visit` with every plain object in `ir` (arrays are looked into); stops when it returns true. */
export function someNode(ir: unknown, visit: (node: Readonly<Record<string, unknown>>) => boolean | void): boolean {
  const stack: unknown[] = [ir];
  while (stack.length > 0) {
    const x = stack.pop();
    if (x === null || typeof x !== 'object') continue;
    if (Array.isArray(x)) {
      for (const v of x) stack.push(v);
      continue;
    }
    const o = x as Record<string, unknown>;
    if (visit(o) === true) return true;
    for (const k in o) stack.push(o[k]);
  }
  return false;
}

/** The context signals an expression reads (`context.X`), each once (LANGUAGE.md §9.4). */
export function contextReads(ir: unknown): string[] {
  const out = new Set<string>();
  someNode(ir, (n) => {
    const o = n.object as { op?: unknown; name?: unknown } | undefined;
    if (n.op === 'get' && o?.op === 'var' && o.name === 'context' && typeof n.key === 'string') out.add(n.key);
  });
  return [...out];
}
