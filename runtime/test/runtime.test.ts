/**
 * Scheduling features end to end: real worker threads (piscina), a real SQLite journal file and
 * real handlers (fixtures/handlers.js). Needs `npx tsc -p tsconfig.build.json` first (worker JS).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GuardrailIR, PlanIR } from '../../compiler/index.js';
import { ContextStore, realClock, Runtime } from '../index.js';
import type { ExecutionResult, RunEvent } from '../scheduler/types.js';
import { waitFor } from '../../test/support/wait.js';
import { fx, local, projectDir, tempDir } from './helpers.js';
import { attr, bin, capability, ctxVar, input, item, json, lit, out, plan, resource, step } from './ir-builder.js';

let dir: string;
let rt: Runtime;

beforeAll(async () => {
  dir = tempDir();
  rt = await Runtime.open({ db: join(dir, 'runs.db'), workers: 3, resourceLimits: { maxOldGenerationSizeMb: 64 }, controlPollMs: 50 });
});
afterAll(async () => {
  await rt.close();
});

async function run(p: PlanIR, opts: Parameters<Runtime['start']>[1] = {}): Promise<{ result: ExecutionResult; events: RunEvent[] }> {
  const active = await rt.start(p, { config: { file: null, hooks: {}, secrets: {} }, ...opts });
  const result = await active.result;
  return { result, events: rt.journal!.load(active.runId) };
}

const stepOf = (r: ExecutionResult, id: string) => r.steps.find((s) => s.stepId === id)!;
const types = (events: RunEvent[], id?: string) => events.filter((e) => id === undefined || e.stepId === id).map((e) => e.type);

/** Maximum number of steps (matching `filter`) in flight at once, replayed from the journal. */
function maxInFlight(events: RunEvent[], filter: (id: string) => boolean = () => true): number {
  let cur = 0;
  let max = 0;
  for (const e of events) {
    if (!e.stepId || !filter(e.stepId)) continue;
    if (e.type === 'step_started') max = Math.max(max, ++cur);
    else if (e.type === 'step_completed' || e.type === 'step_failed' || e.type === 'step_retried') cur--;
  }
  return max;
}

describe('dependencies and data flow', () => {
  it('runs steps in dependency order, passes outputs, evaluates the plan output, journals without gaps', async () => {
    const p = plan({
      capabilities: [fx('work', 'work'), fx('double', 'double')],
      steps: [
        step({ id: 'a', capability: 'work', args: { value: input('n'), ms: lit(20) } }),
        step({ id: 'b', capability: 'double', deps: ['a'], args: { value: out('a', 'value') } }),
        step({ id: 'c', capability: 'double', deps: ['b'], args: { value: out('b', 'value') } }),
      ],
      over: { output: { op: 'record', fields: [{ key: 'final', value: out('c', 'value') }] }, input: { type: 'object', required: ['n'], properties: { n: { type: 'number' } } } },
    });
    const { result, events } = await run(p, { input: { n: 5 } });
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ final: 20 });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const order = events.filter((e) => e.type === 'step_started').map((e) => e.stepId);
    expect(order).toEqual(['a', 'b', 'c']);
    expect(types(events)[0]).toBe('plan_created');
    expect(types(events).at(-1)).toBe('execution_completed');
    expect(result.metadata).toMatchObject({ totalSteps: 3, completedSteps: 3, failedSteps: 0, skippedSteps: 0 });
  });

  it('fills input defaults of the plan and of capabilities', async () => {
    const p = plan({
      capabilities: [fx('echo', 'echo', { input: { type: 'object', properties: { tone: { type: 'string', default: 'warm' }, n: { type: 'number' } } } })],
      steps: [step({ id: 'e', capability: 'echo', args: { n: input('n') } })],
      over: { input: { type: 'object', required: ['n'], properties: { n: { type: 'number', default: 7 } } } },
    });
    const { result } = await run(p, { input: {} });
    expect(stepOf(result, 'e').output).toEqual({ n: 7, tone: 'warm' });
  });

  it('fills nested defaults in worker threads: record fields, list items, map values and optional records', async () => {
    const person = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer', default: 30 }, tags: { type: 'array', items: { type: 'string' }, default: [] } } };
    const p = plan({
      capabilities: [
        fx('echo', 'echo', {
          input: {
            type: 'object',
            properties: {
              lead: person,
              members: { type: 'array', items: person },
              byRole: { type: 'object', additionalProperties: person },
              who: { anyOf: [person, { type: 'null' }] },
              none: { anyOf: [person, { type: 'null' }] },
            },
          },
        }),
      ],
      steps: [
        step({
          id: 'e',
          capability: 'echo',
          args: {
            lead: json({ name: 'a' }),
            members: json([{ name: 'b', age: 4 }, { name: 'c', tags: ['x'] }]),
            byRole: json({ chair: { name: 'd' } }),
            who: json({ name: 'e' }),
            none: lit(null),
          },
        }),
      ],
    });
    const { result } = await run(p, { input: {} });
    expect(stepOf(result, 'e').output).toEqual({
      lead: { name: 'a', age: 30, tags: [] },
      members: [
        { name: 'b', age: 4, tags: [] },
        { name: 'c', age: 30, tags: ['x'] },
      ],
      byRole: { chair: { name: 'd', age: 30, tags: [] } },
      who: { name: 'e', age: 30, tags: [] },
      none: null,
    });
  });

  it("fills the defaults of a capability's output type into what its handler returned, and a reader sees them", async () => {
    const p = plan({
      capabilities: [
        fx('echo', 'echo', { output: { type: 'object', required: ['text'], properties: { text: { type: 'string' }, n: { type: 'integer', default: 5 }, tags: { type: 'array', items: { type: 'string' }, default: [] } } } }),
        fx('double', 'double'),
      ],
      steps: [step({ id: 'e', capability: 'echo', args: { text: lit('hi') } }), step({ id: 'd', capability: 'double', deps: ['e'], args: { value: out('e', 'n') } })],
    });
    const { result, events } = await run(p, { input: {} });
    expect(stepOf(result, 'e').output).toEqual({ text: 'hi', n: 5, tags: [] });
    expect(events.find((e) => e.type === 'step_completed' && e.stepId === 'e')!.data).toMatchObject({ output: { text: 'hi', n: 5, tags: [] } });
    expect(stepOf(result, 'd').output).toEqual({ value: 10 });
  });

  it('rejects an input that does not match the plan input type', async () => {
    const p = plan({ steps: [], over: { input: { type: 'object', required: ['n'], properties: { n: { type: 'number' } } } } });
    await expect(rt.start(p, { input: { n: 'x' } })).rejects.toThrow(/\/n: must be number/);
  });
});

