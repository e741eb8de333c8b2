/**
 * Where a control addressed by path (`orch cancel --step`, `orch signal`) lands in a run: a step
 * of its plan, one of its instances (`id[i]`, `id#k`, made or still to come), or a step of a
 * sub-plan run (`sub/ok`) — and why, when the path names nothing that can still be controlled.
 */
import type { PlanIR, StepStatus } from '../../compiler/index.js';
import type { SchedulerCore } from './core/core.js';
import { blockNotAStep, keyFitsShape, noSuchInstance, planBlocks } from './core/scopes.js';
import { TERMINAL, baseId } from './core/state.js';

/**
 * The status of a step that runs once per item (inside `for each` only) whose items have all
 * ended, so that no instance of it is left to cancel; null otherwise. (Inside `repeat`, a later
 * iteration may still come.)
 */
export function endedPerItem(core: SchedulerCore, stepId: string): StepStatus | null {
  const l = core.logical.get(stepId);
  if (!l || l.shape.dims.length === 0 || l.shape.dims.some((d) => d.type === 'repeat')) return null;
  const status = core.stepView(stepId)?.status;
  return status !== undefined && TERMINAL.has(status) ? status : null;
}

/** Why `path` names nothing to control: a sub-plan that already ended, no such instance, or no step at all. */
export function unknownStep(core: SchedulerCore, path: string): string {
  const key = path.slice(0, Math.max(0, path.indexOf('/')));
  const rec = key ? core.record(key) : undefined;
  if (rec && TERMINAL.has(rec.status)) return `step ${key} has already finished (${rec.status})`;
  const l = path.includes('/') ? undefined : core.logical.get(baseId(path));
  return l ? noSuchInstance(path, l.step.id, l.shape) : (blockNotAStep(core.blocks, path) ?? `unknown step ${path}`);
}

/**
 * A step id of this plan, or an instance key of one whose shape it has (`id[i]` inside one
 * `for each`, `id#k` inside `repeat`; the instance may not exist yet).
 */
export function knowsStep(core: SchedulerCore, key: string): boolean {
  const l = key.includes('/') ? undefined : core.logical.get(baseId(key));
  return l !== undefined && (key === l.step.id || keyFitsShape(key, l.step.id, l.shape));
}

/**
 * `sub/…` (or `sub[i]/…`) where step `sub` of this plan runs a sub-plan that has not ended: a
 * control for it is kept until that sub-plan runs here.
 */
export function runsSubplan(core: SchedulerCore, path: string): boolean {
  const slash = path.indexOf('/');
  if (slash <= 0 || slash === path.length - 1) return false;
  const key = path.slice(0, slash);
  const step = core.logical.get(baseId(key));
  const rec = core.record(key);
  return step !== undefined && step.step.action.type === 'run' && !(rec && TERMINAL.has(rec.status));
}

/**
 * Whether `path` names nothing in `plan` at all: no step of it, no instance key its step's blocks
 * allow, no block, and (`sub/…`) nothing in the sub-plan its first part runs, however deep. Read
 * off the plan alone, so a name that exists but cannot be controlled now (a step that ended, a
 * wait, a block) is not "nothing" — the API tells the two apart (404 against 409).
 */
export function namesNothing(plan: PlanIR, path: string): boolean {
  const slash = path.indexOf('/');
  const head = slash < 0 ? path : path.slice(0, slash);
  const step = plan.steps.find((s) => s.id === baseId(head));
  if (!step) return slash >= 0 || !planBlocks(plan).byId.has(path);
  if (head !== step.id) {
    const shape = planBlocks(plan).shapes.get(step.id);
    if (!shape || !keyFitsShape(head, step.id, shape)) return true;
  }
  if (slash < 0) return false;
  const sub = step.action.type === 'run' ? plan.subplans?.[step.action.plan] : undefined;
  return sub === undefined || namesNothing(sub, path.slice(slash + 1));
}
