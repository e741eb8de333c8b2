/**
 * A decision for a run no process here executes (it stopped at its approval, or another process
 * runs it) goes through the journal (§8.8): a person who may not decide is refused there, with
 * the reason, before any control row is written; an accepted decision is applied on resume and
 * journaled with the identity.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_ISSUER, Runtime, type Identity } from '../index.js';
import { capability, input, lit, out, plan, step } from './ir-builder.js';

const person = (subject: string, groups: string[]): Identity => ({ subject, issuer: LOCAL_ISSUER, name: subject, method: 'token', roles: ['approver'], groups });
const alice = person('alice', ['finance']);
const bob = person('bob', ['finance']);
const dave = person('dave', ['ops']);

const ir = plan({
  name: 'pay',
  capabilities: [capability('std.capabilities.approval', { kind: 'human', handler: { builtin: 'approval' } })],
  steps: [step({ id: 'ok', capability: 'std.capabilities.approval', args: { approver: lit('group:finance'), summary: lit('pay?'), not_starter: lit(true) } })],
});

let dir: string;
let rt: Runtime;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'orch-approvals-journal-'));
  rt = await Runtime.open({ db: join(dir, 'runs.db'), workers: 1, suspendOnApproval: true });
}, 60_000);
afterAll(async () => {
  await rt?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('approvals bound to people, through the journal', () => {
  it('refuses the starter and an outsider with the reason, records a member, and the resumed run journals who approved', async () => {
    const first = await rt.start(ir, { startedBy: alice });
    expect((await first.result).status).toBe('paused');
    const id = first.runId;

    const byStarter = await rt.signal(id, { stepId: 'ok', decision: 'approve', identity: alice });
    expect(byStarter).toEqual({ ok: false, forbidden: true, message: 'alice started this run and may not decide its approval (not_starter)' });
    const outsider = await rt.signal(id, { stepId: 'ok', decision: 'approve', identity: dave });
    expect(outsider).toMatchObject({ ok: false, forbidden: true, message: expect.stringContaining('members of group:finance') });

    expect(await rt.signal(id, { stepId: 'ok', decision: 'approve', comment: 'yes', identity: bob })).toMatchObject({ ok: true });
    const resumed = await (await rt.resume(id)).result;
    expect(resumed.status).toBe('completed');
    expect(resumed.steps.find((s) => s.stepId === 'ok')!.output).toMatchObject({ approver: 'bob', approvers: ['bob'], comment: 'yes' });
    const events = await rt.store!.load(id);
    expect(events.filter((e) => e.type === 'approval_decided').map((e) => e.data)).toEqual([
      { decision: 'approve', by: { subject: 'bob', issuer: 'local', name: 'bob', method: 'token' }, comment: 'yes', approved: 1, needed: 1 },
    ]);
  });

  it('refuses a second approval by the same person while the first still waits in the journal for the process running the run (403, not "recorded" and dropped)', async () => {
    const two = plan({
      name: 'pay_two',
      capabilities: [capability('std.capabilities.approval', { kind: 'human', handler: { builtin: 'approval' } })],
      steps: [step({ id: 'ok', capability: 'std.capabilities.approval', args: { approver: lit('group:finance'), summary: lit('pay?'), approvals: lit(2) } })],
    });
    const first = await rt.start(two, { startedBy: alice });
    expect((await first.result).status).toBe('paused');
    expect(await rt.signal(first.runId, { stepId: 'ok', decision: 'approve', identity: bob })).toMatchObject({ ok: true });
    expect(await rt.signal(first.runId, { stepId: 'ok', decision: 'approve', identity: bob })).toEqual({
      ok: false,
      forbidden: true,
      message: 'bob has already approved; 2 distinct people must approve',
    });
    // Bob's rejection still counts (one reject rejects); another member's approval is taken.
    expect(await rt.signal(first.runId, { stepId: 'ok', decision: 'approve', identity: alice })).toMatchObject({ ok: true });
    const resumed = await (await rt.resume(first.runId)).result;
    expect(resumed.status).toBe('completed');
    expect(resumed.steps[0]!.output).toMatchObject({ approvers: ['bob', 'alice'] });
  });
});

describe('a sub-plan that starts when the run is resumed (§9.1)', () => {
  it("records the starter its parent's plan_created recorded, not the resuming process's OS user, and not_starter refuses them", async () => {
    const approval = capability('std.capabilities.approval', { kind: 'human', handler: { builtin: 'approval' } });
    const gate = (id: string) => step({ id, capability: approval.name, args: { approver: lit('group:finance'), summary: lit('pay?'), not_starter: lit(true) } });
    const child = plan({ name: 'child', capabilities: [approval], steps: [gate('again')] });
    const parent = plan({
      name: 'parent',
      capabilities: [approval],
      steps: [gate('ok'), step({ id: 'sub', capability: null, kind: null, deps: ['ok'], action: { type: 'run', plan: 'child', args: {} } })],
      over: { subplans: { child } },
    });
    const first = await rt.start(parent, { startedBy: alice });
    expect((await first.result).status).toBe('paused');
    expect(await rt.signal(first.runId, { stepId: 'ok', decision: 'approve', identity: bob })).toMatchObject({ ok: true });
    // The sub-plan starts in the resumed run.
    expect((await (await rt.resume(first.runId)).result).status).toBe('paused');
    const sub = (await rt.store!.listRuns(true)).find((r) => r.parent_id === first.runId)!;
    const created = (await rt.store!.load(sub.id))[0]!;
    expect(created.type === 'plan_created' && created.data.started_by).toEqual({ subject: 'alice', issuer: 'local', method: 'token' });
    expect(await rt.signal(first.runId, { stepId: 'sub/again', decision: 'approve', identity: alice })).toMatchObject({ ok: false, forbidden: true, message: expect.stringContaining('not_starter') });
  });
});

/**
 * A decision sent before its approval step started is kept for that start; when the step's rule
 * can be known already (its arguments read the run's input at most), one that the rule refuses is
 * refused at once, with the reason — here, in the process running the run, and through the journal.
 */
