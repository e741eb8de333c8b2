/**
 * The approvals inbox (issue 47 item 12): a summary that reads what an earlier step produced is
 * shown evaluated, not replaced by "STEP in PLAN".
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../../compiler/index.js';
import { pendingApprovals } from '../approvals.js';
import type { RunView } from '../run-starter.js';
import { FakeStarter } from './fake-starter.js';

const dir = mkdtempSync(join(tmpdir(), 'orch-inbox-'));
writeFileSync(join(dir, 'package.json'), '{}');
writeFileSync(join(dir, 'h.mjs'), 'export function build() { return { version: "1.4.2" }; }\n');
const file = join(dir, 'release.orch');
writeFileSync(
  file,
  `capability build { kind tool  input { }  output { version: string }  handler "./h.mjs#build" }
plan release {
  input { team: string }
  step b = build()
  step sign_off = approval(approver: "ops", summary: "Ship \${b.output.version} for \${input.team}?", subject: { version: b.output.version, team: input.team })
}
`,
);
const plan = compile({ entry: file }).plans[0]!;

/** A run of `release` whose build completed and whose approval waits. */
class WaitingStarter extends FakeStarter {
  override async get(runId: string): Promise<RunView | null> {
    const base = await super.get(runId);
    if (!base) return null;
    return {
      ...base,
      steps: [
        { stepId: 'b', status: 'completed', output: { version: '1.4.2' }, attempts: 1 },
        { stepId: 'sign_off', status: 'running', startedAt: '2026-01-01T00:00:00.000Z' },
      ],
    };
  }
}

describe('the approvals inbox', () => {
  it("evaluates a summary that reads an earlier step's output", async () => {
    const starter = new WaitingStarter();
    await starter.start(plan, { team: 'web' }, { trigger: null, context: {} });
    const [pending] = await pendingApprovals(starter);
    expect(pending).toMatchObject({ stepId: 'sign_off', approver: 'ops', summary: 'Ship 1.4.2 for web?' });
  });

  it('shows the subject an approval endorses (§9.3), as a value; a step without one has none', async () => {
    const starter = new WaitingStarter();
    await starter.start(plan, { team: 'web' }, { trigger: null, context: {} });
    const [pending] = await pendingApprovals(starter);
    expect(pending!.subject).toEqual({ version: '1.4.2', team: 'web' });
    // As the compiler writes a step without one: the default, null.
    const bare = { ...plan, steps: plan.steps.map((st) => (st.id === 'sign_off' ? { ...st, args: { ...st.args, subject: { op: 'lit' as const, value: null } } } : st)) };
    const other = new WaitingStarter();
    await other.start(bare, { team: 'web' }, { trigger: null, context: {} });
    const [without] = await pendingApprovals(other);
    expect(without).not.toHaveProperty('subject');
  });
});
