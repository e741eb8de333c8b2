/**
 * Plan `on_failure rollback`: stop everything, then compensate the completed steps one at a time
 * in reverse completion order; the run fails once the last compensation settled.
 */
import type { CapabilityIR, ResourceIR } from '../../../compiler/index.js';
import { preStepViolations, type Violation } from '../guardrails.js';
import type { AttemptRequest } from '../types.js';
import type { Rollback, RunState } from './run-state.js';
import { env } from './env.js';
import { finish, stopAll } from './finish.js';
import { guardStep, recordViolations } from './guards.js';
import { resourceOf } from './resolve.js';
import { evalArgs } from './start.js';
import type { Inst } from './state.js';

export function rollback(c: RunState): void {
  c.mode = 'rolling_back';
  stopAll(c, 'rolling back');
  const todo = [...c.instances.values()]
    .filter((i) => i.rec.status === 'completed' && i.logical.step.compensate && !i.rec.compensated)
    .sort((a, b) => (b.rec.completionOrder ?? 0) - (a.rec.completionOrder ?? 0));
  c.rollback = { todo, current: null, tokens: 0 };
  next(c);
}

function next(c: RunState): void {
  const r = c.rollback;
  if (c.mode !== 'rolling_back' || !r) return;
  for (;;) {
    const inst = r.todo.shift();
    if (!inst) return finish(c, 'failed', c.failure ?? 'rolled back');
    const comp = inst.logical.step.compensate!;
    const cap = c.plan.capabilities[comp.capability];
    let input: { [k: string]: unknown };
    try {
      input = evalArgs(c, inst, comp.args);
    } catch (err) {
      c.emit('step_compensated', inst.key, { ok: false, error: `arguments: ${(err as Error).message}` });
      continue;
    }
    if (!cap) {
      c.emit('step_compensated', inst.key, { ok: false, error: `unknown capability ${comp.capability}` });
      continue;
    }
    const resource = comp.binding ? (comp.binding.resource ? (c.plan.resources[comp.binding.resource] ?? null) : null) : resourceOf(c, inst);
    // A compensation is a call like any other: the plan's guardrails see it before it starts.
    const blocking = c.plan.guardrails.length > 0 ? compensationViolation(c, inst, cap, resource) : null;
    if (blocking) {
      c.emit('step_compensated', inst.key, { ok: false, error: `not run: ${blocking.message}` });
      continue;
    }
    const request: AttemptRequest = {
      runId: c.runId,
      stepId: inst.key,
      baseStepId: inst.logical.step.id,
      attempt: 1,
      purpose: 'compensate',
      capability: cap,
      input,
      resource,
      timeoutMs: cap.timeout_ms,
      secrets: { ...(c.cfg.configSecrets ?? {}), ...(inst.secretsUsed ?? {}) },
      plan: c.plan,
    };
    const token = ++r.tokens;
    const attempt = `compensate:${inst.key}`;
    r.current = { inst, token, timeoutMs: cap.timeout_ms };
    c.command({ type: 'start_attempt', attempt, token, request });
    if (cap.timeout_ms !== null) {
      c.armed.add(attempt);
      c.armTimer(attempt, cap.timeout_ms);
    }
    return;
  }
}

function compensationViolation(c: RunState, inst: Inst, capability: CapabilityIR, resource: ResourceIR | null): Violation | null {
  const facts = guardStep(c, inst, { resource, capability });
  const e = env(c, inst, inst.logical.step);
  return recordViolations(c, inst, preStepViolations(c.plan.guardrails, facts, e, () => c.completedLog.map((x) => guardStep(c, x.inst))));
}

/** The compensation `attempt` names while it is still the one running, else null (a stale event). */
function current(c: RunState, attempt: string, token: number): NonNullable<Rollback['current']> | null {
  const cur = c.rollback?.current;
  return cur && cur.token === token && `compensate:${cur.inst.key}` === attempt ? cur : null;
}

/**
 * A compensation's handler lines are journaled as its step's, marked so a reader tells them from
 * the step's own attempts' lines.
 */
export function compensationLogs(c: RunState, attempt: string, token: number, lines: readonly string[]): void {
  const cur = current(c, attempt, token);
  if (!cur) return;
  for (const line of lines) c.emit('step_log', cur.inst.key, { compensation: true, line });
}

/** The current compensation ended (its outcome, or its timeout); the next one starts. */
export function compensationSettled(c: RunState, attempt: string, token: number, ok: boolean, error: string | null): void {
  const cur = current(c, attempt, token);
  if (!cur) return;
  c.rollback!.current = null;
  if (c.armed.delete(attempt)) c.cancelTimer(attempt);
  c.emit('step_compensated', cur.inst.key, ok ? { ok: true } : { ok: false, error });
  next(c);
}
