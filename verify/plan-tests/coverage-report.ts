/**
 * The `--coverage` report of `orch test` (LANGUAGE.md §9.2): the outcomes each tested plan — and
 * each sub-plan a tested plan can run, reached by its tests or not — can show (`planOutcomes`)
 * merged with those its tests saw, per plan and in total, as text and JSON. `--coverage-min` is
 * judged on the total share.
 */
import { relative } from 'node:path';
import type { PlanIR } from '../../compiler/index.js';
import { outcomeKey, planIdentity, planOutcomes, type Outcome, type OutcomeKind, type SubplanCoverage } from './coverage.js';

export interface PlanCoverage {
  readonly plan: string;
  readonly file: string;
  /** The tests that ran it: as their plan, or as a sub-plan they reached. */
  readonly tests: number;
  readonly seen: number;
  readonly total: number;
  /** Seen / total, 0–100 (100 for a plan with no outcome). */
  readonly percent: number;
  readonly outcomes: readonly (Outcome & { readonly seen: boolean })[];
}

export interface CoverageReport {
  readonly seen: number;
  readonly total: number;
  readonly percent: number;
  readonly plans: readonly PlanCoverage[];
}

/** One test's plan and the outcome keys its run showed, with its sub-plan runs'. */
export interface CoveredTest {
  readonly plan: PlanIR;
  readonly covered: readonly string[];
  readonly subplans?: readonly SubplanCoverage[];
}

export function coverageReport(tests: readonly CoveredTest[]): CoverageReport {
  const byPlan = new Map<string, { plan: PlanIR; tests: number; seen: Set<string> }>();
  const add = (plan: PlanIR, covered: readonly string[] | undefined): void => {
    const id = planIdentity(plan);
    const entry = byPlan.get(id) ?? { plan, tests: 0, seen: new Set<string>() };
    if (covered) entry.tests++;
    for (const k of covered ?? []) entry.seen.add(k);
    byPlan.set(id, entry);
  };
  for (const t of tests) {
    add(t.plan, t.covered);
    const reached = new Map((t.subplans ?? []).map((s) => [planIdentity({ plan: s.plan, source_file: s.file }), s.covered]));
    for (const sub of reachableSubplans(t.plan)) add(sub, reached.get(planIdentity(sub)));
  }
  const plans = [...byPlan.values()]
    .map(({ plan, tests: n, seen }): PlanCoverage => {
      const outcomes = planOutcomes(plan).map((o) => ({ ...o, seen: seen.has(outcomeKey(o)) }));
      const hit = outcomes.filter((o) => o.seen).length;
      return { plan: plan.plan, file: plan.source_file, tests: n, seen: hit, total: outcomes.length, percent: percentOf(hit, outcomes.length), outcomes };
    })
    .sort((a, b) => a.file.localeCompare(b.file) || a.plan.localeCompare(b.plan));
  const seen = plans.reduce((n, p) => n + p.seen, 0);
  const total = plans.reduce((n, p) => n + p.total, 0);
  return { seen, total, percent: percentOf(seen, total), plans };
}

/** The sub-plans a plan's `run` steps can start, at any depth, each once. */
function reachableSubplans(plan: PlanIR): PlanIR[] {
  const found = new Map<string, PlanIR>();
  const visit = (p: PlanIR): void => {
    for (const sub of Object.values(p.subplans ?? {})) {
      const id = planIdentity(sub);
      if (found.has(id) || id === planIdentity(plan)) continue;
      found.set(id, sub);
      visit(sub);
    }
  };
  visit(plan);
  return [...found.values()];
}

function percentOf(seen: number, total: number): number {
  return total === 0 ? 100 : Math.floor((seen / total) * 1000) / 10;
}

const KINDS: readonly { kind: OutcomeKind; label: string }[] = [
  { kind: 'step', label: 'steps' },
  { kind: 'when', label: 'when' },
  { kind: 'approval', label: 'approvals' },
  { kind: 'retries', label: 'retries exhausted' },
  { kind: 'fallback', label: 'fallbacks' },
  { kind: 'compensation', label: 'compensations' },
  { kind: 'loop', label: 'loops' },
];

/** What a missed outcome means, in words. */
function describe(o: Outcome): string {
  switch (o.kind) {
    case 'step':
      return `${o.step} never ran`;
    case 'when':
      return `${o.step}'s when never seen ${o.outcome}`;
    case 'approval':
      return `${o.step} never ${o.outcome.replace('_', ' ')}`;
    case 'retries':
      return `${o.step} never exhausted its retries`;
    case 'fallback':
      return `${o.step}'s fallback never taken`;
    case 'compensation':
      return `${o.step}'s compensation never run`;
    case 'loop':
      return `loop ${o.step} never left by ${o.outcome === 'until' ? 'its condition' : 'max'}`;
  }
}

export function coverageText(report: CoverageReport, cwd: string): string {
  const out = ['coverage:'];
  for (const p of report.plans) {
    out.push(`  ${p.plan} (${relative(cwd, p.file) || p.file}, ${p.tests} test${p.tests === 1 ? '' : 's'}): ${p.seen}/${p.total} outcomes (${p.percent}%)`);
    const parts = KINDS.flatMap(({ kind, label }) => {
      const of = p.outcomes.filter((o) => o.kind === kind);
      return of.length === 0 ? [] : [`${label} ${of.filter((o) => o.seen).length}/${of.length}`];
    });
    out.push(`    ${parts.join(' · ')}`);
    for (const o of p.outcomes) if (!o.seen) out.push(`    not covered: ${describe(o)}`);
  }
  out.push(`  total: ${report.seen}/${report.total} outcomes (${report.percent}%)`);
  return out.join('\n');
}

/** `--coverage-min N` / `N%`: the share, 0–100; null when it is not one. */
export function parseCoverageMin(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)%?$/.exec(text.trim());
  if (!m) return null;
  const n = Number(m[1]);
  return n >= 0 && n <= 100 ? n : null;
}
