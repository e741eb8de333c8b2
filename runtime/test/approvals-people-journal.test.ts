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
import { capability, lit, plan, step } from './ir-builder.js';

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
});
