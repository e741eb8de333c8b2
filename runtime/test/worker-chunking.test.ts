/**
 * Attempts of fast idempotent handlers share a message to a worker while the workers are busy
 * (runtime/executor/chunking.ts). Real worker threads: the run's outcome is the same as with one
 * attempt per message, a non-idempotent capability never shares one, and an attempt aborted or
 * killing its worker inside a chunk fails alone while the others of its chunk run again.
 */
import fc from 'fast-check';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CapabilityIR, PlanIR } from '../../compiler/index.js';
import type { AttemptOutcome, AttemptRequest } from '../scheduler/types.js';
import { chunkSizes, HandlerPace, FAST_MS, MAX_CHUNK } from '../executor/chunking.js';
import { WorkerExecutor } from '../executor/worker-executor.js';
import { Runtime } from '../index.js';
import { tempDir } from './helpers.js';
import { capability, layeredSteps, plan } from './ir-builder.js';

const HANDLER = `
import { appendFileSync } from 'node:fs';
export function tick(input, ctx) {
  appendFileSync(${JSON.stringify('LOG')}, ctx.stepId + '\\n');
  if (ctx.stepId === HANG) return new Promise(() => {});
  if (ctx.stepId === EXIT) process.exit(3);
  return { n: 1 };
}
`;

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

