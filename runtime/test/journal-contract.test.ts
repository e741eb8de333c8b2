/**
 * One journal contract (`AsyncJournal`), run against every backend — SQLite (through the async
 * adapter over `SqliteJournal`), Postgres (`PgJournal`, a throwaway database) and memory: events
 * round-trip in order, summaries update the run row, the run lists filter the same, controls are
 * taken once even by two racing consumers, prune keeps unfinished runs, offline appends follow
 * the last event. Two journal objects on one database stand for two processes.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { triggerOfRow, type AsyncJournal } from '../backend/index.js';
import type { RunEvent, RunStatus, RunSummary } from '../scheduler/types.js';
import { storedEvent } from '../scheduler/journal-events.js';
import { FIXTURES, tempDir } from './helpers.js';
import { Runtime } from '../index.js';
import { eventSchemaErrors } from '../scheduler/event-schema.js';
import { loadPlan } from '../load-plan.js';
import { BACKENDS } from './backends.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const IR = { version: 'orch.plan/v2', plan: 'p', steps: [{ id: 'a', args: { token: 'hunter2' } }] };

function summary(runId: string, over: Partial<RunSummary> = {}): RunSummary {
  return { runId, plan: 'p', parentRunId: null, status: 'running', startedAt: 1000, completedAt: null, cost: 0, error: null, ...over };
}

function event(runId: string, seq: number, type: RunEvent['type'], stepId: string | null = null, data: Record<string, unknown> = {}): RunEvent {
  return storedEvent(runId, seq, 1000 + seq, type, stepId, data)!;
}

/** A run registered and committed through `status` (its events: created, started, one per extra). */
async function seedRun(j: AsyncJournal, runId: string, status: RunStatus, startedAt: number, completedAt: number | null = null, parentId: string | null = null) {
  await j.registerRun(runId, 'p', parentId ? null : IR, { n: 1 }, startedAt, parentId);
  await j.commit(summary(runId, { status: 'running', startedAt, parentRunId: parentId }), [event(runId, 1, 'plan_created'), event(runId, 2, 'execution_started')]);
  if (status !== 'running') {
    const type = status === 'paused' ? 'execution_paused' : status === 'completed' ? 'execution_completed' : status === 'cancelled' ? 'execution_cancelled' : 'execution_failed';
    await j.commit(summary(runId, { status, startedAt, completedAt, parentRunId: parentId }), [event(runId, 3, type)]);
  }
}

