/**
 * Issue 47 (item 12): `orch runs --plan NAME` lists (and with `--stats` totals) only that plan's
 * runs, as `GET /runs?plan=` does; `--status STATUS` those with that status, as `GET /runs?status=`
 * does, and refuses a status no run can have.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../../compiler/index.js';
import { Runtime } from '../../runtime/index.js';
import { orch } from '../../examples/test/cli.js';

describe('orch runs --plan', () => {
  it('keeps the runs of that plan only, in the list and in the totals', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'orch-runs-plan-'));
    writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
    const file = path.join(dir, 'p.orch');
    writeFileSync(file, 'plan alpha {\n  input { x: int = 1 }\n  output { y: input.x }\n}\n\nplan beta {\n  input { x: int = 2 }\n  output { y: input.x }\n}\n');
    const plans = compile({ entry: file }).plans;
    const rt = await Runtime.open({ db: path.join(dir, 'runs.db'), workers: 1 });
    try {
      for (const name of ['alpha', 'beta', 'beta']) await (await rt.start(plans.find((p) => p.plan === name)!, {})).result;
    } finally {
      await rt.close();
    }
    const listed = orch(['runs', '--db', 'runs.db', '--json', '--plan', 'beta', '--stats'], { cwd: dir });
    expect(listed.code, listed.stderr).toBe(0);
    const out = JSON.parse(listed.stdout) as { runs: { plan: string }[]; stats: { runs: number } };
    expect(out.runs.map((r) => r.plan)).toEqual(['beta', 'beta']);
    expect(JSON.stringify(out.stats)).toMatch(/"completed":2\b/);
    expect(JSON.stringify(out.stats)).not.toMatch(/"completed":3\b/);
  });

  it('--status keeps the runs with that status; an unknown status is a usage error', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'orch-runs-status-'));
    writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
    const file = path.join(dir, 'p.orch');
    writeFileSync(file, 'plan alpha {\n  input { x: int = 1 }\n  output { y: input.x }\n}\n');
    const [plan] = compile({ entry: file }).plans;
    const rt = await Runtime.open({ db: path.join(dir, 'runs.db'), workers: 1 });
    try {
      await (await rt.start(plan!, {})).result;
    } finally {
      await rt.close();
    }
    const completed = orch(['runs', '--db', 'runs.db', '--json', '--status', 'completed'], { cwd: dir });
    expect(completed.code, completed.stderr).toBe(0);
    const kept = (JSON.parse(completed.stdout) as { runs: { status: string }[] }).runs;
    expect(kept.map((r) => r.status)).toEqual(['completed']);
    const failed = orch(['runs', '--db', 'runs.db', '--json', '--status', 'failed'], { cwd: dir });
    expect((JSON.parse(failed.stdout) as { runs: unknown[] }).runs).toEqual([]);
    const bad = orch(['runs', '--db', 'runs.db', '--status', 'done'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--status.*done.*(running|completed)/s);
  });
});
