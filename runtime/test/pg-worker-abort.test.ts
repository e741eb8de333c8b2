/**
 * An owner that gives up on an attempt running on an `orch worker` (here: `cancel --step`) tells
 * that worker (`orch_abandon`), whose handler's ctx.signal fires with the owner's reason, as it
 * would on the owner's own threads. One worker in this process (`runWorker`), one Postgres.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratedPostgres, type MigratedPostgres } from '../../test/support/postgres.js';
import { runWorker } from '../cluster/worker.js';
import { Runtime } from '../index.js';
import { clusterDb, tempDir } from './helpers.js';
import { capability, lit, plan, step } from './ir-builder.js';

const NO_CONFIG = { config: { file: null, hooks: {}, secrets: {} } };

const HANDLERS = `
import { writeFileSync } from 'node:fs';
export async function listens(input, ctx) {
  writeFileSync(input.note + '.started', String(process.pid));
  await new Promise((r) => ctx.signal.addEventListener('abort', r));
  writeFileSync(input.note, ctx.signal.reason.message);
  throw ctx.signal.reason;
}
`;

let db: MigratedPostgres;
beforeAll(async () => {
  db = await migratedPostgres();
}, 120_000);
afterAll(async () => {
  await db?.stop();
});

describe('an attempt on an orch worker that its owner gives up on', () => {
  it("has its handler's ctx.signal fired on the worker with the owner's reason", async () => {
    const dir = tempDir('orch-worker-abort-');
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    writeFileSync(join(dir, 'h.js'), HANDLERS);
    const note = join(dir, 'why');
    const ir = plan({
      name: 'abort',
      module: 'abort',
      base_dir: dir,
      source_file: join(dir, 'abort.orch'),
      capabilities: [capability('listens', { handler: { module: './h.js', export: 'listens' } })],
      steps: [step({ id: 'long', capability: 'listens', args: { note: lit(note) } })],
    });
    const stop = new AbortController();
    let ready!: () => void;
    const isReady = new Promise<void>((r) => (ready = r));
    const worker = runWorker({ db: await clusterDb(db.url), project: dir, slots: 1, resources: [], signal: stop.signal, log: () => undefined, onReady: () => ready() });
    const rt = await Runtime.open({ db: db.url, placement: 'workers' });
    try {
      await isReady;
      const active = await rt.start(ir, NO_CONFIG);
      await expect.poll(() => existsSync(`${note}.started`), { timeout: 30_000 }).toBe(true);
      expect(await rt.cancelStep(active.runId, 'long')).toMatchObject({ ok: true });
      const result = await active.result;
      expect(result.steps.find((s) => s.stepId === 'long')!.status).toBe('cancelled');
      await expect.poll(() => existsSync(note) && readFileSync(note, 'utf8'), { timeout: 10_000 }).toBe('cancelled by user');
    } finally {
      await rt.close();
      stop.abort();
      await Promise.allSettled([worker]);
    }
  }, 60_000);
});
