/**
 * Journals written by Orch v0.2 (fixtures/v02-journals, made by its generate.mjs with the v0.2
 * CLI: a SQLite runs.db and a pg_dump of the `orch` schema) are read by this version: every
 * stored event matches `orch.events/v2`, replay gives what the runs recorded, and the unfinished
 * runs are resumed to their end — the one paused at an approval once it is approved, the one
 * killed mid-step without running its completed step again. Everything this version then writes
 * into those journals matches the schema too.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime } from '../index.js';
import { eventSchemaErrors } from '../scheduler/event-schema.js';
import { replay } from '../scheduler/replay.js';
import { FIXTURES } from './helpers.js';
import { oldJournalBackends } from './old-journals.js';

const HERE = join(FIXTURES, 'v02-journals');
const RUNS = ['tour-done', 'gated-approved', 'gated-paused', 'chain-interrupted'];
// The interrupted run's step was journaled with a ten-minute nap; its handler naps this long instead.
process.env.ORCH_FIXTURE_NAP_MS = '5';

const BACKENDS = oldJournalBackends(HERE);

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe.each(BACKENDS)('v0.2 journals on $name', (backend) => {
  it('match orch.events/v2, replay to what they recorded, and are resumed to their end', async () => {
    const place = await backend.place();
    cleanups.push(place.teardown);
    if (backend.name === 'Postgres') expect(place.migratedFrom).toBe(6);
    const rt = await Runtime.open({ db: place.db, workers: 1 });
    cleanups.push(() => rt.close());
    const store = rt.store!;

    const conforms = async () => {
      for (const id of RUNS) for (const e of await store.load(id)) expect(eventSchemaErrors(e), `${id} #${e.seq} ${e.type}`).toEqual([]);
    };
    await conforms();

    const tour = replay(await store.load('tour-done'));
    expect(tour.terminal).toBe(true);
    expect(tour.steps.get('retried')).toMatchObject({ status: 'completed', attempts: 2, output: { value: 'second try' } });
    expect(tour.steps.get('never')?.status).toBe('skipped');
    expect(tour.steps.get('slowpoke')?.status).toBe('cancelled');
    expect(tour.winners).toEqual({ pick: 'quick' });
    expect(tour.iterations).toEqual({ rounds: 1 });
    const paused = replay(await store.load('gated-paused'));
    expect(paused).toMatchObject({ paused: true, terminal: false });
    expect(paused.steps.get('ask')?.status).toBe('running');
    const interrupted = replay(await store.load('chain-interrupted'));
    expect(interrupted.steps.get('first')?.status).toBe('completed');
    expect(interrupted.steps.get('long')).toMatchObject({ status: 'running', inFlight: true });

    // Approved while no process runs it, then resumed by this version.
    expect((await rt.signal('gated-paused', { stepId: 'ask', decision: 'approve', by: 'ops' })).ok).toBe(true);
    const gated = await (await rt.resume('gated-paused')).result;
    expect(gated).toMatchObject({ status: 'completed', output: { shipped: 'shipped crate' } });

    // The killed run goes on from its step in flight; its completed step is not run again.
    const chain = await (await rt.resume('chain-interrupted', { rerunInFlight: true })).result;
    expect(chain).toMatchObject({ status: 'completed', output: { tag: 'long' } });
    const events = await store.load('chain-interrupted');
    expect(events.filter((e) => e.type === 'step_started' && e.stepId === 'first')).toHaveLength(1);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));

    await conforms();
  });
});
