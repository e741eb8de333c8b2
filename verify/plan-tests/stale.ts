/**
 * Why a captured test is stale (LANGUAGE.md §9.2): `orch test` fails it listing the plan's changes
 * since the recorded `ir_hash`, as `orch diff` lists them. With the captured run's plan (read from
 * its journal, and only when its hash is the one recorded) that is `orch diff`'s own list of
 * steps and plan-level changes; without it, the changes the test itself shows: the steps and
 * capabilities it names that the plan no longer has (`- step g`), and the plan's steps outside
 * `for each` and blocks (those a capture names) that it does not name (`+ step greeted`).
 */
import { diffPlans, irHash, preview, renderPlanDiff, type CompiledTest, type PlanIR } from '../../compiler/index.js';

/** The plan a run executed, from its journal; null when it cannot be read. */
export type PastPlans = (run: string) => Promise<PlanIR | null>;

export function staleMessage(test: CompiledTest, past: PlanIR | null): string {
  const origin = test.origin;
  const recorded = origin?.ir_hash ?? '';
  const now = irHash(test.plan);
  const head = `stale: its plan changed since it was captured from run ${origin?.run ?? '?'} (ir_hash ${recorded.slice(0, 12) || '?'} → ${now.slice(0, 12)}); it no longer has ${[...new Set(test.stale)].join(', ')}`;
  const fromJournal = past !== null && irHash(past) === recorded;
  const changes = fromJournal ? diffLines(past, test.plan) : namedChanges(test);
  const source = fromJournal ? 'the plan now against the captured run’s' : 'from the names the test uses; with the captured run’s journal (--db) orch test lists every change';
  return `${head}\n  changes (${source}):\n${changes.map((l) => `    ${l}`).join('\n')}\n  recapture it with orch test --update ${test.file}`;
}

/** `orch diff`'s lines for the steps and the plan (its consequences are left to `orch diff`). */
function diffLines(past: PlanIR, plan: PlanIR): string[] {
  const text = renderPlanDiff(diffPlans(past, plan, preview(past), preview(plan), { triggers: false }));
  const lines = text.split('\n');
  const end = lines.indexOf('consequences:');
  return lines.slice(2, end < 0 ? undefined : end).filter((l) => l.length > 0);
}

function namedChanges(test: CompiledTest): string[] {
  const named = new Set<string>(test.decisions.map((d) => d.step));
  for (const e of test.expects) stepsRead(e.condition, named);
  const lines = test.staleSteps.map((s) => `- step ${s}`);
  for (const c of test.stale) if (!test.staleSteps.includes(c)) lines.push(`- capability ${c}`);
  // A capture names every step outside `for each` and blocks that ended: one of the plan's it
  // does not name is new (or did not end in the captured run).
  for (const s of test.plan.steps) if (s.for_each === null && (s.blocks ?? []).length === 0 && !named.has(s.id)) lines.push(`+ step ${s.id}`);
  return [...new Set(lines)];
}

/** The step ids an expression reads (`g.completed` → g). */
function stepsRead(expr: unknown, into: Set<string>): void {
  if (Array.isArray(expr)) return expr.forEach((x) => stepsRead(x, into));
  if (expr === null || typeof expr !== 'object') return;
  const node = expr as { op?: unknown; id?: unknown };
  if (node.op === 'step' && typeof node.id === 'string') into.add(node.id);
  for (const v of Object.values(expr)) stepsRead(v, into);
}
