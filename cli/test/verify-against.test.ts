/**
 * `orch verify NEW --against OLD` through the CLI's own entry (`runCli`, in-process: no spawn):
 * exit codes, the replay line and the JSON counts. The exploration itself is tested in
 * verify/test/verify-against.test.ts.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PlanIR, StepIR } from '../../compiler/index.js';
import { approvalCapability, bin, get, lit, plan, simulatedCapability, step, stepRef } from '../../runtime/test/ir-builder.js';
import { registerVerify } from '../commands/verify.js';
import { runCli } from '../program.js';

const dir = mkdtempSync(path.join(tmpdir(), 'orch-verify-against-'));

const approved = (id: string) => ({ name: `${id} only after approval`, modality: 'always' as const, condition: bin('implies', get(stepRef(id), 'started'), get(stepRef('approve'), 'completed')) });

function release(extra: StepIR[] = [], invariants = [approved('send')]): PlanIR {
  return plan({
    plan: 'release',
    capabilities: [simulatedCapability('draft_copy'), simulatedCapability('send_email'), approvalCapability],
    steps: [
      step('draft', 'draft_copy'),
      step('approve', 'std.capabilities.approval', { kind: 'human', deps: ['draft'], stage: 1 }),
      step('send', 'send_email', { deps: ['approve'], stage: 2, args: { tag: lit(1) } }),
      ...extra,
    ],
    stages: [['draft'], ['approve'], ['send'], ...(extra.length ? [extra.map((s) => s.id)] : [])],
    invariants,
  });
}

function irFile(name: string, p: PlanIR): string {
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(p));
  return file;
}

/** Runs `orch ARGS` in this process, capturing what it writes. */
async function orch(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  try {
    const code = await runCli(['node', 'orch', ...args], async () => [registerVerify]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = undefined;
  }
}

afterEach(() => {
  process.exitCode = undefined;
});

describe('orch verify NEW --against OLD (CLI)', () => {
  const oldFile = irFile('old', release());

  it('exit 0 for a compatible change whose invariants hold, with the upgrade counts in the JSON', async () => {
    const newFile = irFile('new-ok', release([step('notify', 'send_email', { deps: ['send'], stage: 3 })]));
    const r = await orch(['verify', newFile, '--against', oldFile, '--seed', '4', '--runs', '40', '--format', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [result] = (JSON.parse(r.stdout) as { results: { ok: boolean; upgrades: { upgraded: number; refused: number; against: string } }[] }).results;
    expect(result!.ok).toBe(true);
    expect(result!.upgrades.upgraded).toBeGreaterThan(0);
    expect(result!.upgrades.against).toBeTypeOf('string');
  });

  it('exit 1 with the upgrade point and a replay line that repeats --against; exit 2 when OLD cannot be read', async () => {
    const newFile = irFile('new-bad', release([step('announce', 'send_email', { deps: ['draft'], stage: 1 })], [approved('send'), approved('announce')]));
    const r = await orch(['verify', newFile, '--against', oldFile, '--seed', '9', '--runs', '60']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('✗ invariant "announce only after approval" violated');
    expect(r.stdout).toMatch(/upgraded to the new version after event \d+/);
    // --runs too: a counterexample past the default's cases must be found again by the printed line.
    expect(r.stdout).toContain(`replay: orch verify ${newFile} --plan release --runs 60 --against ${oldFile} --seed 9`);
    const missing = await orch(['verify', newFile, '--against', path.join(dir, 'nope.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope.json');
  });
});