describe('a decision sent before its approval step starts', () => {
  const approval = capability('std.capabilities.approval', { kind: 'human', handler: { builtin: 'approval' } });
  const twoGates = plan({
    name: 'two_gates',
    capabilities: [approval],
    steps: [
      step({ id: 'gate', capability: approval.name, args: { summary: lit('first?') } }),
      step({ id: 'later', capability: approval.name, deps: ['gate'], args: { approver: input('team'), summary: lit('then?') } }),
      // Its approver is known only once `gate` answered: checked when it starts.
      step({ id: 'last', capability: approval.name, deps: ['later'], args: { approver: out('gate', 'approver'), summary: lit('last?') } }),
    ],
  });

  it('is refused at once by the process running the run when the rule refuses it, and accepted otherwise', async () => {
    const live = await Runtime.open({ db: join(dir, 'live.db'), workers: 1 });
    try {
      const started = new Map<string, () => void>();
      const startOf = (id: string) => new Promise<void>((r) => started.set(id, r));
      const gateStarted = startOf('gate');
      const lastStarted = startOf('last');
      const run = await live.start(twoGates, {
        input: { team: 'group:finance' },
        startedBy: alice,
        onEvent: (e) => void (e.type === 'step_started' && e.stepId !== null && started.get(e.stepId)?.()),
      });
      // `gate` waits; `later` has not started.
      await gateStarted;
      expect(await live.signal(run.runId, { stepId: 'later', decision: 'approve', identity: dave })).toMatchObject({
        ok: false,
        forbidden: true,
        message: expect.stringContaining('members of group:finance'),
      });
      // Not knowable before `gate` answered: accepted now, checked when `last` starts.
      expect(await live.signal(run.runId, { stepId: 'last', decision: 'approve', identity: dave })).toMatchObject({ ok: true });
      expect(await live.signal(run.runId, { stepId: 'later', decision: 'approve', identity: bob })).toMatchObject({ ok: true });
      expect(await live.signal(run.runId, { stepId: 'gate', decision: 'approve', identity: bob })).toMatchObject({ ok: true });
      // `later` starts with bob's decision and completes; `last` (its approver bob, from gate) drops dave's and waits.
      await lastStarted;
      expect(await live.control(run.runId, 'cancel')).toMatchObject({ ok: true });
      const result = await run.result;
      expect(result.steps.find((s) => s.stepId === 'later')).toMatchObject({ status: 'completed' });
      expect(result.steps.find((s) => s.stepId === 'last')).toMatchObject({ status: 'cancelled' });
    } finally {
      await live.close();
    }
  });

  it('is refused at once through the journal when the rule refuses it', async () => {
    const first = await rt.start(twoGates, { input: { team: 'group:ops' }, startedBy: alice });
    expect((await first.result).status).toBe('paused');
    const refused = await rt.signal(first.runId, { stepId: 'later', decision: 'approve', identity: bob });
    expect(refused).toMatchObject({ ok: false, forbidden: true, message: expect.stringContaining('members of group:ops') });
    expect(await rt.signal(first.runId, { stepId: 'later', decision: 'approve', identity: dave })).toMatchObject({ ok: true });
    // Not knowable from the journal: accepted, and checked by the process that starts `last`.
    expect(await rt.signal(first.runId, { stepId: 'last', decision: 'approve', identity: dave })).toMatchObject({ ok: true });
  });

  it('once it waits, is judged through the journal by the approver it evaluated (journaled in step_started), also one read off another step', async () => {
    const first = await rt.start(twoGates, { input: { team: 'group:ops' }, startedBy: alice });
    expect((await first.result).status).toBe('paused');
    expect(await rt.signal(first.runId, { stepId: 'gate', decision: 'approve', identity: bob })).toMatchObject({ ok: true });
    expect((await (await rt.resume(first.runId)).result).status).toBe('paused');
    expect(await rt.signal(first.runId, { stepId: 'later', decision: 'approve', identity: dave })).toMatchObject({ ok: true });
    expect((await (await rt.resume(first.runId)).result).status).toBe('paused');
    // `last` waits, its approver bob (gate's approver): dave is refused at once, not recorded and dropped.
    const waiting = (await rt.store!.load(first.runId)).filter((e) => e.type === 'step_started' && e.stepId === 'last');
    expect(waiting.map((e) => e.data)).toEqual([expect.objectContaining({ input: expect.objectContaining({ approver: 'bob', summary: 'last?' }) })]);
    expect(await rt.signal(first.runId, { stepId: 'last', decision: 'approve', identity: dave })).toEqual({ ok: false, forbidden: true, message: expect.stringContaining('bob') });
  });
});

