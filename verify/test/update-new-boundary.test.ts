/**
 * A captured test whose plan renamed a model capability (LANGUAGE.md §9.2, "Stale tests"): its
 * mock names the old one, so it is stale — W0907 at check, and `orch test` fails it with exit 1
 * listing the change. The renamed capability has no mock, and that was E0906: check exited 1 and
 * `orch test` 2 ("the tests have errors"). `--update` cannot make the model's answer up: it says
 * which capability to mock (exit 1), and once the test mocks it, recaptures the test.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../runtime/test/helpers.js';
import { runCli } from '../../test/support/cli-in-process.js';

const PLAN = (cap: string) => `capability ${cap} { kind llm  input { text: string }  output { title: string }  prompt "S \${input.text}"  model "m"  endpoint "local" }
plan v {
  step s = ${cap}(text: "x")
  output { t: s.output.title }
}
`;

describe('a captured test whose model capability was renamed', () => {
  it('is stale (W0907, orch test exit 1), and --update asks for the new mock before recapturing', async () => {
    const dir = tempDir('orch-update-boundary-');
    writeFileSync(join(dir, 'orch.config.json'), JSON.stringify({ endpoints: { local: { api: 'openai', base_url: 'http://127.0.0.1:9/v1' } }, prices: { m: { input_per_mtok: 1, output_per_mtok: 1 } } }));
    writeFileSync(join(dir, 'v.orch'), PLAN('summarize'));
    const file = join(dir, 'v.test.orch');
    writeFileSync(file, 'import "./v.orch" as v\n\ntest "captured" {\n  captured_from "r-1" ir_hash "0000"\n  plan v.v\n  mock v.summarize returns { title: "T" }\n  expect s.completed\n}\n');
    writeFileSync(join(dir, 'v.orch'), PLAN('summarise'));

    const checked = await runCli(['check', 'v.test.orch'], dir);
    expect(checked.code, checked.stdout + checked.stderr).toBe(0);
    expect(checked.stdout + checked.stderr).toContain('warning[W0907]');
    expect(checked.stdout + checked.stderr).not.toContain('E0906');
    const run = await runCli(['test', 'v.test.orch'], dir);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toMatch(/stale: .*it no longer has v\.summarize/);

    const refused = await runCli(['test', '--update', 'v.test.orch'], dir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('calls v.summarise (a model), which no mock of the test answers');
    writeFileSync(file, readFileSync(file, 'utf8').replace('  mock v.summarize', '  mock v.summarise returns { title: "T2" }\n  mock v.summarize'));
    const update = await runCli(['test', '--update', 'v.test.orch'], dir);
    expect(update.code, update.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).toContain('expect run.output == { t: "T2" }');
    const again = await runCli(['test', 'v.test.orch'], dir);
    expect([again.code, again.stdout]).toEqual([0, expect.stringContaining('1 passed')]);
  });
});
