/**
 * `orch fork RUN --at STEP` on the command line (LANGUAGE.md §9.2, in this process): it prints the
 * new run's id (with --json, the result `orch run --json` prints) and exits as `orch run` does;
 * the new run records where it came from (`forked_from`) and who forked it, with the forked run's
 * starter in its chain (§9.1's `not_starter`); usage errors are exit 2. runtime/test/fork.test.ts
 * covers what is adopted and what runs again.
 */
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { openBackend } from '../../runtime/index.js';
import { tempDir } from '../../serve/test/serve-process.js';
import { runCli } from '../../test/support/cli-in-process.js';

const PLANS = `
plan p {
  input { name: string }
  step a = transform(value: "hi \${input.name}")
  step b = transform(value: "\${a.output.value}!")
  output { text: b.output.value }
}
plan gate {
  step ok = approval(approver: "ops", summary: "go?")
}
`;

const dir = tempDir('orch-fork-cli-');
const db = join(dir, '.orch', 'runs.db');
const me = { subject: userInfo().username, issuer: 'os', method: 'cli' };
let first = '';

async function journal(runId: string) {
  const j = (await (await openBackend(db)).journal()).store;
  try {
    return await j.load(runId);
  } finally {
    await j.close();
  }
}

beforeAll(async () => {
  writeFileSync(join(dir, 'plans.orch'), PLANS);
  const r = await runCli(['run', 'plans.orch', '--plan', 'p', '--input', '{"name": "ada"}', '--json', '--quiet'], dir);
  expect(r.code, r.stderr).toBe(0);
  first = (JSON.parse(r.stdout) as { runId: string }).runId;
}, 60_000);

describe('orch fork', () => {
  it('prints the new run, exits 0 when it completes, and records forked_from, who forked it and the chain behind it', async () => {
    const r = await runCli(['fork', first, '--at', 'b', '--quiet'], dir);
    expect(r.code, r.stderr).toBe(0);
    const forked = /^run (\S+) \(p\): completed/m.exec(r.stdout)?.[1];
    expect(forked).toBeDefined();
    expect(forked).not.toBe(first);
    const events = await journal(forked!);
    expect(events[0]!.data).toMatchObject({ forked_from: { run: first, step: 'b' }, started_by: me, chain_people: [me] });
    expect(events.filter((e) => e.type === 'step_adopted').map((e) => e.stepId)).toEqual(['a']);
    expect(events.filter((e) => e.type === 'step_started').map((e) => e.stepId)).toEqual(['b']);
  });

  it('--json prints the result as orch run --json does; --output stands for the step', async () => {
    const r = await runCli(['fork', first, '--at', 'a', '--output', '{"value": "yo"}', '--json', '--quiet'], dir);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as Record<string, unknown>;
    const ran = JSON.parse((await runCli(['run', 'plans.orch', '--plan', 'p', '--input', '{"name": "x"}', '--json', '--quiet'], dir)).stdout) as Record<string, unknown>;
    expect(Object.keys(result).sort()).toEqual(Object.keys(ran).sort());
    expect(result).toMatchObject({ status: 'completed', started_by: me, output: { text: 'yo!' } });
  });

  it('--to forks onto a new version of the plan whose adopted steps are compatible; a changed adopted step is refused (exit 1, as orch upgrade refuses it)', async () => {
    const v2 = PLANS.replace('output { text: b.output.value }', 'step c = transform(value: "${b.output.value}?")\n  output { text: c.output.value }');
    writeFileSync(join(dir, 'v2.orch'), v2);
    const r = await runCli(['fork', first, '--at', 'b', '--to', 'v2.orch', '--plan', 'p', '--json', '--quiet'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'completed', output: { text: 'hi ada!?' } });
    writeFileSync(join(dir, 'v3.orch'), v2.replace('value: "hi ${input.name}"', 'value: "hello ${input.name}"'));
    const refused = await runCli(['fork', first, '--at', 'b', '--to', 'v3.orch', '--plan', 'p'], dir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/cannot be forked onto the new plan:\n {2}a: has started \(completed\); its arguments changed/);
    // A --to plan with errors is exit 1, as orch run of it (LANGUAGE.md §6).
    writeFileSync(join(dir, 'errors.orch'), 'plan p {\n  step a = nothing_here(x: 1)\n}\n');
    const errors = await runCli(['fork', first, '--at', 'b', '--to', 'errors.orch'], dir);
    expect([errors.code, errors.stderr]).toEqual([1, expect.stringMatching(/errors\.orch:2:12: error\[E0101\]/)]);
  });

  it('is exit 2 for a step the run does not have, an unknown run, and --output for an approval', async () => {
    const unknownStep = await runCli(['fork', first, '--at', 'nope'], dir);
    expect([unknownStep.code, unknownStep.stderr]).toEqual([2, expect.stringContaining('has no step nope')]);
    expect((await runCli(['fork', 'no-such-run', '--at', 'a'], dir)).code).toBe(2);
    const paused = await runCli(['run', 'plans.orch', '--plan', 'gate', '--json', '--quiet'], dir);
    const gate = (JSON.parse(paused.stdout) as { runId: string }).runId;
    const forged = await runCli(['fork', gate, '--at', 'ok', '--output', '{"approved": true}'], dir);
    expect(forged.code).toBe(2);
    expect(forged.stderr).toContain('--output cannot give it');
  });
});