describe('when, skip propagation and join', () => {
  it('skips a false when, propagates skips to readers, but not through ?? or to after-only deps', async () => {
    const p = plan({
      capabilities: [fx('work', 'work'), fx('echo', 'echo')],
      steps: [
        step({ id: 'gate', capability: 'work', when: bin('==', input('go'), lit(true)) }),
        step({ id: 'reader', capability: 'echo', deps: ['gate'], skip_if_skipped: ['gate'], args: { v: out('gate', 'value') } }),
        step({
          id: 'coalesce',
          capability: 'echo',
          deps: ['gate'],
          args: { v: bin('??', out('gate', 'step'), lit('default')) },
        }),
        step({ id: 'after_only', capability: 'echo', deps: ['gate'], after: ['gate'] }),
        step({ id: 'all_success', capability: 'echo', deps: ['gate'], join: 'all_success' }),
      ],
    });
    const { result } = await run(p, { input: { go: false } });
    expect(result.status).toBe('completed');
    expect(stepOf(result, 'gate').status).toBe('skipped');
    expect(stepOf(result, 'reader').status).toBe('skipped');
    expect(stepOf(result, 'coalesce')).toMatchObject({ status: 'completed', output: { v: 'default' } });
    expect(stepOf(result, 'after_only').status).toBe('completed');
    expect(stepOf(result, 'all_success').status).toBe('skipped');
  });

  it('a failed dependency skips none_failed dependents; all_done and any_success still run', async () => {
    const p = plan({
      capabilities: [fx('throws', 'throws'), fx('echo', 'echo')],
      steps: [
        step({ id: 'bad', capability: 'throws', on_failure: 'continue' }),
        step({ id: 'ok', capability: 'echo' }),
        step({ id: 'default_join', capability: 'echo', deps: ['bad'] }),
        step({ id: 'all_done', capability: 'echo', deps: ['bad'], join: 'all_done' }),
        step({ id: 'any', capability: 'echo', deps: ['bad', 'ok'], join: 'any_success' }),
      ],
    });
    const { result } = await run(p);
    expect(result.status).toBe('completed');
    expect(stepOf(result, 'bad').status).toBe('failed');
    expect(stepOf(result, 'default_join').status).toBe('skipped');
    expect(stepOf(result, 'all_done').status).toBe('completed');
    expect(stepOf(result, 'any').status).toBe('completed');
  });
});

