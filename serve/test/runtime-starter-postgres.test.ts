/**
 * The run starter `orch serve` uses, on a real Postgres: a run that has just ended is reported
 * ended only once its journal holds its end. The test holds the run's last commit back (a lock on
 * orch.events taken while its last step runs), so the moment between "over in memory" and
 * "durable" lasts as long as the test wants instead of a few milliseconds.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBackend } from '../../runtime/index.js';
import { projectDir, local } from '../../runtime/test/helpers.js';
import { lit, plan, step } from '../../runtime/test/ir-builder.js';
import { startPostgres, type TestPostgres } from '../../test/support/postgres.js';
import { TERMINAL_STATUSES, type RunStarter, type RunView } from '../run-starter.js';
import { openRuntimeStarter } from '../runtime-starter.js';
import { waitFor } from './http-helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PENDING = Symbol('pending');

let db: TestPostgres;
beforeAll(async () => {
  db = await startPostgres();
  await (await openBackend(db.url)).migrate();
}, 120_000);
afterAll(async () => {
  await db?.stop();
});

describe('GET /runs/:id on Postgres', () => {
  it('says a run ended only once its last events are in the journal', async () => {
    const project = projectDir();
    const release = join(project, 'release');
    const ir = plan({
      name: 'held',
      base_dir: project,
      capabilities: [local('wait', 'waitsForFile')],
      steps: [step('last', 'wait', { args: { file: lit(release) } })],
    });
    const starter: RunStarter = await openRuntimeStarter({ backend: await openBackend(db.url), plans: [ir], log: () => {}, local: true });
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    try {
      const { runId } = await starter.start(ir, {}, { trigger: null, context: {} });
      // The step is running, and its start is in the journal.
      await waitFor(async () => ((await starter.timeline(runId))?.some((e) => e.type === 'step_started') ? true : undefined), 30_000, 'the step to start');
      // From now on nothing can be written to orch.events until the lock goes (reads still can).
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE orch.events IN EXCLUSIVE MODE');
      writeFileSync(release, '');

      // Ask until the answer is held back: the run is over in memory, its end is not durable.
      let held: Promise<RunView | null> | null = null;
      while (!held) {
        const asked = starter.get(runId);
        const first = await Promise.race([asked, sleep(300).then(() => PENDING)]);
        if (first === PENDING) held = asked;
        else {
          // Answered at once: then the run must still be going — an ended one would be an answer
          // from memory ahead of its journal.
          expect(TERMINAL_STATUSES.has((first as RunView).status), 'reported ended while its end was not in the journal').toBe(false);
          await sleep(20);
        }
      }
      await locker.query('COMMIT');
      const view = await held;
      expect(view?.status).toBe('completed');
      const types = (await starter.timeline(runId))!.map((e) => `${e.type}${typeof e.stepId === 'string' ? ` ${e.stepId}` : ''}`);
      expect(types).toContain('step_completed last');
      expect(types).toContain('execution_completed');
    } finally {
      await locker.query('ROLLBACK').catch(() => {});
      await locker.end();
      await starter.close();
    }
  }, 60_000);
});
