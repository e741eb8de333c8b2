/**
 * Compact ranges (`parse({ compact: true })`, what the CLI's compiles use): the module and the
 * diagnostics are those of an ordinary parse — every range at the same line, column and offset —
 * on generated modules, the examples folder, edited (often broken) sources and a file large
 * enough for the parser to release its tokens. Diagnostics stay plain data, and the incremental
 * parser never reuses a compact tree. A compact parse's commonest nodes (names, member accesses,
 * arguments, record types) are their own range (one object, not two), with the own keys of an
 * ordinary parse's node in its order.
 *
 * Runs per property: ORCH_PROPERTY_RUNS (default 150).
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { reparse } from '../incremental.js';
import { parse, RELEASE_TOKENS_FROM, type CapabilityCall, type PlanDecl, type StepDecl } from '../index.js';
import { print } from '../printer.js';
import { parenthesize } from '../print-precedence.js';
import type { Expr } from '../ast-expressions.js';
import { endLine, endOffset, startLine, startOffset } from '../source.js';
import { stripRanges } from '../tree-equality.js';
import type { Range } from '../diagnostic.js';
import { arbModule, GENERATED_FILE } from './arbitraries.js';
import { EXAMPLE_FILES } from './helpers.js';

const RUNS = Number(process.env.ORCH_PROPERTY_RUNS) > 0 ? Number(process.env.ORCH_PROPERTY_RUNS) : 150;
const TIMEOUT = 60_000 + RUNS * 200;

const EXAMPLES = EXAMPLE_FILES.map((f) => readFileSync(f, 'utf8'));

/** Every range in the tree, in walk order, as line/column/offset numbers. */
function ranges(node: unknown, out: number[][] = []): number[][] {
  if (Array.isArray(node)) {
    for (const x of node) ranges(x, out);
  } else if (node !== null && typeof node === 'object') {
    const entries = Object.entries(node);
    // A compact name node is its own range: `range` is a getter of its class, not an own key.
    if (!Object.hasOwn(node, 'range') && 'kind' in node && 'range' in node) entries.push(['range', node.range]);
    for (const [k, v] of entries) {
      if (k === 'range') {
        const r = v as { start: { line: number; column: number; offset: number }; end: { line: number; column: number; offset: number } };
        out.push([r.start.line, r.start.column, r.start.offset, r.end.line, r.end.column, r.end.offset]);
      } else ranges(v, out);
    }
  }
  return out;
}

/** The compact parse of `text` says exactly what the ordinary one says. */
function sameAsOrdinary(text: string, file = 'compact.orch'): void {
  const ordinary = parse({ file, text });
  for (const mode of [true, 'nodes'] as const) {
    const compact = parse({ file, text, compact: mode });
    // JSON sees a compact range through its toJSON; the walk reads it through its getters.
    expect(JSON.stringify(compact.module), text).toBe(JSON.stringify(ordinary.module));
    expect(ranges(compact.module)).toEqual(ranges(ordinary.module));
    expect(JSON.stringify(compact.diagnostics), text).toBe(JSON.stringify(ordinary.diagnostics));
    for (const d of compact.diagnostics) {
      expect(Object.getPrototypeOf(d.range)).toBe(Object.prototype);
      expect(structuredClone(d)).toEqual(d);
    }
  }
}

