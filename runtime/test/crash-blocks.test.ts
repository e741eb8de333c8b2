/**
 * Crash safety inside v0.2 blocks: a child `orch run` of a plan with a `repeat` loop and a
 * `race` is killed with SIGKILL at random points (mid-iteration, mid-race; seeded, the seed printed
 * on failure, ORCH_TEST_SEED replays it), then `orch resume`d
 * (itself killed again a few times). The run ends exactly like an uninterrupted one, no completed
 * step instance ever runs again, and each iteration is journaled once.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqlite } from '../backend/sqlite/driver.js';
import { seededRandom } from '../../test/support/seed.js';
import { orch, orchAsync, projectDir } from './helpers.js';

const SOURCE = `module crashy

capability tick {
  kind tool
  input { log: string, ms: int, n: int }
  output { n: int }
  handler "./tick.js#tick"
  idempotent true
}

plan looped {
  input { log: string }
  repeat again max 8 until two.output.n >= 5 {
    step one = tick(log: input.log, ms: 60, n: again.index)
    step two = tick(log: input.log, ms: 60, n: one.output.n + 0)
  }
  race pick {
    step quick = tick(log: input.log, ms: 250, n: 1)
    step slowpoke = tick(log: input.log, ms: 20000, n: 2)
  }
  step after_race = tick(log: input.log, ms: 10, n: len(pick.winner))
  output { iterations: again.iterations, winner: pick.winner, last: two.output.n, after: after_race.output.n }
}
`;

const TICK = `import { appendFileSync } from 'node:fs';
export async function tick(input, ctx) {
  appendFileSync(input.log, \`start \${ctx.stepId} \${ctx.attempt}\\n\`);
  await new Promise((r) => setTimeout(r, input.ms));
  return { n: input.n };
}
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function events(db: string, runId: string) {
  const d = openSqlite(db, { readonly: true });
  const rows = d.prepare('SELECT seq, type, step_id, data FROM events WHERE run_id = ? ORDER BY seq').all(runId) as { seq: number; type: string; step_id: string | null; data: string }[];
  d.close();
  return rows;
}

function eventCount(db: string, runId: string): number {
  try {
    return events(db, runId).length;
  } catch {
    return 0;
  }
}

describe('crash and resume inside a loop and a race (SIGKILL)', () => {
  it('ends like the uninterrupted run; no completed instance runs again', async () => {
    const project = projectDir();
    writeFileSync(join(project, 'tick.js'), TICK);
    writeFileSync(join(project, 'crashy.orch'), SOURCE);
    const db = join(project, 'runs.db');
    const expected = { iterations: 6, winner: 'quick', last: 5, after: 5 };
    const random = seededRandom();

    // Uninterrupted, for reference.
    const clean = orch(['run', 'crashy.orch', '--input', JSON.stringify({ log: join(project, 'clean.log') }), '--db', db, '--json'], project);
    expect(clean.code, clean.stderr).toBe(0);
    expect((JSON.parse(clean.stdout) as { output: unknown }).output).toEqual(expected);

    let kills = 0;
    for (const runId of ['kill-a', 'kill-b']) {
      const log = join(project, `${runId}.log`);
      let args = ['run', 'crashy.orch', '--input', JSON.stringify({ log }), '--db', db, '--run-id', runId, '--workers', '2'];
      for (let k = 0; k < 5; k++) {
        const before = eventCount(db, runId);
        const { child, done } = orchAsync(args, project);
        const deadline = Date.now() + 60_000;
        let ended: Awaited<typeof done> | null = null;
        void done.then((r) => (ended = r));
        while (!ended && eventCount(db, runId) <= before + 3 && Date.now() < deadline) await sleep(5);
        if (ended) break;
        await sleep(Math.floor(random() * 200));
        child.kill('SIGKILL');
        const exit = await done;
        if (exit.code === 0) break;
        kills++;
        args = ['resume', runId, '--db', db, '--workers', '2'];
      }
      const final = orch(['resume', runId, '--db', db, '--json'], project);
      const rows = events(db, runId);
      const end = rows.at(-1)!;
      expect(end.type, final.stderr).toBe('execution_completed');
      expect((JSON.parse(end.data) as { output: unknown }).output).toEqual(expected);
      expect(rows.map((e) => e.seq)).toEqual(rows.map((_, i) => i + 1));
      // Each iteration journaled once; each instance completed at most once and never started after.
      expect(rows.filter((e) => e.type === 'loop_iteration').map((e) => (JSON.parse(e.data) as { index: number }).index)).toEqual([0, 1, 2, 3, 4, 5]);
      expect(rows.filter((e) => e.type === 'race_won')).toHaveLength(1);
      const completed = new Map<string, number>();
      for (const e of rows) {
        if (e.type === 'step_completed') {
          expect(completed.has(e.step_id!), `${e.step_id} completed twice`).toBe(false);
          completed.set(e.step_id!, (JSON.parse(e.data) as { attempt: number }).attempt);
        }
        if (e.type === 'step_started' && completed.has(e.step_id!)) throw new Error(`${e.step_id} started again after completing`);
      }
      for (const [, key, attempt] of readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split(' ')))
        if (completed.has(key!)) expect(Number(attempt), `${key} ran again after it completed`).toBeLessThanOrEqual(completed.get(key!)!);
      expect(completed.get('slowpoke')).toBeUndefined();
    }
    expect(kills).toBeGreaterThanOrEqual(2);
  }, 240_000);
});
