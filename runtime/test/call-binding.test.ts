/**
 * Where a step's `fallback` and `compensate` calls run (their own compiler binding), what
 * handlers see as `ctx.resource`, and a primary call whose arguments cannot be evaluated
 * handing over to the fallback. Real worker threads and a real SQLite journal; needs the build.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BindingIR, CapabilityIR, ExprIR, GuardrailIR, PlanIR } from '../../compiler/index.js';
import { Runtime } from '../index.js';
import type { ExecutionResult, RunEvent } from '../scheduler/types.js';
import { tempDir } from './helpers.js';
import { bin, capability, lit, plan, resource, step } from './ir-builder.js';

const WHERE = fileURLToPath(new URL('./fixtures/where.js', import.meta.url));
const cap = (name: string, exp: string, over: Partial<CapabilityIR> = {}): CapabilityIR =>
  capability(name, { handler: { module: WHERE, export: exp }, ...over });
const bound = (resource: string, tier: BindingIR['tier'] = 'local'): BindingIR => ({ resource, tier, rationale: 'test', fallbacks: [] });

let rt: Runtime;
beforeAll(async () => {
  rt = await Runtime.open({ db: join(tempDir(), 'runs.db'), workers: 2 });
});
afterAll(async () => {
  await rt.close();
});

async function run(p: PlanIR, input?: unknown): Promise<{ result: ExecutionResult; events: RunEvent[] }> {
  const active = await rt.start(p, { config: { file: null, hooks: {}, secrets: {} }, input });
  const result = await active.result;
  return { result, events: rt.journal!.load(active.runId) };
}
const stepOf = (r: ExecutionResult, id: string) => r.steps.find((s) => s.stepId === id)!;
const startedOn = (events: RunEvent[]) => events.filter((e) => e.type === 'step_started').map((e) => e.data.resource);

/** A blocking guardrail only the run can check: nothing on a cloud resource. */
const NO_CLOUD: GuardrailIR = {
  name: 'no_cloud',
  severity: 'blocking',
  category: null,
  message: null,
  rules: [{ type: 'forbid', condition: bin('==', { op: 'get', object: { op: 'var', name: 'step' }, key: 'tier' }, lit('cloud')) }],
  static_verdict: 'runtime',
};

const RESOURCES = [resource('edge', { kind: 'edge_cluster', tier: 'edge', provides: ['edge'] }), resource('relay', { provides: ['smtp_relay'] })];

