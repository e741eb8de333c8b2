/**
 * Approvals bound to people (LANGUAGE.md §8.8) on the scheduler with a virtual clock: who may
 * decide (the approver user or group, the approver/admin role), `approvals: N` distinct people,
 * one reject rejects, `not_starter`, the journal's identities, and a resume in between.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PlanIR } from '../../compiler/index.js';
import type { ExprIR } from '../../compiler/index.js';
import { cliStarter, LOCAL_ISSUER, recordOf, type Identity, type Role, type Starter } from '../index.js';
import { replay, Run, VirtualClock, type JournalSink, type RunEvent } from '../scheduler/index.js';
import { capability, lit, out, plan, step } from './ir-builder.js';
import { SimExecutor } from './sim-executor.js';

const person = (subject: string, opts: { roles?: Role[]; groups?: string[]; issuer?: string } = {}): Identity => ({
  subject,
  issuer: opts.issuer ?? LOCAL_ISSUER,
  name: subject.toUpperCase(),
  method: 'password',
  roles: opts.roles ?? ['approver'],
  groups: opts.groups ?? [],
});

const alice = person('alice', { groups: ['finance'] });
const bob = person('bob', { groups: ['finance'] });
const carol = person('carol', { groups: ['finance'], roles: ['operator', 'approver'] });
const dave = person('dave', { groups: ['ops'] });
const viewer = person('vic', { groups: ['finance'], roles: ['viewer'] });

const approvalCap = capability('std.capabilities.approval', { kind: 'human', handler: { builtin: 'approval' } });

function approvalPlan(args: { [k: string]: ExprIR }): PlanIR {
  return plan({
    capabilities: [approvalCap, capability('c')],
    steps: [
      step({ id: 'ok', capability: 'std.capabilities.approval', args }),
      step({ id: 'go', capability: 'c', deps: ['ok'], args: { who: out('ok', 'approver'), all: out('ok', 'approvers') } }),
    ],
  });
}

function harness(p: PlanIR, opts: { startedBy?: Identity | Starter; chain?: Starter[]; restored?: RunEvent[]; clock?: VirtualClock } = {}) {
  const clock = opts.clock ?? new VirtualClock(0);
  const exec = new SimExecutor(clock, (req) => ({ latency: 10, outcome: { ok: true, output: { input: req.input } } }));
  const events: RunEvent[] = [...(opts.restored ?? [])];
  const journal: JournalSink = { commit: (_s, evs) => void events.push(...evs), load: (id) => events.filter((e) => e.runId === id) };
  const run = new Run(p, { clock, executor: exec, journal }, {
    runId: 'r',
    restored: opts.restored ? replay(opts.restored) : undefined,
    ...(opts.startedBy ? { startedBy: 'roles' in opts.startedBy ? recordOf(opts.startedBy) : opts.startedBy } : {}),
    ...(opts.chain ? { origin: { people_bound: true, chain_people: opts.chain } } : {}),
  });
  const done = run.start();
  clock.runAll();
  /** What the runtime does with a decision: refuse it (the reason), or deliver it. */
  const decide = (who: Identity | null, decision: 'approve' | 'reject' = 'approve', key = 'ok'): string => {
    const why = run.decisionRefusal(key, decision, who);
    if (why !== null) return why;
    const r = run.signal(key, decision, null, null, who);
    clock.runAll();
    return r;
  };
  return { clock, exec, events, run, done, decide };
}

const decisions = (events: readonly RunEvent[]) => events.filter((e) => e.type === 'approval_decided');

