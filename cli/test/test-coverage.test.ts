/**
 * `orch test --coverage` and `--coverage-min` (LANGUAGE.md §9.2) through the CLI core, in this
 * process: the coverage follows the text report and sits in the JSON one, a share under the
 * minimum is exit 1 though every test passed, a minimum that is no share is exit 2.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../test/support/cli-in-process.js';

const dir = mkdtempSync(path.join(tmpdir(), 'orch-test-cov-'));
writeFileSync(
  path.join(dir, 'hello.orch'),
  `plan hello {
  input { name: string, loud: bool = false }
  step greet = transform(value: "hi \${input.name}")
  step shout = notify(channel: "#ops", text: greet.output.value) when input.loud
}
`,
);
writeFileSync(
  path.join(dir, 'hello.test.orch'),
  `import "./hello.orch" as h

test "greets quietly" {
  plan h.hello
  input { name: "ada" }
  mock notify returns { delivered: true, channel: "#ops" }
  expect shout.skipped
}
`,
);

describe('orch test --coverage', () => {
  it('reports the outcomes seen after the text report and in the JSON one', async () => {
    const text = await runCli(['test', '--coverage'], dir);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('hello (hello.orch, 1 test): 2/5 outcomes (40%)');
    expect(text.stdout).toContain('not covered: shout never ran');
    expect(text.stdout).toContain("not covered: shout's when never seen true");
    expect(text.stdout).toContain('not covered: shout never exhausted its retries');
    const json = await runCli(['test', '--coverage', '--reporter', 'json'], dir);
    const report = JSON.parse(json.stdout) as { coverage: { seen: number; total: number; percent: number }; tests: { covered: string[] }[] };
    expect(report.coverage).toMatchObject({ seen: 2, total: 5, percent: 40 });
    expect(report.tests[0]!.covered).toEqual(['step:greet:ran', 'when:shout:false']);
    // Without --coverage the JSON report keeps its shape.
    const plain = JSON.parse((await runCli(['test', '--reporter', 'json'], dir)).stdout) as { coverage?: unknown; tests: { covered?: unknown }[] };
    expect(plain.coverage).toBeUndefined();
    expect(plain.tests[0]!.covered).toBeUndefined();
  });

  it('--coverage-min: exit 1 under it though every test passed, 0 at it, 2 for no share', async () => {
    const under = await runCli(['test', '--coverage-min', '41%'], dir);
    expect(under.code).toBe(1);
    expect(under.stdout).toContain('1 passed');
    expect(under.stderr).toContain('coverage 40% (2/5 outcomes) is under --coverage-min 41%');
    expect((await runCli(['test', '--coverage-min', '40'], dir)).code).toBe(0);
    // The share itself is compared, not the percent shown (floored to 0.1): 2/3 is 66.67%, at least 66.65%.
    const thirds = mkdtempSync(path.join(tmpdir(), 'orch-test-cov-'));
    writeFileSync(
      path.join(thirds, 'chain.orch'),
      'plan chain {\n  step a = transform(value: 1)\n  step b = transform(value: 2) { after a }\n  step c = transform(value: 3) { after b }\n}\ntest "b fails" {\n  plan chain\n  mock transform where input.value == 2 fails "no"\n  expect not c.started\n}\n',
    );
    const above = await runCli(['test', '--coverage-min', '66.65%'], thirds);
    expect([above.code, above.stderr]).toEqual([0, '']);
    expect(above.stdout).toContain('2/3 outcomes');
    const below = await runCli(['test', '--coverage-min', '66.7%'], thirds);
    expect([below.code, below.stderr]).toEqual([1, expect.stringContaining('(2/3 outcomes) is under --coverage-min 66.7%')]);
    const bad = await runCli(['test', '--coverage-min', 'lots'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--coverage-min takes a share from 0 to 100');
  });
});
