/**
 * LANGUAGE.md §9.1 on every way a run starts, through one in-process server with people (the
 * real app, routes, trigger engine, runtime and SQLite journal; Fastify `inject`): each start
 * records `started_by` (and `caused_by`, `chained_from`, `retryOf`), and `not_starter` refuses
 * everyone in the run's chain — the security probe of issue #47 item 1, where a run started any
 * way but `POST /runs` let its starter complete a two-person rule meant to exclude them.
 *
 * And item 2: a server that does not know the project's people (`orch ui` started outside the
 * project: no `auth` block, single-token mode) on the same journal refuses a decision on a
 * people-bound run with 409, naming why, whatever token it accepts.
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlanIR } from '../../compiler/index.js';
import { evaluate, forkRun, openBackend, parseAuthConfig, Runtime } from '../../runtime/index.js';
import { loadServeProgram } from '../load.js';
import type { RunStarter } from '../run-starter.js';
import { openRuntimeStarter } from '../runtime-starter.js';
import { buildServer, type BuiltServer } from '../server.js';
import { closeServer, waitFor } from './http-helpers.js';
import { apiToken } from './people-helpers.js';
import { tempDir } from './serve-process.js';

const TOKEN = 'start-paths-bootstrap-token';
const FIXTURES = join(import.meta.dirname, 'fixtures');

const SOURCE = `
module start_paths
import "./common.orch" as common

context { go: bool  go_outer: bool }

plan gate {
  step ask = approval(approver: "group:finance", summary: "ship?", approvals: 2, not_starter: true)
  output { approvers: ask.output.approvers }
}
plan quick {
  step x = common.echo(value: "x")
}
plan outer {
  step inner = run gate()
}

trigger by_hand { manual run gate }
trigger via_api { api "/hooks/gate" run gate }
trigger on_deploy { event "deploy" run gate }
trigger on_go { when context.go == true run gate }
trigger after_quick { after quick completed run gate }
trigger nightly { schedule "0 3 * * *" run gate }
trigger on_deploy_outer { event "deploy_outer" run outer }
trigger on_go_outer { when context.go_outer == true run outer }
`;

/** Everyone may start runs and decide; all are in finance, so only `not_starter` keeps anyone out. */
const AUTH = parseAuthConfig({
  users: Object.fromEntries(['alice', 'bob', 'carol', 'dave'].map((u) => [u, { roles: ['operator', 'approver'], groups: ['finance'] }])),
})!;
type Person = 'alice' | 'bob' | 'carol' | 'dave';
const tokens = new Map<Person, string>();

let dir: string;
let db: string;
let plans: PlanIR[];
let server: BuiltServer;
let app: FastifyInstance;
let starter: RunStarter;

beforeAll(async () => {
  dir = tempDir('orch-start-paths-');
  db = join(dir, 'runs.db');
  for (const f of ['common.orch', 'handlers.js']) copyFileSync(join(FIXTURES, f), join(dir, f));
  writeFileSync(join(dir, 'paths.orch'), SOURCE);
  const out = loadServeProgram([join(dir, 'paths.orch')]);
  expect(out.errors).toEqual([]);
  plans = [...out.plans];
  starter = await openRuntimeStarter({ backend: await openBackend(db), plans, log: () => {} });
  const state = await (await openBackend(db)).triggerState();
  // The schedule last ticked two days ago: activating with catch-up starts one run for it.
  await state.setLastTick('nightly', Date.now() - 2 * 86_400_000);
  server = await buildServer({
    plans,
    triggers: out.triggers,
    starter,
    evaluate: (expr, scope) => evaluate(expr, { vars: { event: scope.event ?? null, context: scope.context } }),
    state,
    people: await (await openBackend(db)).people(),
    auth: AUTH,
    token: TOKEN,
  });
  app = server.app;
  await app.ready();
  for (const who of ['alice', 'bob', 'carol', 'dave'] as const) tokens.set(who, await apiToken(server.people.store, who));
}, 60_000);

