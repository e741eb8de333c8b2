/**
 * The `proofs` stage: the plan's static verdicts under its guardrails. Every resource a step may
 * be rebound to, and its fallback and compensate calls' resources, are proved against the
 * blocking `forbid` rules (../fallback-proof.ts: a forbidden candidate leaves the binding, E0401
 * when none is left); then each guardrail gets its verdict over the plan's facts
 * (../guardrails.ts: E0401 / W0402 / I0403, or left to the runtime), once `flows` has moved
 * what it moves. A step moved off a forbidden resource is estimated again on its new one.
 */
import { diagnostic } from '../../language/index.js';
import type { CheckedPlan, CheckedStep } from '../check/checked-plan.js';
import type { StepFlow } from '../require-paths.js';
import { canonicalJson } from '../canonical-json.js';
import { someNode } from '../ir/nodes.js';
import { proveBinding } from '../fallback-proof.js';
import { evaluateGuardrail, forbiddenBy, type CheckedGuardrail, type CallFacts, type PlanFacts as GuardedPlan, type StepFacts } from '../guardrails.js';
import { modelNeed, modelView, withEndpoint } from './model-endpoints.js';
import { estimateAgain } from './estimates.js';
import type { CallBindings, PlanFacts } from './plan-facts.js';

/** Whether the plan's guardrail facts are needed: it has guardrails, or a plan that runs it may. */
function judged(f: PlanFacts): boolean {
  // A plan another runs keeps its facts too: the guardrails of the plans that run it judge its steps.
  return f.cp.guardrails.length > 0 || f.cx.runTargets.has(f.cp.entry);
}

/** The plan's steps as the guardrails read them, on their bindings and estimates as they stand. */
function guardFactsOf(f: PlanFacts): GuardedPlan {
  const { cp, cx, steps, bindings, plan, file } = f;
  const callFacts = (name: string | undefined): CallFacts | null => {
    const info = name ? cx.capabilityByName(name) : undefined;
    return info ? { kind: info.ir.kind, capability: info.name, destructive: info.ir.destructive ?? false } : null;
  };
  const facts = steps.map((s, i): StepFacts => {
    const b = bindings[i];
    const r = b?.resource ? cx.resourceByName.get(b.resource) : undefined;
    return {
      id: s.id, nameRange: s.decl.name.range, data: s.data, placement: r?.kind ?? null, tier: b?.tier ?? null, kind: s.kind,
      capability: s.capability?.name ?? null, resource: b?.resource ?? null, cost: f.costs[i]!, duration: f.durations[i]!, priority: s.priority,
      destructive: s.capability?.ir.destructive ?? false,
      fallback: callFacts(s.fallback?.capability), compensate: callFacts(s.compensate?.capability),
    };
  });
  const races = cp.blocks.filter((b) => b.kind === 'race').map((b) => b.steps);
  return { name: plan.name.name, file, nameRange: plan.name.range, steps: facts, graph: f.dag, cost: f.costMax, duration: f.durationMax, localRatio: f.localRatio, races, flow: stepFlows(cp), runs: f.subGuards };
}

/** The `proofs` stage: each binding, and its fallback and compensate calls', against the blocking `forbid` rules. */
export function proveGuardrails(f: PlanFacts): void {
  if (!judged(f)) return;
  const { cp, cx, steps, n, bindings, file } = f;
  let planFacts = guardFactsOf(f);
  const guards = cp.guardrails.map((g) => cx.guardrails.get(g)!);
  let moved = false;
  for (let i = 0; i < n; i++) {
    const b = bindings[i];
    if (!b) continue;
    const need = modelNeed(steps[i]!.capability, file);
    const byName = need ? modelView(cx.resources, need).byName : cx.resourceByName;
    const proved = proveBinding(b, planFacts.steps[i]!, byName, guards, planFacts);
    if (proved.binding !== b) {
      bindings[i] = need ? (withEndpoint(proved.binding, need, byName) ?? proved.binding) : proved.binding;
      moved = true;
    }
  }
  if (moved) {
    // The estimates were made on the first choice: a step moved off a forbidden resource costs
    // and takes what its new one does, in its own estimate, the plan's and the local ratio.
    estimateAgain(f);
    planFacts = guardFactsOf(f);
  }
  for (let i = 0; i < n; i++) {
    const s = steps[i]!;
    if (!s.fallback && !s.compensate) continue;
    const next = proveCalls(f, s, planFacts.steps[i]!, guards, planFacts);
    if (f.callBindings.has(s.id)) f.callBindings.set(s.id, next);
  }
}

