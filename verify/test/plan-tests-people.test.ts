/**
 * `approve` / `reject` in a project whose config has an `auth` block (LANGUAGE.md §9.2, §8.8): the
 * deciders are its users, with their groups; `approvals` counts distinct people and `not_starter`
 * refuses the test's `started_by`. A refused decision is not taken: the step keeps waiting.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../../compiler/index.js';
import { tempDir } from '../../runtime/test/helpers.js';
import { runPlanTest } from '../index.js';

const PLAN = `
plan pay {
  step ok = approval(approver: "group:finance", summary: "pay?", approvals: 2, not_starter: true)
}
plan timed {
  input { ask: bool = true }
  step ok = approval(approver: "group:finance", summary: "pay?", not_starter: true) when input.ask { timeout 1d }
}
`;
const AUTH = { auth: { users: { alice: { roles: ['approver'], groups: ['finance'] }, bob: { roles: ['approver'], groups: ['finance'] }, carol: { roles: ['approver'], groups: ['ops'] } } } };

async function outcome(lines: string, plan = 'pay'): Promise<{ status: string; approvers: unknown; failures: readonly string[] }> {
  const dir = tempDir('orch-test-people-');
  writeFileSync(join(dir, 'orch.config.json'), JSON.stringify(AUTH));
  writeFileSync(join(dir, 'pay.orch'), PLAN);
  writeFileSync(join(dir, 'pay.test.orch'), `import "./pay.orch" as p\ntest "t" {\n  plan p.${plan}\n${lines}\n}\n`);
  const out = compile({ entry: join(dir, 'pay.test.orch'), navigation: false, tests: true });
  expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  let approvers: unknown = null;
  const r = await runPlanTest(out.tests[0]!, {
    real: null,
    onJournal: (events) => (approvers = events.filter((e) => e.type === 'approval_decided').map((e) => (e.data as { by: { subject: string } }).by.subject)),
  });
  return { status: r.run_status, approvers, failures: r.failures.map((f) => f.message) };
}

describe('deciders from the auth block', () => {
  it('two members of the group approve', async () => {
    expect(await outcome('  approve ok by "alice", "bob"')).toMatchObject({ status: 'completed', approvers: ['alice', 'bob'] });
  });

  it('a user outside the group, the starter, or one person twice is refused: the step keeps waiting', async () => {
    expect(await outcome('  approve ok by "alice", "carol"')).toMatchObject({ status: 'stuck', approvers: ['alice'] });
    expect(await outcome('  started_by "alice"\n  approve ok by "alice", "bob"')).toMatchObject({ status: 'stuck', approvers: ['bob'] });
    expect(await outcome('  approve ok by "bob", "bob"')).toMatchObject({ status: 'stuck', approvers: ['bob'] });
  });

  it('a stuck run says which of its decisions were refused, and why', async () => {
    const { failures } = await outcome('  started_by "alice"\n  approve ok by "alice", "bob"');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/^the run is stuck: nothing can happen any more while ok waits \(no timeout\)\napprove ok by "alice" \(line 5\) was refused: .*start/);
  });

  it('an approval that waited to its timeout because a decision was refused: the failing test says which and why', async () => {
    const lines = '  started_by "alice"\n  approve ok by "alice"\n  expect run.status == "completed"';
    const { status, failures } = await outcome(lines, 'timed');
    expect(status).toBe('failed');
    expect(failures).toEqual([expect.stringMatching(/^expect run.status == "completed" does not hold/), expect.stringMatching(/^approve ok by "alice" \(line 5\) was refused: .*start/)]);
    // Alone a refusal fails nothing: a test may pin it.
    expect((await outcome('  started_by "alice"\n  approve ok by "alice"\n  expect run.status == "failed"', 'timed')).failures).toEqual([]);
  });

  it('a decision that came after its approval timed out, or of one that never began to wait, is said when the test fails', async () => {
    const late = await outcome('  approve ok by "alice" at 2d\n  expect run.status == "completed"', 'timed');
    expect(late.failures.slice(1)).toEqual(['approve ok (line 4) came after ok had ended (timeout)']);
    const skipped = await outcome('  input { ask: false }\n  approve ok by "alice"\n  expect ok.completed', 'timed');
    expect(skipped.failures.slice(1)).toEqual(['approve ok (line 5) decided nothing: ok never began to wait (skipped)']);
  });
});
