/**
 * What the corpus test prints: the coverage matrix (which source meets which sink through which
 * hop, and which fixes the twins make), and, when the analysis disagrees, tables of the problems
 * by source, sink and hop with the first few in full — so a reader sees at once which rule or
 * which hop the analysis misses.
 */
import type { Pair } from './generate.js';
import { HOPS } from './hops.js';
import { PROBLEMS, type Problem, type Verdict } from './judge.js';
import { FIXES, type Label } from './model.js';
import { SINKS } from './sinks.js';
import { SOURCES } from './sources.js';

/** Rows and columns in the tables' order (sources, sinks, hops as declared), then the rest by name. */
const ORDER = new Map([...SOURCES, ...SINKS, ...HOPS].map((x, i) => [x.id, i]));
const ordered = (keys: Iterable<string>, id: (k: string) => string = (k) => k): string[] =>
  [...new Set(keys)].sort((a, b) => (ORDER.get(id(a)) ?? 1e9) - (ORDER.get(id(b)) ?? 1e9) || a.localeCompare(b));

function table(head: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [head, ...rows].map((r) => r.map(String));
  const width = head.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: readonly string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join('  ');
  return [line(cells[0]!), width.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

function cross(pairs: readonly Pair[], row: (p: Pair) => string, col: (p: Pair) => string, title: string): string {
  const rows = ordered(pairs.map(row));
  const cols = ordered(pairs.map(col));
  const count = (r: string, c: string): number => pairs.filter((p) => row(p) === r && col(p) === c).length;
  const body = rows.map((r) => [r, ...cols.map((c) => count(r, c) || '·')]);
  return `${title}\n${table([title.split(' ')[0]!, ...cols], body)}`;
}

/** Pairs per source × sink, hop × sink and hop × source for each rule, and per fix. */
export function coverageMatrix(pairs: readonly Pair[]): string {
  const out: string[] = [];
  for (const label of ['integrity', 'confidentiality'] as Label[]) {
    const mine = pairs.filter((p) => p.label === label);
    out.push(`── ${label} (${mine[0]?.expect.code ?? ''}): ${mine.length} pairs`);
    out.push(cross(mine, (p) => p.source, (p) => p.sink, 'source × sink'));
    out.push(cross(mine, (p) => p.hop, (p) => p.sink, 'hop × sink'));
    out.push(cross(mine, (p) => p.hop, (p) => p.source, 'hop × source'));
  }
  const fixes = (Object.keys(FIXES) as (keyof typeof FIXES)[]).filter((f) => pairs.some((p) => p.fix === f));
  out.push(`── twins: the one change each makes\n${table(['fix', 'pairs', 'what'], fixes.map((f) => [f, pairs.filter((p) => p.fix === f).length, FIXES[f]]))}`);
  return out.join('\n\n');
}

const has = (v: Verdict, k: Problem): boolean => v.problems.some((p) => p.kind === k);

/** Violations reported right, twins clean, and how many plans are not valid Orch apart from the findings. */
export function counts(verdicts: readonly Verdict[]) {
  const violating = verdicts.filter((v) => v.plan === 'violating');
  const twins = verdicts.filter((v) => v.plan === 'twin');
  const flowOk = (v: Verdict): boolean => v.problems.every((p) => p.kind === 'invalid');
  return {
    pairs: violating.length,
    found: violating.filter(flowOk).length,
    clean: twins.filter(flowOk).length,
    invalidViolating: violating.filter((v) => has(v, 'invalid')).length,
    invalidTwins: twins.filter((v) => has(v, 'invalid')).length,
    relatedAtSource: violating.filter((v) => v.relatedAtSource).length,
  };
}

/** Problems by source, by sink, by hop; then the first `limit` in full, with the folder to look in. */
export function problemReport(verdicts: readonly Verdict[], folder: (v: Verdict) => string, limit = 40): string {
  const bad = verdicts.filter((v) => v.problems.length);
  if (!bad.length) return 'no problems';
  const head = ['', 'pairs', ...PROBLEMS.map((k) => (k === 'extra' ? 'extra (twin)' : k))];
  const section = (dim: 'source' | 'sink' | 'hop'): string => {
    const key = (v: Verdict): string => `${v.pair.label[0]}:${v.pair[dim]}`;
    const rows = ordered(verdicts.map(key), (k) => k.slice(2)).map((k) => {
      const mine = verdicts.filter((v) => key(v) === k);
      const n = (kind: Problem): number | string => {
        const c = mine.filter((v) => has(v, kind) && (kind !== 'extra' || v.plan === 'twin')).length;
        return c || '·';
      };
      return [k, new Set(mine.map((v) => v.pair.id)).size, ...PROBLEMS.map(n)];
    });
    return `by ${dim}\n${table([dim, ...head.slice(1)], rows)}`;
  };
  const lines = bad.slice(0, limit).flatMap((v) => [`${v.pair.id} [${v.plan}] ${folder(v)}`, ...v.problems.map((p) => `    ${p.kind}: ${p.detail}`)]);
  const more = bad.length > limit ? [`… and ${bad.length - limit} more plans with problems`] : [];
  return [section('source'), section('sink'), section('hop'), ['first problems in full:', ...lines, ...more].join('\n')].join('\n\n');
}
