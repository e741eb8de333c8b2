/**
 * Crash safety: a child `orch run` of a 200-step plan is killed with SIGKILL at random points;
 * `orch resume` (itself killed again a few times) finally completes every run. No completed step
 * ever runs again (handlers append every execution to a file), the journal has no gaps, and
 * replaying the journal the resumes left gives every step as completed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { replay, type RunEvent } from '../scheduler/index.js';
import { storedEvent } from '../scheduler/journal-events.js';
import { openSqlite } from '../backend/sqlite/driver.js';
import { layeredSteps, lit, plan } from './ir-builder.js';
import { local, orch, orchAsync, projectDir, writePlan } from './helpers.js';

const WIDTH = 10;
const LAYERS = 20;

function layeredPlan(log: string) {
  const steps = layeredSteps(LAYERS, WIDTH, { capability: 'work', args: { log: lit(log), ms: lit(12) } });
  return plan({ name: 'crashy', base_dir: '.', capabilities: [local('work', 'work')], steps });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function eventCount(db: string, runId: string): number {
  if (!existsSync(db)) return 0;
  try {
    const d = openSqlite(db, { readonly: true });
    const row = d.prepare('SELECT COUNT(*) AS n FROM events WHERE run_id = ?').get(runId) as { n: number } | undefined;
    d.close();
    return row?.n ?? 0;
  } catch {
    return 0;
  }
}

/** Resolves once the run journaled more than `after` events (the process is really executing). */
async function waitForProgress(db: string, runId: string, after: number): Promise<void> {
  const deadline = Date.now() + 60_000; // CLI start-up can be slow on a loaded machine
  while (Date.now() < deadline) {
    if (eventCount(db, runId) > after) return;
    await sleep(5);
  }
  throw new Error(`run ${runId} made no progress`);
}

describe('crash and resume (SIGKILL)', () => {
  it('every run completes after resumes, no completed step runs twice, the journal has no gaps', async () => {
    const project = projectDir();
    const db = join(project, 'runs.db');
    const killPoints: number[] = [];
    for (const runId of ['crash-a', 'crash-b']) {
      const log = join(project, `${runId}.log`);
      const file = writePlan(project, layeredPlan(log), `${runId}.json`);
      let args = ['run', file, '--db', db, '--run-id', runId, '--workers', '2'];
      for (let kill = 0; kill < 6; kill++) {
        const before = eventCount(db, runId);
        const { child, done } = orchAsync(args, project);
        const early = await Promise.race([waitForProgress(db, runId, before + 2).then(() => null), done]);
        // The process ended on its own before making progress: it must have completed the run.
        if (early) {
          expect(early.code, `${args.join(' ')}: ${early.stderr}`).toBe(0);
          break;
        }
        const delay = Math.floor(Math.random() * 150);
        await sleep(delay);
        child.kill('SIGKILL');
        const exit = await done;
        if (exit.code !== 0) killPoints.push(delay);
        // The process may have finished just before the kill; then there is nothing to resume.
        if (exit.code === 0) break;
        args = ['resume', runId, '--db', db, '--workers', '2'];
      }
      const final = orch(['resume', runId, '--db', db, '--json'], project);
      const status = final.code === 0 ? 'completed' : (() => {
        // already completed by an earlier (unkilled) process
        const runs = JSON.parse(orch(['runs', '--json', '--db', db], project).stdout) as { runs: { runId: string; status: string }[] };
        return runs.runs.find((r) => r.runId === runId)?.status;
      })();
      expect(status, final.stderr).toBe('completed');

      const d = openSqlite(db, { readonly: true });
      const events = d.prepare('SELECT seq, type, step_id, data FROM events WHERE run_id = ? ORDER BY seq').all(runId) as {
        seq: number;
        type: string;
        step_id: string | null;
        data: string;
      }[];
      d.close();
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      const completions = new Map<string, number>();
      const completedAt = new Map<string, number>();
      for (const e of events) {
        if (e.type === 'step_completed') {
          expect(completions.has(e.step_id!), `${e.step_id} completed twice`).toBe(false);
          completions.set(e.step_id!, (JSON.parse(e.data) as { attempt: number }).attempt);
          completedAt.set(e.step_id!, e.seq);
        }
        if (e.type === 'step_started' && completedAt.has(e.step_id!)) throw new Error(`${e.step_id} started again after completing`);
      }
      expect(completions.size).toBe(WIDTH * LAYERS);
      const runs = readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split(' '));
      for (const [, stepId, attempt] of runs) {
        // an execution with a later attempt than the completed one would be a re-run after completion
        expect(Number(attempt), `${stepId} ran again after it completed`).toBeLessThanOrEqual(completions.get(stepId!)!);
      }
      for (const id of completions.keys()) expect(runs.some(([, s]) => s === id)).toBe(true);
      // The fold the resumes started from, applied to everything they wrote: the run as it ended.
      const journal: RunEvent[] = events.flatMap((e) => storedEvent(runId, e.seq, 0, e.type, e.step_id, JSON.parse(e.data)) ?? []);
      const folded = replay(journal);
      expect(folded.terminal).toBe(true);
      for (const [id, attempt] of completions) expect(folded.steps.get(id), id).toMatchObject({ status: 'completed', attempts: attempt, inFlight: false });
    }
    expect(killPoints.length).toBeGreaterThanOrEqual(10);
  }, 240_000);
});
