/**
 * Journals written by Orch v0.3 (fixtures/v03-journals, made by its generate.mjs with the v0.3
 * CLI at 28a83cb: a SQLite runs.db and a pg_dump of the `orch` schema; its header lists the v0.3
 * event types they hold) are read by this version: every stored event matches `orch.events/v2`,
 * replay gives what the runs recorded (statuses, outputs, costs and token usage, the people who
 * approved), and the unfinished runs are resumed to their end — the one paused at an approval
 * (and moved to a new version of its plan by `orch upgrade`) once it is approved, the one killed
 * mid-step and the one interrupted with Ctrl-C without running their completed step again.
 * Everything this version then writes into those journals matches the schema too.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime, triggerOfRow } from '../index.js';
import type { RunEvent } from '../scheduler/journal-events.js';
import { eventSchemaErrors } from '../scheduler/event-schema.js';
import { replay } from '../scheduler/replay.js';
import { FIXTURES } from './helpers.js';
import { oldJournalBackends } from './old-journals.js';

const HERE = join(FIXTURES, 'v03-journals');
const V1_SCHEMA = join(import.meta.dirname, '..', '..', 'compiler', 'schema', 'orch.events.v1.schema.json');
// The interrupted runs' step was journaled with a ten-minute nap; its handler naps this long instead.
process.env.ORCH_FIXTURE_NAP_MS = '5';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const ofType = <T extends RunEvent['type']>(events: readonly RunEvent[], type: T) =>
  events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);

describe.each(oldJournalBackends(HERE))('v0.3 journals on $name', (backend) => {
  it('match orch.events/v2, replay to what they recorded, and are resumed to their end', async () => {
    const place = await backend.place();
    cleanups.push(place.teardown);
    if (backend.name === 'Postgres') expect(place.migratedFrom).toBe(11);
    const rt = await Runtime.open({ db: place.db, workers: 1 });
    cleanups.push(() => rt.close());
    const store = rt.store!;

    const rows = await store.listRuns(true);
    const runs = rows.map((r) => r.id);
    // Rows written before the run row kept its trigger: not known (`GET /runs` shows no `trigger`), not "none".
    expect(rows.map((r) => triggerOfRow(r)).filter((t) => t !== undefined)).toEqual([]);
    // Postgres holds one run more: the one whose attempt an `orch worker` lost (SQLite has none).
    expect(runs).toHaveLength(backend.name === 'Postgres' ? 13 : 12);
    // The fixture holds every event type v0.3 published (orch.events/v1), as its generate.mjs says.
    const held = new Set<string>();
    for (const id of runs) for (const e of await store.load(id)) held.add(e.type);
    const v1 = Object.keys((JSON.parse(readFileSync(V1_SCHEMA, 'utf8')) as { $defs: object }).$defs);
    expect(v1.filter((t) => !held.has(t))).toEqual(backend.name === 'Postgres' ? [] : ['attempt_lost']);
    const conforms = async () => {
      for (const id of runs) for (const e of await store.load(id)) expect(eventSchemaErrors(e), `${id} #${e.seq} ${e.type}`).toEqual([]);
    };
    await conforms();

    // The tour: v0.2's control flow, and v0.3's model step, usage, budget and guardrail events.
    const tourEvents = await store.load('tour-done');
    const tour = replay(tourEvents);
    expect(tour.terminal).toBe(true);
    expect(tour.steps.get('retried')).toMatchObject({ status: 'completed', attempts: 2, output: { value: 'second try' } });
    expect(tour.steps.get('never')?.status).toBe('skipped');
    expect(tour.steps.get('slowpoke')?.status).toBe('cancelled');
    expect(tour.winners).toEqual({ pick: 'quick' });
    expect(tour.iterations).toEqual({ rounds: 1 });
    expect(tour.steps.get('summary')).toMatchObject({
      status: 'completed',
      cost: 0.00264,
      output: { text: 'quick retry wins' },
      usage: { input_tokens: 1200, output_tokens: 30, model: 'gpt-fixture', endpoint: 'scripted' },
    });
    expect(tour.steps.get('meter')).toMatchObject({ cost: 0.001, usage: { input_tokens: 200, output_tokens: 20, model: 'meter-1' } });
    expect(tour.steps.get('doubled')).toMatchObject({ status: 'completed', output: { text: '42' } });
    expect(tour.steps.get('told')).toMatchObject({ status: 'completed', output: { delivered: true, channel: 'hook' } });
    expect(ofType(tourEvents, 'budget_overrun').map((e) => e.data)).toEqual([{ attempt: 1, reserved: 0.000328, actual: 0.00264, over: 0.002312 }]);
    expect(ofType(tourEvents, 'budget_exceeded').map((e) => e.data.warn)).toEqual([true]);
    expect(ofType(tourEvents, 'guardrail_violation').map((e) => [e.stepId, e.data.severity])).toEqual([['summary', 'warning']]);
    const [created] = ofType(tourEvents, 'plan_created');
    expect(created!.data.ir_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(created!.data.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(ofType(tourEvents, 'execution_completed')[0]!.data).toMatchObject({
      cost: 0.00864,
      output: { count: 3, last: 'quick second try', rounds: 2, summary: 'quick retry wins' },
    });
    expect(replay(await store.load('tour-done/inner')).steps.get('inner_echo')?.output).toEqual({ value: 'inner quick retry wins' });

    // Ended runs of every other kind replay to how they ended.
    const outcome = async (id: string) => {
      const events = await store.load(id);
      return { terminal: replay(events).terminal, last: events.at(-1)!.type };
    };
    expect(await outcome('gated-approved')).toEqual({ terminal: true, last: 'execution_completed' });
    expect(await outcome('gated-cancelled')).toEqual({ terminal: true, last: 'execution_cancelled' });
    expect(await outcome('consent-denied')).toEqual({ terminal: true, last: 'execution_failed' });
    const released = await store.load('held-released');
    expect(replay(released)).toMatchObject({ terminal: true, context: { go: true } });
    expect(ofType(released, 'context_updated').map((e) => e.data.patch)).toEqual([{ go: true }]);
    const saga = replay(await store.load('saga-failed'));
    expect(saga.terminal).toBe(true);
    expect(saga.steps.get('booked')).toMatchObject({ status: 'completed', compensated: true });
    expect(saga.steps.get('broken')?.status).toBe('failed');

    if (backend.name === 'Postgres') {
      const lostEvents = await store.load('chain-lost');
      expect(ofType(lostEvents, 'attempt_lost').map((e) => [e.stepId, e.data.attempt])).toEqual([['long', 1]]);
      expect(replay(lostEvents)).toMatchObject({ terminal: true });
      expect(replay(lostEvents).steps.get('long')).toMatchObject({ status: 'completed', attempts: 2, output: { tag: 'long' } });
    }

    // Started by one person; approved by two others of the group (§8.8), or by one of the two needed.
    const signoffs = new Map<string, string>();
    for (const id of runs.filter((r) => r.startsWith('signoff-'))) signoffs.set(JSON.stringify(ofType(await store.load(id), 'plan_created')[0]!.data.input), id);
    const signoff = replay(await store.load(signoffs.get(JSON.stringify({ item: 'invoice 7' })) ?? ''));
    expect(signoff.terminal).toBe(true);
    expect(signoff.startedBy).toMatchObject({ subject: 'alice', method: 'token' });
    expect(signoff.steps.get('ask')).toMatchObject({ status: 'completed', output: { approved: true, approvers: ['bob', 'carol'] } });
    expect(signoff.steps.get('ask')?.approvedBy.map((p) => p.subject)).toEqual(['bob', 'carol']);
    // The half-approved one counts bob's journaled approval: he may not give the second, carol may.
    const halfId = signoffs.get(JSON.stringify({ item: 'invoice 8' }))!;
    expect(replay(await store.load(halfId)).steps.get('ask')?.approvedBy.map((p) => p.subject)).toEqual(['bob']);
    const person = (subject: string) => ({ subject, issuer: 'local', name: subject, method: 'token' as const, roles: ['approver' as const], groups: ['finance'] });
    expect(await rt.signal(halfId, { stepId: 'ask', decision: 'approve', identity: person('bob') })).toMatchObject({
      ok: false,
      forbidden: true,
      message: expect.stringContaining('has already approved'),
    });
    expect((await rt.signal(halfId, { stepId: 'ask', decision: 'approve', identity: person('carol') })).ok).toBe(true);
    const half = await (await rt.resume(halfId)).result;
    expect(half).toMatchObject({ status: 'completed', output: { paid: 'paid invoice 8' } });
    expect(replay(await store.load(halfId)).steps.get('ask')).toMatchObject({ output: { approvers: ['bob', 'carol'] } });

    // Paused at its approval, then upgraded by v0.3's `orch upgrade`: approved while no process
    // runs it, it is resumed by this version under the version it was moved to.
    const pausedEvents = await store.load('gated-paused');
    expect(replay(pausedEvents)).toMatchObject({ paused: true, terminal: false });
    expect(ofType(pausedEvents, 'plan_upgraded')[0]!.data.changes).toEqual([expect.objectContaining({ step: 'ship', change: 'changed' })]);
    expect((await rt.signal('gated-paused', { stepId: 'ask', decision: 'approve', by: 'ops' })).ok).toBe(true);
    const gated = await (await rt.resume('gated-paused')).result;
    expect(gated).toMatchObject({ status: 'completed', output: { shipped: 'shipped crate v2' } });

    // The killed run and the Ctrl-C'd one go on from their step in flight; `first` is not run again.
    for (const id of ['chain-interrupted', 'chain-ctrlc']) {
      const before = replay(await store.load(id));
      expect(before.steps.get('first')?.status, id).toBe('completed');
      expect(before.steps.get('long'), id).toMatchObject({ status: 'running', inFlight: true });
      const chain = await (await rt.resume(id)).result;
      expect(chain, id).toMatchObject({ status: 'completed', output: { tag: 'long' } });
      const events = await store.load(id);
      expect(events.filter((e) => e.type === 'step_started' && e.stepId === 'first'), id).toHaveLength(1);
      expect(events.map((e) => e.seq), id).toEqual(events.map((_, i) => i + 1));
    }
    expect(ofType(await store.load('chain-ctrlc'), 'execution_interrupted')).toHaveLength(1);

    // A failed v0.3 run is retried from the IR and input it journaled: it rolls back again.
    const retry = await rt.retry('saga-failed');
    expect(await retry.result).toMatchObject({ status: 'failed' });
    const retried = await store.load(retry.runId);
    expect(ofType(retried, 'plan_created')[0]!.data.retryOf).toBe('saga-failed');
    expect(ofType(retried, 'step_compensated').map((e) => [e.stepId, e.data.ok])).toEqual([['booked', true]]);
    runs.push(retry.runId);

    await conforms();
  });
});