/**
 * The `verdicts` stage: each guardrail's static verdict over the plan's facts — after `proofs`
 * and `flows`, which may move steps (and so change their costs, tiers and the plan's estimates).
 */
export function judgeGuardrails(f: PlanFacts): void {
  if (!judged(f)) return;
  const { cp, cx } = f;
  const planFacts = guardFactsOf(f);
  f.guardFacts = planFacts;
  f.guardrails = cp.guardrails.map((g) => evaluateGuardrail(cx.guardrails.get(g)!, planFacts, cx.diags, cx.money));
}

/** Step `s`'s fallback and compensate calls proved on their own resources (`stepFacts`: the step's). */
function proveCalls(f: PlanFacts, s: CheckedStep, stepFacts: StepFacts, guards: readonly CheckedGuardrail[], planFacts: GuardedPlan): CallBindings {
  const { cx, file } = f;
  const calls = f.callBindings.get(s.id) ?? {};
  const next: CallBindings = { ...calls };
  for (const which of ['fallback', 'compensate'] as const) {
    const cb = calls[which];
    const info = s[which] ? cx.capabilityByName(s[which]!.capability) : undefined;
    if (!info) continue;
    const r = cb?.resource ? cx.resourceByName.get(cb.resource) : undefined;
    const callFacts: StepFacts = {
      ...stepFacts, kind: info.ir.kind, capability: info.name, destructive: info.ir.destructive ?? false, resource: cb?.resource ?? null, tier: cb?.tier ?? null, placement: r?.kind ?? null,
      cost: info.ir.cost + (r?.cost ?? 0),
    };
    const at = s.decl[which]?.capability.range ?? s.decl.name.range;
    if (!cb || cb.resource === null) {
      // A call on no resource runs on the local host: only its own facts can be forbidden.
      const why = forbiddenBy(guards, callFacts, planFacts);
      if (why) cx.diags.push(diagnostic('E0401', `the ${which} call ${s[which]!.capability} of step "${s.id}" is ${why}`, file, at));
      continue;
    }
    const need = modelNeed(info, file);
    const byName = need ? modelView(cx.resources, need).byName : cx.resourceByName;
    const proved = proveBinding(cb, callFacts, byName, guards, planFacts);
    if (proved.noneAllowed)
      cx.diags.push(diagnostic('E0401', `the ${which} call ${s[which]!.capability} of step "${s.id}" has no allowed resource: every one that can host it is ${proved.reason ?? 'forbidden'}`, file, at));
    else next[which] = need && proved.binding !== cb ? (withEndpoint(proved.binding, need, byName) ?? proved.binding) : proved.binding;
  }
  return next;
}

/** Each step's join, conditions and failure rule, as the scheduler decides its start (../require-paths.ts). */
function stepFlows(cp: CheckedPlan): Map<string, StepFlow> {
  const kind = new Map(cp.blocks.map((b) => [b.id, b]));
  const out = new Map<string, StepFlow>();
  for (const s of cp.steps) {
    const around = s.blocks.map((b) => kind.get(b)).filter((b) => b !== undefined);
    const continues = s.on_failure === 'continue' || around.some((b) => b.kind === 'repeat' && b.onFailure === 'continue');
    out.set(s.id, {
      join: s.join,
      when: s.when !== null,
      whenKey: s.when && !someNode(s.when, (o) => (o.op === 'var' && (o.name === 'context' || o.name === 'run')) || (o.op === 'call' && o.fn === 'now')) ? canonicalJson(s.when) : null,
      mayFail: continues || cp.entry.node.onFailure === 'continue',
      continues,
      unguarded: s.skipIfSkipped,
      soft: s.outputReads.filter((x) => x !== s.id && !s.hardReads.includes(x) && !s.after.includes(x)),
      eachBlocks: around.filter((b) => b.kind === 'for_each').map((b) => b.id),
      race: around.find((b) => b.kind === 'race')?.id ?? null,
    });
  }
  return out;
}
