/**
 * Policy hooks on the scheduler core (virtual clock): every start asks the preExecution hook,
 * whether it answers at once or later, and what its answer decides is carried through to the
 * end of the run even when nothing else is in flight.
 */
import { describe, expect, it } from 'vitest';
import type { PlanIR, StepIR } from '../../compiler/index.js';
import { Run, VirtualClock, type PolicyHooks, type RunEvent } from '../scheduler/index.js';
import { capability, ctxVar, input, lit, out, plan, retry, step } from './ir-builder.js';
import { SimExecutor } from './sim-executor.js';

function run(p: PlanIR, hooks: PolicyHooks) {
  const clock = new VirtualClock(0);
  const exec = new SimExecutor(clock);
  const events: RunEvent[] = [];
  const r = new Run(p, { clock, executor: exec, hooks, journal: { commit: (_s, evs) => void events.push(...evs) } }, { runId: 'h' });
  const done = r.start();
  return { done: settle(clock, done), events, exec };
}

/** Runs the virtual clock, letting promises (asynchronous hooks) answer in between, until the run ends. */
async function settle<T>(clock: VirtualClock, done: Promise<T>): Promise<T> {
  let finished = false;
  void done.finally(() => (finished = true));
  for (let i = 0; i < 1000 && !finished; i++) {
    clock.runAll();
    await new Promise((r) => setImmediate(r));
  }
  if (!finished) throw new Error('the run never finished');
  return done;
}

/** `a` cannot even be called (its argument asks for a secret nobody resolves); `b` runs after it regardless. */
const failsAtOnce = plan({
  capabilities: [capability('c')],
  steps: [
    step({ id: 'a', capability: 'c', args: { key: { op: 'secret', name: 'KEY' } }, on_failure: 'continue' }),
    step({ id: 'b', capability: 'c', deps: ['a'], join: 'all_done' }),
  ],
});

describe('the attempt a hook sees', () => {
  it('counts from 1, like ctx.attempt and the journal: 1 before the first attempt, 2 before the retry', async () => {
    const clock = new VirtualClock(0);
    let calls = 0;
    const exec = new SimExecutor(clock, () => ({ latency: 10, outcome: ++calls === 1 ? { ok: false, error: 'flaky' } : { ok: true, output: {} } }));
    const pre: number[] = [];
    const post: number[] = [];
    const p = plan({ capabilities: [capability('c')], steps: [step('a', 'c', { retry: retry(2, 5) })] });
    const r = new Run(p, { clock, executor: exec, hooks: { preExecution: (s) => (pre.push(s.attempt), { allow: true }), postExecution: (s) => void post.push(s.attempt) } }, { runId: 'att' });
    const result = await settle(clock, r.start());
    expect(result.status, JSON.stringify(result)).toBe('completed');
    expect(exec.starts.map((s) => s.attempt)).toEqual([1, 2]);
    expect(pre).toEqual([1, 2]);
    expect(post).toEqual([2]);
  });
});

describe('preExecution hook', () => {
  it('a synchronous answer is followed through: a step that fails at once still lets its dependents run', async () => {
    const asked: string[] = [];
    const h = run(failsAtOnce, { preExecution: (s) => (asked.push(s.stepId), { allow: true }) });
    const result = await h.done;
    expect(asked).toEqual(['a', 'b']);
    expect(result.steps.map((s) => [s.stepId, s.status])).toEqual([
      ['a', 'failed'],
      ['b', 'completed'],
    ]);
    expect(result.status).toBe('completed');
  });

  it("sees the call about to be made: the fallback's own capability and arguments once the step moved on to it", async () => {
    const p = plan({
      capabilities: [capability('c'), capability('backup')],
      steps: [step({ id: 'a', capability: 'c', args: { key: { op: 'secret', name: 'KEY' }, to: lit('primary') }, fallback: { capability: 'backup', args: { to: lit('fallback') } } })],
    });
    const asked: unknown[] = [];
    const h = run(p, { preExecution: (s) => (asked.push([s.capability, s.input]), { allow: true }) });
    expect((await h.done).status).toBe('completed');
    // The primary fails at once (its secret is not set); the hook saw its arguments, secrets as ***.
    expect(asked).toEqual([
      ['c', { key: '***', to: 'primary' }],
      ['backup', { to: 'fallback' }],
    ]);
  });

  it('an answer that arrives later holds the slot meanwhile; a denial fails the step and the run', async () => {
    const p = plan({ capabilities: [capability('c')], steps: [step({ id: 'a', capability: 'c' }), step({ id: 'b', capability: 'c', deps: ['a'] })], over: { concurrency: 1 } });
    const h = run(p, { preExecution: async (s) => ({ allow: s.stepId !== 'b', reason: 'not b' }) });
    const result = await h.done;
    expect(h.exec.starts.map((s) => s.stepId)).toEqual(['a']);
    expect(result.status).toBe('failed');
    expect(result.steps.find((s) => s.stepId === 'b')!.error).toBe('blocked by preExecution policy hook: not b');
    expect(h.events.filter((e) => e.stepId === 'b').map((e) => e.type)).toEqual(['step_queued', 'step_failed']);
  });
});

