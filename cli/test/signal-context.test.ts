/**
 * `orch signal RUN --context JSON` to a run no process runs (stopped at its approval): the value
 * is journaled (`context_updated`) as the run continues, so it holds after any later resume and
 * `orch test --capture` writes it as a `signal` line (LANGUAGE.md §6, §9.2). In-process CLI.
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openBackend } from '../../runtime/index.js';
import { tempDir } from '../../serve/test/serve-process.js';
import { runCli } from '../../test/support/cli-in-process.js';

const PLAN = `
context { level: int }
plan s {
  step ok = approval(approver: "ops", summary: "go?")
  step t = transform(value: context.level) { after ok }
  output { l: t.output.value }
}
`;

describe('a context signal to a paused run', () => {
  it('is journaled when the run continues, and holds through the next resume', async () => {
    const dir = tempDir('orch-signal-context-');
    const db = join(dir, 'runs.db');
    writeFileSync(join(dir, 's.orch'), PLAN);
    const paused = await runCli(['run', 's.orch', '--db', db, '--json', '--quiet'], dir);
    const runId = (JSON.parse(paused.stdout) as { runId: string }).runId;
    // Checked against the run's own context declaration: refused before anything is journaled.
    for (const [bad, why] of [['{"level": "high"}', /context signal "level": .*integer/], ['{"nope": 1}', /unknown context signal "nope" \(declared: level\)/], ['{"__proto__": {"level": 1}}', /unknown context signal "__proto__"/]] as const) {
      const refused = await runCli(['signal', runId, '--context', bad, '--db', db, '--quiet'], dir);
      expect(refused.code, refused.stderr).toBe(2);
      expect(refused.stderr).toMatch(why);
    }
    const sig = await runCli(['signal', runId, '--context', '{"level": 3}', '--db', db, '--quiet'], dir);
    expect(sig.code, sig.stderr).toBe(1);
    const done = await runCli(['signal', runId, 'ok', 'approve', '--by', 'x', '--db', db, '--json', '--quiet'], dir);
    expect(done.code, done.stderr).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ status: 'completed', output: { l: 3 } });
    const j = (await (await openBackend(db)).journal()).store;
    try {
      expect((await j.load(runId)).filter((e) => e.type === 'context_updated').map((e) => e.data)).toEqual([{ patch: { level: 3 } }]);
    } finally {
      await j.close();
    }
    const captured = await runCli(['test', '--capture', runId, '--db', db], dir);
    expect(captured.code, captured.stderr).toBe(0);
    expect(captured.stdout).toMatch(/^ {2}signal context\.level = 3 at \d+ms$/m);
  });
});

describe('orch run --context: the values go stale as their max_age passes (§9.4)', () => {
  it('a when read after max_age skips its step saying the signal is stale; one read in time runs', async () => {
    const dir = tempDir('orch-run-stale-');
    const db = join(dir, 'runs.db');
    writeFileSync(
      join(dir, 's.orch'),
      `
context { motion: bool max_age 150ms }
plan s {
  step now = transform(value: 1) when context.motion
  step w = wait 400ms
  step later = transform(value: 2) when context.motion { after w }
}
`,
    );
    const r = await runCli(['run', 's.orch', '--db', db, '--json', '--quiet', '--context', '{"motion": true}'], dir);
    expect(r.code, r.stderr).toBe(0);
    const steps = (JSON.parse(r.stdout) as { runId: string; steps: { stepId: string; status: string }[] }).steps;
    expect(Object.fromEntries(steps.map((s) => [s.stepId, s.status]))).toMatchObject({ now: 'completed', later: 'skipped' });
    const j = (await (await openBackend(db)).journal()).store;
    try {
      const runId = (JSON.parse(r.stdout) as { runId: string }).runId;
      const skipped = (await j.load(runId)).find((e) => e.type === 'step_skipped' && e.stepId === 'later');
      expect((skipped?.data as { reason?: string }).reason).toMatch(/^context\.motion is stale: \d+ms > 150ms$/);
    } finally {
      await j.close();
    }
  });
});

describe('orch run --context is checked against the plan’s context declaration, as orch signal --context is', () => {
  it('refuses an undeclared signal, a derived one and a value of the wrong type (exit 2) before a run is journaled', async () => {
    const dir = tempDir('orch-run-context-');
    const db = join(dir, 'runs.db');
    writeFileSync(join(dir, 's.orch'), `
context {
  level: int
  high: bool = context.level > 3
}
plan s {
  step t = transform(value: context.level ?? 0)
}
`);
    for (const [bad, why] of [['{"level": "high"}', /context signal "level": .*integer/], ['{"nope": 1}', /unknown context signal "nope" \(declared: high, level\)/], ['{"high": true}', /"high" is a derived signal/]] as const) {
      const refused = await runCli(['run', 's.orch', '--db', db, '--quiet', '--context', bad], dir);
      expect(refused.code, bad).toBe(2);
      expect(refused.stderr).toMatch(why);
    }
    const listed = await runCli(['runs', '--db', db, '--json'], dir);
    expect(listed.code === 0 ? (JSON.parse(listed.stdout) as { runs: unknown[] }).runs : []).toEqual([]);
    const ok = await runCli(['run', 's.orch', '--db', db, '--json', '--quiet', '--context', '{"level": 5}'], dir);
    expect(ok.code, ok.stderr).toBe(0);
  });
});

describe('orch retry runs with the context the run had (§9.4 on every way in)', () => {
  it('a when over a signal given to orch run --context holds in the retry too (it read "never set")', async () => {
    const dir = tempDir('orch-retry-context-');
    const db = join(dir, 'runs.db');
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    writeFileSync(join(dir, 'boom.js'), 'export default function boom() { throw new Error("boom"); }\n');
    writeFileSync(join(dir, 's.orch'), `
context { mode: string }
capability boom { kind tool  input { n: int }  output { ok: bool }  handler "./boom.js" }
plan s {
  step away = transform(value: 1) when context.mode == "away"
  step b = boom(n: 1) { after away }
}
`);
    const first = await runCli(['run', 's.orch', '--db', db, '--json', '--quiet', '--context', '{"mode": "away"}'], dir);
    expect(first.code).toBe(1);
    const runId = (JSON.parse(first.stdout) as { runId: string }).runId;
    const again = await runCli(['retry', runId, '--db', db, '--json', '--quiet'], dir);
    expect(again.code).toBe(1);
    const steps = (JSON.parse(again.stdout) as { steps: { stepId: string; status: string }[] }).steps;
    expect(steps.find((s) => s.stepId === 'away')?.status).toBe('completed');
  });
});