describe('a decision for a step the plan does not have, on a run bound to people (§8.8, §9.1)', () => {
  // It was refused as "bound to people" (the API's 409) when sent without a person to the
  // process running the run: what names nothing is a 404 first, as through the journal.
  it('is missing (404) before it is refused for want of a person, in the process running it and through the journal', async () => {
    const live = await Runtime.open({ db: join(dir, 'live.db'), workers: 1, suspendOnApproval: false });
    try {
      let waits!: () => void;
      const waiting = new Promise<void>((resolve) => (waits = resolve));
      const active = await live.start(ir, { startedBy: alice, peopleBound: true, onEvent: (e) => e.type === 'step_started' && e.stepId === 'ok' && waits() });
      await waiting;
      expect(await live.signal(active.runId, { stepId: 'nope', decision: 'approve' })).toMatchObject({ ok: false, missing: true, message: expect.stringContaining('nope') });
      const unbound = await live.signal(active.runId, { stepId: 'ok', decision: 'approve' });
      expect(unbound).toMatchObject({ ok: false, message: expect.stringContaining('bound to people') });
      expect(unbound).not.toHaveProperty('missing');
      await live.control(active.runId, 'cancel');
      expect((await active.result).status).toBe('cancelled');
    } finally {
      await live.close();
    }
    const paused = await rt.start(ir, { startedBy: alice, peopleBound: true });
    expect((await paused.result).status).toBe('paused');
    expect(await rt.signal(paused.runId, { stepId: 'nope', decision: 'approve' })).toMatchObject({ ok: false, missing: true });
  });
});
