/**
 * Traces (LANGUAGE.md §8.7), in process against a local OTLP/HTTP receiver (JSON): the span tree
 * of a run with a retry, a wait, a fan-out, a sub-plan and an HTTP call; `ctx.traceparent` and
 * the `traceparent` header `http_request` sends; GenAI attributes from an attempt's usage; one
 * trace id across a kill -9 and a resume; nothing loaded when tracing is off.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startModelServer } from '../../test/support/model-server.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../../test/support/otlp-receiver.js';
import { loadPlan, Runtime, upgradeRun, type AttemptOutcome, type AttemptRequest, type Executor } from '../index.js';
import { openSqlite } from '../backend/sqlite/driver.js';
import { genAiAttributes, usageOf } from '../telemetry/gen-ai.js';
import { loadTracing } from '../telemetry/load-tracing.js';
import { telemetrySettings, traceIdSampled, traceLink } from '../telemetry/settings.js';
import { formatTraceparent, parseTraceparent } from '../telemetry/traceparent.js';
import { orchAsync, projectDir } from './helpers.js';

const SECRET = 'sk-trace-secret-4711';

const HANDLERS = `
import { existsSync } from 'node:fs';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export async function work(input, ctx) {
  if (input.ms) await sleep(input.ms);
  return { value: input.value, traceparent: ctx.traceparent ?? null };
}
export function lookup(input) {
  throw new Error('no account for ' + input.email + ' (' + input.note + ')');
}
export function leaky(input, ctx) {
  if (ctx.attempt < 2) throw new Error('rejected token ' + input.token);
  return { ok: true };
}
export function flaky(input, ctx) {
  if (ctx.attempt < 2) throw new Error('flaky once (token ${SECRET})');
  return { attempt: ctx.attempt };
}
/** Waits until the file input.gate exists (a test holds the step in flight). */
export async function gated(input, ctx) {
  while (!existsSync(input.gate)) await sleep(20);
  return { value: input.value };
}
`;

const SOURCE = `
capability work {
  kind tool
  input { value: int, ms: int = 0 }
  output { value: int, traceparent: string? }
  handler "./h.js#work"
  idempotent true
}
capability flaky {
  kind tool
  input { n: int }
  output { attempt: int }
  handler "./h.js#flaky"
}
capability gated {
  kind tool
  input { value: int, gate: string }
  output { value: int }
  handler "./h.js#gated"
  idempotent true
}
capability pricey {
  kind tool
  input { value: int }
  output { value: int, traceparent: string? }
  handler "./h.js#work"
  cost 0.1usd
  idempotent true
}
resource box { kind local_device  provides http  concurrency 1 }
policy tight { budget cost <= 0.15usd }
plan spendy {
  policy tight
  step paid = pricey(value: 1)
  step refused = pricey(value: paid.output.value)
}
capability leaky {
  kind tool
  input { token: string }
  output { ok: bool }
  handler "./h.js#leaky"
}
plan leaks {
  input { token: string @secret }
  step use = leaky(token: input.token) {
    retry 2 backoff fixed 5ms
  }
}
capability lookup {
  kind tool
  input { email: string @personal, note: string }
  output { ok: bool }
  handler "./h.js#lookup"
}
plan personal {
  input { email: string @personal, note: string }
  step find = lookup(email: input.email, note: input.note)
}
plan child {
  input { v: int }
  step inner = work(value: input.v)
  output { v: inner.output.value }
}
plan main {
  input { items: list<int>, url: string }
  step first = flaky(n: 1) {
    retry 2 backoff fixed 20ms
  }
  step pause = wait 30ms {
    after first
  }
  for each x in input.items parallel 2 {
    step fan = work(value: x, ms: 25)
  }
  step sub = run child(v: 7)
  step call = http_request(url: input.url)
  output { v: sub.output.v }
}
plan signed {
  step before = work(value: 1)
  step ask = approval(approver: "ops", summary: "ok?") { after before }
  step later = work(value: 2) { after ask }
  output { v: later.output.value }
}
plan stopped {
  step paid = pricey(value: 1)
  step ask = approval(approver: "ops", summary: "ok?") { after paid }
}
plan crashy {
  input { gate: string }
  step before = work(value: 1)
  step held = gated(value: 2, gate: input.gate) {
    after before
  }
  step last = work(value: held.output.value)
}
`;

let receiver: OtlpReceiver;
let dir: string;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  dir = projectDir(JSON.stringify({ telemetry: { otlp: receiver.url, trace_url: 'https://traces.example/trace/{trace_id}' }, secrets: { TOKEN: SECRET } }));
  writeFileSync(join(dir, 'h.js'), HANDLERS);
  writeFileSync(join(dir, 'main.orch'), SOURCE);
});
afterAll(async () => {
  await receiver?.close();
});

async function plan(name: string) {
  const loaded = await loadPlan(join(dir, 'main.orch'), name);
  if (loaded.kind !== 'plan') throw new Error(JSON.stringify(loaded));
  return loaded.plan;
}

const byId = (spans: readonly ReceivedSpan[]) => new Map(spans.map((s) => [s.spanId, s]));
const children = (spans: readonly ReceivedSpan[], parent: ReceivedSpan) => spans.filter((s) => s.parentSpanId === parent.spanId);
const one = (spans: readonly ReceivedSpan[], test: (s: ReceivedSpan) => boolean, what: string): ReceivedSpan => {
  const found = spans.filter(test);
  expect(found.length, `${what}: ${found.length} spans`).toBe(1);
  return found[0]!;
};

describe('traces of a run', () => {
  it('a run with a retry, a wait, a fan-out, a sub-plan and an HTTP call: span tree, names, attributes, statuses', async () => {
    const caller = { traceId: 'a'.repeat(31) + '1', spanId: 'b'.repeat(15) + '2', sampled: true };
    const db = join(dir, 'tree.db');
    const rt = await Runtime.open({ db, workers: 2 });
    const active = await rt.start(await plan('main'), {
      runId: 'tree-1',
      input: { items: [1, 2, 3], url: `${receiver.url}/echo` },
      traceparent: formatTraceparent(caller),
    });
    const result = await active.result;
    expect(result.status, JSON.stringify(result.steps)).toBe('completed');
    await rt.close();

    const spans = receiver.spans.filter((s) => s.traceId === caller.traceId);
    expect(spans.length).toBeGreaterThan(0);
    expect(spans.every((s) => s.service === 'orch')).toBe(true);
    expect(spans.some((s) => s.attributes['orch.unfinished'] === true)).toBe(false);

    // The run joins the caller's trace under the caller's span, and the journal keeps its ids.
    const run = one(spans, (s) => s.name === 'orch.run main', 'run span');
    expect(run.parentSpanId).toBe(caller.spanId);
    expect(run.attributes).toMatchObject({ 'orch.run_id': 'tree-1', 'orch.plan': 'main', 'orch.status': 'completed' });
    expect(run.status.code).toBe(1);
    const sqlite = openSqlite(db);
    const created = JSON.parse((sqlite.prepare(`SELECT data FROM events WHERE run_id = 'tree-1' AND type = 'plan_created'`).get() as { data: string }).data);
    sqlite.close();
    expect(created).toMatchObject({ trace_id: caller.traceId, span_id: run.spanId });

    const steps = children(spans, run);
    const step = (key: string) => one(steps, (s) => (s.attributes['orch.step_key'] ?? s.attributes['orch.step']) === key, `step ${key}`);

    // Retry: two attempts under the step, the first failed (its secret redacted), a retry event with the backoff.
    const first = step('first');
    expect(first.name).toBe('orch.step first');
    expect(first.status.code).toBe(1);
    const attempts = children(spans, first).sort((a, b) => Number(a.attributes['orch.attempt']) - Number(b.attributes['orch.attempt']));
    expect(attempts.map((a) => [a.name, a.attributes['orch.attempt'], a.status.code])).toEqual([
      ['orch.attempt first', 1, 2],
      ['orch.attempt first', 2, 1],
    ]);
    expect(attempts[0]!.status.message).toContain('flaky once');
    expect(JSON.stringify(spans)).not.toContain(SECRET);
    expect(attempts[0]!.attributes).toMatchObject({ 'orch.run_id': 'tree-1', 'orch.plan': 'main', 'orch.step': 'first', 'orch.capability': 'main.flaky' });
    const retry = first.events.find((e) => e.name === 'retry');
    expect(retry?.attributes).toMatchObject({ 'orch.attempt': 1, 'orch.retry.delay_ms': 20 });
    expect(attempts[1]!.start).toBeGreaterThanOrEqual(attempts[0]!.end + 15);

    // The wait: a step span as long as the wait, no attempt under it.
    const pause = step('pause');
    expect(pause.attributes['orch.kind']).toBe('wait');
    expect(pause.end - pause.start).toBeGreaterThanOrEqual(29);
    expect(children(spans, pause)).toEqual([]);

    // The fan-out: one step span per item, each with its attempt, whose span the handler got.
    // Resource `box` takes one step at a time: items waited for its slot, and their attempts say how long.
    const queued = spans.filter((s) => s.name === 'orch.attempt fan').map((s) => Number(s.attributes['orch.queued_ms'] ?? 0));
    expect(queued.filter((ms) => ms >= 20).length, `queued_ms: ${queued.join(', ')}`).toBeGreaterThanOrEqual(2);
    for (const i of [0, 1, 2]) {
      const fan = step(`fan[${i}]`);
      expect(fan.name).toBe('orch.step fan');
      const [attempt] = children(spans, fan);
      expect(attempt?.name).toBe('orch.attempt fan');
      const out = (result.steps.find((s) => s.stepId === 'fan')!.output as { traceparent: string }[])[i]!;
      expect(out.traceparent).toBe(`00-${caller.traceId}-${attempt!.spanId}-01`);
    }

    // The sub-plan: its run span under the `run` step's span, its steps under it.
    const sub = step('sub');
    expect(sub.attributes['orch.kind']).toBe('run');
    const childRun = one(children(spans, sub), (s) => s.name === 'orch.run child', 'sub-plan run span');
    expect(childRun.attributes).toMatchObject({ 'orch.run_id': 'tree-1/sub', 'orch.parent_run_id': 'tree-1' });
    const inner = one(children(spans, childRun), (s) => s.name === 'orch.step inner', 'sub-plan step');
    expect(children(spans, inner).map((s) => s.name)).toEqual(['orch.attempt inner']);

    // http_request sends the attempt span as its traceparent.
    const [callAttempt] = children(spans, step('call'));
    const sent = receiver.calls.find((c) => c.path === '/echo');
    expect(parseTraceparent(sent?.headers.traceparent)).toEqual({ traceId: caller.traceId, spanId: callAttempt!.spanId, sampled: true });

    // Every span is in the tree under the run span.
    const all = byId(spans);
    for (const s of spans) if (s !== run) expect(all.has(s.parentSpanId), s.name).toBe(true);
  });

  it('a step the budget refuses ends its span with an error naming the refusal, not unfinished', async () => {
    const rt = await Runtime.open({ db: null, workers: 1 });
    const active = await rt.start(await plan('spendy'), { runId: 'budget-1', input: {} });
    const result = await active.result;
    expect(result.error).toContain('budget exceeded');
    await rt.close();
    const spans = receiver.spans.filter((s) => s.attributes['orch.run_id'] === 'budget-1');
    const refused = one(spans, (s) => s.name === 'orch.step refused', 'refused step span');
    expect(refused.attributes['orch.unfinished']).toBeUndefined();
    expect(refused.status.code).toBe(2);
    expect(refused.status.message).toContain('budget exceeded: budget cost <= 0.15usd of policy tight');
    expect(refused.status.message).toContain('refused');
    expect(spans.some((s) => s.attributes['orch.unfinished'] === true)).toBe(false);
  });

  it('a cancelled run\'s span carries its cost and status like any other end (§8.7: orch.cost on every run span)', async () => {
    const rt = await Runtime.open({ db: null, workers: 1 });
    let asked!: () => void;
    const waiting = new Promise<void>((done) => (asked = done));
    const active = await rt.start(await plan('stopped'), {
      runId: 'cancel-1',
      input: {},
      onEvent: (e) => {
        if (e.type === 'step_started' && e.stepId === 'ask') asked();
      },
    });
    // Cancelled once the approval waits: the paid step's 0.1usd is spent by then.
    await waiting;
    active.run.cancel('stop');
    expect((await active.result).status).toBe('cancelled');
    await rt.close();
    await receiver.waitFor((spans) => spans.some((s) => s.name === 'orch.run stopped' && s.attributes['orch.run_id'] === 'cancel-1'), 10_000, 'the run span');
    const run = one(receiver.spans, (s) => s.name === 'orch.run stopped' && s.attributes['orch.run_id'] === 'cancel-1', 'run span');
    expect(run.attributes).toMatchObject({ 'orch.plan': 'stopped', 'orch.status': 'cancelled', 'orch.cost': 0.1 });
    expect(run.attributes['orch.unfinished']).toBeUndefined();
  });

  it('an error text quoting a value of class secret reaches no span (LANGUAGE.md §3): *** in its place', async () => {
    const token = 'tok-CLASS-SECRET-0042';
    const rt = await Runtime.open({ db: null, workers: 1 });
    const active = await rt.start(await plan('leaks'), { runId: 'leaks-1', input: { token } });
    expect((await active.result).status).toBe('completed');
    await rt.close();
    const spans = receiver.spans.filter((s) => s.attributes['orch.run_id'] === 'leaks-1');
    const failed = one(spans, (s) => s.name === 'orch.attempt use' && s.attributes['orch.attempt'] === 1, 'first attempt');
    expect(failed.status.message).toContain('rejected token ***');
    expect(JSON.stringify(spans)).not.toContain(token);
  });

  it('an error text quoting a value of class personal reaches no span either (a collector has no tier): *** in its place, other text kept', async () => {
    const rt = await Runtime.open({ db: null, workers: 1 });
    const active = await rt.start(await plan('personal'), { runId: 'personal-1', input: { email: 'pat.doe@example.com', note: 'first try' } });
    expect((await active.result).status).toBe('failed');
    await rt.close();
    const spans = receiver.spans.filter((s) => s.attributes['orch.run_id'] === 'personal-1');
    expect(spans.map((s) => s.name).sort()).toEqual(['orch.attempt find', 'orch.run personal', 'orch.step find']);
    for (const s of spans) expect(s.status.message, s.name).toMatch(/no account for \*\*\* \(first try\)/);
    expect(JSON.stringify(spans)).not.toContain('pat.doe');
  });

  it('untraced (no endpoint): no trace id in the journal, no ctx.traceparent', async () => {
    const db = join(dir, 'untraced.db');
    const rt = await Runtime.open({ db, workers: 1 });
    const before = receiver.spans.length;
    const active = await rt.start(await plan('child'), { runId: 'plain-1', input: { v: 3 }, config: { file: null, hooks: {}, secrets: {} }, traceparent: formatTraceparent({ traceId: 'c'.repeat(32), spanId: 'd'.repeat(16), sampled: true }) });
    const result = await active.result;
    await rt.close();
    expect(result.status).toBe('completed');
    expect((result.steps[0]!.output as { traceparent: unknown }).traceparent).toBeNull();
    const sqlite = openSqlite(db);
    const created = JSON.parse((sqlite.prepare(`SELECT data FROM events WHERE run_id = 'plain-1' AND type = 'plan_created'`).get() as { data: string }).data);
    sqlite.close();
    expect(created).not.toHaveProperty('trace_id');
    expect(receiver.spans.length).toBe(before);
  });

  it('an attempt that reports usage carries the GenAI attributes', async () => {
    const executor: Executor = {
      start(req: AttemptRequest, done: (o: AttemptOutcome) => void) {
        const usage = { model: 'gpt-4o-mini', endpoint: 'openai', input_tokens: 42, output_tokens: 7, cost: 0.00001 };
        setImmediate(() => done({ ok: true, output: { value: 1, traceparent: req.traceparent ?? null }, usage } as AttemptOutcome));
        return { abort: () => undefined };
      },
    };
    const rt = await Runtime.open({ db: null, executor });
    const active = await rt.start(await plan('child'), { runId: 'genai-1', input: { v: 1 } });
    expect((await active.result).status).toBe('completed');
    await rt.close();
    const attempt = one(receiver.spans, (s) => s.name === 'orch.attempt inner' && s.attributes['orch.run_id'] === 'genai-1', 'model attempt');
    expect(attempt.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.usage.input_tokens': 42,
      'gen_ai.usage.output_tokens': 7,
      'orch.endpoint': 'openai',
    });
  });

  it('a built-in model call: gen_ai.request.model is the model asked for, gen_ai.response.model the one that answered (a dated version)', async () => {
    const server = await startModelServer();
    try {
      const project = projectDir(JSON.stringify({
        telemetry: { otlp: receiver.url },
        endpoints: { m: { api: 'openai', base_url: server.openaiUrl } },
        prices: { 'gpt-test': { input_per_mtok: 1, output_per_mtok: 1 } },
      }));
      writeFileSync(join(project, 'm.orch'), 'capability name { kind llm  input { text: string }  output { text: string }  prompt "Name ${input.text}"  model "gpt-test"  endpoint "m" }\nplan named { step n = name(text: "a fox") output { t: n.output.text } }\n');
      const loaded = await loadPlan(join(project, 'm.orch'), 'named');
      if (loaded.kind !== 'plan') throw new Error(JSON.stringify(loaded));
      const answer = (model: string) => ({ id: 'c', object: 'chat.completion', created: 0, model, choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'Rex', refusal: null } }], usage: { prompt_tokens: 12, completion_tokens: 3 } });
      server.script({ body: answer('gpt-test-2026-01-01') }, { body: answer('gpt-test') });
      const rt = await Runtime.open({ db: null, executor: { start: (_r, done) => (queueMicrotask(() => done({ ok: false, error: 'not a model call' })), { abort: () => undefined }) } });
      for (const runId of ['genai-dated', 'genai-same']) expect((await (await rt.start(loaded.plan, { runId, input: {} })).result).status).toBe('completed');
      await rt.close();
      expect(server.requests.map((r) => r.body.model)).toEqual(['gpt-test', 'gpt-test']);
      const dated = one(receiver.spans, (s) => s.name === 'orch.attempt n' && s.attributes['orch.run_id'] === 'genai-dated', 'dated attempt');
      expect(dated.attributes).toMatchObject({ 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-test', 'gen_ai.response.model': 'gpt-test-2026-01-01', 'gen_ai.usage.input_tokens': 12, 'gen_ai.usage.output_tokens': 3, 'orch.endpoint': 'm' });
      const same = one(receiver.spans, (s) => s.name === 'orch.attempt n' && s.attributes['orch.run_id'] === 'genai-same', 'same attempt');
      expect(same.attributes).toMatchObject({ 'gen_ai.request.model': 'gpt-test' });
      expect(same.attributes).not.toHaveProperty('gen_ai.response.model');
    } finally {
      await server.close();
    }
  });

  it('a run upgraded while it waits at an approval keeps its trace id, live or paused and resumed: the new version\'s steps are in the run\'s trace (§8.6, §8.7)', async () => {
    const v1 = await plan('signed');
    // v2: \`later\` (not started at the approval) sends another value, and a new step follows it.
    const v2dir = join(dir, 'v2');
    mkdirSync(v2dir, { recursive: true });
    writeFileSync(join(v2dir, 'h.js'), HANDLERS);
    writeFileSync(
      join(v2dir, 'main.orch'),
      SOURCE.replace('step later = work(value: 2) { after ask }', 'step later = work(value: 3) { after ask }\n  step extra = work(value: later.output.value)'),
    );
    const loaded = await loadPlan(join(v2dir, 'main.orch'), 'signed');
    if (loaded.kind !== 'plan') throw new Error(JSON.stringify(loaded));
    const v2 = loaded.plan;
    const traceOf = async (db: string, runId: string) => {
      const sqlite = openSqlite(db);
      const created = JSON.parse((sqlite.prepare(`SELECT data FROM events WHERE run_id = ? AND type = 'plan_created'`).get(runId) as { data: string }).data);
      const upgraded = sqlite.prepare(`SELECT 1 FROM events WHERE run_id = ? AND type = 'plan_upgraded'`).get(runId);
      sqlite.close();
      expect(upgraded, 'plan_upgraded').toBeDefined();
      return created as { trace_id: string; span_id: string };
    };

    // Live: the process running it moves it at its approval.
    const liveDb = join(dir, 'upgrade-live.db');
    const rt = await Runtime.open({ db: liveDb, workers: 1, controlPollMs: 20 });
    const active = await rt.start(v1, { runId: 'up-live', input: {} });
    const deadline = Date.now() + 20_000;
    while (!active.run.awaitingApproval()) {
      if (Date.now() > deadline) throw new Error('never reached its approval');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await rt.upgrade('up-live', v2)).toMatchObject({ compatible: true, requested: true });
    while (!(await rt.store!.load('up-live')).some((e) => e.type === 'plan_upgraded')) {
      if (Date.now() > deadline) throw new Error('never upgraded');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await rt.signal('up-live', { stepId: 'ask', decision: 'approve', by: 'ops' })).ok).toBe(true);
    expect(await active.result).toMatchObject({ status: 'completed', output: { v: 3 } });
    await rt.close();

    // Paused: the run stops at its approval, \`orch upgrade\` moves it, another runtime resumes it.
    const pausedDb = join(dir, 'upgrade-paused.db');
    const first = await Runtime.open({ db: pausedDb, workers: 1, suspendOnApproval: true });
    expect((await (await first.start(v1, { runId: 'up-paused', input: {} })).result).status).toBe('paused');
    await first.close();
    const second = await Runtime.open({ db: pausedDb, workers: 1 });
    expect(await upgradeRun(second.store!, 'up-paused', v2)).toMatchObject({ compatible: true, applied: true });
    expect((await second.signal('up-paused', { stepId: 'ask', decision: 'approve', by: 'ops' })).ok).toBe(true);
    expect(await (await second.resume('up-paused')).result).toMatchObject({ status: 'completed', output: { v: 3 } });
    await second.close();

    for (const [db, runId] of [[liveDb, 'up-live'], [pausedDb, 'up-paused']] as const) {
      const created = await traceOf(db, runId);
      const spans = receiver.spans.filter((s) => s.attributes['orch.run_id'] === runId);
      expect(new Set(spans.map((s) => s.traceId)), runId).toEqual(new Set([created.trace_id]));
      // A step span per step of both versions; the approval's wait is cut where the run moved (as at a resume).
      for (const name of ['orch.step before', 'orch.step later', 'orch.step extra']) one(spans, (s) => s.name === name, `${runId}: ${name}`);
      expect(spans.filter((s) => s.name === 'orch.step ask').at(-1)?.attributes['orch.status'], runId).toBe('completed');
      const last = spans.filter((s) => s.name === 'orch.run signed').at(-1)!;
      expect(last.attributes, runId).toMatchObject({ 'orch.status': 'completed' });
      expect(last.status.code, runId).toBe(1);
      const all = byId(spans);
      for (const s of spans) if (s.spanId !== created.span_id) expect(all.has(s.parentSpanId), `${runId}: ${s.name}`).toBe(true);
    }
  }, 40_000);

  it('a run killed with kill -9 and resumed by `orch resume` keeps its trace id; the resumed run span links the first; the process flushes before it exits', async () => {
    const db = join(dir, 'crash.db');
    const gate = join(dir, 'gate');
    const env = { OTEL_BSP_SCHEDULE_DELAY: '50' };
    const p = orchAsync(['run', 'main.orch', '--plan', 'crashy', '--db', db, '--run-id', 'crash-1', '--input', JSON.stringify({ gate }), '--quiet'], dir, env);
    // The first process exports what ended before it dies: the step `before`.
    await receiver.waitFor((spans) => spans.some((s) => s.name === 'orch.step before' && s.attributes['orch.run_id'] === 'crash-1'), 30_000, 'the first process spans');
    const sqlite = openSqlite(db);
    const started = () => sqlite.prepare(`SELECT 1 FROM events WHERE run_id = 'crash-1' AND step_id = 'held' AND type = 'step_started'`).get();
    const deadline = Date.now() + 30_000;
    while (!started() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const created = JSON.parse((sqlite.prepare(`SELECT data FROM events WHERE run_id = 'crash-1' AND type = 'plan_created'`).get() as { data: string }).data);
    sqlite.close();
    p.child.kill('SIGKILL');
    await p.done;
    expect(created.trace_id).toMatch(/^[0-9a-f]{32}$/);

    writeFileSync(gate, '');
    // `orch resume` in a process of its own: it sends its spans before it exits (no schedule delay set).
    const resuming = await orchAsync(['resume', 'crash-1', '--db', db, '--quiet'], dir).done;
    expect(resuming.code, resuming.stderr).toBe(0);

    const spans = receiver.spans.filter((s) => s.attributes['orch.run_id'] === 'crash-1');
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([created.trace_id]));
    const resumed = one(spans, (s) => s.name === 'orch.run crashy' && s.attributes['orch.resumed'] === true, 'resumed run span');
    expect(resumed.parentSpanId).toBe(created.span_id);
    expect(resumed.links).toEqual([{ traceId: created.trace_id, spanId: created.span_id }]);
    const last = one(spans, (s) => s.name === 'orch.step last', 'a step of the resumed process');
    expect(last.parentSpanId).toBe(resumed.spanId);
  }, 60_000);
});

describe('telemetry settings', () => {
  it('off without an endpoint or with OTEL_TRACES_EXPORTER=none; the environment wins over the config', () => {
    expect(telemetrySettings(undefined, {})).toBeNull();
    expect(telemetrySettings({ otlp: 'http://c:4318' }, { OTEL_TRACES_EXPORTER: 'none' })).toBeNull();
    expect(telemetrySettings({ otlp: 'http://c:4318' }, { OTEL_SDK_DISABLED: 'true' })).toBeNull();
    expect(telemetrySettings({ otlp: 'http://c:4318/' }, {})).toEqual({ tracesUrl: 'http://c:4318/v1/traces', serviceName: 'orch', protocol: 'http/json', sampler: { parentBased: true, ratio: 1 } });
    expect(telemetrySettings({ otlp: 'http://c:4318' }, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://e:4318', OTEL_SERVICE_NAME: 'svc' })).toEqual({
      tracesUrl: 'http://e:4318/v1/traces',
      serviceName: 'svc',
      protocol: 'http/json',
      sampler: { parentBased: true, ratio: 1 },
    });
    // The protocol: protobuf when asked (the traces variable first), JSON otherwise.
    expect(telemetrySettings({ otlp: 'http://c' }, { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' })?.protocol).toBe('http/protobuf');
    expect(telemetrySettings({ otlp: 'http://c' }, { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' })?.protocol).toBe('http/json');
    expect(telemetrySettings({ otlp: 'http://c' }, { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })?.protocol).toBe('http/json');
    expect(telemetrySettings(undefined, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t/x', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://e' })?.tracesUrl).toBe('http://t/x');
    expect(traceLink('https://j/trace/{trace_id}', 'abc')).toBe('https://j/trace/abc');
    expect(traceLink(undefined, 'abc')).toBeNull();
  });

  it('OTEL_TRACES_SAMPLER applies (§8.7: the standard variables): parentbased_always_off records a run only under a sampled caller, and the handler is told so', async () => {
    const before = process.env.OTEL_TRACES_SAMPLER;
    process.env.OTEL_TRACES_SAMPLER = 'parentbased_always_off';
    try {
      const caller = { traceId: 'c'.repeat(31) + '1', spanId: 'd'.repeat(15) + '2', sampled: true };
      const rt = await Runtime.open({ db: null, workers: 1 });
      const alone = await (await rt.start(await plan('child'), { runId: 'unsampled-1', input: { v: 1 } })).result;
      const called = await (await rt.start(await plan('child'), { runId: 'sampled-1', input: { v: 2 }, traceparent: formatTraceparent(caller) })).result;
      await rt.close();
      expect([alone.status, called.status]).toEqual(['completed', 'completed']);
      const tp = (r: typeof alone) => (r.steps.find((x) => x.stepId === 'inner')!.output as { traceparent: string }).traceparent;
      expect(tp(alone)).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
      expect(tp(called)).toMatch(new RegExp(`^00-${caller.traceId}-[0-9a-f]{16}-01$`));
      await receiver.waitFor((spans) => spans.some((x) => x.attributes['orch.run_id'] === 'sampled-1' && x.name === 'orch.run child'), 10_000, 'the sampled run');
      expect(receiver.spans.filter((x) => x.attributes['orch.run_id'] === 'unsampled-1')).toEqual([]);
    } finally {
      if (before === undefined) delete process.env.OTEL_TRACES_SAMPLER;
      else process.env.OTEL_TRACES_SAMPLER = before;
    }
  });

  it('reads OTEL_TRACES_SAMPLER and its ratio as the SDK does; a ratio decides by trace id alone (every process alike)', () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };
    const sampler = (s?: string, arg?: string) => telemetrySettings(undefined, { ...env, ...(s ? { OTEL_TRACES_SAMPLER: s } : {}), ...(arg ? { OTEL_TRACES_SAMPLER_ARG: arg } : {}) })?.sampler;
    expect(sampler()).toEqual({ parentBased: true, ratio: 1 });
    expect(sampler('always_off')).toEqual({ parentBased: false, ratio: 0 });
    expect(sampler('always_on')).toEqual({ parentBased: false, ratio: 1 });
    expect(sampler('parentbased_always_off')).toEqual({ parentBased: true, ratio: 0 });
    expect(sampler('traceidratio', '0.25')).toEqual({ parentBased: false, ratio: 0.25 });
    expect(sampler('parentbased_traceidratio', '2')).toEqual({ parentBased: true, ratio: 1 });
    expect(sampler('jaeger_remote')).toEqual({ parentBased: true, ratio: 1 });
    expect(traceIdSampled('00000000000000000000000000000001', 0.5)).toBe(true);
    expect(traceIdSampled('ffffffff000000000000000000000000', 0.5)).toBe(false);
    expect(traceIdSampled('ffffffff000000000000000000000000', 1)).toBe(true);
    expect(traceIdSampled('00000000000000000000000000000000', 0)).toBe(false);
  });

  it('traceparent: valid ones round-trip, malformed ones are ignored', () => {
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    expect(formatTraceparent(parseTraceparent(tp)!)).toBe(tp);
    for (const bad of ['', 'nope', `ff-${'1'.repeat(32)}-${'2'.repeat(16)}-01`, `00-${'0'.repeat(32)}-${'2'.repeat(16)}-01`, `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01-x`])
      expect(parseTraceparent(bad)).toBeNull();
  });

  it('usage: only numbers and names are read; no model and no tokens is no GenAI call', () => {
    expect(usageOf({ input_tokens: '5', model: 3 })).toBeNull();
    expect(genAiAttributes(usageOf({ cost: 0.5 })!)).toEqual({ 'orch.cost': 0.5 });
  });
});

describe('an OTLP endpoint that cannot be reached (LANGUAGE.md §9.1)', () => {
  it('is said as tracing starts, before any span is exported: orch serve told it only after its batch delay (5 s) or a flush', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const said: string[] = [];
    let heard!: () => void;
    const warned = new Promise<void>((r) => (heard = r));
    const tracing = await loadTracing({ tracesUrl: `http://127.0.0.1:${port}/v1/traces`, serviceName: 'orch', protocol: 'http/json' }, (t) => t, (line) => {
      said.push(line);
      heard();
    });
    const startedAt = Date.now();
    try {
      // No run, no flush: only the start of tracing can have told it.
      await warned;
      expect(Date.now() - startedAt).toBeLessThan(2000);
      expect(said).toEqual([`traces cannot be sent to http://127.0.0.1:${port}/v1/traces: connection refused; runs go on without waiting for it`]);
    } finally {
      await tracing.shutdown();
    }
    expect(said).toHaveLength(1);
  });
});
