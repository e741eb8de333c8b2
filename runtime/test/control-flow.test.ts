/**
 * LANGUAGE.md §7.1 at run time, end to end: plans compiled from `fixtures/flows/flows.orch`, real
 * worker threads (piscina) running `fixtures/flow-handlers.js`, a real SQLite journal. Each
 * construct is checked by what the journal and the result show: `join first` starts before the
 * slow branch ends, a race's loser is cancelled and not waited for, a loop stops when `until`
 * holds or fails exhausted, nested outputs are lists of lists in item order, `??` merges the
 * branch that ran, and one step can be cancelled without failing the run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, type PlanIR } from '../../compiler/index.js';
import { Runtime } from '../index.js';
import { ABORT_GRACE_MS } from '../executor/abort-channel.js';
import type { ExecutionResult, RunEvent } from '../scheduler/types.js';
import { FIXTURES, tempDir } from './helpers.js';

const SOURCE = join(FIXTURES, 'flows', 'flows.orch');
let dir: string;
let rt: Runtime;
const plans = new Map<string, PlanIR>();

beforeAll(async () => {
  dir = tempDir('orch-flow-');
  rt = await Runtime.open({ db: join(dir, 'runs.db'), workers: 4, resourceLimits: { maxOldGenerationSizeMb: 64 }, controlPollMs: 50 });
  const out = compile({ entry: SOURCE });
  expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  for (const p of out.plans) plans.set(p.plan, p);
});
afterAll(async () => {
  await rt.close();
});

let logs = 0;
function logFile(): string {
  return join(dir, `log-${++logs}.txt`);
}
function logLines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}
/**
 * The handlers' log once it holds `line` (a handler notes its abort in its own worker, in its own
 * time); fails when it does not within `withinMs`.
 */
async function logWith(file: string, line: string, withinMs = 5000): Promise<string[]> {
  for (const until = Date.now() + withinMs; !logLines(file).includes(line) && Date.now() < until; ) await new Promise((r) => setTimeout(r, 10));
  const lines = logLines(file);
  expect(lines).toContain(line);
  return lines;
}

async function run(name: string, input: Record<string, unknown>, during?: (runId: string) => Promise<void>): Promise<{ result: ExecutionResult; events: RunEvent[] }> {
  const active = await rt.start(plans.get(name)!, { input, config: { file: null, hooks: {}, secrets: {} } });
  if (during) await during(active.runId);
  const result = await active.result;
  return { result, events: rt.journal!.load(active.runId) };
}

const at = (events: RunEvent[], type: RunEvent['type'], stepId: string) => events.find((e) => e.type === type && e.stepId === stepId)?.ts;

describe('join first and soft ?? reads', () => {
  it('a join first step starts on the first completed dependency, before the slow one ends', async () => {
    const { result, events } = await run('merge_first', { log: logFile() });
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ merged: 'fast' });
    expect(at(events, 'step_started', 'first')!).toBeLessThan(at(events, 'step_completed', 'slow')!);
    // Later completions do not start it again.
    expect(events.filter((e) => e.type === 'step_started' && e.stepId === 'first')).toHaveLength(1);
  });

  it('?? merges the branch that ran; a skipped branch read softly skips nothing', async () => {
    for (const left of [true, false]) {
      const { result } = await run('merge_soft', { log: logFile(), left });
      expect(result.status).toBe('completed');
      expect(result.output).toEqual({ text: left ? 'left' : 'right' });
      expect(result.steps.find((s) => s.stepId === 'merged')!.status).toBe('completed');
    }
  });
});

