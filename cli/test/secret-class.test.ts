/**
 * Values of data class `secret` are never shown (LANGUAGE.md §3, docs/language.md "Values of class
 * secret are never shown"): `orch run --json` and `orch timeline` (text and --json) print `***`
 * for a secret-class input field, a capability's secret output field, a plan output field bound
 * to one, and any copy of those values elsewhere (a step that echoes the token); the journal keeps
 * them (`orch runs export` is a backup), so a run with a secret input resumes with the real value.
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../serve/test/serve-process.js';
import { runCli } from '../../test/support/cli-in-process.js';
import { runTool, timelineTool, type ToolContext } from '../mcp/tools.js';

const TOKEN = 'hunter2-TOPSECRET';
const PLANS = `
capability echo { kind tool input { text: string } output { text: string } cost 0usd latency 1ms handler "./echo.js" requires cpu }
capability vault { kind tool input { name: string } output { key: string @secret, label: string } cost 0usd latency 1ms handler "./vault.js" requires cpu }
resource box { kind local_device provides cpu }

plan p {
  input { token: string @secret, name: string }
  step a = echo(text: input.name)
  step k = vault(name: input.name)
  step e = echo(text: "token \${input.token}")
  output { who: a.output.text, key: k.output.key, label: k.output.label, tok: input.token }
}

capability picky { kind tool input { token: string } output { ok: bool } cost 0usd latency 1ms handler "./picky.js" requires cpu }
plan leaks {
  input { token: string @secret }
  step use = picky(token: input.token) { retry 2 backoff fixed 5ms }
}

plan gated {
  input { token: string @secret }
  step ok = approval(approver: "ops", summary: "go?")
  step use = echo(text: input.token) { after ok }
  output { done: true }
}
`;

const dir = tempDir('orch-secret-class-');
let result: { runId: string; output: Record<string, unknown>; steps: { stepId: string; output: unknown }[] };

beforeAll(async () => {
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  writeFileSync(join(dir, 'echo.js'), 'export default function echo({ text }) { return { text }; }\n');
  writeFileSync(join(dir, 'vault.js'), 'export default function vault({ name }) { return { key: `VAULTKEY-${name}`, label: "L" }; }\n');
  writeFileSync(join(dir, 'picky.js'), 'export default function picky({ token }, ctx) { if (ctx.attempt < 2) throw new Error(`rejected ${token}`); return { ok: true }; }\n');
  writeFileSync(join(dir, 'plans.orch'), PLANS);
  const r = await runCli(['run', 'plans.orch', '--plan', 'p', '--input', JSON.stringify({ token: TOKEN, name: 'bob' }), '--db', 'runs.db', '--json', '--quiet'], dir);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).not.toContain('TOPSECRET');
  expect(r.stdout).not.toContain('VAULTKEY');
  result = JSON.parse(r.stdout) as typeof result;
}, 60_000);

describe('values of class secret are shown as ***', () => {
  it('orch run --json: secret output fields and echoes of a secret read ***, the rest as it is', () => {
    expect(result.output).toEqual({ who: 'bob', key: '***', label: 'L', tok: '***' });
    expect(result.steps.find((s) => s.stepId === 'k')?.output).toEqual({ key: '***', label: 'L' });
    expect(result.steps.find((s) => s.stepId === 'e')?.output).toEqual({ text: 'token ***' });
  });

  it('orch run --json: a step echoing a secret context signal (--context) reads *** as orch timeline shows it', async () => {
    const sub = tempDir('orch-secret-context-');
    writeFileSync(join(sub, 'package.json'), '{"type":"module"}');
    writeFileSync(join(sub, 'echo.js'), 'export default function echo({ text }) { return { text }; }\n');
    writeFileSync(join(sub, 'c.orch'), `
context { pin: string @secret }
capability echo { kind tool input { text: string } output { text: string } cost 0usd latency 1ms handler "./echo.js" requires cpu }
resource box { kind local_device provides cpu }
plan c {
  step e = echo(text: "pin \${context.pin ?? "none"}")
}
`);
    const r = await runCli(['run', 'c.orch', '--context', JSON.stringify({ pin: TOKEN }), '--db', 'runs.db', '--json', '--quiet'], sub);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('TOPSECRET');
    expect((JSON.parse(r.stdout) as typeof result).steps.find((s) => s.stepId === 'e')?.output).toEqual({ text: 'pin ***' });
  });

  it('orch timeline --json and text: the input, step outputs and the run output read ***', async () => {
    const json = await runCli(['timeline', result.runId, '--db', 'runs.db', '--json'], dir);
    expect(json.code, json.stderr).toBe(0);
    expect(json.stdout).not.toMatch(/TOPSECRET|VAULTKEY/);
    const events = (JSON.parse(json.stdout) as { events: { type: string; stepId: string | null; data: Record<string, unknown> }[] }).events;
    expect(events.find((e) => e.type === 'plan_created')?.data.input).toEqual({ token: '***', name: 'bob' });
    expect(events.find((e) => e.type === 'step_completed' && e.stepId === 'k')?.data.output).toEqual({ key: '***', label: 'L' });
    expect(events.find((e) => e.type === 'execution_completed')?.data.output).toMatchObject({ who: 'bob', key: '***', tok: '***' });
    const text = await runCli(['timeline', result.runId, '--db', 'runs.db'], dir);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).not.toMatch(/TOPSECRET|VAULTKEY/);
  });

  it('the progress lines of orch run: an error quoting a secret value prints ***', async () => {
    const r = await runCli(['run', 'plans.orch', '--plan', 'leaks', '--input', JSON.stringify({ token: TOKEN }), '--db', 'runs.db'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('rejected ***');
    expect(r.stdout + r.stderr).not.toContain('TOPSECRET');
  });

  it('the MCP server: the timeline and run tools give them as ***', async () => {
    const ctx = { root: dir, db: 'runs.db', checks: undefined as never } satisfies ToolContext;
    const timeline = await timelineTool(ctx, { runId: result.runId });
    expect(JSON.stringify(timeline)).not.toMatch(/TOPSECRET|VAULTKEY/);
    expect(timeline.structured.events.find((e) => e.type === 'plan_created')?.data).toMatchObject({ input: { token: '***', name: 'bob' } });
    const ran = await runTool(ctx, { file: 'plans.orch', plan: 'p', input: { token: TOKEN, name: 'ann' } });
    expect(JSON.stringify(ran)).not.toMatch(/TOPSECRET|VAULTKEY/);
    expect(ran.structured.output).toEqual({ who: 'ann', key: '***', label: 'L', tok: '***' });
  });

  it('orch test --capture: neither a secret field nor a copy of one (an echo, an error quoting it) is written into the test', async () => {
    const cap = await runCli(['test', '--capture', result.runId, '--db', 'runs.db'], dir);
    expect(cap.code, cap.stderr).toBe(0);
    expect(cap.stdout).toContain('mock plans.echo');
    expect(cap.stdout + cap.stderr).not.toMatch(/TOPSECRET|VAULTKEY/);
    const retried = await runCli(['run', 'plans.orch', '--plan', 'leaks', '--input', JSON.stringify({ token: TOKEN }), '--db', 'runs.db', '--json', '--quiet'], dir);
    const failedOnce = await runCli(['test', '--capture', (JSON.parse(retried.stdout) as { runId: string }).runId, '--db', 'runs.db'], dir);
    expect(failedOnce.code, failedOnce.stderr).toBe(0);
    expect(failedOnce.stdout).toContain('fails');
    expect(failedOnce.stdout + failedOnce.stderr).not.toMatch(/TOPSECRET/);
  });

  it('the journal keeps them: orch runs export is a backup and prints them', async () => {
    const exp = await runCli(['runs', 'export', result.runId, '--db', 'runs.db'], dir);
    expect(exp.code, exp.stderr).toBe(0);
    expect(exp.stdout).toContain(TOKEN);
  });

  it('a paused run with a secret input continues with the real value, and shows ***', async () => {
    const started = await runCli(['run', 'plans.orch', '--plan', 'gated', '--input', JSON.stringify({ token: TOKEN }), '--db', 'runs.db', '--json', '--quiet'], dir);
    const paused = JSON.parse(started.stdout) as { runId: string; status: string };
    expect(paused.status).toBe('paused');
    const signal = await runCli(['signal', paused.runId, 'ok', 'approve', '--db', 'runs.db', '--json', '--quiet'], dir);
    expect(signal.code, signal.stderr).toBe(0);
    expect(signal.stdout).not.toContain('TOPSECRET');
    const done = JSON.parse(signal.stdout.slice(signal.stdout.indexOf('{'))) as { status: string; steps: { stepId: string; output: unknown }[] };
    expect(done.status).toBe('completed');
    expect(done.steps.find((s) => s.stepId === 'use')?.output).toEqual({ text: '***' });
    // The handler got the token itself: the journal kept the input through the pause.
    const exp = await runCli(['runs', 'export', paused.runId, '--db', 'runs.db'], dir);
    const used = (JSON.parse(exp.stdout) as { steps: Record<string, { output: unknown }> }).steps.use;
    expect(used?.output).toEqual({ text: TOKEN });
  });
});