afterAll(() => closeServer(server, starter));

const as = (who: Person) => ({ authorization: `Bearer ${tokens.get(who)}` });
const call = async (method: 'GET' | 'POST', url: string, who: Person, body?: unknown) => {
  const r = await app.inject({ method, url, headers: as(who), ...(body === undefined ? {} : { payload: body as object }) });
  return { status: r.statusCode, json: r.json() as Record<string, any> };
};
const created = async (runId: string) => (((await starter.timeline(runId)) ?? [])[0] ?? {}) as Record<string, any>;
/** The run waits at its approval (`path` from the top-level run: `ask`, or `inner/ask` in the sub-plan). */
const waiting = (runId: string, path = 'ask') =>
  waitFor(async () => ((await call('GET', '/approvals', 'bob')).json.approvals as { runId: string; stepId: string }[]).find((a) => a.runId === runId && a.stepId === path), 20_000, `${runId} to wait at ${path}`);
const approve = (runId: string, who: Person, path = 'ask') => call('POST', `/runs/${encodeURIComponent(runId)}/steps/${encodeURIComponent(path)}/approve`, who);

const person = (subject: Person) => ({ subject, issuer: 'local', method: 'token' });

/** The checks every start path shares: who `started_by` names, and that the people in `refused` get 403 (not_starter) while another finance member's approval is taken. */
async function holds(runId: string, startedBy: object, refused: readonly Person[], path = 'ask'): Promise<void> {
  await waiting(runId, path);
  expect(await created(runId)).toMatchObject({ type: 'plan_created', people_bound: true });
  // Exactly the three fields §9.1 lists (a local user's display name is their subject: nothing more to say).
  expect((await created(runId)).started_by).toEqual(startedBy);
  for (const who of refused) {
    const r = await approve(runId, who, path);
    expect(r.status, `${who} on ${runId}`).toBe(403);
    expect(r.json.error).toContain('not_starter');
  }
  const others = (['alice', 'bob', 'carol', 'dave'] as const).filter((p) => !refused.includes(p));
  expect((await approve(runId, others[0]!, path)).status).toBe(202);
  // The view and the inbox say who started it.
  expect((await call('GET', `/runs/${encodeURIComponent(runId)}`, 'bob')).json.started_by).toMatchObject(startedBy);
  const inbox = await waitFor(async () => {
    const a = ((await call('GET', '/approvals', 'bob')).json.approvals as { runId: string; approvedBy: string[]; started_by?: object }[]).find((x) => x.runId === runId);
    return a && a.approvedBy.length === 1 ? a : undefined;
  }, 20_000, `the first approval of ${runId} in the inbox`);
  expect(inbox.started_by).toMatchObject(startedBy);
}

