/**
 * `orch signal` and the MCP `signal` tool with people configured (LANGUAGE.md §8.8): they carry
 * no authenticated person, so with an `auth` block in the run's project they refuse to decide an
 * approval (exit 2, nothing journaled); without one they decide as before. In-process CLI.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBackend, Runtime } from '../../runtime/index.js';
import { tempDir } from '../../serve/test/serve-process.js';
import { runCli } from '../../test/support/cli-in-process.js';
import type { CheckSession } from '../mcp/checker.js';
import { signalTool } from '../mcp/tools.js';
import { CliError } from '../errors.js';

const PLAN = `plan pay {
  input { amount: int }
  step ask = approval(approver: "group:finance", summary: "Pay \${input.amount}?")
  output { by: ask.output.approver }
}
`;
const AUTH = { auth: { users: { alice: { roles: ['approver'], groups: ['finance'] } } } };

const project = tempDir('orch-signal-people-');
const elsewhere = tempDir('orch-signal-elsewhere-');
const db = join(project, '.orch', 'runs.db');
const config = join(project, 'orch.config.json');
let runId = '';

/** A run of `pay` stopped at its approval (exit 1, paused). */
async function pausedRun(): Promise<string> {
  const r = await runCli(['run', 'pay.orch', '--input', '{"amount": 5}', '--json', '--quiet'], project);
  expect(r.code, r.stderr).toBe(1);
  const result = JSON.parse(r.stdout) as { runId: string; status: string };
  expect(result.status).toBe('paused');
  return result.runId;
}

async function decisions(id: string): Promise<{ status: string; types: string[] }> {
  const j = (await (await openBackend(db)).journal()).store;
  try {
    return { status: (await j.getRun(id))!.status, types: (await j.load(id)).map((e) => e.type) };
  } finally {
    await j.close();
  }
}

beforeAll(async () => {
  writeFileSync(join(project, 'pay.orch'), PLAN);
  writeFileSync(config, JSON.stringify(AUTH));
  runId = await pausedRun();
}, 60_000);
afterAll(() => rmSync(project, { recursive: true, force: true }));

describe('deciding an approval without an authenticated person', () => {
  it('orch run of a run bound to people says where its approval is decided, not `orch signal` (which would refuse it)', async () => {
    const r = await runCli(['run', 'pay.orch', '--input', '{"amount": 6}'], project);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/waiting for approval: ask is decided by a signed-in person .*POST \/runs\/pay-[^/]+\/steps\/ask\/approve\|reject/);
    // The decision is journaled; no server takes up a run `orch run` stopped: it goes on when resumed.
    expect(r.stdout).toMatch(/; then orch resume pay-\S+ continues the run/);
    expect(r.stdout).not.toContain('orch signal');
    // Without people the hint stays `orch signal`, which decides there.
    writeFileSync(config, '{}');
    try {
      const free = await runCli(['run', 'pay.orch', '--input', '{"amount": 7}'], project);
      expect(free.stdout).toMatch(/waiting for approval: orch signal pay-\S+ ask approve\|reject/);
    } finally {
      writeFileSync(config, JSON.stringify(AUTH));
    }
  });


  it('a person’s decision reaches a run orch run stopped through the journal; orch resume, as the hint says, continues it', async () => {
    const id = await pausedRun();
    const rt = await Runtime.open({ backend: await openBackend(db) });
    try {
      const alice = { subject: 'alice', issuer: 'local', name: 'alice', method: 'token', roles: ['approver'], groups: ['finance'] } as const;
      expect(await rt.signal(id, { stepId: 'ask', decision: 'approve', by: 'alice', comment: null, identity: alice })).toMatchObject({ ok: true });
    } finally {
      await rt.close({ cancel: false });
    }
    const r = await runCli(['resume', id, '--json', '--quiet'], project);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'completed', output: { by: 'alice' } });
  });

  it('orch signal refuses with exit 2 when the run\'s project has an auth block, from any directory, and journals nothing', async () => {
    const before = await decisions(runId);
    for (const cwd of [project, elsewhere]) {
      const r = await runCli(['signal', runId, 'ask', 'approve', '--by', 'cfo', '--db', db], cwd);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`people are configured (the "auth" block of ${config})`);
      expect(r.stderr).toContain(`POST /runs/${runId}/steps/ask/approve`);
      expect(r.stdout).toBe('');
    }
    expect((await runCli(['signal', runId, 'ask', 'reject', '--db', db], project)).code).toBe(2);
    expect(await decisions(runId)).toEqual(before);
    expect(JSON.stringify(before.types)).not.toContain('signal');
    // Context signals are not decisions: they still go through.
    expect((await runCli(['signal', runId, '--context', '{"x": 1}', '--db', db], project)).code).not.toBe(2);
  });

  it('the MCP signal tool refuses the same way', async () => {
    const ctx = { root: project, db: '.orch/runs.db', checks: {} as CheckSession };
    const refused = signalTool(ctx, { runId, step: 'ask', decision: 'approve', by: 'cfo' });
    await expect(refused).rejects.toBeInstanceOf(CliError);
    await expect(refused).rejects.toThrow(/people are configured .*POST \/runs\/.*\/steps\/ask\/approve/);
    expect((await decisions(runId)).status).toBe('paused');
  });

  it('a run started with people stays bound to them (§9.1): with the auth block gone, orch signal still refuses it (exit 2), naming why', async () => {
    rmSync(config);
    expect((await firstEvent(runId)).data).toMatchObject({ people_bound: true });
    const r = await runCli(['signal', runId, 'ask', 'approve', '--by', 'cfo', '--db', db], elsewhere);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bound to people .*"auth" block/);
    expect((await decisions(runId)).status).toBe('paused');
  });

  it('a run started without an auth block decides as before, with the name given; local starts and retries record the OS user (§9.1)', async () => {
    const fresh = await pausedRun();
    const first = await firstEvent(fresh);
    const me = { subject: userInfo().username, issuer: 'os', method: 'cli' };
    expect(first.data).toMatchObject({ people_bound: false, started_by: me });
    const r = await runCli(['signal', fresh, 'ask', 'reject', '--by', 'cfo', '--json', '--quiet', '--db', db], project);
    expect(r.code, r.stderr).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'failed', started_by: me });
    const retried = await runCli(['retry', fresh, '--json', '--quiet', '--db', db], project);
    const again = (JSON.parse(retried.stdout) as { runId: string }).runId;
    expect((await firstEvent(again)).data).toMatchObject({ retryOf: fresh, started_by: me, chain_people: [me] });
    expect((await runCli(['signal', again, 'ask', 'approve', '--by', 'cfo', '--json', '--quiet', '--db', db], project)).code).toBe(0);

    const listed = JSON.parse((await runCli(['runs', '--json', '--db', db], project)).stdout) as { runs: { runId: string; started_by?: unknown }[] };
    expect(listed.runs.find((x) => x.runId === fresh)?.started_by).toEqual(me);
    const timeline = await runCli(['timeline', fresh, '--db', db], project);
    expect(timeline.stdout).toContain(`started by ${me.subject} on the command line`);
  });
});

async function firstEvent(id: string) {
  const j = (await (await openBackend(db)).journal()).store;
  try {
    return (await j.load(id))[0]!;
  } finally {
    await j.close();
  }
}