describe('a misbehaving preExecution hook', () => {
  const one = (over: Partial<StepIR> = {}) =>
    plan({ capabilities: [capability('c')], steps: [step({ id: 'a', capability: 'c', ...over }), step({ id: 'b', capability: 'c', deps: ['a'], join: 'all_done' })] });

  it('throwing a value that is not an Error (null, a string, an object) fails the step by name, never the process', async () => {
    for (const [thrown, text] of [
      [null, 'null'],
      ['no thanks', 'no thanks'],
      [{ code: 42 }, '{"code":42}'],
      // Every trap throws: even reading what it is fails.
      [new Proxy({}, { get: () => { throw new Error('get'); }, getPrototypeOf: () => { throw new Error('proto'); } }), 'a value that cannot be shown (reading it threw)'],
    ] as const) {
      for (const async of [false, true]) {
        const h = run(one(), { preExecution: () => (async ? Promise.reject(thrown) : (() => { throw thrown; })()) });
        const result = await h.done;
        expect(result.status).toBe('failed');
        expect(result.steps.find((s) => s.stepId === 'a')!.error).toBe(`preExecution hook failed: ${text}`);
        expect(h.exec.starts).toEqual([]);
      }
    }
  });

  it('an answer that is not { allow, reason } fails closed: a policy gate that returns garbage does not let the step through', async () => {
    for (const answer of [42, 'yes', { allow: 'no' }]) {
      const h = run(one(), { preExecution: () => answer as never });
      const result = await h.done;
      expect(result.status).toBe('failed');
      expect(result.steps.find((s) => s.stepId === 'a')!.error).toMatch(/^preExecution hook failed: it answered .* not \{ allow, reason \}$/);
      expect(h.exec.starts).toEqual([]);
    }
    // Nothing at all, or an object without `allow`, still allows (a hook that only observes).
    for (const answer of [undefined, null, {}, { reason: 'fine' }, true]) {
      const h = run(one(), { preExecution: () => answer as never });
      expect((await h.done).status).toBe('completed');
    }
    const no = await run(one(), { preExecution: () => false as never }).done;
    expect(no.steps.find((s) => s.stepId === 'a')!.error).toBe('blocked by preExecution policy hook');
  });

  it('an answer that throws as it is read (a getter, a Proxy, a reason with no string form) fails the step, never the process', async () => {
    const answers: unknown[] = [
      { get allow() { throw new Error('getter'); } },
      { allow: false, get reason() { throw new Error('getter'); } },
      { allow: false, reason: Object.create(null) },
      new Proxy({}, { get: () => { throw new Error('get'); } }),
      { get then() { throw new Error('then'); } },
      { then: () => { throw new Error('then'); } },
    ];
    for (const answer of answers) {
      for (const async of [false, true]) {
        const h = run(one(), { preExecution: () => (async ? Promise.resolve(answer as never) : (answer as never)) });
        const result = await h.done;
        expect(result.status).toBe('failed');
        expect(result.steps.find((s) => s.stepId === 'a')!.error).toMatch(/^preExecution hook failed: /);
        expect(h.exec.starts).toEqual([]);
      }
    }
  });

  it("one that never answers is bounded by the step's timeout: the step fails, the run ends", async () => {
    const h = run(one({ timeout_ms: 1000 }), { preExecution: () => new Promise<never>(() => undefined) });
    const result = await h.done;
    expect(result.status).toBe('failed');
    expect(result.steps.find((s) => s.stepId === 'a')!.error).toBe('preExecution hook failed: no answer within 1000ms');
    expect(h.events.filter((e) => e.stepId === 'a').map((e) => e.type)).toEqual(['step_queued', 'step_failed']);
  });
});