describe('for each', () => {
  it('expands at run time, respects parallel N, aligns per-item outputs, exposes the list outside', async () => {
    const p = plan({
      capabilities: [fx('work', 'work'), fx('double', 'double'), fx('echo', 'echo')],
      steps: [
        step({
          id: 'first',
          capability: 'work',
          args: { value: item('x'), ms: lit(30) },
          for_each: { group: 'g', item: 'x', list: input('items'), parallel: 2 },
        }),
        step({
          id: 'second',
          capability: 'double',
          deps: ['first'],
          args: { value: out('first', 'value') },
          for_each: { group: 'g', item: 'x', list: input('items'), parallel: 2 },
        }),
        step({ id: 'after', capability: 'echo', deps: ['second'], args: { all: out('second', 'value'), n: { op: 'call', fn: 'len', args: [out('second')] } } }),
      ],
    });
    const { result, events } = await run(p, { input: { items: [1, 2, 3, 4, 5] } });
    expect(result.status).toBe('completed');
    expect(stepOf(result, 'second').output).toEqual([2, 4, 6, 8, 10].map((value) => ({ value })));
    expect(stepOf(result, 'after').output).toEqual({ all: [2, 4, 6, 8, 10], n: 5 });
    expect(maxInFlight(events, (id) => id.startsWith('first['))).toBeLessThanOrEqual(2);
    expect(events.filter((e) => e.type === 'step_started' && e.stepId?.startsWith('first[')).length).toBe(5);
    // second[i] depends on first[i] only (per item), not on the whole first step
    const startSecond0 = events.findIndex((e) => e.type === 'step_started' && e.stepId === 'second[0]');
    const doneFirst4 = events.findIndex((e) => e.type === 'step_completed' && e.stepId === 'first[4]');
    expect(startSecond0).toBeLessThan(doneFirst4);
  });

  it('an empty list completes the step with an empty output list', async () => {
    const p = plan({
      capabilities: [fx('echo', 'echo')],
      steps: [
        step({ id: 's', capability: 'echo', for_each: { group: 'g', item: 'x', list: input('items'), parallel: null } }),
        step({ id: 't', capability: 'echo', deps: ['s'], args: { n: { op: 'call', fn: 'len', args: [out('s')] } } }),
      ],
    });
    const { result } = await run(p, { input: { items: [] } });
    expect(result.status).toBe('completed');
    expect(stepOf(result, 't').output).toEqual({ n: 0 });
  });
});

describe('retries, fallback, rebinding, timeouts', () => {
  it('retries with backoff until the handler succeeds (ctx.attempt counts)', async () => {
    const p = plan({
      capabilities: [fx('flaky', 'flaky')],
      steps: [
        step({
          id: 'f',
          capability: 'flaky',
          args: { succeedOn: lit(3) },
          retry: { max: 3, backoff: 'exponential', delay_ms: 5, max_delay_ms: 20, jitter: true },
        }),
      ],
    });
    const { result, events } = await run(p);
    expect(stepOf(result, 'f')).toMatchObject({ status: 'completed', attempts: 3, output: { attempt: 3 } });
    expect(types(events, 'f').filter((t) => t === 'step_retried')).toHaveLength(2);
  });

  it('fails after the retry budget, then the fallback call takes over', async () => {
    const p = plan({
      capabilities: [fx('throws', 'throws'), fx('echo', 'echo')],
      steps: [
        step({
          id: 's',
          capability: 'throws',
          retry: { max: 1, backoff: 'fixed', delay_ms: 5, max_delay_ms: null, jitter: false },
          fallback: { capability: 'echo', args: { via: lit('fallback') } },
        }),
      ],
    });
    const { result, events } = await run(p);
    expect(stepOf(result, 's')).toMatchObject({ status: 'completed', attempts: 3, output: { via: 'fallback' } });
    expect(events.filter((e) => e.type === 'step_retried' && e.data.fallback === 'echo')).toHaveLength(1);
  });

  it('rebinds to the next fallback resource when the step fails on its resource', async () => {
    const p = plan({
      capabilities: [fx('res', 'badResource')],
      resources: [resource('bad'), resource('good')],
      steps: [
        step({
          id: 's',
          capability: 'res',
          args: { fail: bin('==', attr('s', 'resource'), lit('bad')) },
          binding: { resource: 'bad', tier: 'local', rationale: 't', fallbacks: ['good'] },
        }),
      ],
    });
    // `s.resource` while s runs is the resource it is bound to for this attempt.
    const { result, events } = await run(p);
    expect(stepOf(result, 's')).toMatchObject({ status: 'completed', resource: 'good' });
    expect(events.filter((e) => e.type === 'step_started').map((e) => e.data.resource)).toEqual(['bad', 'good']);
  });

  it('a hang past the timeout fails the step as timeout, the worker is replaced, other steps go on', async () => {
    const p = plan({
      capabilities: [fx('hangs', 'hangs', { timeout_ms: 150 }), fx('work', 'work')],
      steps: [
        step({ id: 'hang', capability: 'hangs', on_failure: 'continue' }),
        step({ id: 'other', capability: 'work', args: { ms: lit(50) } }),
        step({ id: 'later', capability: 'work', deps: ['other'] }),
      ],
    });
    const { result } = await run(p);
    expect(stepOf(result, 'hang')).toMatchObject({ status: 'timeout' });
    expect(stepOf(result, 'hang').error).toMatch(/timed out after 150ms/);
    expect(stepOf(result, 'later').status).toBe('completed');
    expect(result.status).toBe('completed');
  });
});