describe('who may decide', () => {
  const p = approvalPlan({ approver: lit('group:finance'), summary: lit('pay?') });

  it('refuses a person outside the group and one without the approver role, and changes nothing', async () => {
    const h = harness(p);
    const before = h.events.length;
    expect(h.decide(dave)).toBe('this approval is for members of group:finance; dave (DAVE) may not decide it');
    expect(h.decide(viewer)).toBe('vic (VIC) may not decide approvals (needs the approver role)');
    // Even delivered without asking first, the core refuses it: nothing is journaled.
    h.run.signal('ok', 'approve', null, null, dave);
    h.clock.runAll();
    expect(h.events.length).toBe(before);
    expect(h.run.stepView('ok')!.status).toBe('running');
  });

  it('accepts a member of the group; the output names their subject', async () => {
    const h = harness(p);
    expect(h.decide(bob)).toBe('ok');
    const r = await h.done;
    expect(r.status).toBe('completed');
    expect(h.exec.starts.find((s) => s.stepId === 'go')!.input).toEqual({ who: 'bob', all: ['bob'] });
  });

  it('a user approver is the config user of that name (issuer and subject, §9.1): an OpenID account with that sub is not; admin holds the role too', async () => {
    const h = harness(approvalPlan({ approver: lit('alice'), summary: lit('pay?') }));
    expect(h.decide(bob)).toContain('this approval is for alice');
    expect(h.decide(person('alice', { roles: ['admin'], issuer: 'https://id.example.com' }))).toContain('this approval is for alice');
    expect(h.decide(person('alice', { roles: ['admin'] }))).toBe('ok');
    expect((await h.done).status).toBe('completed');
  });

  it('without an identity (no people configured) the decision is a label, as before', async () => {
    const h = harness(p);
    expect(h.run.signal('ok', 'approve', 'cfo')).toBe('ok');
    h.clock.runAll();
    expect((await h.done).status).toBe('completed');
    expect(h.exec.starts.find((s) => s.stepId === 'go')!.input).toEqual({ who: 'cfo', all: ['cfo'] });
    expect(decisions(h.events)).toEqual([]);
  });
});

