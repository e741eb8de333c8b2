/**
 * A step control (`POST /runs/ID/steps/STEP/approve|reject|cancel`) naming a step the run's plan
 * does not have is a 404, like an unknown run or trigger; a step that exists but cannot take the
 * control now (finished, not an approval) stays a 409. Both for a run this server executes and for
 * one it reads from the journal (paused elsewhere, or finished). Real runtime, SQLite journal.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlanIR } from '../../compiler/index.js';
import { loadPlan, openBackend, Runtime } from '../../runtime/index.js';
import { openRuntimeStarter } from '../runtime-starter.js';
import { buildServer, type BuiltServer } from '../server.js';
import { waitFor } from './http-helpers.js';
import { tempDir } from './serve-process.js';

const FILE = join(import.meta.dirname, 'fixtures', 'controls.orch');
const TOKEN = 'unknown-step-token';
const plans = new Map<string, PlanIR>();
let server: BuiltServer;
let close: () => Promise<void>;
/** A `launch` run (its sub-plan waits for approval) that no process holds: answered from its journal. */
let unheld: string;

const call = async (method: 'GET' | 'POST', url: string, body?: object) => {
  const r = await server.app.inject({ method, url, headers: { authorization: `Bearer ${TOKEN}` }, ...(body ? { payload: body } : {}) });
  return { status: r.statusCode, json: r.json() as { error?: string; runId?: string; status?: string } };
};
const control = (runId: string, step: string, verb: 'approve' | 'reject' | 'cancel') => call('POST', `/runs/${encodeURIComponent(runId)}/steps/${encodeURIComponent(step)}/${verb}`);
const statusOf = (runId: string, want: (s: string) => boolean) =>
  waitFor(async () => {
    const s = (await call('GET', `/runs/${encodeURIComponent(runId)}`)).json.status;
    return s !== undefined && want(s) ? s : undefined;
  }, 20_000, `run ${runId}`);

beforeAll(async () => {
  for (const name of ['gated', 'launch', 'gated_each']) {
    const loaded = await loadPlan(FILE, name);
    if (loaded.kind !== 'plan') throw new Error(JSON.stringify(loaded));
    plans.set(name, loaded.plan);
  }
  const db = join(tempDir('orch-unknown-step-'), 'runs.db');
  // Another process's run, left paused for its approval (suspended) when that process ended.
  const rt = await Runtime.open({ db, suspendOnApproval: true });
  try {
    const a = await rt.start(plans.get('launch')!, { input: { item: 'crate' } });
    unheld = a.runId;
    expect((await a.result).status).toBe('paused');
  } finally {
    await rt.close();
  }
  const backend = await openBackend(db);
  const starter = await openRuntimeStarter({ backend, plans: [...plans.values()], log: () => {} });
  const state = await (await openBackend(db)).triggerState();
  server = await buildServer({ plans: [...plans.values()], triggers: [], starter, evaluate: () => null, state, token: TOKEN });
  await server.app.ready();
  close = async () => {
    await server.app.close();
    await server.people.store.close();
    await starter.close();
  };
}, 60_000);

afterAll(async () => {
  await close?.();
});

describe('a step control naming no step of a known run is a 404', () => {
  it('a run this server executes: unknown step, instance key or sub-plan path → 404; a known step that cannot take it → 409', async () => {
    const id = (await call('POST', '/runs', { plan: 'launch', input: { item: 'barrel' } })).json.runId!;
    await statusOf(id, (s) => s === 'paused');
    for (const [step, verb] of [['nope', 'approve'], ['nope', 'cancel'], ['review[2]', 'cancel'], ['review/nope', 'approve'], ['review/nope', 'cancel']] as const) {
      const r = await control(id, step, verb);
      expect({ step, verb, status: r.status }).toEqual({ step, verb, status: 404 });
      expect(r.json.error).toMatch(/unknown step|no instance/);
    }
    // `review` is there: it runs a sub-plan, so it is no approval — a conflict, not a missing name.
    const notApproval = await control(id, 'review', 'approve');
    expect(notApproval.status).toBe(409);
    expect(notApproval.json.error).toMatch(/runs the sub-plan gated/);
    expect((await control(id, 'review/ask', 'approve')).status).toBe(202);
    await statusOf(id, (s) => s === 'completed');
  });

  it('an instance key inside for each that fits the shape is known; one that does not is a 404', async () => {
    const id = (await call('POST', '/runs', { plan: 'gated_each', input: { items: ['left'] } })).json.runId!;
    await statusOf(id, (s) => s === 'paused');
    expect((await control(id, 'ask#1', 'approve')).status).toBe(404);
    expect((await control(id, 'ask[0]', 'approve')).status).toBe(202);
    await statusOf(id, (s) => s === 'completed');
  });

  it('a run held by no process (read from its journal): unknown names → 404, the known approval → 202', async () => {
    for (const [step, verb] of [['nope', 'approve'], ['nope', 'cancel'], ['review/nope', 'approve'], ['review/nope', 'cancel'], ['review#1', 'cancel']] as const) {
      const r = await control(unheld, step, verb);
      expect({ step, verb, status: r.status }).toEqual({ step, verb, status: 404 });
    }
    expect((await control(unheld, 'review', 'approve')).status).toBe(409);
    expect((await control(unheld, 'review/ask', 'reject')).status).toBe(202);
  });

  it('a finished run: an unknown step is still a 404; its own finished step a 409', async () => {
    const id = (await call('POST', '/runs', { plan: 'gated', input: { item: 'box' } })).json.runId!;
    await statusOf(id, (s) => s === 'paused');
    expect((await control(id, 'ask', 'reject')).status).toBe(202);
    await statusOf(id, (s) => ['completed', 'failed'].includes(s));
    expect((await control(id, 'nope', 'cancel')).status).toBe(404);
    expect((await control(id, 'nope', 'approve')).status).toBe(404);
    const again = await control(id, 'ask', 'cancel');
    expect(again.status).toBe(409);
    expect(again.json.error).toMatch(/finished/);
  });
});
