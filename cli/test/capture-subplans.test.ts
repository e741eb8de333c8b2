/**
 * `orch test --capture RUN` of a journaled run whose plan runs a sub-plan (LANGUAGE.md §9.2): the
 * sub-plan's calls are in its own run's journal (`RUN/STEP`), read with the run's. The capture
 * refused such runs, so any plan with a `run` step could not be captured. In-process CLI.
 */
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../serve/test/serve-process.js';
import { runCli } from '../../test/support/cli-in-process.js';

const PLAN = `
plan inner {
  input { n: int }
  step t = transform(value: input.n * 2)
  output { doubled: t.output.value }
}
plan outer {
  step s = run inner(n: 21)
  output { r: s.output.doubled }
}
`;

describe('orch test --capture of a run with a sub-plan', () => {
  it('mocks the calls its sub-plan run made, and the written test passes', async () => {
    const dir = tempDir('orch-capture-sub-');
    const db = join(dir, 'runs.db');
    writeFileSync(join(dir, 's.orch'), PLAN);
    const ran = await runCli(['run', 's.orch', '--plan', 'outer', '--db', db, '--json', '--quiet'], dir);
    expect(ran.code, ran.stderr).toBe(0);
    const runId = (JSON.parse(ran.stdout) as { runId: string }).runId;
    const captured = await runCli(['test', '--capture', runId, '--db', db, '-o', 'outer.test.orch'], dir);
    expect(captured.code, captured.stderr).toBe(0);
    const written = await runCli(['test', 'outer.test.orch', '--reporter', 'json'], dir);
    expect(written.code, written.stderr).toBe(0);
    const text = readFileSync(join(dir, 'outer.test.orch'), 'utf8');
    expect(text).toMatch(/^ {2}mock transform returns \{ value: 42 \}/m);
    expect(text).toContain('  expect run.output == { r: 42 }');
  });
});
