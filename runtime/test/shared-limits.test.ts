/**
 * Limits shared across runs (LANGUAGE.md §7.2) with real processes: two `orch run` processes on
 * one journal never overlap on a `concurrency 1` resource and together keep a rate limit; ten
 * runs of one runtime (what `orch serve` uses) with sub-plans do neither; a process killed with
 * SIGKILL while holding a slot gives it back within seconds. Handlers record wall-clock spans.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { maxOverlap, type Span } from './spans.js';
import type { PlanIR } from '../../compiler/index.js';
import { Runtime } from '../index.js';
import { openSqlite } from '../backend/sqlite/driver.js';
import { SharedLimits } from '../limits/shared-limits.js';
import { SqliteLimitStore } from '../backend/sqlite/limit-store.js';
import { capability, lit, plan, policy, resource, step } from './ir-builder.js';
import { orchAsync, projectDir, writePlan } from './helpers.js';

const SPAN_HANDLER = `
import { appendFileSync } from 'node:fs';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export async function span(input, ctx) {
  const start = Date.now();
  appendFileSync(input.log, JSON.stringify({ ev: 'start', at: start, run: ctx.runId, step: ctx.stepId }) + '\\n');
  await sleep(input.ms);
  appendFileSync(input.log, JSON.stringify({ ev: 'end', at: Date.now(), run: ctx.runId, step: ctx.stepId }) + '\\n');
  return { ok: true };
}
`;

function spans(log: string): Span[] {
  const open = new Map<string, number>();
  const out: Span[] = [];
  for (const line of readFileSync(log, 'utf8').split('\n').filter(Boolean)) {
    const e = JSON.parse(line) as { ev: string; at: number; run: string; step: string };
    const who = `${e.run}/${e.step}`;
    if (e.ev === 'start') open.set(who, e.at);
    else out.push({ start: open.get(who)!, end: e.at, who });
  }
  return out;
}

function project(): string {
  const dir = projectDir();
  writeFileSync(join(dir, 'span.js'), SPAN_HANDLER);
  return dir;
}

const spanCap = capability('span', { handler: { module: './span.js', export: 'span' } });

function gpuPlan(log: string, n: number, ms: number, name = 'gpu'): PlanIR {
  const steps = Array.from({ length: n }, (_, i) =>
    step({ id: `s${i}`, capability: 'span', resource: 'gpu', args: { log: lit(log), ms: lit(ms) } }),
  );
  return plan({ name, base_dir: '.', capabilities: [spanCap], resources: [resource('gpu', { concurrency: 1 })], steps });
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function spawnRun(dir: string, file: string, db: string, runId: string) {
  const r = orchAsync(['run', file, '--db', db, '--run-id', runId, '--workers', '4', '--json'], dir);
  cleanups.push(() => {
    if (r.child.exitCode === null) r.child.kill('SIGKILL');
  });
  return r;
}

describe('two orch run processes on one journal', () => {
  it('never overlap on a concurrency 1 resource', async () => {
    const dir = project();
    const log = join(dir, 'spans.log');
    const db = join(dir, 'runs.db');
    const file = writePlan(dir, gpuPlan(log, 6, 60));
    const a = spawnRun(dir, file, db, 'a');
    const b = spawnRun(dir, file, db, 'b');
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    const list = spans(log);
    expect(list).toHaveLength(12);
    expect(maxOverlap(list)).toBe(1);
  }, 60_000);

  it('together keep a rate limit', async () => {
    const dir = project();
    const log = join(dir, 'spans.log');
    const db = join(dir, 'runs.db');
    const steps = Array.from({ length: 3 }, (_, i) => step({ id: `p${i}`, capability: 'span', args: { log: lit(log), ms: lit(5) } }));
    const rl = policy({ rate_limits: [{ capability: 'span', count: 2, per_ms: 1000 }] });
    const file = writePlan(dir, plan({ name: 'pinger', base_dir: '.', capabilities: [spanCap], steps, over: { policy: rl } }));
    const a = spawnRun(dir, file, db, 'a');
    const b = spawnRun(dir, file, db, 'b');
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    // A call counts when the scheduler starts it (the journal's step_started); the handler itself
    // begins a worker hand-off later, which is not the limit's business.
    const d = openSqlite(db, { readonly: true });
    const starts = (d.prepare("SELECT ts FROM events WHERE type = 'step_started' ORDER BY ts").all() as { ts: number }[]).map((r) => r.ts);
    d.close();
    expect(starts).toHaveLength(6);
    // Any three consecutive calls span at least the window: the store counts each from its start.
    for (let i = 2; i < starts.length; i++) expect(starts[i]! - starts[i - 2]!).toBeGreaterThanOrEqual(1000);
  }, 60_000);

  it('a process killed with SIGKILL while holding a slot gives it back within 5 s', async () => {
    const dir = project();
    const log = join(dir, 'spans.log');
    const db = join(dir, 'runs.db');
    const holder = writePlan(dir, gpuPlan(log, 1, 60_000, 'holder'), 'holder.json');
    // Beside its gpu step the waiter has a step on no resource: once that one has run and its
    // completion is journaled, the waiter has had every chance to start its gpu step too.
    const gpu = gpuPlan(log, 1, 10, 'waiter');
    const probe = step({ id: 'probe', capability: 'span', args: { log: lit(log), ms: lit(100) } });
    const waiter = writePlan(dir, { ...gpu, steps: [...gpu.steps, probe] }, 'waiter.json');
    const a = spawnRun(dir, holder, db, 'holder');
    await until(() => {
      try {
        return spans0(log).some((e) => e.run === 'holder');
      } catch {
        return false;
      }
    }, 30_000);
    const b = spawnRun(dir, waiter, db, 'waiter');
    // The waiter is up and held back: its free step ran to completion (a positive event that
    // proves time enough passed) while its gpu step never started.
    await until(() => waiterEvents(db).some((e) => e.type === 'step_completed' && e.step === 'probe'), 30_000);
    expect(waiterEvents(db).filter((e) => e.step === 's0').map((e) => e.type)).toEqual(['step_queued']);
    expect(spans0(log).some((e) => e.run === 'waiter' && e.step === 's0')).toBe(false);
    const killedAt = Date.now();
    a.child.kill('SIGKILL');
    await a.done;
    const rb = await b.done;
    expect(rb.code, rb.stderr).toBe(0);
    const started = spans0(log).find((e) => e.run === 'waiter' && e.step === 's0' && e.ev === 'start')!;
    expect(started.at).toBeGreaterThanOrEqual(killedAt);
    expect(started.at - killedAt).toBeLessThan(5000);
  }, 60_000);
});

describe('runs of one runtime (orch serve) and their sub-plans', () => {
  it('ten concurrent runs with sub-plans never exceed the resource limit', async () => {
    const dir = project();
    const log = join(dir, 'spans.log');
    const child = gpuPlan(log, 2, 15, 'child');
    const parent = plan({
      name: 'parent',
      base_dir: dir,
      capabilities: [spanCap],
      resources: [resource('gpu', { concurrency: 1 })],
      steps: [
        step({ id: 'own', capability: 'span', resource: 'gpu', args: { log: lit(log), ms: lit(15) } }),
        step({ id: 'sub', capability: null, kind: null, action: { type: 'run', plan: 'child', args: {} } }),
      ],
      over: { subplans: { child: { ...child, base_dir: dir } } },
    });
    const rt = await Runtime.open({ db: join(dir, 'runs.db'), workers: 4 });
    cleanups.push(() => rt.close());
    const runs = await Promise.all(Array.from({ length: 10 }, () => rt.start(parent)));
    const results = await Promise.all(runs.map((r) => r.result));
    for (const r of results) expect(r.status, JSON.stringify(r.steps)).toBe('completed');
    const list = spans(log);
    expect(list).toHaveLength(30);
    expect(maxOverlap(list)).toBe(1);
  }, 60_000);
});

describe('a slot released while a step of the same run waits for it', () => {
  /** A SQLite store that counts the slots it grants. */
  function countingStore(db: string): { store: SqliteLimitStore; grants: () => number } {
    const store = new SqliteLimitStore(db);
    let grants = 0;
    const acquire = store.acquire.bind(store);
    store.acquire = async (claim, now) => {
      const g = await acquire(claim, now);
      if (g.kind === 'granted') grants++;
      return g;
    };
    return { store, grants: () => grants };
  }

  async function runThrough(handOffMs: number): Promise<{ grants: number; overlap: number; spans: number }> {
    const dir = project();
    const log = join(dir, 'spans.log');
    const db = join(dir, 'runs.db');
    const counted = countingStore(db);
    const limits = new SharedLimits(counted.store, { handOffMs });
    const rt = await Runtime.open({ db, workers: 2, limits });
    cleanups.push(async () => {
      await rt.close();
      await limits.close();
    });
    const result = await (await rt.start({ ...gpuPlan(log, 20, 5), base_dir: dir })).result;
    expect(result.status, JSON.stringify(result.steps)).toBe('completed');
    return { grants: counted.grants(), overlap: maxOverlap(spans(log)), spans: spans(log).length };
  }

  it('is handed to that step without the store, and the limit still holds', async () => {
    const r = await runThrough(60_000);
    expect(r.spans).toBe(20);
    expect(r.overlap).toBe(1);
    // One claim for the first step; the other 19 take the slot over as it is released.
    expect(r.grants).toBe(1);
  }, 60_000);

  it('goes back to the store once it is older than the hand-over window', async () => {
    const r = await runThrough(0);
    expect(r.spans).toBe(20);
    expect(r.overlap).toBe(1);
    expect(r.grants).toBe(20);
  }, 60_000);
});

function spans0(log: string): { ev: string; at: number; run: string; step: string }[] {
  try {
    return readFileSync(log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { ev: string; at: number; run: string; step: string });
  } catch {
    return [];
  }
}

/** The waiter run's events so far (none while its journal is not there yet). */
function waiterEvents(db: string): { type: string; step: string | null }[] {
  try {
    const d = openSqlite(db, { readonly: true });
    try {
      return d.prepare("SELECT type, step_id AS step FROM events WHERE run_id = 'waiter' ORDER BY seq").all() as { type: string; step: string | null }[];
    } finally {
      d.close();
    }
  } catch {
    return [];
  }
}

async function until(cond: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
