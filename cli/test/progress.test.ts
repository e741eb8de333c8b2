import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createProgress, summaryLines } from '../progress.js';
import { storedEvent, type ExecutionResult, type RunEvent, type RunReader } from '../../runtime/index.js';

function fakeStream() {
  const chunks: string[] = [];
  return { chunks, stream: { write: (s: string) => (chunks.push(s), true), isTTY: true } as unknown as NodeJS.WriteStream };
}

const ev = (seq: number, type: RunEvent['type'], stepId: string | null, data: Record<string, unknown> = {}): RunEvent => storedEvent('r', seq, seq, type, stepId, data)!;

const reader = (running: string[], steps = 10) =>
  ({ runId: 'r', running: () => running, plan: { steps: Array.from({ length: steps }, () => ({ for_each: null })) } }) as unknown as RunReader;

describe('progress output', () => {
  it('live mode shows the running steps, the counts, what is left, the rate and an ETA', () => {
    const { chunks, stream } = fakeStream();
    const p = createProgress(stream, true);
    p.onEvent(ev(1, 'step_started', 'a'), reader(['a', 'b']));
    p.onEvent(ev(2, 'step_failed', 'c', { error: 'boom', status: 'failed' }), reader(['a', 'b']));
    p.onEvent(ev(3, 'step_completed', 'd'), reader(['a', 'b']));
    p.stop();
    // Colours depend on the environment (picocolors turns them on under CI=true): compare the text.
    const text = stripVTControlCharacters(chunks.join(''));
    expect(text).toMatch(/● a/);
    expect(text).toMatch(/● b/);
    expect(text).toMatch(/✗ c: boom/);
    // 10 steps: 2 finished, 2 running, 6 waiting.
    expect(text).toMatch(/1 completed · 1 failed · 0 skipped · 2 running · 6 waiting · [\d.]+ steps\/s · ETA \S+ · \S+/);
  });

  it('live mode stays a few lines however many steps run: the slowest five, then a count', () => {
    const { chunks, stream } = fakeStream();
    const p = createProgress(stream, true);
    const running = Array.from({ length: 1000 }, (_, i) => `s${i}`);
    const r = reader(running, 100_000);
    // s999 started first: it is the slowest and is listed first.
    p.onEvent(ev(1, 'step_started', 's999'), r);
    for (let i = 0; i < 999; i++) p.onEvent({ ...ev(i + 2, 'step_started', `s${i}`), ts: 1000 + i }, r);
    p.stop();
    const last = stripVTControlCharacters(chunks[chunks.length - 1]!).trimEnd().split('\n');
    expect(last).toHaveLength(7);
    expect(last[0]).toMatch(/● s999 /);
    expect(last[1]).toMatch(/● s0 /);
    expect(last[5]).toBe('  … 995 more running');
    expect(last[6]).toMatch(/0 completed · 0 failed · 0 skipped · 1,000 running · 99,000 waiting/);
  });

  it('quiet mode prints nothing', () => {
    const { chunks, stream } = fakeStream();
    for (const live of [true, false]) {
      const p = createProgress(stream, live, true);
      p.onEvent(ev(1, 'step_started', 'a'), reader(['a']));
      p.onEvent(ev(2, 'step_completed', 'a', { duration: 5 }), reader([]));
      p.stop();
    }
    expect(chunks).toEqual([]);
  });

  it('plain mode prints one line per step event', () => {
    const { chunks, stream } = fakeStream();
    const p = createProgress(stream, false);
    p.onEvent(ev(1, 'step_started', 'a', { attempt: 2, resource: 'laptop' }), reader([]));
    p.onEvent(ev(2, 'step_completed', 'a', { duration: 1500 }), reader([]));
    p.onEvent(ev(3, 'step_skipped', 'b', { reason: 'when condition is false' }), reader([]));
    expect(chunks).toEqual([
      'started   a (attempt 2) on laptop\n',
      'completed a in 1.5s\n',
      'skipped   b (when condition is false)\n',
    ]);
  });

  it('the summary names the run, the counts and how to continue a paused run', () => {
    const r = {
      planId: 'p',
      runId: 'r1',
      status: 'paused',
      steps: [{ stepId: 'ok', status: 'running', output: null, error: null, attempts: 1, resource: null, duration: 0, startedAt: null, completedAt: null }],
      output: null,
      error: null,
      metadata: { totalDuration: 20, totalCost: 0, totalSteps: 2, completedSteps: 1, failedSteps: 0, skippedSteps: 0, cancelledSteps: 0 },
      startedAt: '',
      completedAt: '',
    } as ExecutionResult;
    const lines = summaryLines(r, false);
    expect(lines[0]).toBe('run r1 (p): paused in 20ms — 1/2 steps completed, 0 failed, 0 skipped, cost 0');
    expect(lines).toContain('waiting for approval: orch signal r1 ok approve|reject');
  });

  it('a people-bound approval in a sub-plan: the route printed is one the server has (the step path encoded), then orch resume', () => {
    const r = {
      planId: 'p', runId: 'r1', status: 'paused', steps: [], output: null, error: null, waiting: ['sub/ok'],
      metadata: { totalDuration: 20, totalCost: 0, totalSteps: 1, completedSteps: 0, failedSteps: 0, skippedSteps: 0, cancelledSteps: 0 },
      startedAt: '', completedAt: '',
    } as unknown as ExecutionResult;
    expect(summaryLines(r, false, undefined, () => 'people')).toContain(
      'waiting for approval: sub/ok is decided by a signed-in person — in the dashboard (orch serve / orch ui) or with their API token: POST /runs/r1/steps/sub%2Fok/approve|reject; then orch resume r1 continues the run',
    );
  });

  it('the summary counts cancelled steps when there are some (a race loser, a step cancelled on its own)', () => {
    const r = {
      planId: 'p',
      runId: 'r2',
      status: 'completed',
      steps: [],
      output: null,
      error: null,
      metadata: { totalDuration: 44, totalCost: 0, totalSteps: 3, completedSteps: 2, failedSteps: 0, skippedSteps: 0, cancelledSteps: 1 },
      startedAt: '',
      completedAt: '',
    } as ExecutionResult;
    expect(summaryLines(r, false)[0]).toBe('run r2 (p): completed in 44ms — 2/3 steps completed, 0 failed, 0 skipped, 1 cancelled, cost 0');
  });
});