describe('fallback and compensate calls run on their own binding', () => {
  it('the fallback runs on its binding, the handler sees it as ctx.resource', async () => {
    const p = plan({
      capabilities: [cap('primary', 'fails'), cap('via_relay', 'where', { requires: ['smtp_relay'] })],
      resources: RESOURCES,
      steps: [
        step({
          id: 's',
          capability: 'primary',
          resource: 'edge',
          binding: bound('edge', 'edge'),
          fallback: { capability: 'via_relay', args: { via: lit('fallback') }, binding: bound('relay') },
        }),
      ],
    });
    const { result, events } = await run(p);
    expect(stepOf(result, 's')).toMatchObject({ status: 'completed', resource: 'relay', output: { resource: 'relay', via: 'fallback' } });
    expect(startedOn(events)).toEqual(['edge', 'relay']);
    expect(events.find((e) => e.type === 'step_retried')?.data.error).toBe('primary failed on edge');
  });

  it('ctx.resource is the step binding for a primary call and null when unplaced', async () => {
    const p = plan({
      capabilities: [cap('w', 'where')],
      resources: RESOURCES,
      steps: [step({ id: 'a', capability: 'w', resource: 'edge', binding: bound('edge', 'edge') }), step({ id: 'b', capability: 'w' })],
    });
    const { result } = await run(p);
    expect(stepOf(result, 'a').output).toEqual({ resource: 'edge', via: null });
    expect(stepOf(result, 'b').output).toEqual({ resource: null, via: null });
  });

  it('guardrails are checked against the fallback binding: a forbidden cloud fallback never starts', async () => {
    const p = plan({
      capabilities: [cap('primary', 'fails'), cap('w', 'where')],
      resources: [...RESOURCES, resource('sky', { kind: 'cloud_region', tier: 'cloud' })],
      guardrails: [NO_CLOUD],
      steps: [step({ id: 's', capability: 'primary', resource: 'edge', binding: bound('edge', 'edge'), fallback: { capability: 'w', args: {}, binding: bound('sky', 'cloud') } })],
    });
    const { result, events } = await run(p);
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/no_cloud/);
    expect(startedOn(events)).toEqual(['edge']);
  });

  it('rebinding passes over a fallback resource a guardrail forbids for this run and tries the next allowed one', async () => {
    // Cloud is forbidden for EU input only: the compiler cannot drop it, the runtime must skip it.
    const get = (object: 'step' | 'input', key: string): ExprIR => ({ op: 'get', object: { op: 'var', name: object }, key });
    const euNotInCloud: GuardrailIR = {
      name: 'eu_not_in_cloud',
      severity: 'blocking',
      category: null,
      message: null,
      rules: [{ type: 'forbid', condition: bin('and', bin('==', get('step', 'tier'), lit('cloud')), bin('==', get('input', 'region'), lit('eu'))) }],
      static_verdict: 'runtime',
    };
    const p = plan({
      capabilities: [cap('w', 'onlyOn')],
      resources: [...RESOURCES, resource('sky', { kind: 'cloud_region', tier: 'cloud' })],
      guardrails: [euNotInCloud],
      steps: [step({ id: 's', capability: 'w', args: { on: lit('relay') }, resource: 'edge', binding: { ...bound('edge', 'edge'), fallbacks: ['sky', 'relay'] } })],
    });
    const eu = await run(p, { region: 'eu' });
    expect(eu.result.status).toBe('completed');
    expect(startedOn(eu.events)).toEqual(['edge', 'relay']);
    const rebound = eu.events.find((e) => e.type === 'step_retried')!.data;
    expect(rebound).toMatchObject({ resourceIndex: 2, rebind: 'relay', skipped: [{ resource: 'sky', reason: 'guardrail eu_not_in_cloud violated: step s is forbidden' }] });
    expect(eu.events.some((e) => e.type === 'guardrail_violation')).toBe(false);
    // Near miss: for other input the cloud resource is allowed and tried in its turn.
    const us = await run(p, { region: 'us' });
    expect(startedOn(us.events)).toEqual(['edge', 'sky', 'relay']);
  });

  it('IR without a call binding keeps running the fallback on the step resource', async () => {
    const p = plan({
      capabilities: [cap('primary', 'fails'), cap('w', 'where')],
      resources: RESOURCES,
      steps: [step({ id: 's', capability: 'primary', resource: 'edge', binding: bound('edge', 'edge'), fallback: { capability: 'w', args: {} } })],
    });
    const { result } = await run(p);
    expect(stepOf(result, 's').output).toEqual({ resource: 'edge', via: null });
  });

  it('a compensation runs on its own binding during rollback', async () => {
    const p = plan({
      capabilities: [cap('w', 'where'), cap('undo', 'onlyOn', { requires: ['smtp_relay'] }), cap('primary', 'fails')],
      resources: RESOURCES,
      steps: [
        step({ id: 'done', capability: 'w', resource: 'edge', binding: bound('edge', 'edge'), compensate: { capability: 'undo', args: { on: lit('relay') }, binding: bound('relay') } }),
        step({ id: 'boom', capability: 'primary', deps: ['done'] }),
      ],
      over: { on_failure: 'rollback' },
    });
    const { result, events } = await run(p);
    expect(result.status).toBe('failed');
    expect(events.find((e) => e.type === 'step_compensated')?.data).toEqual({ ok: true });
    expect(stepOf(result, 'done').status).toBe('completed');
  });

  it('guardrails are checked against the compensation: one forbidden on its cloud binding never starts', async () => {
    const undoOn = (resourceName: string, tier: BindingIR['tier']) =>
      plan({
        capabilities: [cap('w', 'where'), cap('undo', 'onlyOn'), cap('primary', 'fails')],
        resources: [...RESOURCES, resource('sky', { kind: 'cloud_region', tier: 'cloud' })],
        guardrails: [NO_CLOUD],
        steps: [
          step({ id: 'done', capability: 'w', resource: 'edge', binding: bound('edge', 'edge'), compensate: { capability: 'undo', args: { on: lit(resourceName) }, binding: bound(resourceName, tier) } }),
          step({ id: 'boom', capability: 'primary', deps: ['done'] }),
        ],
        over: { on_failure: 'rollback' },
      });
    const { events } = await run(undoOn('sky', 'cloud'));
    const types = events.map((e) => e.type);
    expect(types.slice(types.indexOf('step_failed'))).toEqual(['step_failed', 'guardrail_violation', 'step_compensated', 'execution_failed']);
    expect(events.find((e) => e.type === 'step_compensated')?.data).toEqual({ ok: false, error: 'not run: guardrail no_cloud violated: step done is forbidden' });
    expect(startedOn(events)).toEqual(['edge', null]);
    // Near miss: on an allowed resource the same compensation runs.
    const allowed = await run(undoOn('relay', 'local'));
    expect(allowed.events.find((e) => e.type === 'step_compensated')?.data).toEqual({ ok: true });
  });
});

describe('a primary call whose arguments cannot be evaluated', () => {
  it('counts as the primary failing (no retries): the fallback runs with its own arguments', async () => {
    const p = plan({
      capabilities: [cap('w', 'where')],
      steps: [
        step({
          id: 's',
          capability: 'w',
          args: { token: { op: 'secret', name: 'NOT_SET_ANYWHERE' } },
          retry: { max: 3, backoff: 'fixed', delay_ms: 5, max_delay_ms: null, jitter: false },
          fallback: { capability: 'w', args: { via: lit('fallback') } },
        }),
      ],
    });
    const { result, events } = await run(p);
    expect(stepOf(result, 's')).toMatchObject({ status: 'completed', attempts: 2, output: { via: 'fallback' } });
    const handover = events.filter((e) => e.type === 'step_retried');
    expect(handover).toHaveLength(1);
    expect(handover[0]!.data).toMatchObject({ phase: 'fallback', fallback: 'w' });
    expect(String(handover[0]!.data.error)).toMatch(/^arguments: .*NOT_SET_ANYWHERE/);
  });

  it('near miss: without a fallback the step fails at once with the argument error', async () => {
    const p = plan({
      capabilities: [cap('w', 'where')],
      steps: [step({ id: 's', capability: 'w', args: { token: { op: 'secret', name: 'NOT_SET_ANYWHERE' } }, retry: { max: 3, backoff: 'none', delay_ms: 0, max_delay_ms: null, jitter: false } })],
    });
    const { result, events } = await run(p);
    expect(stepOf(result, 's')).toMatchObject({ status: 'failed', attempts: 1 });
    expect(stepOf(result, 's').error).toMatch(/^arguments: /);
    expect(events.some((e) => e.type === 'step_retried')).toBe(false);
  });
});
