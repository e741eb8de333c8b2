/**
 * Approvals bound to people over the HTTP API (LANGUAGE.md §8.8), through Fastify's inject on the
 * real app, routes, authentication and runtime (SQLite journal): the person an API token belongs
 * to starts the run and decides; a refused decision is a 403 with the reason and changes nothing;
 * the inbox shows what is still needed and who approved.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, type PlanIR } from '../../compiler/index.js';
import { memoryBackend, openBackend, evaluate, parseAuthConfig } from '../../runtime/index.js';
import { orchAsync } from '../../examples/test/cli.js';
import { pendingApprovals } from '../approvals.js';
import { registerApi } from '../http/api-routes.js';
import { createApp, DEFAULT_LIMITS, finishRoutes } from '../http/app.js';
import { People } from '../http/auth.js';
import { createInputValidator } from '../input-validator.js';
import { createContextValidator } from '../input-validator.js';
import { createMetrics } from '../metrics.js';
import type { RunStarter } from '../run-starter.js';
import { openRuntimeStarter } from '../runtime-starter.js';
import { TriggerEngine } from '../trigger-engine.js';
import { waitFor } from './http-helpers.js';
import { apiToken } from './people-helpers.js';
import { tempDir } from './serve-process.js';

const TOKEN = 'test-token-approvals';
/** People as the config names them (§8.8); each acts through an API token of their own. */
const USERS = {
  alice: { roles: ['operator', 'approver'], groups: ['finance'] },
  bob: { roles: ['approver'], groups: ['finance'] },
  carol: { roles: ['approver'], groups: ['finance'] },
  dave: { roles: ['operator', 'approver'], groups: ['ops'] },
};
const AUTH = parseAuthConfig({ users: USERS })!;
type Person = 'alice' | 'bob' | 'carol' | 'dave';
const tokens = new Map<Person, string>();
const [alice, bob, carol, dave] = ['alice', 'bob', 'carol', 'dave'] as const;

const SOURCE = `
plan quick {
  step ask = approval(approver: "group:finance", summary: "Quick?") {
    timeout 200ms
  }
  output { last: ask.output.approver }
}

plan pay {
  input { amount: int }
  step ask = approval(approver: "group:finance", summary: "Pay \${input.amount}?", approvals: 2, not_starter: true)
  output { approvers: ask.output.approvers, last: ask.output.approver }
}

plan batch {
  input { payments: list<{ team: string, amount: int }> }
  for each p in input.payments parallel 2 {
    step ok = approval(approver: "group:\${p.team}", summary: "Pay \${p.amount} to \${p.team}?", subject: p)
  }
}
`;

/** A plan of a project without people (no `auth` block): its runs are not bound to people (§9.1). */
const UNBOUND = `
plan old_pay {
  step ask = approval(approver: "group:leads", summary: "Pay?", approvals: 2)
  output { last: ask.output.approver }
}
`;

let app: FastifyInstance;
let starter: RunStarter;
let db: string;
let v2File: string;

beforeAll(async () => {
  const dir = tempDir('orch-approvals-');
  // The project of `pay` configures people: its runs are bound to them. `old_pay`'s does not.
  mkdirSync(join(dir, 'people'));
  writeFileSync(join(dir, 'people', 'orch.config.json'), JSON.stringify({ auth: { users: USERS } }));
  writeFileSync(join(dir, 'people', 'pay.orch'), SOURCE);
  mkdirSync(join(dir, 'plain'));
  writeFileSync(join(dir, 'plain', 'orch.config.json'), '{}');
  writeFileSync(join(dir, 'plain', 'old.orch'), UNBOUND);
  const plans: PlanIR[] = [];
  for (const file of [join(dir, 'people', 'pay.orch'), join(dir, 'plain', 'old.orch')]) {
    const out = compile({ entry: file });
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    plans.push(...out.plans);
  }
  // The next version of \`pay\` (§8.6): what it returns changes, its approval does not.
  mkdirSync(join(dir, 'people', 'v2'));
  writeFileSync(join(dir, 'people', 'v2', 'pay.orch'), SOURCE.replace('output { approvers: ask.output.approvers, last: ask.output.approver }', 'output { approvers: ask.output.approvers, last: ask.output.approver, version: 2 }'));
  v2File = join(dir, 'people', 'v2', 'pay.orch');
  db = join(dir, 'runs.db');
  starter = await openRuntimeStarter({ backend: await openBackend(db), plans, log: () => {} });
  const engine = new TriggerEngine({
    triggers: [],
    plans,
    starter,
    evaluate: (expr, scope) => evaluate(expr, { vars: { event: scope.event ?? null, context: scope.context } }),
    checkInput: createInputValidator(),
    state: await memoryBackend().triggerState(),
  });
  const people = new People({ token: TOKEN, store: await memoryBackend().people(), auth: AUTH });
  for (const who of [alice, bob, carol, dave]) tokens.set(who, await apiToken(people.store, who));
  app = await createApp({ people, limits: DEFAULT_LIMITS, log: () => {} });
  registerApi(app, { engine, starter, metrics: createMetrics(starter, () => engine, () => plans), checkContext: createContextValidator(plans), peopleConfigured: true });
  finishRoutes(app);
  await app.ready();
}, 60_000);

