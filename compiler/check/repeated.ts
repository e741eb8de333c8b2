/**
 * E0102 for a name given twice where each may be given once: a guardrail listed twice in a plan's
 * `guardrails`, two `success` criteria of one label, two `rate_limit`s of one capability in a
 * policy. The second is reported, with the first as related information — as a step or an
 * invariant declared twice is.
 */
import { diagnostic, type Diagnostic, type Range } from '../../language/index.js';

export interface Keyed {
  /** What makes two entries the same (a resolved name, a label); none: not compared. */
  readonly key: string | undefined;
  readonly range: Range;
}

/** `what(key, firstLine)`: the message for a repeat of `key` first given on line `firstLine`. */
export function repeatedEntries(entries: readonly Keyed[], what: (key: string, firstLine: number) => string, file: string, diags: Diagnostic[]): void {
  if (entries.length < 2) return;
  const first = new Map<string, Range>();
  for (const { key, range } of entries) {
    if (key === undefined) continue;
    const prior = first.get(key);
    if (!prior) first.set(key, range);
    else diags.push(diagnostic('E0102', what(key, prior.start.line), file, range, { related: [{ message: 'first given here', file, range: prior }] }));
  }
}