describe.each(BACKENDS)('journal contract: $name', (backend) => {
  async function journals(n: number): Promise<AsyncJournal[]> {
    const place = await backend.place();
    cleanups.push(place.teardown);
    const list: AsyncJournal[] = [];
    for (let i = 0; i < n; i++) list.push((await (await place.open()).journal()).store);
    return list;
  }

  it('stores only events that match the published orch.events/v2 schema, from a run of every kind of step', async () => {
    const place = await backend.place();
    cleanups.push(place.teardown);
    const loaded = await loadPlan(join(FIXTURES, 'v02-journals', 'plans.orch'), 'tour');
    if (loaded.kind !== 'plan') throw new Error(JSON.stringify(loaded));
    const rt = await Runtime.open({ backend: await place.open(), workers: 1 });
    cleanups.push(() => rt.close());
    const marker = join(tempDir('orch-contract-'), 'flaky.marker');
    const result = await (await rt.start(loaded.plan, { input: { items: ['a', 'b'], marker }, runId: 'tour' })).result;
    expect(result.status).toBe('completed');
    const events = await rt.store!.load('tour');
    // The run wrote retries, logs, a loop, a race, a skip and a budget warning: all typed, all conforming.
    expect(new Set(events.map((e) => e.type))).toEqual(
      new Set(['plan_created', 'execution_started', 'loop_iteration', 'step_queued', 'step_skipped', 'step_started', 'step_completed', 'step_log', 'race_won', 'step_cancelled', 'step_retried', 'budget_exceeded', 'execution_completed']),
    );
    for (const e of events) expect(eventSchemaErrors(e), `#${e.seq} ${e.type}`).toEqual([]);
  });

  it('round-trips events in order, with their types, step ids and data, redacted', async () => {
    const [j] = await journals(1);
    j!.redactText = (t) => t.replaceAll('hunter2', '***');
    await j!.registerRun('r1', 'p', IR, { password: 'hunter2', n: 1 }, 1000);
    const first = [event('r1', 1, 'plan_created', null, { plan: 'p' }), event('r1', 2, 'execution_started')];
    const second = [
      event('r1', 3, 'step_queued', 'a'),
      event('r1', 4, 'step_started', 'a', { resource: 'gpu', attempt: 1 }),
      event('r1', 5, 'step_completed', 'a[0]', { output: { text: 'the token is hunter2', list: [1, 2.5, null, true], nested: { é: '✓' } } }),
    ];
    await j!.commit(summary('r1'), first);
    await j!.commit(summary('r1'), second);
    await j!.commit(summary('r1'), []);
    const loaded = await j!.load('r1');
    expect(loaded.map((e) => [e.seq, e.type, e.stepId, e.ts])).toEqual([...first, ...second].map((e) => [e.seq, e.type, e.stepId, e.ts]));
    expect(loaded[3]!.data).toEqual({ resource: 'gpu', attempt: 1 });
    expect(loaded[4]!.data).toEqual({ output: { text: 'the token is ***', list: [1, 2.5, null, true], nested: { é: '✓' } } });
    // The IR (deflated) and the input are stored redacted too.
    const row = await j!.getRun('r1');
    expect(JSON.parse(row!.ir!)).toEqual({ ...IR, steps: [{ id: 'a', args: { token: '***' } }] });
    expect(JSON.parse(row!.input!)).toEqual({ password: '***', n: 1 });
    expect(await j!.load('nope')).toEqual([]);
    // The first event alone, as load reads it (who started a run, without its whole journal).
    expect(await j!.first('r1')).toEqual(loaded[0]);
    expect(await j!.first('nope')).toBeUndefined();
    // A seq written twice is refused and the whole commit with it.
    await expect(j!.commit(summary('r1', { status: 'completed', completedAt: 2000 }), [event('r1', 6, 'step_queued', 'b'), event('r1', 5, 'step_queued', 'c')])).rejects.toThrow();
    expect((await j!.load('r1')).length).toBe(5);
    expect((await j!.getRun('r1'))!.status).toBe('running');
  });

  it('updates the run row from each summary', async () => {
    const [j] = await journals(1);
    j!.redactText = (t) => t.replaceAll('hunter2', '***');
    await j!.registerRun('r1', 'p', IR, {}, 1000);
    expect(await j!.getRun('r1')).toMatchObject({ id: 'r1', plan: 'p', parent_id: null, status: 'running', started_at: 1000, completed_at: null, cost: 0, error: null, owner_pid: process.pid });
    await j!.commit(summary('r1', { cost: 0.25 }), [event('r1', 1, 'plan_created')]);
    expect((await j!.getRun('r1'))!.cost).toBe(0.25);
    await j!.commit(summary('r1', { status: 'failed', cost: 0.5, completedAt: 1500, error: 'bad hunter2' }), [event('r1', 2, 'execution_failed')]);
    const row = await j!.getRun('r1');
    expect(row).toMatchObject({ status: 'failed', cost: 0.5, completed_at: 1500, error: 'bad ***' });
    expect(typeof row!.heartbeat_at).toBe('number');
    // A sub-plan run keeps no IR of its own.
    await j!.registerRun('r1/sub', 'child', null, { x: 1 }, 1100, 'r1');
    expect(await j!.getRun('r1/sub')).toMatchObject({ parent_id: 'r1', ir: null, input: '{"x":1}' });
    expect(await j!.getRun('nope')).toBeUndefined();
  });

  it('keeps which trigger started a run with its row, for every process: a name, none (null), or not known', async () => {
    const [writer, reader] = await journals(2);
    await writer!.registerRun('by-trigger', 'p', IR, {}, 1000, null, 'nightly');
    await writer!.registerRun('by-hand', 'p', IR, {}, 1001, null, null);
    await writer!.registerRun('unsaid', 'p', IR, {}, 1002);
    for (const id of ['by-trigger', 'by-hand', 'unsaid']) await writer!.commit(summary(id, { status: 'completed', completedAt: 2000 }), [event(id, 1, 'plan_created')]);
    const listed = new Map((await reader!.listRuns()).map((r) => [r.id, triggerOfRow(r)]));
    expect(Object.fromEntries(listed)).toEqual({ 'by-trigger': 'nightly', 'by-hand': null, unsaid: undefined });
    expect(triggerOfRow((await reader!.getRun('by-trigger'))!)).toBe('nightly');
    expect(triggerOfRow((await reader!.getRun('by-hand'))!)).toBeNull();
  });

  it('lists runs newest first (top level unless all) and the unfinished ones oldest first', async () => {
    const [j] = await journals(1);
    await seedRun(j!, 'old-done', 'completed', 1000, 1100);
    await seedRun(j!, 'paused', 'paused', 2000);
    await seedRun(j!, 'running', 'running', 3000);
    await seedRun(j!, 'running/sub', 'running', 3100, null, 'running');
    await seedRun(j!, 'failed', 'failed', 4000, 4100);
    const top = await j!.listRuns();
    expect(top.map((r) => r.id)).toEqual(['failed', 'running', 'paused', 'old-done']);
    expect(top.map((r) => r.event_count)).toEqual([3, 2, 3, 3]);
    expect((await j!.listRuns(true)).map((r) => r.id)).toEqual(['failed', 'running/sub', 'running', 'paused', 'old-done']);
    const unfinished = await j!.unfinishedRuns();
    expect(unfinished.map((r) => [r.id, r.status])).toEqual([
      ['paused', 'paused'],
      ['running', 'running'],
    ]);
    // With what resuming needs.
    expect(JSON.parse(unfinished[0]!.ir!)).toEqual(IR);
    expect(unfinished[0]!.input).toBe('{"n":1}');
  });

  it('hands each control to one consumer, in order, even with two consumers racing', async () => {
    const [a, b] = await journals(2);
    await seedRun(a!, 'r1', 'running', 1000);
    await a!.addControl('r1', 'pause');
    await b!.addControl('r1', 'signal', 'approve_it', { decision: 'approve', by: 'ada' });
    await a!.addControl('r2', 'cancel');
    // Looking at what waits takes nothing: each store sees both, and they are still to take.
    for (const j of [a!, b!]) expect((await j.pendingControls('r1')).map((c) => [c.kind, c.step_id])).toEqual([['pause', null], ['signal', 'approve_it']]);
    const taken = await a!.takeControls('r1');
    expect(taken.map((c) => [c.run_id, c.kind, c.step_id, c.payload])).toEqual([
      ['r1', 'pause', null, null],
      ['r1', 'signal', 'approve_it', '{"decision":"approve","by":"ada"}'],
    ]);
    expect(typeof taken[0]!.id).toBe('number');
    expect(await b!.takeControls('r1')).toEqual([]);
    expect(await a!.pendingControls('r1')).toEqual([]);

    const n = 60;
    const seen: number[][] = [[], []];
    const total = () => seen[0]!.length + seen[1]!.length;
    const producer = (async () => {
      for (let i = 0; i < n; i++) await (i % 2 ? a! : b!).addControl('r1', 'context', null, { i });
    })();
    const deadline = Date.now() + 30_000;
    const consumer = async (j: AsyncJournal, into: number[]) => {
      while (total() < n && Date.now() < deadline)
        for (const c of await j.takeControls('r1')) into.push(JSON.parse(c.payload!).i as number);
    };
    await Promise.all([producer, consumer(a!, seen[0]!), consumer(b!, seen[1]!)]);
    const all = [...seen[0]!, ...seen[1]!].sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: n }, (_, i) => i));
    for (const s of seen) expect([...s].sort((x, y) => x - y)).toEqual(s);
    expect(await a!.takeControls('r2')).toHaveLength(1);
  });

  it('prunes finished runs with their sub-plan runs, events and controls, never unfinished ones', async () => {
    const [j] = await journals(1);
    await seedRun(j!, 'done', 'completed', 1000, 1500);
    await seedRun(j!, 'done/sub', 'completed', 1100, 1400, 'done');
    await seedRun(j!, 'done_x', 'failed', 1000, 1600);
    await seedRun(j!, 'done-recent', 'completed', 1000, 9000);
    await seedRun(j!, 'old-running', 'running', 10);
    await seedRun(j!, 'old-paused', 'paused', 10);
    await j!.addControl('done', 'cancel');
    expect(await j!.prune(5000)).toEqual({ runs: 3, events: 9 });
    expect((await j!.listRuns(true)).map((r) => r.id).sort()).toEqual(['done-recent', 'old-paused', 'old-running']);
    expect(await j!.load('done/sub')).toEqual([]);
    expect(await j!.takeControls('done')).toEqual([]);
    expect(await j!.prune(5000)).toEqual({ runs: 0, events: 0 });
  });

  it('appends an offline event after the last one and sets the status', async () => {
    const [j] = await journals(1);
    await seedRun(j!, 'r1', 'running', 1000);
    await j!.appendOffline('r1', 'execution_paused', {}, 'paused');
    expect(await j!.getRun('r1')).toMatchObject({ status: 'paused', completed_at: null, owner_pid: null });
    const before = Date.now();
    await j!.appendOffline('r1', 'execution_cancelled', { reason: 'cancelled by user' }, 'cancelled');
    const events = await j!.load('r1');
    expect(events.map((e) => [e.seq, e.type, e.stepId])).toEqual([
      [1, 'plan_created', null],
      [2, 'execution_started', null],
      [3, 'execution_paused', null],
      [4, 'execution_cancelled', null],
    ]);
    expect(events[3]!.data).toEqual({ reason: 'cancelled by user' });
    const row = await j!.getRun('r1');
    expect(row!.status).toBe('cancelled');
    expect(row!.completed_at).toBeGreaterThanOrEqual(before);
  });

  it('records the owner with heartbeats, and disowns a run with its sub-plan runs only', async () => {
    const [j] = await journals(1);
    for (const id of ['r_1', 'r_1/sub', 'rx1', 'rx1/sub']) await seedRun(j!, id, 'running', 1000, null, id.endsWith('/sub') ? id.slice(0, -4) : null);
    const before = Date.now();
    await j!.heartbeat('r_1');
    expect((await j!.getRun('r_1'))!.heartbeat_at).toBeGreaterThanOrEqual(before);
    await j!.disown('r_1');
    expect((await j!.getRun('r_1'))!.owner_pid).toBeNull();
    expect((await j!.getRun('r_1/sub'))!.owner_pid).toBeNull();
    // Another run whose id merely starts alike is not touched.
    expect((await j!.getRun('rx1'))!.owner_pid).toBe(process.pid);
    // Nor a sub-plan run of another run that `_` as a LIKE wildcard would match.
    expect((await j!.getRun('rx1/sub'))!.owner_pid).toBe(process.pid);
  });
});
