/**
 * Generic traversal of the typed AST. Every node has `kind` and `range`, so children are found
 * structurally — the walker keeps working when the AST grows new node kinds.
 */
export interface AstNode {
  readonly kind: string;
  readonly range: { readonly start: { readonly offset: number }; readonly end: { readonly offset: number } };
}

function isNode(v: unknown): v is AstNode {
  return typeof v === 'object' && v !== null && typeof (v as { kind?: unknown }).kind === 'string' &&
    typeof (v as { range?: unknown }).range === 'object';
}

/** The direct child nodes of a node, in property order (arrays flattened). */
export function childrenOf(node: AstNode): AstNode[] {
  const out: AstNode[] = [];
  for (const [key, value] of Object.entries(node)) {
    if (key === 'range' || key === 'comments') continue;
    if (Array.isArray(value)) {
      for (const item of value) {
        if (isNode(item)) out.push(item);
        // String-literal parts mix strings and expressions.
      }
    } else if (isNode(value)) {
      out.push(value);
    } else if (value && typeof value === 'object' && !('line' in value)) {
      // Plain nested objects such as RetrySpec.backoff hold nodes too.
      for (const inner of Object.values(value)) if (isNode(inner)) out.push(inner);
    }
  }
  return out;
}

/**
 * Depth-first, parents before children. Returning `false` from `visit` skips the children.
 * An explicit stack, not recursion: expression chains nest thousands deep.
 */
export function walk(node: AstNode, visit: (node: AstNode, parents: readonly AstNode[]) => boolean | void): void {
  const parents: AstNode[] = [];
  // `undefined` marks the end of the children of the last parent.
  const stack: (AstNode | undefined)[] = [node];
  while (stack.length > 0) {
    const n = stack.pop();
    if (n === undefined) {
      parents.pop();
      continue;
    }
    if (visit(n, parents) === false) continue;
    parents.push(n);
    stack.push(undefined);
    const kids = childrenOf(n);
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]);
  }
}
