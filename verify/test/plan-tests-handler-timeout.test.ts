/**
 * `orch test` runs plans "on the real runtime … timeouts … take no real time" (LANGUAGE.md §9.2).
 * A handler that never answers runs in real time (virtual time stands still while it runs), but
 * once its capability's `timeout` has passed the attempt times out as under `orch run`: status
 * `timeout`, the runtime's wording, at that virtual moment. It failed with a message of the test
 * runner's own ("took longer than 2000 ms (real time) in this test"), status `failed`, at 0 ms.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../runtime/test/helpers.js';
import { runCli } from '../../test/support/cli-in-process.js';

describe('a real handler past its timeout under orch test', () => {
  it('times the attempt out as orch run does, on the virtual clock', async () => {
    const dir = tempDir('orch-test-handler-timeout-');
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
    writeFileSync(join(dir, 'h.js'), 'export function stuck() { return new Promise(() => {}); }\n');
    writeFileSync(
      join(dir, 'p.orch'),
      `capability stuck { kind tool  input { x: int }  output { y: int }  handler "./h.js#stuck"  timeout 300ms }
plan p {
  step s = stuck(x: 1)
  step w = wait 1h
}

test "times out" {
  plan p
  expect s.status == "timeout" and run.status == "failed" and run.elapsed == 300ms
}
`,
    );
    const run = await runCli(['test', 'p.orch', '--reporter', 'json'], dir);
    const report = JSON.parse(run.stdout) as { tests: { passed: boolean; failures: unknown[]; timeline: { type: string; detail: string | null }[] }[] };
    expect(report.tests[0]!.failures).toEqual([]);
    expect(run.code).toBe(0);
    expect(report.tests[0]!.timeline.find((e) => e.type === 'step_failed')?.detail).toContain('timed out after 300ms');
  });
});
