/**
 * `orch verify` through the CLI. Plans are given as emitted IR files here; `source.test.ts` covers
 * `.orch` sources. Verify simulates runs in its own process, so the CLI core runs in this one
 * (`runCli`, test/support/cli-in-process.ts); one test keeps the end-to-end spawn of the real CLI
 * (bin/orch.js → dist/; `npm test` builds first).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { orch } from '../../examples/test/cli.js';
import { runCli } from '../../test/support/cli-in-process.js';
import type { PlanIR } from '../../compiler/index.js';
import { retryStorm, sendBeforeApprove, throttledRender } from './fixtures/ir-plans.js';

const dir = mkdtempSync(path.join(tmpdir(), 'orch-verify-'));

function irFile(name: string, plan: PlanIR): string {
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(plan));
  return file;
}

const run = (args: readonly string[]) => runCli(args, process.cwd());

const source = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe('orch verify --cancels / --concurrent-runs (CLI)', () => {
  it('--cancels finds the invariant a cancelled step breaks; the replay line repeats the flag', async () => {
    const file = source('cancel-gate.orch');
    expect((await run(['verify', file, '--seed', '5'])).code).toBe(0);
    const r = await run(['verify', file, '--seed', '5', '--cancels']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('✗ invariant "notify only after the check ran" violated');
    expect(r.stdout).toMatch(/cancel at \d+ms: step check/);
    expect(r.stdout).toContain(`replay: orch verify ${file} --plan cancel_gate --cancels --seed 5`);
  });

  it('--concurrent-runs 2 --format json: the shared printer limit holds and the runs queued for it', async () => {
    const r = await run(['verify', source('shared-printer.orch'), '--seed', '3', '--runs', '30', '--concurrent-runs', '2', '--format', 'json']);
    expect(r.code).toBe(0);
    const [result] = (JSON.parse(r.stdout) as { results: { concurrentRuns: number; slotWaits: number; ok: boolean }[] }).results;
    expect(result).toMatchObject({ ok: true, concurrentRuns: 2 });
    expect(result!.slotWaits).toBeGreaterThan(0);
    expect((await run(['verify', source('shared-printer.orch'), '--concurrent-runs', '0'])).code).toBe(2);
  });
});

describe('orch verify (CLI)', () => {
  it('exits 0 and reports coverage when every invariant holds', async () => {
    const r = await run(['verify', irFile('frames', throttledRender()), '--runs', '60', '--seed', '5']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('✓ always "publish after every frame"');
    expect(r.stdout).toMatch(/ok: 60 runs explored, \d+ distinct paths?, \d+ step outcomes covered; 0 of 6 invariants violated/);
  });

  it('a step retried 10^13 times is explored with a bounded table of attempts, not until the heap runs out', async () => {
    const storm = retryStorm();
    const plan: PlanIR = { ...storm, steps: storm.steps.map((s) => ({ ...s, retry: { ...s.retry, max: 9_999_999_999_999 } })) };
    const r = await run(['verify', irFile('endless-retries', plan), '--runs', '20', '--seed', '5', '--format', 'json']);
    expect(r.code, r.stderr).toBeLessThanOrEqual(1);
    expect(JSON.parse(r.stdout)).toBeTypeOf('object');
  });

  // End to end: the real CLI, spawned.
  it('exits 1 with a readable minimal trace and the replay command on a violation', () => {
    const file = irFile('outreach', sendBeforeApprove());
    const r = orch(['verify', file, '--seed', '7']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('✗ invariant "never send without approval" violated');
    expect(r.stdout).toContain('input:   {"review":false}');
    expect(r.stdout).toContain(`replay: orch verify ${file} --plan outreach --seed 7`);
    expect(r.stdout).toContain('FAILED');
  });

  it('prints JSON for CI, and the same seed gives the same JSON', async () => {
    const file = irFile('storm', retryStorm());
    const a = await run(['verify', file, '--seed', '12', '--runs', '150', '--format', 'json']);
    const b = await run(['verify', file, '--seed', '12', '--runs', '150', '--format', 'json']);
    expect(a.code).toBe(1);
    expect(b.stdout).toBe(a.stdout);
    const json = JSON.parse(a.stdout) as { ok: boolean; seed: number; results: { plan: string; ok: boolean; runs: number; paths: number; invariants: { name: string; status: string }[]; violations: { invariant: string; seed: number; path: string; trace: unknown[]; choices: unknown[] }[] }[] };
    expect(json.ok).toBe(false);
    expect(json.seed).toBe(12);
    const [result] = json.results;
    expect(result?.plan).toBe('storm');
    expect(result?.invariants.find((i) => i.name === 'policy budget respected')?.status).toBe('violated');
    const v = result!.violations[0]!;
    expect(v).toMatchObject({ invariant: 'policy budget respected', seed: 12 });
    expect(v.path).toMatch(/^\d+(:\d+)*$/);
    expect(v.choices).toHaveLength(1);
  });

  it('the printed replay command pastes into a shell as is: a path with a space and an invariant name are quoted', async () => {
    const spaced = path.join(dir, 'with space');
    mkdirSync(spaced, { recursive: true });
    const file = path.join(spaced, 'send.orch');
    writeFileSync(file, readFileSync(source('send-before-approve.orch'), 'utf8'));
    writeFileSync(path.join(spaced, 'handlers.js'), readFileSync(source('handlers.js'), 'utf8'));
    const r = await run(['verify', file, '--seed', '7']);
    expect(r.code, r.stderr).toBe(1);
    const line = /replay: (orch verify .*) {3}\(this case only: (.*)\)$/m.exec(r.stdout);
    expect(line, r.stdout).not.toBeNull();
    expect(line![2]).toContain("--invariant 'never send without approval'");
    // What a POSIX shell makes of the printed words is what `orch verify` must be given.
    const words = execFileSync('sh', ['-c', `for w in ${line![1]} ${line![2]}; do printf '%s\\0' "$w"; done`], { encoding: 'utf8' }).split('\0').slice(0, -1);
    expect(words.slice(0, 3)).toEqual(['orch', 'verify', file]);
    const replay = await run(words.slice(1));
    expect(replay.code, replay.stderr).toBe(1);
    expect(replay.stdout).toContain('1 run explored');
    expect(replay.stdout).toContain('✗ invariant "never send without approval" violated');
  });

  it('--seed with --path replays the printed counterexample directly', async () => {
    const file = irFile('outreach2', sendBeforeApprove());
    const first = JSON.parse((await run(['verify', file, '--seed', '31', '--format', 'json'])).stdout) as {
      results: { violations: { seed: number; path: string; input: unknown; trace: unknown[] }[] }[];
    };
    const v = first.results[0]!.violations[0]!;
    const replay = await run(['verify', file, '--seed', String(v.seed), '--path', v.path, '--format', 'json']);
    expect(replay.code).toBe(1);
    const again = (JSON.parse(replay.stdout) as typeof first).results[0]!.violations[0]!;
    expect(again.input).toEqual(v.input);
    expect(again.trace).toEqual(v.trace);
  });

  it('every counterexample replays with its --path and --invariant, the second one too; an unknown invariant is exit 2', async () => {
    // Two invariants that break in different runs: the second is searched with the first left out.
    const text = readFileSync(source('send-before-approve.orch'), 'utf8').replace(
      '  invariant "never send without approval"',
      '  invariant "the draft is written" { eventually draft.completed }\n  invariant "never send without approval"',
    );
    const file = path.join(dir, 'two-invariants.orch');
    writeFileSync(file, text);
    writeFileSync(path.join(dir, 'handlers.js'), readFileSync(source('handlers.js'), 'utf8'));
    const first = await run(['verify', file, '--seed', '7', '--runs', '100', '--format', 'json']);
    expect(first.code, first.stderr).toBe(1);
    type Found = { results: { violations: { invariant: string; seed: number; path: string; input: unknown; trace: unknown[] }[] }[] };
    const found = (JSON.parse(first.stdout) as Found).results[0]!.violations;
    expect(found.map((v) => v.invariant).sort()).toEqual(['never send without approval', 'the draft is written']);
    for (const v of found) {
      const replay = await run(['verify', file, '--seed', String(v.seed), '--path', v.path, '--invariant', v.invariant, '--format', 'json']);
      expect(replay.code, replay.stderr).toBe(1);
      const again = (JSON.parse(replay.stdout) as Found).results[0]!.violations;
      expect(again).toHaveLength(1);
      expect(again[0]).toMatchObject({ invariant: v.invariant, input: v.input, trace: v.trace });
    }
    const text2 = await run(['verify', file, '--seed', '7', '--runs', '100']);
    expect(text2.stdout).toContain(`--invariant '${found[1]!.invariant}'`);
    const unknown = await run(['verify', file, '--invariant', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('plan outreach has no invariant "nope" (it has: the draft is written, never send without approval');
  });

  it('--no-failures only explores runs where everything succeeds', async () => {
    const r = await run(['verify', irFile('storm2', retryStorm()), '--no-failures', '--runs', '50', '--seed', '1']);
    expect(r.code).toBe(0);
  });

  it('a missing file exits 2 with one line', async () => {
    const missing = await run(['verify', path.join(dir, 'nope.orch')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/^orch: .*nope\.orch: no such file/);
  });

  it('a --path that is not one, or names no case of the seed, is a usage error (exit 2), not an internal error or an empty "ok"', async () => {
    const file = irFile('send-path', sendBeforeApprove());
    const malformed = await run(['verify', file, '--seed', '1', '--path', '1:a']);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).not.toContain('internal error');
    expect(malformed.stderr).toContain('--path "1:a" is not a counterexample path');
    const nowhere = await run(['verify', file, '--seed', '1', '--path', '5:5:5:5:5:99:99:99']);
    expect(nowhere.code).toBe(2);
    expect(nowhere.stdout).not.toContain('ok:');
    expect(nowhere.stderr).toContain('--path 5:5:5:5:5:99:99:99 names no case of seed 1');
  });

  it('--json is --format json (as orch run --json prints its result), the same bytes', async () => {
    const file = irFile('storm-json', retryStorm());
    const a = await run(['verify', file, '--seed', '12', '--runs', '40', '--json']);
    const b = await run(['verify', file, '--seed', '12', '--runs', '40', '--format', 'json']);
    expect(a.code).toBe(1);
    expect(a.stdout).toBe(b.stdout);
    expect(JSON.parse(a.stdout)).toMatchObject({ ok: false, seed: 12 });
    expect((await run(['verify', file, '--json', '--format', 'text'])).code).toBe(2);
  });

  it('the replay line repeats --runs: a case found past the default 200 is found again by the printed command', async () => {
    const file = path.join(dir, 'rare.orch');
    writeFileSync(file, `
capability work { kind tool  input { n: int }  output { v: int }  latency 100ms }
plan p {
  input { n: int, m: int }
  step a = work(n: input.n)
  invariant rare { never input.n > 500 and input.m > 500 and input.n < 520 }
}
`);
    const r = await run(['verify', file, '--seed', '1', '--runs', '3000', '--no-failures']);
    expect(r.code, r.stderr).toBe(1);
    const line = /replay: orch verify (.*) {3}\(this case only: /m.exec(r.stdout);
    expect(line, r.stdout).not.toBeNull();
    expect(line![1]).toContain('--runs 3000');
    const replay = await run(['verify', ...line![1].split(' ')]);
    expect(replay.code, replay.stdout).toBe(1);
    expect(replay.stdout).toContain('✗ invariant "rare" violated');
  });

  it('bad options exit 2', async () => {
    const badRuns = await run(['verify', irFile('x', throttledRender()), '--runs', 'many']);
    expect(badRuns.code).toBe(2);
    expect(badRuns.stderr).toContain('--runs must be an integer');
  });

  it('an unknown plan or an invalid IR file exits 2 with one line', async () => {
    const badPlan = await run(['verify', irFile('y', throttledRender()), '--plan', 'other']);
    expect(badPlan.code).toBe(2);
    expect(badPlan.stderr).toContain('no plan named "other"');
    const garbage = path.join(dir, 'bad.json');
    writeFileSync(garbage, '{"version":"orch.plan/v1"}');
    const invalid = await run(['verify', garbage]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr.trim().split('\n')).toHaveLength(1);
    expect(invalid.stderr).toContain('not a valid orch.plan/v1 IR');
  });

  it('verifies .orch sources: 0 when sound, 1 on a violation, 1 with diagnostics when it does not compile', async () => {
    const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
    const sound = await run(['verify', fixture('throttled-render.orch'), '--runs', '80', '--seed', '3']);
    expect(sound.code).toBe(0);
    const broken = await run(['verify', fixture('parallel-reviews.orch'), '--seed', '3', '--format', 'json']);
    expect(broken.code).toBe(1);
    const json = JSON.parse(broken.stdout) as { results: { violations: { invariant: string; input: unknown }[] }[] };
    expect(json.results[0]?.violations[0]).toMatchObject({ invariant: 'reviews_within_budget', input: { docs: ['', '', ''] } });
    const cycle = await run(['verify', fixture('does-not-compile.orch')]);
    expect(cycle.code).toBe(1);
    expect(cycle.stderr).toContain('E0301');
    expect(cycle.stderr.trim().split('\n').at(-1)).toMatch(/^orch: .*does-not-compile\.orch has errors/);
  });

  it('--help describes the command', async () => {
    const r = await run(['verify', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--seed');
    expect(r.stdout).toContain('--no-failures');
  });
});
