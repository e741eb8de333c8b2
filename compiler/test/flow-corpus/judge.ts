/**
 * What `orch check` said about one plan of a pair, against what the pair expects: a violating
 * plan has exactly one finding, of its rule's code, standing in the sink's span, whose message
 * is a witness path (`←`) naming the source; a twin has none. Any other error means the corpus
 * plan itself is not valid Orch (or uses what the analysis has not defined yet).
 */
import { relative } from 'node:path';
import type { Located, Pair } from './generate.js';

interface At {
  readonly line: number;
  readonly column: number;
}

/**
 * A diagnostic as the compiler's `check` returns it or as `orch check --format json` prints it
 * (no offsets, no related information there): positions are compared by line and column.
 */
export interface Diagnostic {
  readonly code: string;
  readonly severity: string;
  readonly message: string;
  /** Absolute (the caller resolves what the CLI prints against its working folder). */
  readonly file: string;
  readonly range: { readonly start: At; readonly end: At };
  readonly related?: readonly { readonly message: string; readonly file: string; readonly range: { readonly start: At } }[];
}

/** E0902 and E0903, and what `"flows": "warn"` turns them into. */
export const FLOW_CODES: ReadonlySet<string> = new Set(['E0902', 'E0903', 'W0902', 'W0903']);
export const isFinding = (d: Diagnostic): boolean => FLOW_CODES.has(d.code);

export type Problem = 'missed' | 'wrong code' | 'wrong place' | 'no witness' | 'extra' | 'invalid';
export const PROBLEMS: readonly Problem[] = ['missed', 'wrong code', 'wrong place', 'no witness', 'extra', 'invalid'];

export interface Verdict {
  readonly pair: Pair;
  readonly plan: 'violating' | 'twin';
  readonly problems: readonly { readonly kind: Problem; readonly detail: string }[];
  /** The finding's related information points at the source (reported, not required). */
  readonly relatedAtSource: boolean;
}

const where = (dir: string, d: Diagnostic): string => `${relative(dir, d.file)}:${d.range.start.line}:${d.range.start.column}`;
const brief = (dir: string, d: Diagnostic): string => `${d.code} at ${where(dir, d)}: ${d.message}`;

const before = (a: At, b: At): boolean => a.line < b.line || (a.line === b.line && a.column < b.column);

/** The diagnostic (or related hop) starts within the span: at the argument's name, its value or anything between. */
function inside(dir: string, at: Located, d: { readonly file: string; readonly range: { readonly start: At } }): boolean {
  const s = d.range.start;
  return relative(dir, d.file) === at.file && !before(s, at.span.start) && before(s, at.span.end);
}

/** Each token as a whole word (a step id is not found inside a longer name). */
function names(text: string, token: string): boolean {
  return new RegExp(`(^|[^A-Za-z0-9_])${token.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^A-Za-z0-9_])`).test(text);
}

function invalid(dir: string, diags: readonly Diagnostic[]): { kind: Problem; detail: string }[] {
  return diags.filter((d) => d.severity === 'error' && !isFinding(d)).map((d) => ({ kind: 'invalid' as const, detail: brief(dir, d) }));
}

/** `dir` is the plan's project folder (diagnostics name files under it). */
export function judgeViolating(pair: Pair, dir: string, diags: readonly Diagnostic[]): Verdict {
  const e = pair.expect;
  const problems = invalid(dir, diags);
  const findings = diags.filter(isFinding);
  const hit = findings.find((d) => d.code === e.code && inside(dir, e.sink, d));
  // The finding this pair is about: the hit, else one at the sink with the other code; the rest are extra.
  const other = hit ? undefined : findings.find((d) => inside(dir, e.sink, d));
  let relatedAtSource = false;
  if (!findings.length) problems.push({ kind: 'missed', detail: `no finding; expected ${e.code} at ${e.sink.file}:${e.sink.span.start.line}:${e.sink.span.start.column}` });
  else if (other) problems.push({ kind: 'wrong code', detail: `${brief(dir, other)}; expected ${e.code}` });
  else if (!hit) problems.push({ kind: 'wrong place', detail: `${findings.map((d) => brief(dir, d)).join(' | ')}; expected at ${e.sink.file}:${e.sink.span.start.line}:${e.sink.span.start.column}` });
  else {
    const text = [hit.message, ...(hit.related ?? []).map((r) => r.message)].join('\n');
    const unnamed = e.tokens.filter((t) => !names(text, t));
    if (!hit.message.includes('←') || unnamed.length)
      problems.push({ kind: 'no witness', detail: `${hit.message}${unnamed.length ? ` (does not name ${unnamed.join(', ')})` : ' (no ← path)'}` });
    relatedAtSource = e.source !== null && (hit.related ?? []).some((r) => inside(dir, e.source!, r));
  }
  // Two rules broken at the one argument (notify's data class and its external channel) may be
  // one finding or two: the sink is reported either way, so more at the same sink are not extra.
  const mine = hit ?? other;
  if (mine) for (const d of findings) if (d !== mine && !(d.code === mine.code && inside(dir, e.sink, d))) problems.push({ kind: 'extra', detail: brief(dir, d) });
  return { pair, plan: 'violating', problems, relatedAtSource };
}

export function judgeTwin(pair: Pair, dir: string, diags: readonly Diagnostic[]): Verdict {
  const problems = [...invalid(dir, diags), ...diags.filter(isFinding).map((d) => ({ kind: 'extra' as const, detail: brief(dir, d) }))];
  return { pair, plan: 'twin', problems, relatedAtSource: false };
}
