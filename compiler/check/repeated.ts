/**
 * E0102 for a name given twice where each may be given once: a guardrail listed twice in a plan's
 * `guardrails`, two `success` criteria of one label, two `rate_limit`s of one capability in a
 * policy, an invariant name given twice in one scope, a step named twice in one `after`. The second is reported, with the first as
 * related information — as a step declared twice is.
 */
import { diagnostic, type Diagnostic, type Range } from '../../language/index.js';

export interface Keyed {
  /** What makes two entries the same (a resolved name, a label); none: not compared. */
  readonly key: string | undefined;
  readonly range: Range;
}

/**
 * `what(key, firstLine)`: the message for a repeat of `key` first given on line `firstLine`;
 * `related`: what the first one's related information says; `exempt(first, repeat)`: a repeat
 * another check reports already.
 */
export function repeatedEntries<E extends Keyed>(
  entries: readonly E[],
  what: (key: string, firstLine: number) => string,
  file: string,
  diags: Diagnostic[],
  opts: { readonly related?: string; readonly exempt?: (first: E, repeat: E) => boolean } = {},
): void {
  if (entries.length < 2) return;
  const first = new Map<string, E>();
  for (const entry of entries) {
    if (entry.key === undefined) continue;
    const prior = first.get(entry.key);
    if (!prior) first.set(entry.key, entry);
    else if (!opts.exempt?.(prior, entry))
      diags.push(diagnostic('E0102', what(entry.key, prior.range.start.line), file, entry.range, { related: [{ message: opts.related ?? 'first given here', file, range: prior.range }] }));
  }
}