describe('handler faults', () => {
  it('throw, reject, process.exit, memory blow-up and a wrong output shape fail only their step', async () => {
    const p = plan({
      capabilities: [
        fx('throws', 'throws'),
        fx('rejects', 'rejects'),
        fx('exits', 'exits'),
        fx('oom', 'blowsMemory', { timeout_ms: 30_000 }),
        fx('shape', 'wrongShape', { output: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } }),
        fx('work', 'work'),
      ],
      steps: [
        step({ id: 'throw', capability: 'throws', on_failure: 'continue' }),
        step({ id: 'reject', capability: 'rejects', on_failure: 'continue' }),
        step({ id: 'exit', capability: 'exits', on_failure: 'continue' }),
        step({ id: 'oom', capability: 'oom', on_failure: 'continue' }),
        step({ id: 'shape', capability: 'shape', on_failure: 'continue' }),
        step({ id: 'after', capability: 'work', deps: ['throw', 'reject', 'exit', 'oom', 'shape'], join: 'all_done' }),
      ],
    });
    const { result } = await run(p);
    expect(stepOf(result, 'throw').error).toMatch(/handler exploded/);
    expect(stepOf(result, 'reject').error).toMatch(/async failure/);
    expect(stepOf(result, 'exit').error).toMatch(/exited the worker.*7/);
    expect(stepOf(result, 'oom').error).toMatch(/out of memory/);
    expect(stepOf(result, 'shape').error).toMatch(/\/id: must be string/);
    for (const id of ['throw', 'reject', 'exit', 'oom', 'shape']) expect(stepOf(result, id).status).toBe('failed');
    expect(stepOf(result, 'after').status).toBe('completed');
  });

  it('rejects handler paths outside the project directory', async () => {
    const project = tempDir('orch-proj-');
    writeFileSync(join(project, 'orch.config.json'), '{}');
    const p = plan({
      base_dir: project,
      capabilities: [capability('evil', { handler: { module: '../../etc/evil.js', export: 'x' } })],
      steps: [step({ id: 's', capability: 'evil' })],
    });
    const { result } = await run(p);
    expect(result.status).toBe('failed');
    expect(stepOf(result, 's').error).toMatch(/outside the project directory/);
  });
});

describe('limits', () => {
  it('never exceeds the plan concurrency or a resource concurrency', async () => {
    const steps = Array.from({ length: 12 }, (_, i) =>
      step({ id: `s${i}`, capability: 'work', args: { ms: lit(20) }, resource: i % 2 ? 'narrow' : null, binding: { resource: i % 2 ? 'narrow' : 'wide', tier: 'local', rationale: '', fallbacks: [] } }),
    );
    const p = plan({
      capabilities: [fx('work', 'work')],
      resources: [resource('narrow', { concurrency: 1 }), resource('wide')],
      steps,
      over: { concurrency: 3 },
    });
    const { result, events } = await run(p);
    expect(result.status).toBe('completed');
    expect(maxInFlight(events)).toBeLessThanOrEqual(3);
    const odd = new Set(steps.filter((_, i) => i % 2).map((s) => s.id));
    expect(maxInFlight(events, (id) => odd.has(id))).toBe(1);
  });

  it('rate limits starts per capability', async () => {
    const p = plan({
      capabilities: [fx('work', 'work')],
      steps: Array.from({ length: 4 }, (_, i) => step({ id: `s${i}`, capability: 'work' })),
      over: {
        policy: {
          name: 'p',
          strategy: 'cost',
          weights: {},
          budgets: { cost: null, duration_ms: null },
          prefer: null,
          max_fallbacks: 0,
          require_consent: false,
          rate_limits: [{ capability: 'work', count: 2, per_ms: 150 }],
        },
      },
    });
    const { result, events } = await run(p);
    expect(result.status).toBe('completed');
    const starts = events.filter((e) => e.type === 'step_started').map((e) => e.ts).sort((a, b) => a - b);
    // the third start waits for the window of the first to pass
    expect(starts[2]! - starts[0]!).toBeGreaterThanOrEqual(150);
  });

  it('a plan deadline ends the run as timeout and aborts running steps', async () => {
    const p = plan({
      capabilities: [fx('hangs', 'hangs')],
      steps: [step({ id: 'h', capability: 'hangs' })],
      over: { deadline_ms: 150 },
    });
    const { result, events } = await run(p);
    expect(result.status).toBe('timeout');
    expect(result.error).toMatch(/deadline/);
    expect(stepOf(result, 'h').status).toBe('cancelled');
    expect(types(events).at(-1)).toBe('execution_failed');
  });
});

