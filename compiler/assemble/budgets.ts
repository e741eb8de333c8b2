/**
 * The `budgets` stage: the plan's estimates against its policy's budgets — W0502 when the
 * estimated cost or duration exceeds one, best case first, then with every loop at its max
 * iterations. The runtime enforces the budgets; this is the verdict the files alone allow.
 */
import { diagnostic, type Range } from '../../language/index.js';
import { stepsById, type CheckedStep } from '../check/checked-plan.js';
import type { CallIR, CapabilityIR, ResourceIR } from '../ir/types.js';
import { LedgerSum, type LedgerCall, type LedgerWorstCase } from '../budget-ledger.js';
import { reservationFor } from '../reservation.js';
import type { PlanFacts } from './plan-facts.js';
import { formatDuration } from '../duration-text.js';

export function checkBudgets(f: PlanFacts): void {
  const { policy, cp, plan, file, cost, costMax, duration, durationMax, maxIterations } = f;
  // A sub-plan reserves in its caller's ledger: the caller reads its worst case, whatever its own policy.
  if (f.cx.runTargets.has(cp.entry)) f.ledger = ledgerOf(f, null);
  if (!policy || !cp.policy) return;
  const { diags, money } = f.cx;
  const where = plan.policy?.range ?? plan.name.range;
  const limit = policy.budgets.cost;
  const ledger = limit !== null ? ledgerOf(f, limit) : undefined;
  // One step the ledger refuses whatever else runs (§9.1): an error against an enforced budget.
  for (const o of ledger?.over ?? []) {
    const id = o.step.split('/')[0]!;
    const i = f.steps.findIndex((s) => s.id === id);
    const enforced = policy.budgets.cost_warn !== true;
    const when = o.call ? 'whenever it is needed' : 'in every run';
    const inner = i >= 0 ? innerSteps(f, f.steps[i]!, o.step.split('/').slice(1)) : [];
    const related = inner.length ? { related: inner.map((h) => ({ message: `step ${h.path} of plan ${h.plan}`, file: h.file, range: h.range })) } : {};
    diags.push(diagnostic(enforced ? 'E0908' : 'W0502', `step "${o.step}"${o.call ? ` (its ${o.call})` : ''} alone reserves ${money(o.reservation)} per attempt, more than the budget ${money(limit!)} of policy ${policy.name}${enforced ? `: the budget ledger refuses it before it starts, ${when}` : ''}`, file, i >= 0 ? f.steps[i]!.decl.name.range : where, related));
  }
  // A `for each` over a list known only at run time counts one item: the verdict says so (§9.1).
  const perItem = ledger?.per_item ? ' (per item of each for each)' : '';
  if (limit !== null && cost > limit + 1e-12)
    diags.push(diagnostic('W0502', `estimated cost ${money(cost)}${perItem} of plan "${plan.name.name}" exceeds the budget ${money(limit)} of policy ${policy.name}`, file, where));
  else if (maxIterations && limit !== null && costMax > limit + 1e-12)
    diags.push(diagnostic('W0502', `estimated cost ${money(costMax)}${perItem} of plan "${plan.name.name}" when every loop runs its max iterations exceeds the budget ${money(limit)} of policy ${policy.name}`, file, where));
  else if (ledger && !ledger.over.length && ledger.cost > limit! + 1e-12)
    diags.push(diagnostic('W0502', `the budget ledger's worst case ${money(ledger.cost)}${perItem} of plan "${plan.name.name}" — every step's reservation, loops at their max — exceeds the budget ${money(limit!)} of policy ${policy.name}`, file, where));
  // Say so when it is the rate limits' waiting that takes the plan over: the steps alone fit.
  const limited = [...new Set(f.rates.filter((r) => r !== undefined).map((r) => r.key.split('.').pop()!))];
  const byRate = limited.length && duration > f.dag.duration ? ` (rate limit${limited.length > 1 ? 's' : ''} on ${limited.join(', ')} included)` : '';
  if (policy.budgets.duration_ms !== null && duration > policy.budgets.duration_ms)
    diags.push(diagnostic('W0502', `estimated duration ${formatDuration(duration)}${byRate} of plan "${plan.name.name}" exceeds the budget ${formatDuration(policy.budgets.duration_ms)} of policy ${policy.name}`, file, where));
  else if (maxIterations && policy.budgets.duration_ms !== null && durationMax > policy.budgets.duration_ms)
    diags.push(diagnostic('W0502', `estimated duration ${formatDuration(durationMax)} of plan "${plan.name.name}" when every loop runs its max iterations exceeds the budget ${formatDuration(policy.budgets.duration_ms)} of policy ${policy.name}`, file, where));
}

