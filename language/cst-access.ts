/**
 * Small helpers for reading a Chevrotain CST that may be partial after error recovery.
 * Tokens inserted by recovery (virtual tokens with no text) count as absent.
 */
import type { CstElement, CstNode, IToken } from 'chevrotain';

/** Thrown (as a value, no stack) when a node the AST needs is absent after recovery. */
export const MISSING: unique symbol = Symbol('missing');
export type Missing = typeof MISSING;

export function isMissing(e: unknown): e is Missing {
  return e === MISSING;
}

export function need<T>(x: T | undefined): T {
  if (x === undefined) throw MISSING;
  return x;
}

export function isToken(e: CstElement): e is IToken {
  return (e as IToken).image !== undefined;
}

export function isRealToken(t: IToken): boolean {
  return !t.isInsertedInRecovery && Number.isFinite(t.startOffset) && t.endOffset !== undefined && Number.isFinite(t.endOffset);
}

const NONE: never[] = [];

/**
 * Whether the CST being read may contain tokens inserted by error recovery. After a parse
 * without syntax errors it cannot, and the accessors return the children arrays as they are
 * (this is the hot path on large files). Labels never mix tokens and nodes under one key.
 */
let mayHaveVirtualTokens = true;

export function setCstClean(clean: boolean): void {
  mayHaveVirtualTokens = !clean;
}

/** Real tokens under `key`. */
export function tokens(node: CstNode, key: string): IToken[] {
  const xs = node.children[key] as IToken[] | undefined;
  if (!xs) return NONE;
  if (!mayHaveVirtualTokens) return xs;
  for (const x of xs) {
    if (!isRealToken(x)) return xs.filter((y) => isToken(y) && isRealToken(y));
  }
  return xs;
}

export function token(node: CstNode, key: string, i = 0): IToken | undefined {
  const xs = node.children[key] as IToken[] | undefined;
  if (!xs) return undefined;
  if (!mayHaveVirtualTokens) return xs[i];
  return tokens(node, key)[i];
}

/** Sub-rule nodes under `key`. */
export function nodes(node: CstNode, key: string): CstNode[] {
  return (node.children[key] as CstNode[] | undefined) ?? NONE;
}

export function child(node: CstNode, key: string, i = 0): CstNode | undefined {
  const xs = node.children[key] as CstNode[] | undefined;
  return xs ? xs[i] : undefined;
}

/** The only sub-rule child of a node that wraps one alternative (e.g. `topItem`). */
export function onlyChild(node: CstNode): CstNode | undefined {
  for (const key in node.children) {
    const n = child(node, key);
    if (n) return n;
  }
  return undefined;
}

/** [start, end) offsets of a CST node from its real tokens; undefined when it has none. */
export function nodeSpan(node: CstNode): [number, number] | undefined {
  const loc = node.location;
  if (loc && Number.isFinite(loc.startOffset) && loc.endOffset !== undefined && Number.isFinite(loc.endOffset) && loc.endOffset >= loc.startOffset) {
    return [loc.startOffset, loc.endOffset + 1];
  }
  // Without location tracking: each children array is in source order, so only its first and
  // last elements that have text can hold the node's boundaries.
  let start = Infinity;
  let end = -Infinity;
  for (const key in node.children) {
    const xs = node.children[key] as CstElement[];
    for (let i = 0; i < xs.length; i++) {
      const s = elementSpan(xs[i]!);
      if (s) {
        if (s[0] < start) start = s[0];
        break;
      }
    }
    for (let i = xs.length - 1; i >= 0; i--) {
      const s = elementSpan(xs[i]!);
      if (s) {
        if (s[1] > end) end = s[1];
        break;
      }
    }
  }
  return start !== Infinity ? [start, end] : undefined;
}

function elementSpan(c: CstElement): [number, number] | undefined {
  if (isToken(c)) return isRealToken(c) ? [c.startOffset, c.endOffset! + 1] : undefined;
  return nodeSpan(c);
}
