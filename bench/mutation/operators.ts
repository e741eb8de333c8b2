/**
 * The mutation operators of `node dist/bench/mutation/score.js` (issue #52): each takes a test's plan and
 * one step and gives a changed copy, or null where it does not apply. A fixed set, applied at
 * every step of every plan the examples' tests run — no sampling, so a score is reproducible.
 */
import type { CompiledTest, PlanIR, StepIR } from '../../compiler/index.js';

export interface Mutant {
  readonly plan: string;
  readonly step: string;
  readonly operator: string;
  /** The tests of the plan, each with the mutant in place of what it ran. */
  readonly apply: (t: CompiledTest) => CompiledTest;
}

type Operator = { readonly name: string; readonly mutate: (s: StepIR, tests: readonly CompiledTest[]) => ((t: CompiledTest) => CompiledTest) | null };

const withStep = (t: CompiledTest, id: string, f: (s: StepIR) => StepIR): CompiledTest => ({ ...t, plan: { ...t.plan, steps: t.plan.steps.map((s) => (s.id === id ? f(s) : s)) } as PlanIR });

export const OPERATORS: readonly Operator[] = [
  // a `when` condition flipped
  { name: 'when flipped', mutate: (s) => (s.when ? (t) => withStep(t, s.id, (x) => ({ ...x, when: { op: 'not', arg: x.when! } })) : null) },
  // a retry dropped
  { name: 'retry dropped', mutate: (s) => (s.retry.max > 0 ? (t) => withStep(t, s.id, (x) => ({ ...x, retry: { ...x.retry, max: 0 } })) : null) },
  // a timeout changed: a tenth of what it was — where a test can see it: a wait, an approval, or
  // a call some test's mock gives a latency. A mocked call takes no virtual time otherwise, so a
  // shorter timeout on it is an equivalent mutant under every test (only a real, slow handler
  // would tell them apart). A `wait until` keeps its timeout in its action (the scheduler arms
  // that one), so both are cut.
  {
    name: 'timeout ÷ 10',
    mutate: (s, tests) => (s.timeout_ms !== null && s.timeout_ms >= 10 && timed(s, tests) ? (t) => withStep(t, s.id, tenthOfTimeout) : null),
  },
  // approve and reject swapped: the approval step reads each decision as its opposite. The IR has
  // no field for an approval's meaning, so the swap is made where the decision enters the run.
  {
    name: 'approve ⇄ reject',
    mutate: (s, tests) =>
      tests.some((t) => t.decisions.some((d) => d.step === s.id))
        ? (t) => ({ ...t, decisions: t.decisions.map((d) => (d.step === s.id ? { ...d, decision: d.decision === 'approve' ? ('reject' as const) : ('approve' as const) } : d)) })
        : null,
  },
];

function tenthOfTimeout(s: StepIR): StepIR {
  const tenth = (ms: number | null): number | null => (ms === null ? null : Math.floor(ms / 10));
  const action = s.action.type === 'wait_until' ? { ...s.action, timeout_ms: tenth(s.action.timeout_ms) } : s.action;
  return { ...s, timeout_ms: tenth(s.timeout_ms), action };
}

function timed(s: StepIR, tests: readonly CompiledTest[]): boolean {
  return s.capability === null || s.kind === 'human' || tests.some((t) => t.mocks.some((m) => m.capability === s.capability && m.latency_ms > 0));
}

/** Every mutant of the plan the tests share, in step order then operator order. */
export function mutantsOf(planName: string, tests: readonly CompiledTest[]): Mutant[] {
  const out: Mutant[] = [];
  for (const s of tests[0]!.plan.steps) {
    for (const op of OPERATORS) {
      const apply = op.mutate(s, tests);
      if (apply) out.push({ plan: planName, step: s.id, operator: op.name, apply });
    }
  }
  return out;
}
