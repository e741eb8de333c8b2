/**
 * `orch check|compile|preview|graph` through the CLI: check and the text preview (whose colours
 * depend on the process's terminal) through the real CLI (bin/orch.js → dist/; `npm test` builds
 * first), compile, graph and --help through the same CLI core run in this process (`runCli`,
 * test/support/cli-in-process.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { validatePlanIR } from '../ir/validate.js';
import { runCli } from '../../test/support/cli-in-process.js';

const BIN = fileURLToPath(new URL('../../bin/orch.js', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const CAMPAIGN = join(FIXTURES, 'campaign.orch');
const dir = mkdtempSync(join(tmpdir(), 'orch-compiler-cli-'));

function orch(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const cli = (args: readonly string[]) => runCli(args, process.cwd());

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const CYCLE = file(
  'cycle.orch',
  `capability w { kind tool input { v: string } output { v: string } }
plan p {
  step a = w(v: b.output.v)
  step b = w(v: a.output.v)
}
`,
);

describe('orch check', () => {
  it('exits 0 on a valid file and 1 with E0301 in JSON on a cycle', () => {
    expect(orch(['check', CAMPAIGN]).code).toBe(0);
    const r = orch(['check', CYCLE, '--format', 'json']);
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout) as { diagnostics: { code: string; message: string; range: { start: { line: number } } }[] };
    const d = json.diagnostics.find((x) => x.code === 'E0301')!;
    expect(d.message).toBe('dependency cycle: a → b → a');
    expect(d.range.start.line).toBe(3);
  });
});

describe('orch compile', () => {
  it('writes a schema-valid IR to -o', async () => {
    const out = join(dir, 'plan.json');
    const r = await cli(['compile', CAMPAIGN, '--plan', 'campaign_launch', '-o', out]);
    expect(r.code).toBe(0);
    const ir = JSON.parse(readFileSync(out, 'utf8')) as unknown;
    expect(validatePlanIR(ir).ok).toBe(true);
    expect(ir).toMatchObject({ version: 'orch.plan/v3', plan: 'campaign_launch' });
  });
  it('lists the plans when the file has several and no --plan is given', async () => {
    const r = await cli(['compile', CAMPAIGN]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^orch: .*declares 2 plans \(weekly_report, campaign_launch\); choose one with --plan NAME$/);
  });
  it('exits 1 on a file with errors and 2 on a missing file, one line each', async () => {
    const bad = await cli(['compile', CYCLE]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('E0301');
    const missing = await cli(['compile', join(dir, 'nope.orch')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
  });
  it('picks the only plan and prints to stdout', async () => {
    const f = file('one.orch', 'plan only { step w = wait 1s }\n');
    const r = await cli(['compile', f]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ plan: 'only', estimates: { duration_ms: 1000 } });
  });
});

describe('orch preview and graph', () => {
  it('prints a text preview without colours when not a TTY, and JSON', () => {
    const r = orch(['preview', CAMPAIGN, '--plan', 'campaign_launch']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Stage 0');
    expect(r.stdout).toContain('Guardrails');
    expect(r.stdout).not.toContain('\u001b[');
    const j = orch(['preview', CAMPAIGN, '--plan', 'campaign_launch', '--format', 'json']);
    expect(JSON.parse(j.stdout)).toMatchObject({ plan: 'campaign_launch', triggers: [{ name: 'by_hand' }] });
  });
  it('renders dot, mermaid and svg (to a file)', async () => {
    expect((await cli(['graph', CAMPAIGN, '--plan', 'campaign_launch'])).stdout).toContain('digraph');
    expect((await cli(['graph', CAMPAIGN, '--plan', 'campaign_launch', '--format', 'mermaid'])).stdout).toContain('flowchart LR');
    const svg = join(dir, 'g.svg');
    expect((await cli(['graph', CAMPAIGN, '--plan', 'campaign_launch', '--format', 'svg', '-o', svg])).code).toBe(0);
    expect(readFileSync(svg, 'utf8')).toContain('<svg');
    expect((await cli(['graph', CAMPAIGN, '--format', 'png'])).code).toBe(2);
  });
  it('has --help with an example on each command', async () => {
    for (const cmd of ['compile', 'preview', 'graph', 'check']) {
      const r = await cli([cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Examples:');
    }
  });
});