afterAll(async () => {
  await app?.close();
  await starter?.close();
});

const call = async (url: string, who: Person, body: unknown = {}) => {
  const r = await app.inject({
    method: 'POST',
    url,
    headers: { authorization: `Bearer ${tokens.get(who)}` },
    payload: body as object,
  });
  return { status: r.statusCode, json: r.json() as { error?: string; runId?: string } };
};
const inbox = async (runId: string) => (await pendingApprovals(starter)).find((a) => a.runId === runId);
const timeline = async (runId: string) => (await starter.timeline(runId)) ?? [];

describe('approvals bound to people over the API', () => {
  it('records the starter, refuses the starter, outsiders and a second approval by the same person (403), and completes with two distinct people', async () => {
    const started = await call('/runs', alice, { plan: 'pay', input: { amount: 40 } });
    expect(started.status).toBe(202);
    const id = started.json.runId!;
    await waitFor(async () => inbox(id), 20_000, 'the approval in the inbox');
    expect((await timeline(id))[0]).toMatchObject({ type: 'plan_created', started_by: { subject: 'alice', issuer: 'local', method: 'token' }, people_bound: true });

    const approve = (who: Person, comment?: string) => call(`/runs/${id}/steps/ask/approve`, who, comment ? { comment } : {});
    const byStarter = await approve(alice);
    expect(byStarter.status).toBe(403);
    expect(byStarter.json.error).toContain('started this run');
    const outsider = await approve(dave);
    expect(outsider.status).toBe(403);
    expect(outsider.json.error).toContain('members of group:finance');
    expect((await timeline(id)).filter((e) => e.type === 'approval_decided')).toEqual([]);

    expect((await approve(bob, 'ok by me')).status).toBe(202);
    // The decision is journaled as the run goes on: the inbox reads the journal.
    const pending = await waitFor(async () => ((await inbox(id))?.approvedBy.length ? inbox(id) : undefined), 20_000, "Bob's approval in the inbox");
    expect(pending).toMatchObject({ stepId: 'ask', approver: 'group:finance', needed: 2, approvedBy: ['bob'] });
    const twice = await approve(bob);
    expect(twice.status).toBe(403);
    expect(twice.json.error).toContain('already approved');

    expect((await approve(carol)).status).toBe(202);
    const view = await waitFor(async () => {
      const v = await starter.get(id);
      return v?.status === 'completed' ? v : undefined;
    }, 20_000, 'the run to complete');
    expect(view.output).toEqual({ approvers: ['bob', 'carol'], last: 'carol' });
    const decided = (await timeline(id)).filter((e) => e.type === 'approval_decided');
    expect(decided.map((e) => [e.by, e.approved, e.needed])).toEqual([
      [{ subject: 'bob', issuer: 'local', name: 'bob', method: 'token' }, 1, 2],
      [{ subject: 'carol', issuer: 'local', name: 'carol', method: 'token' }, 2, 2],
    ]);
  });

  it('a run upgraded while its approval waits for a second person stays bound: the first approval still counts, the same person and the starter are still refused (§8.6 × §8.8)', async () => {
    const id = (await call('/runs', alice, { plan: 'pay', input: { amount: 9 } })).json.runId!;
    await waitFor(async () => inbox(id), 20_000, 'the approval in the inbox');
    expect((await call(`/runs/${id}/steps/ask/approve`, bob)).status).toBe(202);
    await waitFor(async () => ((await inbox(id))?.approvedBy.length ? true : undefined), 20_000, "Bob's approval in the inbox");
    // \`orch upgrade RUN --to v2\` in a process of its own; this one moves the run at its approval.
    const up = await orchAsync(['upgrade', id, '--to', v2File, '--plan', 'pay', '--db', db]);
    expect(up.code, up.stderr).toBe(0);
    await waitFor(async () => ((await timeline(id)).some((e) => e.type === 'plan_upgraded') ? true : undefined), 20_000, 'plan_upgraded');
    expect(await inbox(id)).toMatchObject({ stepId: 'ask', needed: 2, approvedBy: ['bob'] });
    const again = await call(`/runs/${id}/steps/ask/approve`, bob);
    expect(again.status).toBe(403);
    expect(again.json.error).toContain('already approved');
    const byStarter = await call(`/runs/${id}/steps/ask/approve`, alice);
    expect(byStarter.status).toBe(403);
    expect(byStarter.json.error).toContain('started this run');
    expect((await call(`/runs/${id}/steps/ask/approve`, carol)).status).toBe(202);
    const view = await waitFor(async () => {
      const v = await starter.get(id);
      return v?.status === 'completed' ? v : undefined;
    }, 20_000, 'the run to complete');
    expect(view.output).toEqual({ approvers: ['bob', 'carol'], last: 'carol', version: 2 });
    expect((await timeline(id)).filter((e) => e.type === 'approval_decided').map((e) => (e.by as { subject: string }).subject)).toEqual(['bob', 'carol']);
  });

  it('a name typed in the request body is never who decided: the journal and the output name the signed-in identity (§8.8)', async () => {
    const id = (await call('/runs', alice, { plan: 'pay', input: { amount: 11 } })).json.runId!;
    await waitFor(async () => inbox(id), 20_000, 'the approval in the inbox');
    const typed = await call(`/runs/${id}/steps/ask/approve`, bob, { by: 'mallory', approver: 'mallory', comment: 'fine' });
    expect(typed.status).toBe(202);
    await waitFor(async () => ((await inbox(id))?.approvedBy.length ? true : undefined), 20_000, "Bob's approval in the inbox");
    expect((await call(`/runs/${id}/steps/ask/approve`, carol, { by: 'mallory' })).status).toBe(202);
    const view = await waitFor(async () => {
      const v = await starter.get(id);
      return v?.status === 'completed' ? v : undefined;
    }, 20_000, 'the run to complete');
    expect(view.output).toEqual({ approvers: ['bob', 'carol'], last: 'carol' });
    const events = await timeline(id);
    expect(JSON.stringify(events)).not.toContain('mallory');
    expect(events.filter((e) => e.type === 'approval_decided').map((e) => e.by)).toEqual([
      { subject: 'bob', issuer: 'local', name: 'bob', method: 'token' },
      { subject: 'carol', issuer: 'local', name: 'carol', method: 'token' },
    ]);
  });

  it('the same person approving several times at once counts once: one 202, the rest 403, one approval journaled', async () => {
    const id = (await call('/runs', alice, { plan: 'pay', input: { amount: 3 } })).json.runId!;
    await waitFor(async () => inbox(id), 20_000, 'the approval in the inbox');
    const answers = await Promise.all([0, 1, 2, 3].map(() => call(`/runs/${id}/steps/ask/approve`, bob)));
    expect(answers.map((a) => a.status).sort()).toEqual([202, 403, 403, 403]);
    expect(answers.filter((a) => a.status === 403).every((a) => a.json.error?.includes('already approved'))).toBe(true);
    const pending = await waitFor(async () => ((await inbox(id))?.approvedBy.length ? inbox(id) : undefined), 20_000, "Bob's approval in the inbox");
    expect(pending?.approvedBy).toEqual(['bob']);
    expect((await timeline(id)).filter((e) => e.type === 'approval_decided')).toHaveLength(1);
    expect((await starter.get(id))?.status).not.toBe('completed');
  });

  it('a decision after the approval timed out is a 409, on a step that does not exist a 404; neither changes anything', async () => {
    const id = (await call('/runs', alice, { plan: 'quick' })).json.runId!;
    await waitFor(async () => {
      const v = await starter.get(id);
      return v && v.status !== 'running' && v.status !== 'paused' ? v : undefined;
    }, 20_000, 'the approval to time out');
    const before = (await timeline(id)).length;
    const late = await call(`/runs/${id}/steps/ask/approve`, bob);
    expect(late.status).toBe(409);
    expect(late.json.error).toContain('already finished');
    expect((await call(`/runs/${id}/steps/nosuch/reject`, bob)).status).toBe(404);
    expect((await timeline(id)).length).toBe(before);
  });

  it('one reject by a member rejects the run', async () => {
    const id = (await call('/runs', alice, { plan: 'pay', input: { amount: 7 } })).json.runId!;
    await waitFor(async () => inbox(id), 20_000, 'the approval in the inbox');
    expect((await call(`/runs/${id}/steps/ask/reject`, dave)).status).toBe(403);
    expect((await call(`/runs/${id}/steps/ask/reject`, carol, { comment: 'too much' })).status).toBe(202);
    const view = await waitFor(async () => {
      const v = await starter.get(id);
      return v?.status === 'failed' ? v : undefined;
    }, 20_000, 'the run to fail');
    expect(JSON.stringify(view)).toContain('rejected by carol: too much');
  });

  it("each approval of a for each is shown and judged by what it evaluated: its own item's approver, summary and subject", async () => {
    const started = await call('/runs', alice, { plan: 'batch', input: { payments: [{ team: 'finance', amount: 5 }, { team: 'ops', amount: 7 }] } });
    expect(started.status).toBe(202);
    const id = started.json.runId!;
    const both = await waitFor(async () => {
      const mine = (await pendingApprovals(starter)).filter((a) => a.runId === id);
      return mine.length === 2 ? mine : undefined;
    }, 20_000, 'both approvals in the inbox');
    expect(both.map((a) => [a.stepId, a.approver, a.summary, a.subject])).toEqual([
      ['ok[0]', 'group:finance', 'Pay 5 to finance?', { team: 'finance', amount: 5 }],
      ['ok[1]', 'group:ops', 'Pay 7 to ops?', { team: 'ops', amount: 7 }],
    ]);
    // Journaled where it started, for whoever reads the run: the inbox of another server too.
    expect((await timeline(id)).find((e) => e.type === 'step_started' && e.stepId === 'ok[1]')).toMatchObject({ input: { approver: 'group:ops', summary: 'Pay 7 to ops?' } });
    expect((await call(`/runs/${id}/steps/ok%5B0%5D/approve`, dave)).status).toBe(403);
    expect((await call(`/runs/${id}/steps/ok%5B1%5D/approve`, dave)).status).toBe(202);
    expect((await call(`/runs/${id}/steps/ok%5B0%5D/approve`, bob)).status).toBe(202);
    await waitFor(async () => ((await starter.get(id))?.status === 'completed' ? true : undefined), 20_000, 'the run to complete');
  });

  it('a run started without people keeps the v0.2 rule here too (§9.1): the approver is a label, the first decision decides', async () => {
    const started = await call('/runs', alice, { plan: 'old_pay' });
    expect(started.status).toBe(202);
    const id = started.json.runId!;
    await waitFor(async () => inbox(id), 20_000, 'the approval in the inbox');
    expect((await timeline(id))[0]).toMatchObject({ type: 'plan_created', people_bound: false });
    // Dave is in no group "leads", and one approval of the two the step names is enough.
    expect((await call(`/runs/${id}/steps/ask/approve`, dave)).status).toBe(202);
    const view = await waitFor(async () => {
      const v = await starter.get(id);
      return v?.status === 'completed' ? v : undefined;
    }, 20_000, 'the run to complete');
    expect(view.output).toEqual({ last: 'dave' });
    expect((await timeline(id)).filter((e) => e.type === 'approval_decided')).toEqual([]);
  });
});