describe('started_by and not_starter on every way in (§9.1)', () => {
  it('POST /runs', async () => {
    const r = await call('POST', '/runs', 'alice', { plan: 'gate' });
    expect(r.status).toBe(202);
    await holds(r.json.runId, person('alice'), ['alice']);
  });

  it('a manual trigger (POST /triggers/NAME/fire)', async () => {
    const r = await call('POST', '/triggers/by_hand/fire', 'alice');
    expect(r.status).toBe(202);
    await holds(r.json.runId, person('alice'), ['alice']);
  });

  it('an api trigger', async () => {
    const r = await call('POST', '/hooks/gate', 'alice', {});
    expect(r.status).toBe(202);
    await holds(r.json.runId, person('alice'), ['alice']);
  });

  it('an event trigger (POST /events)', async () => {
    const r = await call('POST', '/events', 'alice', { type: 'deploy' });
    expect(r.json.results).toEqual([{ trigger: 'on_deploy', outcome: 'started', runId: expect.any(String) }]);
    await holds(r.json.results[0].runId, person('alice'), ['alice']);
  });

  it("a when trigger fired by a person's POST /signals: the trigger starts it, the person caused it", async () => {
    const r = await call('POST', '/signals', 'alice', { go: true });
    expect(r.status).toBe(202);
    const runId = r.json.results[0].runId as string;
    await holds(runId, { subject: 'system:trigger/on_go', issuer: 'orch', method: 'trigger' }, ['alice']);
    expect(await created(runId)).toMatchObject({ caused_by: person('alice') });
  });

  it('an after trigger: chained_from the run whose end fired it, whose starter may not decide', async () => {
    const first = (await call('POST', '/runs', 'alice', { plan: 'quick' })).json.runId as string;
    const chained = await waitFor(async () => {
      const runs = (await call('GET', '/runs?plan=gate', 'bob')).json.runs as { runId: string }[];
      for (const r of runs) if ((await created(r.runId)).chained_from === first) return r.runId;
      return undefined;
    }, 20_000, 'the chained run');
    await holds(chained, { subject: 'system:trigger/after_quick', issuer: 'orch', method: 'trigger' }, ['alice']);
  });

  it('a retry: whoever asked for it and whoever started the run it retries', async () => {
    const original = (await call('POST', '/runs', 'dave', { plan: 'gate' })).json.runId as string;
    await waiting(original);
    expect((await call('POST', `/runs/${original}/steps/ask/reject`, 'bob')).status).toBe(202);
    await waitFor(async () => ((await starter.get(original))?.status === 'failed' ? true : undefined), 20_000, 'the rejected run to fail');
    const retried = await call('POST', `/runs/${original}/retry`, 'alice');
    expect(retried.status).toBe(202);
    const runId = retried.json.runId as string;
    await holds(runId, person('alice'), ['alice', 'dave']);
    expect(await created(runId)).toMatchObject({ retryOf: original, chain_people: [person('dave')] });
  });

  it("a sub-plan: its approval refuses the parent run's starter", async () => {
    const runId = (await call('POST', '/runs', 'alice', { plan: 'outer' })).json.runId as string;
    await holds(runId, person('alice'), ['alice'], 'inner/ask');
    expect(await created(`${runId}/inner`)).toMatchObject({ parentRunId: runId, started_by: person('alice'), people_bound: true });
  });

  it('a schedule: system:trigger/NAME, which no person is', async () => {
    await server.engine.activate({ catchUp: true });
    const runId = await waitFor(async () => {
      const runs = (await call('GET', '/runs?plan=gate', 'bob')).json.runs as { runId: string }[];
      for (const r of runs) if ((await created(r.runId)).started_by?.subject === 'system:trigger/nightly') return r.runId;
      return undefined;
    }, 20_000, 'the catch-up run');
    await holds(runId, { subject: 'system:trigger/nightly', issuer: 'orch', method: 'trigger' }, []);
  });
});