/**
 * The steps a ledger path (`r/b`) goes through below `run` step `s`, each where its sub-plan
 * declares it: the diagnostic stands at `r`, in the caller, and these point at the step that
 * reserves too much (§9.5), in whatever file declares its plan.
 */
function innerSteps(f: PlanFacts, s: CheckedStep, ids: readonly string[]): { path: string; plan: string; file: string; range: Range }[] {
  const hops: { path: string; plan: string; file: string; range: Range }[] = [];
  let path = s.id;
  for (const id of ids) {
    if (!s.runPlan || s.decl.action.kind !== 'RunAction') break;
    const sub = f.cx.subplan(s.runPlan, s.decl.action.plan.range, f.file)?.checked;
    const next = sub ? stepsById(sub).get(id) : undefined;
    if (!sub || !next) break;
    path = `${path}/${id}`;
    hops.push({ path, plan: sub.entry.node.name.name, file: sub.module.file, range: next.decl.name.range });
    s = next;
  }
  return hops;
}

/**
 * The ledger's worst case: each step's reservation and how many times the file says it may run
 * (../budget-ledger.ts), a `run` step's sub-plan's worst case, and each fallback's reservation.
 */
function ledgerOf(f: PlanFacts, limit: number | null): LedgerWorstCase {
  const blocks = new Map(f.cp.blocks.map((b) => [b.id, b]));
  const sum = new LedgerSum(limit);
  // A reservation follows from the capability and the resource alone, and a plan's steps use a
  // few pairs of them: each is worked out once (a 100,000-step plan made an object per step for it).
  const known: { readonly cap: CapabilityIR | undefined; readonly resource: ResourceIR | undefined; readonly cost: number }[] = [];
  const steps = f.steps;
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    const b = f.bindings[i];
    const resource = b?.resource ? f.cx.resourceByName.get(b.resource) : undefined;
    const cap = s.action.type === 'call' ? s.capability?.ir : undefined;
    let cost: number | undefined;
    for (let k = 0; k < known.length && cost === undefined; k++) if (known[k]!.cap === cap && known[k]!.resource === resource) cost = known[k]!.cost;
    if (cost === undefined) {
      cost = reservationFor(cap, resource, f.file).cost;
      if (known.length < MAX_PAIRS) known.push({ cap, resource, cost });
    }
    let times = 1;
    let loops = false;
    for (const id of s.blocks) {
      const block = blocks.get(id);
      if (block?.kind === 'repeat') times *= block.max ?? 1;
      if (block?.kind === 'for_each') loops = true;
    }
    if (loops && s.itemCount !== null) times *= s.itemCount;
    const sub = s.runPlan && s.decl.action.kind === 'RunAction' ? f.cx.subplan(s.runPlan, s.decl.action.plan.range, f.file)?.assembled?.ledger : undefined;
    sum.add(s.id, cost, times, loops && s.itemCount === null, sub, s.fallback || s.compensate ? stepCalls(f, s.id, s.fallback, s.compensate, resource) : undefined);
  }
  return sum.result();
}

/**
 * A step's fallback and compensate calls as the ledger reserves them, each on its own binding
 * (else the step's resource): a rollback's compensation reserves as an attempt does (§7.2).
 */
function stepCalls(f: PlanFacts, id: string, fallback: CallIR | null, compensate: CallIR | null, stepResource: ResourceIR | undefined): LedgerCall[] {
  const calls: LedgerCall[] = [];
  for (const [kind, call] of [['fallback', fallback], ['compensate', compensate]] as const) {
    if (!call) continue;
    const cap = f.cx.capabilityByName(call.capability)?.ir;
    const at = f.callBindings.get(id)?.[kind]?.resource;
    const resource = at ? f.cx.resourceByName.get(at) : stepResource;
    calls.push({ what: `${kind} ${call.capability}`, reservation: reservationFor(cap, resource, f.file).cost });
  }
  return calls;
}

/** The pairs remembered: past them a plan's rarer pairs are worked out at each step. */
const MAX_PAIRS = 8;
