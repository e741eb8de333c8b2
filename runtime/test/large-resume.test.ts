/**
 * A large plan through the real CLI: a 20,000-step layered run is killed with SIGKILL part way,
 * then `orch resume` finishes it. No completed step runs again (the handler appends every
 * execution to a file), every step completes exactly once, and the journal has no gaps.
 * Not timed: speed and memory at this size are measured by `npm run bench` (bench/large.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqlite } from '../backend/sqlite/driver.js';
import { layeredSteps, lit, plan } from './ir-builder.js';
import { local, orch, orchAsync, projectDir, writePlan } from './helpers.js';

const WIDTH = 100;
const LAYERS = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function completedCount(db: string, runId: string): number {
  if (!existsSync(db)) return 0;
  try {
    const d = openSqlite(db, { readonly: true });
    try {
      const row = d.prepare("SELECT COUNT(*) AS n FROM events WHERE run_id = ? AND type = 'step_completed'").get(runId) as { n: number };
      return row.n;
    } finally {
      d.close();
    }
  } catch {
    // The writer may be switching the file to WAL at that moment.
    return 0;
  }
}

describe('a 20,000-step run', () => {
  it('resumes after kill -9 part way and completes every step once, re-running none that completed', async () => {
    const project = projectDir();
    const db = join(project, 'runs.db');
    const log = join(project, 'executions.log');
    const steps = layeredSteps(LAYERS, WIDTH, { capability: 'work', args: { log: lit(log) } });
    const file = writePlan(project, plan({ name: 'large', base_dir: '.', capabilities: [local('work', 'work')], steps }));
    const runId = 'large-1';
    const { child, done } = orchAsync(['run', file, '--db', db, '--run-id', runId, '--workers', '2', '--quiet'], project);
    // Kill it somewhere past a quarter of the steps (the exact point does not matter).
    const deadline = Date.now() + 240_000;
    let exited: Awaited<typeof done> | null = null;
    void done.then((r) => (exited = r));
    while (completedCount(db, runId) < (WIDTH * LAYERS) / 4 && !exited && Date.now() < deadline) await sleep(50);
    expect(exited, 'the run ended before it could be killed').toBeNull();
    child.kill('SIGKILL');
    await done;
    const before = completedCount(db, runId);
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(WIDTH * LAYERS);

    const resumed = orch(['resume', runId, '--db', db, '--workers', '2', '--quiet'], project, {});
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/completed in .* 20000\/20000 steps completed/);

    const d = openSqlite(db, { readonly: true });
    const events = d.prepare('SELECT seq, type, step_id, data FROM events WHERE run_id = ? ORDER BY seq').all(runId) as {
      seq: number;
      type: string;
      step_id: string | null;
      data: string;
    }[];
    d.close();
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const completed = new Map<string, number>();
    for (const e of events)
      if (e.type === 'step_completed') {
        expect(completed.has(e.step_id!), `${e.step_id} completed twice`).toBe(false);
        completed.set(e.step_id!, (JSON.parse(e.data) as { attempt: number }).attempt);
      }
    expect(completed.size).toBe(WIDTH * LAYERS);
    const executions = readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split(' '));
    for (const [, stepId, attempt] of executions)
      expect(Number(attempt), `${stepId} ran again after it completed`).toBeLessThanOrEqual(completed.get(stepId!)!);
  }, 600_000);
});
