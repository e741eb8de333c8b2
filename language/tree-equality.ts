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
