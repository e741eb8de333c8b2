/**
 * `orch test --capture RUN -o FILE` where FILE exists (LANGUAGE.md §9.2; docs/language.md): the
 * test the user kept is not replaced unless `--force`, as `orch draft -o` does — exit 2 naming
 * `--force`, and the file as it was. It silently overwrote the file. In-process CLI.
 */
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../serve/test/serve-process.js';
import { runCli } from '../../test/support/cli-in-process.js';

const PLAN = `
plan doubler {
  input { n: int }
  step t = transform(value: input.n * 2)
  output { doubled: t.output.value }
}
`;

describe('orch test --capture -o an existing file', () => {
  it('refuses with exit 2 naming --force and leaves the file; --force replaces it', async () => {
    const dir = tempDir('orch-capture-replace-');
    const db = join(dir, 'runs.db');
    writeFileSync(join(dir, 'd.orch'), PLAN);
    const ran = await runCli(['run', 'd.orch', '--input', '{"n":4}', '--db', db, '--json', '--quiet'], dir);
    expect(ran.code, ran.stderr).toBe(0);
    const runId = (JSON.parse(ran.stdout) as { runId: string }).runId;
    const kept = '// my own edits\n';
    writeFileSync(join(dir, 'd.test.orch'), kept);

    const refused = await runCli(['test', '--capture', runId, '--db', db, '-o', 'd.test.orch'], dir);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('d.test.orch exists');
    expect(refused.stderr).toContain('--force');
    expect(readFileSync(join(dir, 'd.test.orch'), 'utf8')).toBe(kept);

    const forced = await runCli(['test', '--capture', runId, '--db', db, '-o', 'd.test.orch', '--force'], dir);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(join(dir, 'd.test.orch'), 'utf8')).toContain('expect run.output == { doubled: 8 }');
  });
});