/** Resolves once the journal shows `stepId` of `runId` started (a wait or an approval then waits). */
function startedStep(runId: string, stepId: string): Promise<true> {
  return waitFor(() => (rt.journal!.load(runId).some((e) => e.type === 'step_started' && e.stepId === stepId) ? true : undefined), `step ${stepId} to start`);
}

describe('waits, approvals, context, sub-plans', () => {
  it('wait DURATION, and wait until a context signal arrives', async () => {
    const p = plan({
      capabilities: [fx('echo', 'echo')],
      steps: [
        step({ id: 'pause', capability: null, kind: null, action: { type: 'wait', duration_ms: lit(40) } }),
        step({
          id: 'bright',
          capability: null,
          kind: null,
          action: { type: 'wait_until', condition: bin('>', ctxVar('light'), lit(100)), timeout_ms: 10_000 },
        }),
        step({ id: 'then', capability: 'echo', deps: ['pause', 'bright'] }),
      ],
    });
    const active = await rt.start(p, { context: { light: 10 }, config: { file: null, hooks: {}, secrets: {} } });
    // The signal once the run waits on it (journaled), not after a guess at how long that takes.
    await startedStep(active.runId, 'bright');
    void rt.signal(active.runId, { context: { light: 500 } });
    const result = await active.result;
    expect(result.status).toBe('completed');
    expect(stepOf(result, 'pause').duration).toBeGreaterThanOrEqual(40);
    const events = rt.journal!.load(active.runId);
    expect(events.some((e) => e.type === 'context_updated')).toBe(true);
  });

  it('under a live context (orch serve), orch signal RUN --context counts for that run: its wait until goes on', async () => {
    const store = new ContextStore({ signals: { light: { max_age_ms: null, derived: null, hold_ms: null } }, clock: realClock });
    store.set('light', 10, { source: 'api' });
    const live = await Runtime.open({ db: join(tempDir(), 'runs.db'), workers: 1, signal: (n) => store.read(n) });
    try {
      const p = plan({ steps: [step({ id: 'bright', capability: null, kind: null, action: { type: 'wait_until', condition: bin('>', ctxVar('light'), lit(100)), timeout_ms: 10_000 } })] });
      const active = await live.start(p, { config: { file: null, hooks: {}, secrets: {} } });
      await waitFor(() => (live.journal!.load(active.runId).some((e) => e.type === 'step_started' && e.stepId === 'bright') ? true : undefined), 'the wait to start');
      expect((await live.signal(active.runId, { context: { light: 500 } })).ok).toBe(true);
      const result = await active.result;
      expect(stepOf(result, 'bright').status).toBe('completed');
      // The shared context is untouched: another run, or a trigger, still reads 10.
      expect(store.read('light').value).toBe(10);
    } finally {
      await live.close();
      store.close();
    }
  });

  it('wait until times out as a failed (timeout) step', async () => {
    const p = plan({
      steps: [
        step({ id: 'never', capability: null, kind: null, action: { type: 'wait_until', condition: bin('>', ctxVar('x'), lit(1)), timeout_ms: 60 } }),
      ],
    });
    const { result } = await run(p);
    expect(stepOf(result, 'never').status).toBe('timeout');
    expect(result.status).toBe('failed');
  });

  it('an approval step waits for a signal; approve continues, reject fails the step', async () => {
    const approval = capability('std.capabilities.approval', { kind: 'human', handler: { builtin: 'approval' } });
    const p = plan({
      capabilities: [approval, fx('echo', 'echo')],
      steps: [
        // §9.3: the subject a person approves comes back as output.subject; a rejection yields nothing.
        step({ id: 'ok', capability: 'std.capabilities.approval', kind: 'human', args: { subject: lit('ann@example.com') } }),
        step({ id: 'send', capability: 'echo', deps: ['ok'], args: { by: out('ok', 'approver'), to: out('ok', 'subject') } }),
      ],
    });
    const a = await rt.start(p, { config: { file: null, hooks: {}, secrets: {} } });
    await startedStep(a.runId, 'ok');
    void rt.signal(a.runId, { stepId: 'ok', decision: 'approve', by: 'lead' });
    const r1 = await a.result;
    expect(r1.status).toBe('completed');
    expect(stepOf(r1, 'ok').output).toMatchObject({ approved: true, subject: 'ann@example.com' });
    expect(stepOf(r1, 'send').output).toEqual({ by: 'lead', to: 'ann@example.com' });

    const b = await rt.start(p, { config: { file: null, hooks: {}, secrets: {} } });
    await startedStep(b.runId, 'ok');
    void rt.signal(b.runId, { stepId: 'ok', decision: 'reject', by: 'lead' });
    const r2 = await b.result;
    expect(r2.status).toBe('failed');
    expect(stepOf(r2, 'ok').error).toMatch(/rejected by lead/);
    expect(stepOf(r2, 'send').status).not.toBe('completed');
    expect(stepOf(r2, 'ok').output).toBeNull();
  });

  it('runs a sub-plan and uses its output', async () => {
    const child = plan({
      name: 'child',
      capabilities: [fx('double', 'double')],
      steps: [step({ id: 'd', capability: 'double', args: { value: input('v') } })],
      over: { output: out('d', 'value') },
    });
    const p = plan({
      capabilities: [fx('echo', 'echo')],
      steps: [
        step({ id: 'sub', capability: null, kind: null, action: { type: 'run', plan: 'child', args: { v: lit(21) } } }),
        step({ id: 'use', capability: 'echo', deps: ['sub'], args: { got: out('sub') } }),
      ],
      over: { subplans: { child } },
    });
    const { result } = await run(p);
    expect(result.status).toBe('completed');
    expect(stepOf(result, 'use').output).toEqual({ got: 42 });
    const children = rt.journal!.listRuns(true).filter((r) => r.parent_id === result.runId);
    expect(children).toHaveLength(1);
    expect(children[0]!.status).toBe('completed');
  });

  it("a failed run step's `fallback` call is made, not the sub-plan again, and its answer is the step's output", async () => {
    const child = plan({ name: 'child', capabilities: [fx('throws', 'throws')], steps: [step({ id: 't', capability: 'throws' })] });
    const p = plan({
      capabilities: [fx('echo', 'echo')],
      steps: [
        step({ id: 'sub', capability: null, kind: null, action: { type: 'run', plan: 'child', args: {} }, fallback: { capability: 'echo', args: { via: lit('fallback') } } }),
        step({ id: 'use', capability: 'echo', deps: ['sub'], args: { got: out('sub', 'via') } }),
      ],
      over: { subplans: { child } },
    });
    const { result } = await run(p);
    expect(result.status).toBe('completed');
    expect(stepOf(result, 'sub').output).toEqual({ via: 'fallback' });
    expect(stepOf(result, 'use').output).toEqual({ got: 'fallback' });
    expect(rt.journal!.listRuns(true).filter((r) => r.parent_id === result.runId)).toHaveLength(1);
  });
});