describe('race', () => {
  it('the first branch to complete wins, the loser is cancelled at once and the run does not wait for it', async () => {
    const log = logFile();
    const { result, events } = await run('race_pick', { log });
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ winner: 'hare', text: 'hare', announce: 'won by hare', merged: 'hare', loser: 'none' });
    const won = events.find((e) => e.type === 'race_won')!;
    expect(won).toMatchObject({ stepId: 'pick', data: { winner: 'hare' } });
    const cancelled = events.find((e) => e.type === 'step_cancelled')!;
    expect(cancelled.stepId).toBe('tortoise');
    expect(cancelled.seq).toBeGreaterThan(won.seq);
    const tortoise = result.steps.find((s) => s.stepId === 'tortoise')!;
    expect(tortoise).toMatchObject({ status: 'cancelled', output: null });
    expect(result.metadata.cancelledSteps).toBe(1);
    expect(result.metadata.failedSteps).toBe(0);
    // The run ended before the loser's handler would have returned (3 s after it started).
    const end = events.at(-1)!;
    expect(end.type).toBe('execution_completed');
    expect(end.ts).toBeLessThan(at(events, 'step_started', 'tortoise')! + 3000);
    expect(logLines(log)).toContain('start tortoise');
    // The loser's handler was told why, through ctx.signal, and stopped.
    expect(await logWith(log, 'aborted (AbortError: cancelled: lost race pick to hare) tortoise')).not.toContain('end tortoise');
  });
});

describe('block fields', () => {
  it('a race and a loop have the .duration and .cost of their steps (every branch, every iteration)', async () => {
    const { result } = await run('block_fields', { log: logFile() });
    expect(result.status).toBe('completed');
    // The race ends with its winner (150 ms), not its cancelled loser (3 s); both branches were charged.
    // The loop spans its two 100 ms iterations and costs both.
    expect(result.output).toEqual({ race_took: true, race_under: true, race_cost: 0.5, loop_took: true, loop_cost: 0.5 });
  });
});

describe('the result of a for each step', () => {
  it('spans its items: its duration is first start to last end, as its startedAt and completedAt', async () => {
    const { result } = await run('items_in_turn', { log: logFile() });
    expect(result.status).toBe('completed');
    const each = result.steps.find((s) => s.stepId === 'each')!;
    const span = Date.parse(each.completedAt!) - Date.parse(each.startedAt!);
    // Three 40 ms items one after another: the step took all three, not the longest one.
    expect(each.duration).toBe(span);
    expect(each.duration).toBeGreaterThanOrEqual(120);
  });
});

describe('repeat', () => {
  it('a step after a loop that holds a race is not skipped by the race\'s cancelled loser', async () => {
    const { result, events } = await run('race_in_loop', { log: logFile() });
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ reads: 'lap 1 won by hare', waits: 'after' });
    expect(events.filter((e) => e.type === 'step_skipped')).toEqual([]);
  });

  it('iterates until the condition holds, journaling each iteration with its index', async () => {
    const { result, events } = await run('loop_until', { log: logFile(), approve_at: 2 });
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ iterations: 3, text: 'draft 2 after round 1 reviewed', approved: true });
    expect(events.filter((e) => e.type === 'loop_iteration').map((e) => [e.stepId, e.data.index])).toEqual([
      ['revise', 0],
      ['revise', 1],
      ['revise', 2],
    ]);
    expect(events.filter((e) => e.type === 'step_completed').map((e) => e.stepId).sort()).toEqual(['draft#0', 'draft#1', 'draft#2', 'review#0', 'review#1', 'review#2']);
    // The first iteration sees no previous one.
    const draft0 = events.find((e) => e.type === 'step_completed' && e.stepId === 'draft#0');
    expect(draft0?.type === 'step_completed' && (draft0.data.output as { text: string }).text).toBe('draft 0 after nothing');
  });

  it('waits for a step outside the loop that `until` reads, as any read of a step waits (§7.1)', async () => {
    // `slow_gate` takes 300 ms and an iteration 1 ms: read before it ended, `until` would see null
    // and the loop would run out of iterations.
    const { result, events } = await run('loop_until_outside', { log: logFile() });
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ iterations: 1 });
    expect(at(events, 'step_started', 'tick#0')!).toBeGreaterThanOrEqual(at(events, 'step_completed', 'slow_gate')!);
  });

  it('fails "exhausted" when the last iteration ends with the condition still false', async () => {
    const { result, events } = await run('loop_until', { log: logFile(), approve_at: 99 });
    expect(result.status).toBe('failed');
    expect(result.error).toBe('loop revise exhausted after 4 iterations');
    expect(events.filter((e) => e.type === 'loop_iteration')).toHaveLength(4);
  });
});