describe('approvals: N and rejects', () => {
  const p = approvalPlan({ approver: lit('group:finance'), summary: lit('pay?'), approvals: lit(2) });

  it('needs two distinct people; the same person twice is refused', async () => {
    const h = harness(p);
    expect(h.decide(alice)).toBe('ok');
    expect(h.run.stepView('ok')!.status).toBe('running');
    expect(h.decide(alice)).toBe('alice (ALICE) has already approved; 2 distinct people must approve');
    // The same subject from another issuer is another person.
    expect(h.decide(person('alice', { groups: ['finance'], issuer: 'https://id.example.com' }))).toBe('ok');
    const r = await h.done;
    expect(r.status).toBe('completed');
    expect(h.exec.starts.find((s) => s.stepId === 'go')!.input).toEqual({ who: 'alice', all: ['alice', 'alice'] });
  });

  it('decisions sent before the step starts all count when it starts, in the order sent: two people approve early (neither lost), and without people the first decides', async () => {
    // `ok` waits on a slow call: both decisions arrive while it has not started.
    const later = plan({
      capabilities: [approvalCap, capability('c')],
      steps: [
        step({ id: 'first', capability: 'c' }),
        step({ id: 'ok', capability: 'std.capabilities.approval', deps: ['first'], args: { approver: lit('group:finance'), summary: lit('pay?'), approvals: lit(2) } }),
      ],
    });
    const clock = new VirtualClock(0);
    const exec = new SimExecutor(clock, () => ({ latency: 1000, outcome: { ok: true, output: {} } }));
    const events: RunEvent[] = [];
    const run = new Run(later, { clock, executor: exec, journal: { commit: (_s, evs) => void events.push(...evs), load: () => events } }, { runId: 'early' });
    const done = run.start();
    expect(run.stepView('ok')!.status).toBe('pending');
    expect(run.decisionRefusal('ok', 'approve', alice)).toBeNull();
    expect(run.signal('ok', 'approve', null, 'one', alice)).toBe('ok');
    // Her early approval counts already: a second one is refused now, not kept and dropped at the start.
    expect(run.decisionRefusal('ok', 'approve', alice)).toBe('alice (ALICE) has already approved; 2 distinct people must approve');
    expect(run.signal('ok', 'approve', null, 'two', bob)).toBe('ok');
    clock.runAll();
    const r = await done;
    expect(r.status).toBe('completed');
    expect(r.steps.find((s) => s.stepId === 'ok')!.output).toMatchObject({ approvers: ['alice', 'bob'], approver: 'bob' });
    expect(decisions(events).map((e) => e.data.approved)).toEqual([1, 2]);

    // v0.2 (no identity): the first decision decides; one sent after it finds the step decided.
    const labels = plan({ capabilities: [approvalCap, capability('c')], steps: [step({ id: 'first', capability: 'c' }), step({ id: 'ok', capability: 'std.capabilities.approval', deps: ['first'], args: { approver: lit('cfo'), summary: lit('pay?') } })] });
    const clock2 = new VirtualClock(0);
    const run2 = new Run(labels, { clock: clock2, executor: new SimExecutor(clock2, () => ({ latency: 1000, outcome: { ok: true, output: {} } })), journal: { commit: () => {}, load: () => [] } }, { runId: 'early2' });
    const done2 = run2.start();
    run2.signal('ok', 'approve', 'cfo');
    run2.signal('ok', 'reject', 'intern');
    clock2.runAll();
    const r2 = await done2;
    expect(r2.status).toBe('completed');
    expect(r2.steps.find((s) => s.stepId === 'ok')!.output).toMatchObject({ approver: 'cfo' });
  });

  it('one reject rejects, even after an approval', async () => {
    const h = harness(p);
    expect(h.decide(alice)).toBe('ok');
    expect(h.decide(carol, 'reject')).toBe('ok');
    const r = await h.done;
    expect(r.status).toBe('failed');
    expect(r.steps.find((s) => s.stepId === 'ok')!.error).toBe('rejected by carol');
    expect(h.exec.starts.find((s) => s.stepId === 'go')).toBeUndefined();
  });

  it('journals each decision with the identity, never a typed name, and a resume keeps the approvals so far', async () => {
    const h = harness(p);
    h.run.signal('ok', 'approve', 'typed name', 'fine by me', alice);
    h.clock.runAll();
    expect(decisions(h.events).map((e) => e.data)).toEqual([
      { decision: 'approve', by: { subject: 'alice', issuer: 'local', name: 'ALICE', method: 'password' }, comment: 'fine by me', approved: 1, needed: 2 },
    ]);
    expect(JSON.stringify(h.events)).not.toContain('typed name');
    // The process stops here; another resumes the run from its journal.
    h.run.detach();
    const again = harness(p, { restored: h.events, clock: new VirtualClock(1000) });
    expect(again.decide(alice)).toContain('already approved');
    expect(again.decide(bob)).toBe('ok');
    expect((await again.done).status).toBe('completed');
    expect(again.exec.starts.find((s) => s.stepId === 'go')!.input).toEqual({ who: 'bob', all: ['alice', 'bob'] });
    expect(decisions(again.events).map((e) => [e.data.by.subject, e.data.approved])).toEqual([
      ['alice', 1],
      ['bob', 2],
    ]);
  });

  it('a computed count below 1 fails the step when it starts', async () => {
    const h = harness(approvalPlan({ approver: lit('alice'), summary: lit('x'), approvals: lit(0) }));
    const r = await h.done;
    expect(r.status).toBe('failed');
    expect(r.steps.find((s) => s.stepId === 'ok')!.error).toContain('approvals must be an integer of at least 1');
  });
  it('a computed approver that names nobody ("", "group:", null) fails the step when it starts: it never opens the approval to anyone with the role', async () => {
    // null: what an `any` value read at run time may hold where a string was due.
    for (const approver of ['  ', 'group:', null]) {
      const h = harness(approvalPlan({ approver: lit(approver), summary: lit('x') }));
      // Decided by an approver who matches no one the step names: refused or not, the step must fail at its start.
      const why = h.decide(dave);
      const r = await h.done;
      expect(why).not.toBe('ok');
      expect(r.status).toBe('failed');
      expect(r.steps.find((s) => s.stepId === 'ok')!.error).toContain('approver must name a user ("alice") or a group');
      expect(decisions(h.events)).toEqual([]);
    }
  });
});

