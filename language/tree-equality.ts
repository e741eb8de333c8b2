/**
 * "Equal ignoring ranges" (ast.ts): the formatter's self-check and the round-trip tests compare
 * trees with source positions removed.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Comment } from './ast.js';

/**
 * A deep copy without source positions: drops every `range` and `*Range` key and every key whose
 * value is `undefined`, and replaces `comments` by their texts.
 */
export function stripRanges(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => stripRanges(v));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (key === 'range' || key.endsWith('Range') || v === undefined) continue;
    if (key === 'comments' && Array.isArray(v)) {
      out[key] = v.map((c) => (c as Comment).text);
      continue;
    }
    out[key] = stripRanges(v);
  }
  return out;
}

export function equalIgnoringRanges(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(stripRanges(a), stripRanges(b));
}

/** A closing bracket or a key, queued among the values still to be written. */
class Emit {
  constructor(readonly text: string) {}
}

/**
 * The tree written as a flat list of tokens, with what `stripRanges` drops left out and doc
 * comments without trailing spaces; two trees are equal ignoring ranges when their lists are.
 * Iterative: trees of long expression chains nest thousands deep.
 */
export function canonicalTokens(value: unknown, options: { readonly transparentParens?: boolean } = {}): string[] {
  const out: string[] = [];
  const walk = new TokenWalk(value, options);
  for (let t = walk.next(); t !== undefined; t = walk.next()) out.push(t);
  return out;
}

/** `canonicalTokens` one token at a time: two trees are compared without either list built. */
class TokenWalk {
  private readonly stack: unknown[];
  constructor(
    value: unknown,
    private readonly options: { readonly transparentParens?: boolean },
  ) {
    this.stack = [value];
  }

  /** The next token; undefined at the end. */
  next(): string | undefined {
    const { stack, options } = this;
    if (stack.length === 0) return undefined;
    let v = stack.pop();
    // Parentheses only group: `a == (not b)` and `a == not b` are one tree when both parse so.
    while (options.transparentParens && v !== null && typeof v === 'object' && (v as { kind?: unknown }).kind === 'ParenExpr') v = (v as { inner: unknown }).inner;
    if (v instanceof Emit) return v.text;
    if (Array.isArray(v)) {
      stack.push(new Emit(']'));
      for (let i = v.length - 1; i >= 0; i--) stack.push(v[i]);
      return '[';
    }
    if (v !== null && typeof v === 'object') {
      stack.push(new Emit('}'));
      // Keys sorted (properties are set in source order, so key order is not meaning), queued
      // last-first so they come out in order.
      const record = v as Record<string, unknown>;
      const keys: string[] = [];
      for (const key in record) if (!(key === 'range' || key.endsWith('Range') || record[key] === undefined)) keys.push(key);
      keys.sort();
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]!;
        const x = record[key];
        if (key === 'comments' && Array.isArray(x)) stack.push(x.map((c) => (c as Comment).text));
        else if (key === 'doc' && typeof x === 'string') stack.push(withoutTrailingSpaces(x));
        else stack.push(x);
        stack.push(new Emit(`k${key}`));
      }
      return '{';
    }
    if (typeof v === 'number') return Object.is(v, -0) ? 'n-0' : `n${v}`;
    // One token per string: no quoting needed to keep tokens apart.
    if (typeof v === 'string') return `s${v}`;
    return `${typeof v}:${String(v)}`;
  }
}

/** Each line without trailing spaces and tabs (a loop: /[ \t]+$/gm is quadratic on long runs). */
function withoutTrailingSpaces(text: string): string {
  return text
    .split('\n')
    .map((l) => {
      let end = l.length;
      while (end > 0 && (l.charCodeAt(end - 1) === 32 || l.charCodeAt(end - 1) === 9)) end--;
      return l.slice(0, end);
    })
    .join('\n');
}

/**
 * Same tree ignoring positions: true exactly when `canonicalTokens` of the two are equal, without
 * recursion; with `transparentParens`, also ignoring where parentheses were written (the
 * grouping still counts). The two trees are walked in lockstep, node against node: the token
 * stream made a string per key and value and sorted every node's keys (a 10 MB file: millions
 * of nodes, a third of `orch fmt`'s time).
 */
export function sameIgnoringRanges(a: unknown, b: unknown, options: { readonly transparentParens?: boolean } = {}): boolean {
  const parens = options.transparentParens === true;
  const xs: unknown[] = [a];
  const ys: unknown[] = [b];
  while (xs.length > 0) {
    let x = xs.pop();
    let y = ys.pop();
    if (parens) {
      while (isParen(x)) x = (x as { inner: unknown }).inner;
      while (isParen(y)) y = (y as { inner: unknown }).inner;
    }
    if (Array.isArray(x)) {
      if (!Array.isArray(y) || x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) {
        xs.push(x[i]);
        ys.push(y[i]);
      }
      continue;
    }
    if (x !== null && typeof x === 'object') {
      if (y === null || typeof y !== 'object' || Array.isArray(y)) return false;
      const rx = x as Record<string, unknown>;
      const ry = y as Record<string, unknown>;
      const kx = keysOf(rx);
      const ky = keysOf(ry);
      if (kx.length !== ky.length) return false;
      // Both trees come from the same builders: their keys are nearly always in the same order.
      let same = true;
      for (let i = 0; i < kx.length && same; i++) same = kx[i] === ky[i];
      if (!same) {
        kx.sort();
        ky.sort();
        for (let i = 0; i < kx.length; i++) if (kx[i] !== ky[i]) return false;
      }
      for (const key of kx) {
        xs.push(valueOf(rx, key));
        ys.push(valueOf(ry, key));
      }
      continue;
    }
    if (y !== null && typeof y === 'object') return false;
    if (typeof x === 'number' || typeof y === 'number') {
      if (!(typeof x === 'number' && typeof y === 'number' && Object.is(x, y))) return false;
      continue;
    }
    if (typeof x === 'string' || typeof y === 'string') {
      if (x !== y) return false;
      continue;
    }
    if (typeof x !== typeof y || String(x) !== String(y)) return false;
  }
  return true;
}

function isParen(v: unknown): boolean {
  return v !== null && typeof v === 'object' && (v as { kind?: unknown }).kind === 'ParenExpr';
}

/** The keys `canonicalTokens` writes for a node (for…in order). */
function keysOf(record: Record<string, unknown>): string[] {
  const keys: string[] = [];
  for (const key in record) if (!(key === 'range' || key.endsWith('Range') || record[key] === undefined)) keys.push(key);
  return keys;
}

/** A node's value under `key` as `canonicalTokens` writes it. */
function valueOf(record: Record<string, unknown>, key: string): unknown {
  const x = record[key];
  if (key === 'comments' && Array.isArray(x)) return x.map((c) => (c as Comment).text);
  if (key === 'doc' && typeof x === 'string') return withoutTrailingSpaces(x);
  return x;
}