/** A project with the handler, and a layered DAG of its steps (width 60: the workers stay busy). */
function setup(over: { idempotent?: boolean; timeoutMs?: number; hang?: string; exit?: string } = {}): { dir: string; plan: PlanIR; ran: () => string[] } {
  const dir = tempDir('orch-chunk-');
  const log = join(dir, 'ran.log');
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  const handler = HANDLER.replace('"LOG"', JSON.stringify(log))
    .replace('HANG', JSON.stringify(over.hang ?? null))
    .replace('EXIT', JSON.stringify(over.exit ?? null));
  writeFileSync(join(dir, 'tick.js'), handler);
  writeFileSync(log, '');
  const p = plan({
    name: 'chunked',
    base_dir: dir,
    source_file: join(dir, 'plan.orch'),
    capabilities: [
      capability('tick', { handler: { module: './tick.js', export: 'tick' }, idempotent: over.idempotent ?? true, timeout_ms: over.timeoutMs ?? null }),
    ],
    steps: layeredSteps(8, 60, { capability: 'tick' }),
  });
  return { dir, plan: p, ran: () => readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

async function run(p: PlanIR, opts: { chunking?: boolean } = {}) {
  const exec = new WorkerExecutor({ workers: 2, ...opts });
  const rt = await Runtime.open({ db: null, executor: exec });
  cleanup.push(async () => {
    await rt.close();
    await exec.close();
  });
  const active = await rt.start(p, { config: { file: null, hooks: {}, secrets: {} } });
  const result = await active.result;
  const step = (id: string) => result.steps.find((s) => s.stepId === id)!;
  return { result, step, exec };
}

describe('chunk sizes', () => {
  it('idle workers get one attempt each; the rest is spread in chunks of at most MAX_CHUNK that add up', () => {
    fc.assert(
      fc.property(fc.nat(500), fc.nat(50), fc.integer({ min: 1, max: 16 }), (ready, busy, threads) => {
        const sizes = chunkSizes(ready, busy, threads);
        expect(sizes.reduce((a, b) => a + b, 0)).toBe(ready);
        for (const n of sizes) expect(n >= 1 && n <= MAX_CHUNK).toBe(true);
        const idle = Math.min(ready, Math.max(0, threads - busy));
        expect(sizes.slice(0, idle).every((n) => n === 1)).toBe(true);
      }),
    );
    // With every worker busy, 10 ready attempts on 2 threads go in two messages.
    expect(chunkSizes(10, 2, 2)).toEqual([5, 5]);
    expect(chunkSizes(10, 0, 2)).toEqual([1, 1, 4, 4]);
  });

  it('a handler shares messages only once it was seen to be fast, and never after it lost a worker', () => {
    const pace = new HandlerPace();
    for (let i = 0; i < 3; i++) pace.observe('h', 0.1);
    expect(pace.fast('h')).toBe(false);
    pace.observe('h', 0.1);
    expect(pace.fast('h')).toBe(true);
    for (let i = 0; i < 8; i++) pace.observe('h', FAST_MS * 10);
    expect(pace.fast('h')).toBe(false);
    const other = new HandlerPace();
    for (let i = 0; i < 8; i++) other.observe('g', 0.1);
    other.exclude('g');
    expect(other.fast('g')).toBe(false);
  });
});

describe('attempts sharing a message (real workers)', () => {
  it('a busy layered run hands fast idempotent attempts over in chunks; every step runs once and completes', async () => {
    const { plan: p, ran } = setup();
    const { result, exec } = await run(p);
    expect(result.status).toBe('completed');
    expect(result.steps.every((s) => s.status === 'completed')).toBe(true);
    // An attempt taken back from a slow chunk (a loaded box) is handed over a second time, alone.
    expect(exec.handOffs.attempts - exec.handOffs.takenBack).toBe(480);
    expect(exec.handOffs.tasks).toBeLessThan(exec.handOffs.attempts);
    expect(exec.handOffs.rerun).toBe(0);
    expect(ran().sort()).toEqual(p.steps.map((s) => s.id).sort());
  });

  it('never for a capability that is not idempotent, nor with chunking off', async () => {
    for (const [over, opts] of [[{ idempotent: false }, {}], [{}, { chunking: false }]] as const) {
      const { plan: p } = setup(over);
      const { result, exec } = await run(p, opts);
      expect(result.status).toBe('completed');
      expect(exec.handOffs.tasks).toBe(exec.handOffs.attempts);
    }
  });

  it('attempts with a timeout go alone: a result held in a chunk could miss it', async () => {
    const { plan: p } = setup({ timeoutMs: 60_000 });
    const { result, exec } = await run(p);
    expect(result.status).toBe('completed');
    expect(exec.handOffs.tasks).toBe(exec.handOffs.attempts);
  });

  it('an attempt that kills its worker inside a chunk fails alone, as it would have without chunks', async () => {
    const { plan: p } = setup({ exit: 's4_7' });
    const { result, exec } = await run(p);
    const stopped = result.steps.filter((s) => s.status !== 'completed' && s.status !== 'cancelled');
    expect(stopped).toEqual([expect.objectContaining({ stepId: 's4_7', status: 'failed', error: expect.stringMatching(/exited the worker/) })]);
    expect(result.error).toMatch(/s4_7/);
    // Whether s4_7 was in a chunk depends on timing; if it was, the others of its chunk went on.
    expect(exec.handOffs.tasks).toBeLessThan(exec.handOffs.attempts);
  });
});

const PACED = `
import { existsSync, writeFileSync } from 'node:fs';
export function fast(input, ctx) {
  if (input.hang) return new Promise(() => {});
  if (input.listen) {
    // Runs until its signal fires, then notes why and stops.
    writeFileSync(input.listen + '.started', '');
    return new Promise((_, reject) =>
      ctx.signal.addEventListener('abort', () => (writeFileSync(input.listen, ctx.signal.reason.message), reject(ctx.signal.reason))),
    );
  }
  return { id: ctx.stepId };
}
export async function block(input) {
  // Until the test opens its gate, or for ms.
  if (input.gate) while (!existsSync(input.gate)) await new Promise((r) => setTimeout(r, 10));
  else await new Promise((r) => setTimeout(r, input.ms));
  return { id: 'block' };
}
`;

describe('a chunk on the executor (real workers)', () => {
  function executor() {
    const dir = tempDir('orch-chunk-');
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    writeFileSync(join(dir, 'paced.js'), PACED);
    const fastCap = capability('fast', { handler: { module: './paced.js', export: 'fast' }, idempotent: true });
    const blockCap = capability('block', { handler: { module: './paced.js', export: 'block' }, idempotent: false });
    const exec = new WorkerExecutor({ workers: 2 });
    cleanup.push(() => exec.close());
    const p = plan({ base_dir: dir, source_file: join(dir, 'plan.orch'), capabilities: [fastCap, blockCap], steps: [] });
    const start = (cap: CapabilityIR, stepId: string, input: Record<string, unknown> = {}) => {
      let abort!: (reason: string) => void;
      const outcome = new Promise<AttemptOutcome>((resolve) => {
        const req: AttemptRequest = { runId: 'r', stepId, baseStepId: stepId, attempt: 1, purpose: 'call', capability: cap, input, resource: null, timeoutMs: null, secrets: {}, plan: p };
        abort = exec.start(req, resolve).abort;
      });
      return { outcome, abort };
    };
    /**
     * Learns that `fast` is fast, then keeps both workers busy for `ms`, or until the file `gate`
     * exists: what is started next shares messages.
     */
    let before = 0;
    const busy = async (ms: number, gate?: string) => {
      // Until the pool deems `fast` fast: on a starved CI lane one attempt can take longer than
      // FAST_MS, and the moving mean then sends the next ones alone until fast ones bring it down.
      for (let i = 0; i < 16 || !exec.shares({ capability: fastCap, timeoutMs: null, plan: p }); i++) {
        if (i === 1_000) throw new Error('`fast` never became fast enough to share a message');
        await start(fastCap, `learn${i}`).outcome;
      }
      const blockers = [start(blockCap, 'b1', { ms, gate }), start(blockCap, 'b2', { ms, gate })];
      before = exec.handOffs.attempts;
      return blockers;
    };
    /** Resolves once `n` attempts after the learners and the 2 blockers are in the pool's hands. */
    const handedOver = (n: number) => expect.poll(() => exec.handOffs.attempts, { timeout: 10_000 }).toBeGreaterThanOrEqual(before + n);
    return { exec, fastCap, start, busy, handedOver };
  }

  it('gives back what it has not started when one attempt hangs, and those complete alone; nothing runs twice', async () => {
    const { exec, fastCap, start, busy, handedOver } = executor();
    // The workers stay busy until the eight are handed over (a fixed wait could end first on a
    // starved CI lane, and the eight would go alone).
    const gate = join(tempDir('orch-chunk-gate-'), 'gate');
    const blockers = await busy(0, gate);
    // Two chunks of four; the first attempt of the first hangs.
    const hung = start(fastCap, 'h', { hang: true });
    const rest = Array.from({ length: 7 }, (_, i) => start(fastCap, `f${i}`));
    await handedOver(8);
    writeFileSync(gate, '');
    for (const [i, r] of rest.entries()) expect(await r.outcome).toEqual({ ok: true, output: { id: `f${i}` }, logs: [] });
    expect(exec.handOffs.tasks).toBeLessThan(exec.handOffs.attempts);
    expect(exec.handOffs.takenBack).toBeGreaterThan(0);
    hung.abort('cancelled by the test');
    expect(await hung.outcome).toMatchObject({ ok: false, error: expect.stringMatching(/abort/) });
    expect(exec.handOffs.rerun).toBe(0);
    for (const b of blockers) expect(await b.outcome).toMatchObject({ ok: true });
  });

  it('an attempt aborted before its worker came to it is taken back; the worker is not ended', async () => {
    const { exec, fastCap, start, busy, handedOver } = executor();
    // The blockers hold both workers until the test opens the gate, after the abort.
    const gate = join(tempDir('orch-chunk-gate-'), 'gate');
    await busy(0, gate);
    // Queued behind the blockers: the abort takes it back before any worker starts it.
    const chunked = Array.from({ length: 4 }, (_, i) => start(fastCap, `q${i}`));
    await handedOver(4);
    chunked[1]!.abort('cancelled by the test');
    expect(await chunked[1]!.outcome).toMatchObject({ ok: false, error: 'attempt aborted' });
    writeFileSync(gate, '');
    for (const i of [0, 2, 3]) expect(await chunked[i]!.outcome).toMatchObject({ ok: true, output: { id: `q${i}` } });
    expect(exec.handOffs).toMatchObject({ rerun: 0 });
    expect(exec.handOffs.tasks).toBeLessThan(exec.handOffs.attempts);
  });

  it('an attempt aborted while it runs in a chunk gets its signal; stopping, it does not end the worker', async () => {
    const { exec, fastCap, start, busy } = executor();
    const dir = tempDir('orch-chunk-signal-');
    const note = join(dir, 'aborted');
    // The workers stay busy until the four are started (on a starved CI lane 200 ms could pass
    // before that, and the four went alone), then free.
    const gate = join(dir, 'gate');
    await busy(0, gate);
    // Two workers busy, four attempts: two chunks of two; `l` runs second in the first, after q0.
    const [q0, l, q2, q3] = [start(fastCap, 'q0'), start(fastCap, 'l', { listen: note }), start(fastCap, 'q2'), start(fastCap, 'q3')];
    writeFileSync(gate, '');
    await expect.poll(() => existsSync(`${note}.started`), { timeout: 10_000 }).toBe(true);
    expect(exec.handOffs.tasks).toBeLessThan(exec.handOffs.attempts);
    l!.abort('cancelled: lost race pick to q0');
    expect(await l!.outcome).toMatchObject({ ok: false, error: 'attempt aborted' });
    await expect.poll(() => existsSync(note) && readFileSync(note, 'utf8'), { timeout: 10_000 }).toBe('cancelled: lost race pick to q0');
    for (const [i, q] of [q0, q2, q3].entries()) expect(await q!.outcome).toMatchObject({ ok: true, output: { id: ['q0', 'q2', 'q3'][i] } });
    // Had the worker been ended, q0 (which its chunk ran first) would have run again.
    expect(exec.handOffs.rerun).toBe(0);
  });
});