describe('failure policies', () => {
  it('rollback compensates completed steps in reverse completion order', async () => {
    const log = join(dir, 'comp.log');
    writeFileSync(log, '');
    const comp = (name: string) => ({ capability: 'work', args: { log: lit(log), value: lit(`undo-${name}`) } });
    const p = plan({
      capabilities: [fx('work', 'work'), fx('throws', 'throws')],
      steps: [
        step({ id: 'one', capability: 'work', compensate: comp('one') }),
        step({ id: 'two', capability: 'work', deps: ['one'], compensate: comp('two') }),
        step({ id: 'three', capability: 'throws', deps: ['two'] }),
      ],
      over: { on_failure: 'rollback' },
    });
    const { result, events } = await run(p);
    expect(result.status).toBe('failed');
    const compensated = events.filter((e) => e.type === 'step_compensated');
    expect(compensated.map((e) => e.stepId)).toEqual(['two', 'one']);
    expect(compensated.every((e) => e.data.ok === true)).toBe(true);
    expect(readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('abort (default) stops the run at the first failure', async () => {
    const p = plan({
      capabilities: [fx('throws', 'throws'), fx('work', 'work')],
      steps: [step({ id: 'bad', capability: 'throws' }), step({ id: 'next', capability: 'work', deps: ['bad'] })],
    });
    const { result } = await run(p);
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/step bad failed: handler exploded/);
  });

  it('success criteria decide the final status', async () => {
    const p = plan({
      capabilities: [fx('echo', 'echo')],
      steps: [step({ id: 'e', capability: 'echo', args: { n: lit(3) } })],
      over: { success: [{ label: 'enough', condition: bin('>=', out('e', 'n'), lit(5)) }] },
    });
    const { result } = await run(p);
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/success criterion "enough" not met/);
  });
});

describe('guardrails and policy hooks', () => {
  const forbidCloud: GuardrailIR = {
    name: 'no_cloud',
    severity: 'blocking',
    category: 'privacy',
    message: 'Personal data must stay local',
    rules: [
      {
        type: 'forbid',
        condition: bin('and', { op: '>=', left: { op: 'get', object: { op: 'var', name: 'step' }, key: 'data' }, right: lit('personal'), compare: 'data_class' }, bin('==', { op: 'get', object: { op: 'var', name: 'step' }, key: 'placement' }, lit('cloud_region'))),
      },
    ],
    static_verdict: 'runtime',
  };

  it('a blocking forbid stops the step before it starts and fails the run naming the guardrail', async () => {
    const p = plan({
      capabilities: [fx('work', 'work')],
      resources: [resource('cloud', { kind: 'cloud_region', tier: 'cloud' })],
      guardrails: [forbidCloud],
      steps: [step({ id: 'leak', capability: 'work', data: 'personal', resource: 'cloud' })],
    });
    const { result, events } = await run(p);
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/no_cloud.*Personal data must stay local/);
    expect(events.some((e) => e.type === 'step_started')).toBe(false);
    expect(events.some((e) => e.type === 'guardrail_violation' && e.data.guardrail === 'no_cloud')).toBe(true);
  });

  it('warnings are journaled and the run continues; check and assert run on actuals', async () => {
    const warn: GuardrailIR = { ...forbidCloud, name: 'warn_cloud', severity: 'warning' };
    const check: GuardrailIR = {
      name: 'short',
      severity: 'blocking',
      category: null,
      message: 'too long',
      rules: [{ type: 'check', target: { step: 'gen' }, condition: bin('<=', { op: 'get', object: { op: 'var', name: 'output' }, key: 'n' }, lit(10)) }],
      static_verdict: 'runtime',
    };
    const budget: GuardrailIR = {
      name: 'budget',
      severity: 'warning',
      category: null,
      message: null,
      rules: [{ type: 'assert', condition: bin('<=', { op: 'get', object: { op: 'var', name: 'run' }, key: 'cost' }, lit(0.01)) }],
      static_verdict: 'runtime',
    };
    const p = plan({
      capabilities: [fx('echo', 'echo', { cost: 0.02 })],
      resources: [resource('cloud', { kind: 'cloud_region', tier: 'cloud' })],
      guardrails: [warn, check, budget],
      steps: [
        step({ id: 'w', capability: 'echo', data: 'personal', resource: 'cloud' }),
        step({ id: 'gen', capability: 'echo', deps: ['w'], args: { n: input('n') } }),
      ],
    });
    const ok = await run(p, { input: { n: 3 } });
    expect(ok.result.status).toBe('completed');
    const names = ok.events.filter((e) => e.type === 'guardrail_violation').map((e) => e.data.guardrail);
    expect(names).toContain('warn_cloud');
    expect(names).toContain('budget');
    const bad = await run(p, { input: { n: 30 } });
    expect(bad.result.status).toBe('failed');
    expect(stepOf(bad.result, 'gen').error).toMatch(/short.*too long/);
  });

  it('assert plan.cost judges the worst case (loops at max), as the compiler and budgets do', async () => {
    const cap: GuardrailIR = {
      name: 'cap',
      severity: 'blocking',
      category: null,
      message: null,
      rules: [{ type: 'assert', condition: bin('<=', { op: 'get', object: { op: 'var', name: 'plan' }, key: 'cost' }, lit(0.25)) }],
      static_verdict: 'runtime',
    };
    const base = plan({ capabilities: [fx('echo', 'echo')], guardrails: [cap], steps: [step({ id: 'a', capability: 'echo' })] });
    const p: PlanIR = { ...base, estimates: { ...base.estimates, cost: 0.1, cost_max: 0.5 } };
    const { result, events } = await run(p);
    expect(result.status).toBe('failed');
    expect(events.some((e) => e.type === 'guardrail_violation' && e.data.guardrail === 'cap')).toBe(true);
    const cheap = await run({ ...p, estimates: { ...p.estimates, cost_max: 0.2 } });
    expect(cheap.result.status).toBe('completed');
  });

  it('require S before O blocks O until S completed', async () => {
    const req: GuardrailIR = {
      name: 'human_first',
      severity: 'blocking',
      category: null,
      message: null,
      rules: [{ type: 'require', subject: { kind: 'human' }, order: 'before', object: { capability: 'send' } }],
      static_verdict: 'runtime',
    };
    const p = plan({ capabilities: [fx('send', 'echo')], guardrails: [req], steps: [step({ id: 's', capability: 'send' })] });
    const { result, events } = await run(p);
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/human_first/);
    expect(events.some((e) => e.type === 'step_started')).toBe(false);
  });

  it("a parent's guardrails hold inside the sub-plans it runs; a subject the parent completed before the `run` step meets them", async () => {
    // As a compile the check was bypassed for (`orch check` reports E0401 at the `run` step): the parent's IR carries the guardrail.
    const req: GuardrailIR = {
      name: 'approved_first',
      severity: 'blocking',
      category: null,
      message: null,
      rules: [{ type: 'require', subject: { capability: 'approve' }, order: 'before', object: { capability: 'send' } }],
      static_verdict: 'violated',
    };
    const child = plan({ name: 'child', capabilities: [fx('send', 'echo')], steps: [step({ id: 's', capability: 'send' })] });
    const runChild = (deps: string[]) => step({ id: 'c', capability: null, kind: null, deps, action: { type: 'run', plan: 'child', args: {} } });
    const bare = plan({ capabilities: [fx('approve', 'echo')], guardrails: [req], steps: [runChild([])], over: { subplans: { child } } });
    const refused = await run(bare);
    expect(refused.result.status).toBe('failed');
    expect(refused.result.error).toMatch(/approved_first/);
    const approved = plan({ capabilities: [fx('approve', 'echo')], guardrails: [req], steps: [step({ id: 'a', capability: 'approve' }), runChild(['a'])], over: { subplans: { child } } });
    expect((await run(approved)).result.status).toBe('completed');
  });

  it("a parent's `forbid` judges the steps of its sub-plan", async () => {
    const noSend: GuardrailIR = {
      name: 'no_send',
      severity: 'blocking',
      category: null,
      message: null,
      rules: [{ type: 'forbid', condition: bin('==', { op: 'get', object: { op: 'var', name: 'step' }, key: 'capability' }, lit('send')) }],
      static_verdict: 'violated',
    };
    const child = plan({ name: 'child', capabilities: [fx('send', 'echo')], steps: [step({ id: 's', capability: 'send' })] });
    const p = plan({ guardrails: [noSend], steps: [step({ id: 'c', capability: null, kind: null, action: { type: 'run', plan: 'child', args: {} } })], over: { subplans: { child } } });
    const { result } = await run(p);
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/no_send/);
  });

  it('JS policy hooks from orch.config.js can block a step; postExecution sees results', async () => {
    const project = projectDir(null);
    const seen = join(project, 'seen.log');
    writeFileSync(
      join(project, 'orch.config.js'),
      `import { appendFileSync } from 'node:fs';
       export default {
         secrets: { API_TOKEN: 'tok-123456' },
         preExecution(step) { return step.stepId === 'blocked' ? { allow: false, reason: 'not on weekends' } : { allow: true }; },
         postExecution(step, result) { appendFileSync(${JSON.stringify(seen)}, step.stepId + ' ' + result.status + '\\n'); },
       };`,
    );
    const p = plan({
      base_dir: project,
      capabilities: [local('echo', 'echo')],
      steps: [step({ id: 'fine', capability: 'echo' }), step({ id: 'blocked', capability: 'echo', deps: ['fine'] })],
    });
    const active = await rt.start(p);
    const result = await active.result;
    expect(result.status).toBe('failed');
    expect(stepOf(result, 'blocked').error).toMatch(/preExecution.*not on weekends/);
    expect(readFileSync(seen, 'utf8')).toContain('fine completed');
  });

  it('secrets reach the handler but never the journal or the result', async () => {
    const project = projectDir(JSON.stringify({ secrets: { API_TOKEN: 'sup3r-s3cret-value' } }));
    const p = plan({
      base_dir: project,
      capabilities: [local('se', 'secretEcho'), local('echo', 'echo')],
      steps: [
        step({ id: 's', capability: 'se', args: { token: { op: 'secret', name: 'API_TOKEN' } } }),
        step({ id: 'e', capability: 'echo', args: { token: { op: 'secret', name: 'API_TOKEN' } } }),
      ],
    });
    const active = await rt.start(p);
    const result = await active.result;
    expect(result.status).toBe('completed');
    expect(stepOf(result, 's').output).toEqual({ length: 18, fromCtx: ['API_TOKEN'] });
    expect(JSON.stringify(result)).not.toContain('sup3r-s3cret-value');
    expect(stepOf(result, 'e').output).toEqual({ token: '***' });
    for (const file of [rt.journal!.path, `${rt.journal!.path}-wal`]) {
      if (!existsSync(file)) continue;
      expect(readFileSync(file).includes(Buffer.from('sup3r-s3cret-value'))).toBe(false);
    }
    const events = rt.journal!.load(active.runId);
    expect(JSON.stringify(events)).toContain('token is ***');
  });
});
