/**
 * Journals written by Orch v0.2 (fixtures/v02-journals, made by its generate.mjs with the v0.2
 * CLI: a SQLite runs.db and a pg_dump of the `orch` schema) are read by this version: every
 * stored event matches `orch.events/v2`, replay gives what the runs recorded, and the unfinished
 * runs are resumed to their end — the one paused at an approval once it is approved, the one
 * killed mid-step without running its completed step again. Everything this version then writes
 * into those journals matches the schema too.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { openBackend, Runtime } from '../index.js';
import { eventSchemaErrors } from '../scheduler/event-schema.js';
import { irBlobSync } from '../backend/ir-blob.js';
import { openSqlite } from '../backend/sqlite/driver.js';
import { replay } from '../scheduler/replay.js';
import { binDir } from '../../test/support/pg-cluster.js';
import { startPostgres } from '../../test/support/postgres.js';
import { FIXTURES, tempDir } from './helpers.js';

const HERE = join(FIXTURES, 'v02-journals');
const RUNS = ['tour-done', 'gated-approved', 'gated-paused', 'chain-interrupted'];
// The interrupted run's step was journaled with a ten-minute nap; its handler naps this long instead.
process.env.ORCH_FIXTURE_NAP_MS = '5';

/** The IR records where its handlers were when the fixture was made: here now (the project moved). */
function relocated(blob: Buffer): Buffer {
  const ir = JSON.parse(inflateRawSync(blob).toString('utf8')) as { base_dir: string };
  return irBlobSync({ ...ir, base_dir: HERE }, (t) => t)!;
}

interface Backend {
  readonly name: string;
  place(): Promise<{ db: string; teardown(): Promise<void> }>;
}

const BACKENDS: readonly Backend[] = [
  {
    name: 'SQLite',
    async place() {
      const db = join(tempDir('orch-v02-'), 'runs.db');
      copyFileSync(join(HERE, 'runs.db'), db);
      const d = openSqlite(db);
      for (const r of d.prepare('SELECT run_id, ir FROM run_plans').all() as { run_id: string; ir: Buffer }[])
        d.prepare('UPDATE run_plans SET ir = ? WHERE run_id = ?').run(relocated(Buffer.from(r.ir)), r.run_id);
      d.close();
      return { db, teardown: async () => undefined };
    },
  },
  {
    name: 'Postgres',
    async place() {
      const pgdb = await startPostgres();
      const psql = spawnSync(join(binDir(), 'psql'), ['-q', '-v', 'ON_ERROR_STOP=1', '-f', join(HERE, 'orch.pg.sql'), pgdb.url], { encoding: 'utf8' });
      if (psql.status !== 0) throw new Error(`restoring the v0.2 dump failed: ${psql.stderr}`);
      const client = new pg.Client({ connectionString: pgdb.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ run_id: string; ir: Buffer }>('SELECT run_id, ir FROM orch.run_plans');
        for (const r of rows) await client.query('UPDATE orch.run_plans SET ir = $1 WHERE run_id = $2', [relocated(r.ir), r.run_id]);
      } finally {
        await client.end();
      }
      // As an operator upgrading Orch does: the cluster's schema moves forward with `orch db migrate`.
      const migrated = await (await openBackend(pgdb.url)).migrate();
      expect(migrated.from).toBe(6);
      return { db: pgdb.url, teardown: () => pgdb.stop() };
    },
  },
];

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe.each(BACKENDS)('v0.2 journals on $name', (backend) => {
  it('match orch.events/v2, replay to what they recorded, and are resumed to their end', async () => {
    const place = await backend.place();
    cleanups.push(place.teardown);
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
