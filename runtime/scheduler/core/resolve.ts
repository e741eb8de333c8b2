/** Which capability, resource and cost an instance's current attempt has (phase and rebinding). */
import type { CapabilityIR, PlanIR, ResourceIR, StepIR } from '../../../compiler/index.js';
import type { StepHookInfo } from '../types.js';
import { env } from './env.js';
import type { RunState } from './run-state.js';
import type { Inst } from './state.js';
import { evaluate } from '../../evaluate.js';

/**
 * What `inst`'s attempt does: a `run` step that moved on to its `fallback` call makes that call
 * (a capability's), it does not run the sub-plan again.
 */
export function attemptAction(inst: Inst): StepIR['action']['type'] {
  return inst.rec.phase === 'fallback' && inst.logical.step.fallback ? 'call' : inst.logical.step.action.type;
}

export function isApproval(cap: CapabilityIR): boolean {
  return cap.handler !== null && 'builtin' in cap.handler && cap.handler.builtin === 'approval';
}

/**
 * Why step `id` of `plan` takes no approve or reject — a wait, a call of another capability, a
 * sub-plan (whose approval is decided as `id/STEP`) — or null when it is an approval step or
 * not a step of the plan (another check names that).
 */
export function notAnApproval(plan: PlanIR, id: string): string | null {
  const step = plan.steps.find((s) => s.id === id);
  if (!step) return null;
  if (step.action.type === 'run') return `step ${id} runs the sub-plan ${step.action.plan}: decide its approval step as ${id}/STEP`;
  const cap = step.capability ? plan.capabilities[step.capability] : undefined;
  if (cap && isApproval(cap)) return null;
  const what = step.action.type === 'wait' ? 'a wait' : step.action.type === 'wait_until' ? 'a wait until' : `a call of ${step.capability ?? 'a capability'}`;
  return `step ${id} is ${what}, not an approval: only approval steps are approved or rejected`;
}

export function resourceOf(c: RunState, inst: Inst): ResourceIR | null {
  const step = inst.logical.step;
  // A fallback call placed by the compiler runs on its own binding (IR without one: the step's).
  const fallbackBinding = inst.rec.phase === 'fallback' ? step.fallback?.binding : undefined;
  const name = fallbackBinding ? fallbackBinding.resource : (inst.rec.reboundTo ?? rankingOf(step)[inst.rec.resourceIndex]);
  return name ? (c.plan.resources[name] ?? null) : null;
}

/** A step's placement ranking: its resource, then its binding's fallbacks (what rebinding moves along). */
export function rankingOf(step: StepIR): readonly (string | null)[] {
  return [step.resource ?? step.binding.resource, ...step.binding.fallbacks];
}

/** The instance's place in its ranking (§9.4: where a `step_rebound` moved it, else its index). */
export function rankIndex(inst: Inst): number {
  const to = inst.rec.reboundTo;
  const i = to === null ? -1 : rankingOf(inst.logical.step).indexOf(to);
  return i >= 0 ? i : inst.rec.resourceIndex;
}

export function capabilityOf(c: RunState, inst: Inst): CapabilityIR | null {
  const step = inst.logical.step;
  const name = inst.rec.phase === 'fallback' ? step.fallback?.capability : step.capability;
  return name ? (c.plan.capabilities[name] ?? null) : null;
}

/** The resource a step counts toward while in progress: calls (approvals too) and sub-plans. */
export function countedResource(c: RunState, inst: Inst): ResourceIR | null {
  const t = inst.logical.step.action.type;
  return t === 'call' || t === 'run' ? resourceOf(c, inst) : null;
}

/** Holds a slot of the plan's `concurrency`: calls and sub-plans, not waits or approvals. */
export function occupiesSlot(c: RunState, inst: Inst): boolean {
  const a = attemptAction(inst);
  if (a === 'run') return true;
  if (a !== 'call') return false;
  const cap = capabilityOf(c, inst);
  return !cap || !isApproval(cap);
}

/** What one attempt costs: the capability's estimate (calls only) plus the resource's. */
export function attemptCostOf(c: RunState, inst: Inst): number {
  const cap = capabilityOf(c, inst);
  return (attemptAction(inst) === 'call' ? (cap?.cost ?? 0) : 0) + (resourceOf(c, inst)?.cost ?? 0);
}

/** `before`: for the attempt about to start (preExecution), else for the attempt that ended the step. */
export function hookInfo(c: RunState, inst: Inst, before = false): StepHookInfo {
  const cap = capabilityOf(c, inst);
  return {
    runId: c.runId,
    stepId: inst.key,
    baseStepId: inst.logical.step.id,
    capability: cap?.name ?? null,
    kind: cap?.kind ?? null,
    resource: resourceOf(c, inst)?.name ?? null,
    data: inst.logical.step.data,
    attempt: inst.rec.attempts + (before ? 1 : 0),
    input: hookArgs(c, inst),
  };
}

/** The call's arguments as a hook may see them: evaluated, with every secret as `***`. */
function hookArgs(c: RunState, inst: Inst): { [name: string]: unknown } | null {
  const step = inst.logical.step;
  // The call about to be made: the fallback's own arguments once the step moved on to it.
  const args = inst.rec.phase === 'fallback' && step.fallback ? step.fallback.args : step.action.type === 'run' ? step.action.args : step.args;
  try {
    const e = { ...env(c, inst, step), secret: undefined };
    const out: { [name: string]: unknown } = {};
    for (const [k, x] of Object.entries(args)) out[k] = evaluate(x, e);
    return out;
  } catch {
    return null;
  }
}