describe('what a hook is given is a copy', () => {
  it("a hook that writes into the input, context, arguments or a step's output it was shown changes nothing of the run", async () => {
    const clock = new VirtualClock(0);
    const exec = new SimExecutor(clock, (req) => ({ latency: 5, outcome: { ok: true, output: { seen: req.input, box: { v: 'orig' } } } }));
    const p = plan({
      capabilities: [capability('c')],
      steps: [step({ id: 'a', capability: 'c', args: { who: input('who') } }), step({ id: 'b', capability: 'c', deps: ['a'], args: { box: out('a', 'box'), who: input('who'), t: ctxVar('t') } })],
      over: { output: { op: 'record', fields: [{ key: 'who', value: input('who') }, { key: 't', value: ctxVar('t') }, { key: 'box', value: out('a', 'box', 'v') }] } },
    });
    const vandal = (s: { input: { [k: string]: unknown } | null }, ctx: { input: unknown; context: { [k: string]: unknown } }) => {
      (ctx.input as { who: string }).who = 'mallory';
      ctx.context.t = 99;
      if (s.input?.box) (s.input.box as { v: string }).v = 'mutated';
      return { allow: true };
    };
    const r = new Run(p, { clock, executor: exec, hooks: { preExecution: vandal as never, postExecution: vandal as never } }, { runId: 'copy', input: { who: 'alice' }, context: { t: 20 } });
    const result = await settle(clock, r.start());
    expect(result.status, JSON.stringify(result)).toBe('completed');
    expect(exec.starts.map((s) => s.input)).toEqual([{ who: 'alice' }, { box: { v: 'orig' }, who: 'alice', t: 20 }]);
    expect(result.output).toEqual({ who: 'alice', t: 20, box: 'orig' });
  });
});

describe('a secret a hook could see', () => {
  it("is redacted in the arguments, the run's input and context, even when it came from another step's output", async () => {
    const clock = new VirtualClock(0);
    // The first step's handler echoes a secret it was given (a token the run resolved).
    const exec = new SimExecutor(clock, () => ({ latency: 5, outcome: { ok: true, output: { text: 'Bearer hunter2-secret' } } }));
    const seen: string[] = [];
    const p = plan({
      capabilities: [capability('c')],
      steps: [step({ id: 'a', capability: 'c' }), step({ id: 'b', capability: 'c', deps: ['a'], args: { text: out('a', 'text'), who: input('who'), t: ctxVar('t') } })],
    });
    const redact = (v: unknown) => JSON.parse(JSON.stringify(v).replaceAll('hunter2-secret', '***')) as unknown;
    const look = (s: { input: unknown }, ...rest: unknown[]) => void seen.push(JSON.stringify([s.input, rest.at(-1)]));
    const hooks = { preExecution: (s: { input: unknown }, ctx: unknown) => look(s, ctx), postExecution: (s: { input: unknown }, _r: unknown, ctx: unknown) => look(s, ctx) };
    const r = new Run(p, { clock, executor: exec, redact, hooks: hooks as never }, { runId: 's', input: { who: 'hunter2-secret' }, context: { t: 'hunter2-secret' } });
    const result = await settle(clock, r.start());
    expect(result.status).toBe('completed');
    expect(seen).toHaveLength(4);
    for (const shown of seen) expect(shown).not.toContain('hunter2');
    // The step itself still gets the value: only what the hook is shown is redacted.
    expect(exec.starts[1]!.input).toMatchObject({ text: 'Bearer hunter2-secret' });
  });
});

describe('postExecution hook', () => {
  it('sees the outcome redacted as the journal keeps it: a secret quoted in an error is blanked', async () => {
    const clock = new VirtualClock(0);
    const exec = new SimExecutor(clock, () => ({ latency: 5, outcome: { ok: false, error: 'failed with hunter2-secret', retryable: false } }));
    const seen: unknown[] = [];
    const p = plan({ capabilities: [capability('c')], steps: [step({ id: 'a', capability: 'c' })] });
    const redact = (v: unknown) => JSON.parse(JSON.stringify(v).replaceAll('hunter2-secret', '***')) as unknown;
    const r = new Run(p, { clock, executor: exec, redact, hooks: { postExecution: (_s, result) => void seen.push(result) } }, { runId: 'p' });
    await settle(clock, r.start());
    expect(seen).toEqual([{ status: 'failed', output: null, error: 'failed with ***' }]);
  });
});

