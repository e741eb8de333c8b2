/**
 * How deep an expression nests in the compiled plan's IR: too deep is E0001 (checkExpr).
 */
import type { Expr } from '../../language/index.js';

/**
 * How deep an expression may nest in the compiled plan. The IR is JSON, read and validated by
 * recursive code (JSON.parse, the schema validator) whose stacks hold a few hundred levels;
 * chains (`a + b + …`) nest one level per operator there even though the language checks
 * them in loops.
 */
export const MAX_IR_DEPTH = 200;

/**
 * Nesting depth of `e`'s IR (parentheses add none). An explicit stack: `e` may be a long chain.
 * Runs on every argument of every step: two flat stacks, reused, and no allocation per node.
 */
export function irDepth(e: Expr): number {
  const nodes = depthNodes;
  const depths = depthLevels;
  nodes[0] = e;
  depths[0] = 1;
  let top = 1;
  let high = 1;
  let max = 0;
  while (top > 0) {
    const x = nodes[--top]!;
    const d = depths[top]!;
    if (d > max) max = d;
    const first = top;
    switch (x.kind) {
      case 'ParenExpr':
        nodes[top++] = x.inner;
        break;
      case 'StringLit':
        for (const p of x.parts) if (typeof p !== 'string') nodes[top++] = p;
        break;
      case 'ListLit':
        for (const i of x.items) nodes[top++] = i;
        break;
      case 'RecordLit':
        for (const f of x.fields) nodes[top++] = f.value;
        break;
      case 'MemberExpr':
        nodes[top++] = x.object;
        break;
      case 'IndexExpr':
        nodes[top++] = x.object;
        nodes[top++] = x.index;
        break;
      case 'CallExpr':
        for (const a of x.args) nodes[top++] = a;
        for (const a of x.named ?? []) nodes[top++] = a.value;
        break;
      case 'UnaryExpr':
        nodes[top++] = x.operand;
        break;
      case 'BinaryExpr':
        nodes[top++] = x.left;
        nodes[top++] = x.right;
        break;
      case 'RangeExpr':
        nodes[top++] = x.from;
        nodes[top++] = x.to;
        break;
      default:
        break;
    }
    // Parentheses add no level; everything else nests one deeper.
    const level = x.kind === 'ParenExpr' ? d : d + 1;
    for (let i = first; i < top; i++) depths[i] = level;
    if (top > high) high = top;
  }
  // The stacks outlive the call: drop their references to the tree.
  nodes.fill(undefined, 0, high);
  return max;
}

/** `irDepth`'s stacks, shared by every call. */
const depthNodes: (Expr | undefined)[] = [];
const depthLevels: number[] = [];