describe('nested for each', () => {
  it('outputs are lists of lists in item order; each block bounds its own items', async () => {
    const teams = [
      { name: 'a', members: ['x', 'y', 'z'] },
      { name: 'b', members: ['w'] },
      { name: 'c', members: [] },
      { name: 'd', members: ['p', 'q', 'r', 's'] },
    ];
    const { result, events } = await run('nested', { log: logFile(), teams });
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({
      greeted: teams.map((t) => t.members.map((m) => ({ text: `${t.name}/${m}` }))),
      counts: teams.map((t) => ({ text: `${t.name}: ${t.members.length}` })),
    });
    // parallel 2 (teams) and parallel 2 (members of one team), replayed from the journal.
    const running = new Set<string>();
    let maxTeams = 0;
    let maxMembers = 0;
    for (const e of events) {
      if (!e.stepId?.startsWith('greet[')) continue;
      if (e.type === 'step_started') running.add(e.stepId);
      else if (e.type === 'step_completed') running.delete(e.stepId);
      const teamsNow = new Set([...running].map((k) => k.slice(0, k.indexOf(']') + 1)));
      maxTeams = Math.max(maxTeams, teamsNow.size);
      for (const t of teamsNow) maxMembers = Math.max(maxMembers, [...running].filter((k) => k.startsWith(t)).length);
    }
    expect(maxTeams).toBeLessThanOrEqual(2);
    expect(maxMembers).toBeLessThanOrEqual(2);
    expect(maxMembers).toBe(2);
  });
});

describe('cancelling one step', () => {
  it('a running step is cancelled; dependants follow their join rule; the run does not fail', async () => {
    const log = logFile();
    const { result, events } = await run('cancellable', { log }, async (runId) => {
      for (let i = 0; i < 200 && !logLines(log).includes('start long'); i++) await new Promise((r) => setTimeout(r, 20));
      const r = await rt.cancelStep(runId, 'long');
      expect(r.ok).toBe(true);
    });
    expect(result.status).toBe('completed');
    const status = Object.fromEntries(result.steps.map((s) => [s.stepId, s.status]));
    expect(status).toEqual({ long: 'cancelled', strict: 'skipped', lenient: 'completed' });
    expect(result.metadata.cancelledSteps).toBe(1);
    expect(events.find((e) => e.type === 'step_cancelled')).toMatchObject({ stepId: 'long', data: { reason: 'cancelled by user' } });
    expect(await logWith(log, 'aborted (AbortError: cancelled by user) long')).not.toContain('end long');
  });

  it('a handler that ignores its abort signal is still stopped after the grace; its thread runs the next step', async () => {
    // One thread: `next` can only run once the stubborn handler's thread is ended.
    const one = await Runtime.open({ db: join(dir, 'one-thread.db'), workers: 1, resourceLimits: { maxOldGenerationSizeMb: 64 }, controlPollMs: 50 });
    try {
      const log = logFile();
      let cancelledAt = 0;
      const active = await one.start(plans.get('cancel_stubborn')!, { input: { log }, config: { file: null, hooks: {}, secrets: {} } });
      await logWith(log, 'start mule');
      expect(await one.cancelStep(active.runId, 'mule')).toMatchObject({ ok: true });
      cancelledAt = Date.now();
      const result = await active.result;
      const tookMs = Date.now() - cancelledAt;
      expect(result.status).toBe('completed');
      expect(Object.fromEntries(result.steps.map((s) => [s.stepId, s.status]))).toEqual({ mule: 'cancelled', next: 'completed' });
      // It heard the signal, went on, and was ended (its 30 s sleep never finished) within the grace.
      expect(await logWith(log, 'ignored (cancelled by user) mule')).toContain('start next');
      expect(logLines(log)).not.toContain('end mule');
      expect(tookMs).toBeGreaterThanOrEqual(ABORT_GRACE_MS - 100);
      expect(tookMs).toBeLessThan(ABORT_GRACE_MS + 3000);
    } finally {
      await one.close();
    }
  });
});

describe('step timeout', () => {
  it("a running handler's ctx.signal fires with the reason timeout", async () => {
    const log = logFile();
    const { result, events } = await run('timed', { log });
    expect(result.status).not.toBe('completed');
    expect(result.steps.find((s) => s.stepId === 'late')!.status).toBe('timeout');
    expect(events.some((e) => e.type === 'step_failed' && e.stepId === 'late')).toBe(true);
    expect(await logWith(log, 'aborted (AbortError: timeout) late')).not.toContain('end late');
  });
});