describe('combinations of the ways in (§9.1)', () => {
  it("an event trigger starting a plan whose sub-plan needs an approval: the sub-plan refuses the event's poster", async () => {
    const r = await call('POST', '/events', 'carol', { type: 'deploy_outer' });
    const runId = r.json.results[0].runId as string;
    await holds(runId, person('carol'), ['carol'], 'inner/ask');
    expect(await created(`${runId}/inner`)).toMatchObject({ parentRunId: runId, started_by: person('carol'), people_bound: true });
  });

  it('a when trigger a person caused, starting a plan whose sub-plan needs an approval: the sub-plan refuses the cause', async () => {
    const r = await call('POST', '/signals', 'dave', { go_outer: true });
    const runId = r.json.results.find((x: { trigger: string }) => x.trigger === 'on_go_outer').runId as string;
    await holds(runId, { subject: 'system:trigger/on_go_outer', issuer: 'orch', method: 'trigger' }, ['dave'], 'inner/ask');
    expect(await created(`${runId}/inner`)).toMatchObject({ parentRunId: runId, chain_people: [person('dave')], people_bound: true });
  });

  it('a retry of a run a trigger started: refuses who asked, and who caused the run it retries', async () => {
    const r = await call('POST', '/signals', 'bob', { go: false });
    expect(r.status).toBe(202);
    const fired = await call('POST', '/signals', 'bob', { go: true });
    const original = fired.json.results.find((x: { trigger: string }) => x.trigger === 'on_go').runId as string;
    await waiting(original);
    expect((await call('POST', `/runs/${original}/steps/ask/reject`, 'alice')).status).toBe(202);
    await waitFor(async () => ((await starter.get(original))?.status === 'failed' ? true : undefined), 20_000, 'the rejected run to fail');
    const retried = await call('POST', `/runs/${original}/retry`, 'carol');
    expect(retried.status).toBe(202);
    await holds(retried.json.runId, person('carol'), ['carol', 'bob']);
  });

  it('a fork of a run a trigger started: bound, and its chain holds the cause of the run it forks', async () => {
    const r = await call('POST', '/events', 'dave', { type: 'deploy' });
    const original = r.json.results[0].runId as string;
    await waiting(original);
    expect((await call('POST', `/runs/${original}/steps/ask/reject`, 'alice')).status).toBe(202);
    await waitFor(async () => ((await starter.get(original))?.status === 'failed' ? true : undefined), 20_000, 'the rejected run to fail');
    // `orch fork` from a shell that has no `auth` block: the fork is still bound, its chain still holds dave.
    const rt = await Runtime.open({ backend: await openBackend(db), suspendOnApproval: true });
    try {
      const fork = await forkRun(rt, original, { at: 'ask', startedBy: { subject: 'erin', issuer: 'os', method: 'cli' } });
      // It suspends at the approval: everything it journaled is written.
      expect((await fork.result).status).toBe('paused');
      const first = ((await rt.store!.load(fork.runId))[0]?.data ?? {}) as Record<string, unknown>;
      expect(first).toMatchObject({ forked_from: { run: original, step: 'ask' }, people_bound: true, started_by: { subject: 'erin', issuer: 'os', method: 'cli' } });
      expect(first.chain_people).toEqual([person('dave')]);
    } finally {
      await rt.close({ cancel: false });
    }
  });
});

describe('approvals bound to people stay bound (§9.1)', () => {
  it('a server that does not know the people (no auth block) on the same journal refuses a decision with 409, naming why; the run still waits', async () => {
    const runId = (await call('POST', '/runs', 'alice', { plan: 'gate' })).json.runId as string;
    await waiting(runId);
    // `orch ui` started outside the project: the journal, no `auth` block, the bootstrap token.
    const uiStarter = await openRuntimeStarter({ backend: await openBackend(db), plans: [], log: () => {} });
    const ui = await buildServer({ plans: [], triggers: [], starter: uiStarter, evaluate: () => null, state: await (await openBackend(db)).triggerState(), mode: 'ui', token: TOKEN });
    try {
      const r = await ui.app.inject({ method: 'POST', url: `/runs/${runId}/steps/ask/approve`, headers: { authorization: `Bearer ${TOKEN}` }, payload: {} });
      expect(r.statusCode).toBe(409);
      expect(r.json().error).toMatch(/bound to people.*"auth" block/);
    } finally {
      await ui.app.close();
      await uiStarter.close();
      await ui.people.store.close();
    }
    expect(((await starter.timeline(runId)) ?? []).filter((e) => e.type === 'approval_decided' || e.type === 'step_completed')).toEqual([]);
    // The people of the server that knows them still decide it.
    expect((await approve(runId, 'bob')).status).toBe(202);
    expect((await approve(runId, 'carol')).status).toBe(202);
    await waitFor(async () => ((await starter.get(runId))?.status === 'completed' ? true : undefined), 20_000, 'the run to complete');
  });
});
