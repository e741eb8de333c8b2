/**
 * A step's timeout counts from when its handler starts, not from its dispatch: an attempt that
 * waits in the worker pool's queue for a free thread is not timed out by that wait. Real worker
 * threads (one), a virtual clock for the timers: time passes only where the test says so.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BroadcastChannel } from 'node:worker_threads';
import { WorkerExecutor } from '../executor/worker-executor.js';
import { Run, VirtualClock, type AttemptHandle, type Executor, type ExecutionResult } from '../scheduler/index.js';
import { fx } from './helpers.js';
import { lit, plan, step } from './ir-builder.js';

let gate: BroadcastChannel;
beforeEach(() => void (gate = new BroadcastChannel('orch-test-gate')));
afterEach(() => gate.close());

/** The message `held:NAME` from the `gated` handler of gate NAME: it holds the one thread now. */
function held(name: string): Promise<void> {
  return new Promise((resolve) => {
    gate.onmessage = (ev) => {
      if ((ev as { data: unknown }).data === `held:${name}`) resolve();
    };
  });
}

/** The WorkerExecutor, telling the test when an attempt of `stepId` was handed to it and when its handler started. */
function watched(inner: WorkerExecutor, stepId: string): { executor: Executor; dispatched: Promise<void>; began: Promise<void> } {
  let dispatched!: () => void;
  let began!: () => void;
  const d = new Promise<void>((r) => (dispatched = r));
  const b = new Promise<void>((r) => (began = r));
  const executor: Executor = {
    start(req, done, logged, reported) {
      const handle = inner.start(req, done, logged, reported);
      if (req.stepId !== stepId) return handle;
      dispatched();
      const seen: AttemptHandle = { abort: (reason) => handle.abort(reason) };
      if (handle.onStart) seen.onStart = (cb) => handle.onStart!(() => (cb(), began()));
      return seen;
    },
  };
  return { executor, dispatched: d, began: b };
}

/** `hold` (no timeout) takes the only thread until released; `quick` (timeout 50 ms) queues behind it. */
function twoSteps(quickCapability: string) {
  return plan({
    capabilities: [fx('gated', 'gated'), fx('work', 'work', { idempotent: false }), fx('hangs', 'hangs', { idempotent: false })],
    steps: [step({ id: 'hold', capability: 'gated', args: { gate: lit('hold') } }), step({ id: 'quick', capability: quickCapability, args: { value: lit(7) }, timeout_ms: 50 })],
  });
}

async function settle(run: Promise<ExecutionResult>, clock: VirtualClock): Promise<ExecutionResult> {
  let finished = false;
  void run.finally(() => (finished = true));
  // Timers fire only here; between rounds the real worker threads answer.
  while (!finished) {
    clock.runAll();
    await new Promise((r) => setImmediate(r));
  }
  return run;
}

describe('a step timeout counts from its handler start', () => {
  it('an attempt queued behind a busy thread for longer than its timeout still runs and completes', async () => {
    const pool = new WorkerExecutor({ workers: 1, chunking: false });
    try {
      const clock = new VirtualClock(1_000);
      const { executor, dispatched } = watched(pool, 'quick');
      const holding = held('hold');
      const run = new Run(twoSteps('work'), { clock, executor, defer: setImmediate }, { runId: 'queued' }).start();
      await Promise.all([holding, dispatched]);
      // `quick` waits in the pool's queue: let far more than its 50 ms pass there.
      clock.runAll();
      expect(clock.now()).toBe(1_000);
      gate.postMessage('release:hold');
      const result = await settle(run, clock);
      expect(result.status).toBe('completed');
      expect(result.steps.find((s) => s.stepId === 'quick')).toMatchObject({ status: 'completed', output: { value: 7 } });
    } finally {
      await pool.close();
    }
  });

  it('once its handler started, the timeout still ends an attempt that runs too long', async () => {
    const pool = new WorkerExecutor({ workers: 1, chunking: false });
    try {
      const clock = new VirtualClock(1_000);
      const { executor, dispatched, began } = watched(pool, 'quick');
      const holding = held('hold');
      const run = new Run(twoSteps('hangs'), { clock, executor, defer: setImmediate }, { runId: 'hangs' }).start();
      await Promise.all([holding, dispatched]);
      gate.postMessage('release:hold');
      await began;
      const result = await settle(run, clock);
      expect(result.steps.find((s) => s.stepId === 'quick')).toMatchObject({ status: 'timeout', error: 'attempt timed out after 50ms' });
      // It timed out 50 ms after its handler started, not after it was dispatched.
      expect(clock.now()).toBe(1_050);
    } finally {
      await pool.close();
    }
  });
});