describe('not_starter', () => {
  const p = approvalPlan({ approver: lit('group:finance'), summary: lit('pay?'), not_starter: lit(true) });

  it('refuses the person who started the run, recorded in plan_created', async () => {
    const h = harness(p, { startedBy: alice });
    expect(h.events[0]!.type === 'plan_created' && h.events[0]!.data.started_by).toEqual(recordOf(alice));
    expect(h.run.actuals().started_by).toBe('alice');
    expect(h.decide(alice)).toBe('alice (ALICE) started this run and may not decide its approval (not_starter)');
    expect(h.decide(alice, 'reject')).toContain('not_starter');
    expect(h.decide(bob)).toBe('ok');
    expect((await h.done).status).toBe('completed');
  });

  it('refuses the signed-in local user named as the OS user who started the run, or a run it came from, on the command line', async () => {
    // alice ran `orch run` (her shell account) and signs in as alice: one person, or four eyes are two.
    const h = harness(p, { startedBy: cliStarter('alice') });
    expect(h.decide(alice)).toBe('alice (ALICE) started this run and may not decide its approval (not_starter)');
    expect(h.decide(bob)).toBe('ok');
    expect((await h.done).status).toBe('completed');
    const retried = harness(p, { startedBy: cliStarter('carol'), chain: [cliStarter('alice')] });
    expect(retried.decide(alice)).toContain('not_starter');
    // Only a local user: an OIDC subject that happens to read "alice" is someone else.
    expect(retried.decide(person('alice', { groups: ['finance'], issuer: 'https://id.example.com' }))).toBe('ok');
  });

  it('without not_starter the starter may decide', async () => {
    const h = harness(approvalPlan({ approver: lit('group:finance'), summary: lit('pay?') }), { startedBy: alice });
    expect(h.decide(alice)).toBe('ok');
    expect((await h.done).status).toBe('completed');
  });
});

describe('property: decisions by random identities', () => {
  const people = [alice, bob, carol, dave, viewer, person('erin', { groups: ['finance'], roles: ['admin'] })];
  it('completes iff N distinct eligible people approved before any eligible reject, and never by an ineligible one', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        fc.constantFrom(...people),
        fc.array(fc.record({ who: fc.constantFrom(...people), decision: fc.constantFrom('approve' as const, 'reject' as const) }), { maxLength: 8 }),
        (n, notStarter, starter, seq) => {
          const h = harness(approvalPlan({ approver: lit('group:finance'), summary: lit('x'), approvals: lit(n), not_starter: lit(notStarter) }), { startedBy: starter });
          const eligible = (who: Identity) =>
            who.groups.includes('finance') && (who.roles.includes('approver') || who.roles.includes('admin')) && !(notStarter && who.subject === starter.subject);
          // The model: what must happen.
          const approved: string[] = [];
          let expected: 'running' | 'completed' | 'failed' = 'running';
          for (const { who, decision } of seq) {
            const answer = h.decide(who, decision);
            if (expected !== 'running') continue;
            const accepted = eligible(who) && !(decision === 'approve' && approved.includes(who.subject));
            expect(answer === 'ok').toBe(accepted);
            if (!accepted) continue;
            if (decision === 'reject') expected = 'failed';
            else {
              approved.push(who.subject);
              if (approved.length === n) expected = 'completed';
            }
          }
          expect(h.run.stepView('ok')!.status).toBe(expected);
          const accepted = decisions(h.events);
          expect(accepted.every((e) => eligible(people.find((p) => p.subject === e.data.by.subject)!))).toBe(true);
          if (expected === 'completed') expect(accepted.filter((e) => e.data.decision === 'approve').map((e) => e.data.by.subject)).toEqual(approved);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('a decision for a step that is no approval (issue #47 item 7)', () => {
  it('is refused, naming why, and nothing is kept for it: a wait, a call', async () => {
    const p = plan({
      capabilities: [approvalCap, capability('c')],
      steps: [
        step({ id: 'ok', capability: 'std.capabilities.approval', args: { approver: lit('group:finance'), summary: lit('pay?') } }),
        step({ id: 'w', capability: null, kind: null, action: { type: 'wait', duration_ms: lit(1000) }, deps: ['ok'] }),
        step({ id: 'go', capability: 'c', deps: ['w'] }),
      ],
    });
    const h = harness(p);
    expect(h.decide(bob, 'approve', 'w')).toMatch(/step w is a wait, not an approval/);
    expect(h.decide(bob, 'reject', 'go')).toMatch(/step go is a call of c, not an approval/);
    expect(h.decide(bob, 'approve', 'ok')).toBe('ok');
    await h.done;
    expect(decisions(h.events).map((e) => e.stepId)).toEqual(['ok']);
  });
});
