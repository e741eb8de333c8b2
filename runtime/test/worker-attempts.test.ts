/**
 * What an `orch worker` hands its handler threads (runtime/cluster/worker-attempt.ts), on real
 * worker threads: an attempt given up before it starts never runs its handler, one given up while
 * it runs is aborted, and `shares` says an attempt may ride in a chunk only once its handler has
 * shown itself fast here, and never with a timeout or a capability that may not run twice — the
 * line a fast worker hands its threads beyond their slots rests on it (worker.ts `startNext`).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CapabilityIR } from '../../compiler/index.js';
import type { StepJob } from '../cluster/jobs.js';
import { WorkerAttempts } from '../cluster/worker-attempt.js';
import { tempDir } from './helpers.js';
import { capability } from './ir-builder.js';

const HANDLERS = `
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
export function noop() { return null; }
export async function listens(input, ctx) {
  // On a loaded machine the 200 ms timeout can fire while the module still loads: the signal is
  // then aborted already when read, and 'abort' does not fire again (as for any AbortSignal).
  if (!ctx.signal.aborted) await new Promise((r) => ctx.signal.addEventListener('abort', r));
  writeFileSync(input.note, ctx.signal.reason.message);
  throw ctx.signal.reason;
}
export async function mark(input) {
  writeFileSync(input.marker, 'ran');
  while (!existsSync(input.gate)) await new Promise((r) => setTimeout(r, 10));
  return null;
}
`;

let open: WorkerAttempts | null = null;
afterEach(async () => {
  await open?.close();
  open = null;
});

function project(): string {
  const dir = tempDir('orch-worker-attempts-');
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  writeFileSync(join(dir, 'handlers.js'), HANDLERS);
  return dir;
}

let n = 0;
function job(cap: CapabilityIR, input: Record<string, unknown> = {}, over: Partial<StepJob> = {}): StepJob {
  n++;
  return { run: 'r1', key: `s${n}`, attempt: 1, fence: 1, stepId: `s${n}`, capability: cap, baseDir: '.', input, resource: null, secrets: [], timeoutMs: null, maxOutputBytes: null, handlerHash: null, ...over };
}

const handler = (name: string) => ({ handler: { module: './handlers.js', export: name } }) as Partial<CapabilityIR>;

describe('an attempt on a worker', () => {
  it('given up before it starts never runs its handler; given up while running, it is aborted', async () => {
    const dir = project();
    const attempts = (open = await WorkerAttempts.open({ project: dir, worker: () => 'w1', slots: 1 }));
    const mark = capability('mark', handler('mark'));
    const before = new AbortController();
    before.abort('worker w1 was declared dead');
    const notStarted = await attempts.run(job(mark, { marker: join(dir, 'a.ran'), gate: join(dir, 'a.gate') }), undefined, before.signal);
    expect(notStarted).toMatchObject({ ok: false, error: expect.stringMatching(/aborted.*declared dead/) });
    expect(existsSync(join(dir, 'a.ran'))).toBe(false);

    const during = new AbortController();
    const marker = join(dir, 'b.ran');
    const running = attempts.run(job(mark, { marker, gate: join(dir, 'b.gate') }), undefined, during.signal);
    await expect.poll(() => existsSync(marker), { timeout: 10_000 }).toBe(true);
    during.abort('worker w1 was declared dead');
    expect(await running).toMatchObject({ ok: false, error: expect.stringMatching(/aborted/) });
  });

  it("at the job's timeout its handler's ctx.signal fires with the reason timeout", async () => {
    const dir = project();
    const attempts = (open = await WorkerAttempts.open({ project: dir, worker: () => 'w1', slots: 1 }));
    const note = join(dir, 'why');
    // The thread is started and the handlers' module loaded first, by an attempt without a
    // timeout: on a starved CI lane the two took over the second below, the timeout fired before
    // the handler ran, and nothing ever wrote the note. Then 1 s is only the handler's own start.
    expect(await attempts.run(job(capability('noop', handler('noop'))), undefined)).toMatchObject({ ok: true });
    const outcome = await attempts.run(job(capability('listens', handler('listens')), { note }, { timeoutMs: 1000 }), undefined);
    expect(outcome).toMatchObject({ ok: false, error: expect.stringMatching(/aborted/) });
    await expect.poll(() => existsSync(note) && readFileSync(note, 'utf8'), { timeout: 10_000 }).toBe('timeout');
  });

  it('may share a message only once its handler was fast here, and never with a timeout or when it may not run twice', async () => {
    const attempts = (open = await WorkerAttempts.open({ project: project(), worker: () => 'w1', slots: 2 }));
    const noop = capability('noop', handler('noop'));
    expect(attempts.shares(job(noop))).toBe(false);
    // Its pace is a moving mean over its recent attempts, the first of which loaded the module: on
    // a starved machine that one can keep the mean over FAST_MS for a while, so the test goes on
    // until the pace is learnt (a no-op's later attempts take microseconds) rather than a count.
    let attemptsRun = 0;
    while (!attempts.shares(job(noop)) && attemptsRun < 64) {
      expect(await attempts.run(job(noop), undefined)).toMatchObject({ ok: true });
      attemptsRun++;
    }
    expect(attempts.shares(job(noop))).toBe(true);
    expect(attemptsRun).toBeGreaterThanOrEqual(4);
    expect(attempts.shares(job(noop, {}, { timeoutMs: 5000 }))).toBe(false);
    expect(attempts.shares(job(capability('noop', { ...handler('noop'), idempotent: false })))).toBe(false);
    expect(attempts.shares(job(capability('gone', { handler: { module: './missing.js', export: 'x' } })))).toBe(false);
  });
});
