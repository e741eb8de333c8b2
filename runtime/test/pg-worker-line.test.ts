/**
 * A fast worker's deep line (docs/cluster.md, "A fast worker's line") does not hoard slow work:
 * two `orch worker`s in this process (`runWorker`), one Postgres. A layer of no-op steps makes
 * both fast (their windows 16 × their slot); the next layer's slow steps are dispatched at once,
 * and whichever worker claims them all turns slow with the first it starts, gives back what it
 * will not start soon, and the other worker runs those — not one worker running every slow step
 * in turn while the other idles.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratedPostgres, type MigratedPostgres } from '../../test/support/postgres.js';
import { runWorker } from '../cluster/worker.js';
import { Runtime } from '../index.js';
import { clusterDb, tempDir } from './helpers.js';
import { capability, lit, plan, step } from './ir-builder.js';

const FAST = 40;
const SLOW = 10;
const NO_CONFIG = { config: { file: null, hooks: {}, secrets: {} } };

let db: MigratedPostgres;
beforeAll(async () => {
  db = await migratedPostgres();
}, 120_000);
afterAll(async () => {
  await db?.stop();
});

describe("a fast worker's line", () => {
  it('gives slow attempts it claimed in bulk back to the queue: both workers run the slow layer', async () => {
    const dir = tempDir('orch-worker-line-');
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    writeFileSync(join(dir, 'h.js'), 'export const noop = () => null;\nexport const nap = async ({ ms }) => { await new Promise((r) => setTimeout(r, ms)); return null; };\n');
    const fast = Array.from({ length: FAST }, (_, i) => step({ id: `f${i}`, capability: 'noop' }));
    const ir = plan({
      name: 'line',
      module: 'line',
      base_dir: dir,
      source_file: join(dir, 'line.orch'),
      capabilities: [capability('noop', { handler: { module: './h.js', export: 'noop' } }), capability('nap', { handler: { module: './h.js', export: 'nap' } })],
      steps: [...fast, ...Array.from({ length: SLOW }, (_, i) => step({ id: `s${i}`, capability: 'nap', args: { ms: lit(300) }, deps: fast.map((f) => f.id) }))],
    });
    const stop = new AbortController();
    const ids: string[] = [];
    let ready!: () => void;
    const bothReady = new Promise<void>((r) => (ready = r));
    const cluster = await clusterDb(db.url);
    const workers = [0, 1].map(() =>
      runWorker({ db: cluster, project: dir, slots: 1, resources: [], signal: stop.signal, log: () => undefined, onReady: (id) => ids.push(id) === 2 && ready() }),
    );
    const rt = await Runtime.open({ db: db.url, placement: 'workers' });
    try {
      await bothReady;
      const active = await rt.start(ir, NO_CONFIG);
      expect((await active.result).status).toBe('completed');
      const { rows } = await db.client.query<{ worker: string; n: number }>(
        `SELECT worker, count(*)::int AS n FROM orch.attempts WHERE run_id = $1 AND step_key LIKE 's%' AND status = 'succeeded' GROUP BY worker`,
        [active.runId],
      );
      expect(rows.reduce((a, r) => a + r.n, 0)).toBe(SLOW);
      // Each ran some: the one that claimed the layer kept what its shrunken window holds.
      expect(rows).toHaveLength(2);
      for (const r of rows) expect(r.n).toBeGreaterThanOrEqual(2);
    } finally {
      await rt.close();
      stop.abort();
      await Promise.allSettled(workers);
    }
  }, 60_000);
});