describe('compact ranges', () => {
  it('share what is the same in every step: the empty `after` list, a one-part name\'s range', () => {
    const text = 'capability f { kind tool input { n: int } output { n: int } }\nplan p {\n  step a = f(n: 1)\n  step b = f(n: a.output.n) { after a }\n}\n';
    for (const compact of [false, true]) {
      const plan = parse({ file: 'shared.orch', text, compact }).module.declarations[1] as PlanDecl;
      const [a, b] = plan.body as StepDecl[];
      const [c1, c2] = [a!.action, b!.action] as CapabilityCall[];
      expect(a!.after).toEqual([]);
      expect(Object.isFrozen(a!.after)).toBe(true);
      expect(b!.after.map((x) => x.name)).toEqual(['a']);
      expect(c1!.capability.range).toBe(c1!.capability.parts[0]!.range);
      expect(c2!.capability.range).toBe(c2!.capability.parts[0]!.range);
    }
  });

  it('make the commonest nodes (names, member accesses, arguments, record types) their own range, with an ordinary node\'s own keys', () => {
    const OWN = new Set(['Ident', 'NameExpr', 'MemberExpr', 'Argument', 'RecordType']);
    const names = (node: unknown, out: Record<string, unknown>[] = []): Record<string, unknown>[] => {
      if (Array.isArray(node)) for (const x of node) names(x, out);
      else if (node !== null && typeof node === 'object') {
        const n = node as Record<string, unknown>;
        if (OWN.has(n.kind as string)) out.push(n);
        for (const [k, v] of Object.entries(n)) if (k !== 'range') names(v, out);
      }
      return out;
    };
    let seen = 0;
    const kinds = new Set<string>();
    for (const text of EXAMPLES) {
      const ordinary = names(parse({ file: 'n.orch', text }).module);
      const compact = names(parse({ file: 'n.orch', text, compact: 'nodes' }).module);
      expect(compact.length).toBe(ordinary.length);
      compact.forEach((n, i) => {
        const o = ordinary[i] as { range: Range };
        const r = n.range as Range;
        expect(r).toBe(n);
        expect(Object.keys(n)).toEqual(Object.keys(o));
        expect(stripRanges({ ...n })).toEqual(stripRanges(o));
        // The formatter's copies (parentheses added) keep the range.
        if (n.kind === 'MemberExpr') expect(parenthesize(n as unknown as Expr).range).toBe(r);
        expect([startOffset(r), endOffset(r), startLine(r), endLine(r)]).toEqual([o.range.start.offset, o.range.end.offset, o.range.start.line, o.range.end.line]);
        expect([r.start, r.end]).toEqual([o.range.start, o.range.end]);
        expect(JSON.stringify(n)).toBe(JSON.stringify(o));
        expect(JSON.stringify({ range: r })).toBe(JSON.stringify({ range: o.range }));
        expect(stripRanges(n)).toEqual(stripRanges(o));
        kinds.add(n.kind as string);
        seen++;
      });
    }
    expect(seen).toBeGreaterThan(1000);
    expect(kinds).toEqual(OWN);
  });

  it('make the same module as an ordinary parse (examples folder)', () => {
    expect(EXAMPLES.length).toBeGreaterThan(5);
    for (const text of EXAMPLES) sameAsOrdinary(text);
  });

  it('make the same module and diagnostics on generated and edited modules (property)', () => {
    const FRAGMENTS = ['{', '}', '(', ')', ',', ':', '"${a.b}"', 'x', '.', 'and', '/// doc\n', 'step x = a.b()', 'not', '-'];
    const edit = fc.record({ at: fc.nat(), deleteCount: fc.nat({ max: 8 }), insert: fc.constantFrom(...FRAGMENTS, '') });
    fc.assert(
      fc.property(arbModule, fc.array(edit, { maxLength: 2 }), (ast, edits) => {
        let text = print(ast);
        for (const e of edits) {
          const at = e.at % (text.length + 1);
          text = text.slice(0, at) + e.insert + text.slice(at + e.deleteCount);
        }
        sameAsOrdinary(text, GENERATED_FILE);
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);

  it('make the same module on a file large enough for the parser to release its tokens', () => {
    const lines = ['capability c { kind tool input { v: int } output { v: int } }', 'plan big {'];
    for (let i = 0; lines.length * 12 < RELEASE_TOKENS_FROM * 1.2; i++) {
      lines.push(i === 0 ? '  step s0 = c(v: 1)' : `  step s${i} = c(v: s${i - 1}.output.v + 1) when not (s${i - 1}.output.v < 0)`);
    }
    lines.push('}');
    sameAsOrdinary(lines.join('\n'));
  });

  it('are never moved by the incremental parser: the next text is parsed in full', () => {
    const before = 'plan p {\n  step a = c.d(x: 1)\n}\n\nplan q {\n  step b = c.d(x: 2)\n}\n';
    const after = before.replace('x: 2', 'x: 22');
    const previous = { text: before, output: parse({ file: 'p.orch', text: before, compact: true }) };
    const out = reparse({ file: 'p.orch', text: after, previous, consume: true });
    expect(out.mode).toBe('full');
    expect(JSON.stringify(out.module)).toBe(JSON.stringify(parse({ file: 'p.orch', text: after }).module));
    // An ordinary previous parse of the same text is reused: what the test above rules out.
    const ordinary = { text: before, output: parse({ file: 'p.orch', text: before }) };
    expect(reparse({ file: 'p.orch', text: after, previous: ordinary }).mode).toBe('incremental');
  });
});
