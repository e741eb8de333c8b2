/**
 * `orch test --update FILE` (LANGUAGE.md §9.2) recaptures a test from a run "under the same mocks":
 * a mock's `usage` is priced at the project's config prices (§8.1) there as `orch test` prices it.
 * The update ran unpriced — a call that put the run over its budget under `orch test` cost its
 * estimate — so the updated test expected a run that completed, and `orch test` failed it at once.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../runtime/test/helpers.js';
import { runCli } from '../../test/support/cli-in-process.js';

describe('orch test --update', () => {
  it('prices mock usage at the config prices, so the updated test passes', async () => {
    const dir = tempDir('orch-update-prices-');
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
    writeFileSync(join(dir, 'orch.config.json'), JSON.stringify({ endpoints: { local: { api: 'openai', base_url: 'http://127.0.0.1:9/v1' } }, prices: { m1: { input_per_mtok: 1000, output_per_mtok: 2000 } } }));
    writeFileSync(
      join(dir, 'p.orch'),
      `capability summarize { kind llm  input { text: string }  output { title: string }  prompt "Sum \${input.text}"  model "m1"  endpoint "local"  cost 0.001usd }
capability store { kind tool  input { t: string }  output { ok: bool } }
policy tight { budget cost <= 1usd }
plan p {
  input { text: string }
  policy tight
  step s = summarize(text: input.text)
  step k = store(t: s.output.title)
}
`,
    );
    const file = join(dir, 'p.test.orch');
    writeFileSync(
      file,
      `import "./p.orch" as p

test "captured" {
  captured_from "r-1" ir_hash "0000"
  plan p.p
  input { text: "hello" }
  mock p.summarize returns { title: "T" } usage { input_tokens: 1000, output_tokens: 100 }
  mock p.store returns { ok: true }
  expect run.status == "failed"
}
`,
    );
    const update = await runCli(['test', '--update', 'p.test.orch'], dir);
    expect(update.code, update.stderr).toBe(0);
    const text = readFileSync(file, 'utf8');
    // 1000 × 1000 + 100 × 2000 per million tokens: 1.2usd, over the 1usd budget before k starts.
    expect(text).toContain('  expect run.status == "failed"');
    expect(text).not.toContain('expect k.completed');
    const again = await runCli(['test', 'p.test.orch'], dir);
    expect([again.code, again.stdout]).toEqual([0, expect.stringContaining('1 passed')]);
  });
});
