/**
 * Reports the tokens the parser consumed as recovery junk (an unknown property, a stray token
 * at the top level): one E0001 per run of consecutive junk. A run that directly follows a
 * syntax error in the same block is the tail of that mistake and is not reported again.
 */
import type { CstElement, CstNode, IToken } from 'chevrotain';
import { diagnostic, type Diagnostic } from './diagnostic.js';
import { isRealToken, isToken, nodeSpan } from './cst-access.js';
import { junkMessage } from './parse-messages.js';
import type { LineIndex } from './source.js';

/** Sub-trees that never contain junk (expressions, types, literals). */
const LEAVES = new Set([
  'expression', 'typeExpr', 'recordType', 'recordLit', 'callArgs', 'capabilityCall', 'qualifiedName',
  'nameList', 'qualifiedNameList', 'junkBraces', 'retrySpec', 'selector',
]);

interface Item {
  readonly start: number;
  readonly end: number;
  readonly junk?: IToken;
}

export function junkDiagnostics(
  root: CstNode,
  file: string,
  index: LineIndex,
  errorOffsets: readonly number[],
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const sortedErrors = [...errorOffsets].sort((a, b) => a - b);
  const visit = (node: CstNode): void => {
    const children = node.children;
    if (children.junk || children.junkBraces) report(node, sortedErrors, file, index, out);
    for (const key of Object.keys(children)) {
      for (const c of children[key] as CstElement[]) {
        if (!isToken(c) && !LEAVES.has(c.name)) visit(c);
      }
    }
  };
  visit(root);
  return out;
}

function report(node: CstNode, errors: readonly number[], file: string, index: LineIndex, out: Diagnostic[]): void {
  const items: Item[] = [];
  for (const key of Object.keys(node.children)) {
    for (const c of node.children[key] as CstElement[]) {
      const isJunk = key === 'junk' || key === 'junkBraces';
      if (isToken(c)) {
        if (!isRealToken(c)) continue;
        items.push({ start: c.startOffset, end: c.endOffset! + 1, ...(isJunk ? { junk: c } : {}) });
      } else {
        const span = nodeSpan(c);
        if (!span) continue;
        const first = isJunk ? firstToken(c) : undefined;
        items.push({ start: span[0], end: span[1], ...(first ? { junk: first } : {}) });
      }
    }
  }
  items.sort((a, b) => a.start - b.start);
  let prevStart = nodeSpan(node)?.[0] ?? 0;
  let inRun = false;
  for (const item of items) {
    if (!item.junk) {
      prevStart = item.start;
      inRun = false;
      continue;
    }
    if (inRun) continue;
    inRun = true;
    const t = item.junk;
    if (errors.some((o) => o > prevStart && o <= t.startOffset)) continue;
    out.push(diagnostic('E0001', junkMessage(node.name, t), file, index.range(t.startOffset, t.endOffset! + 1)));
  }
}

function firstToken(n: CstNode): IToken | undefined {
  let best: IToken | undefined;
  for (const key of Object.keys(n.children)) {
    for (const c of n.children[key] as CstElement[]) {
      const t = isToken(c) ? c : firstToken(c);
      if (t && isRealToken(t) && (!best || t.startOffset < best.startOffset)) best = t;
    }
  }
  return best;
}
