/**
 * A handful of the §9.3 corpus's pairs through the real CLI (bin/orch.js → dist/): one pair per
 * sink, every plan in one `orch check --format json` (one process), each plan's project with its
 * own orch.config.json and orch.lock.json as a user's would be. What the CLI prints must say what
 * the compiler's `check` says in flow-corpus.test.ts: the finding at the sink, its witness in the
 * message, nothing on the twin — and exit 1 while a violation is reported.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { planFolder, writeProject } from './flow-corpus/disk.js';
import { corpus, type Pair } from './flow-corpus/generate.js';
import { judgeTwin, judgeViolating, type Diagnostic } from './flow-corpus/judge.js';
import { SINKS } from './flow-corpus/sinks.js';

const BIN = fileURLToPath(new URL('../../bin/orch.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'orch-flow-corpus-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A pair of each sink, each with a source and a hop no earlier pick has (where the corpus has one). */
function handful(): Pair[] {
  const pairs = corpus();
  const out: Pair[] = [];
  for (const sink of SINKS) {
    const mine = pairs.filter((p) => p.sink === sink.id);
    const fresh = (p: Pair): number => Number(!out.some((o) => o.source === p.source)) + Number(!out.some((o) => o.hop === p.hop));
    out.push(mine.reduce((a, b) => (fresh(b) > fresh(a) ? b : a)));
  }
  return out;
}

describe('the §9.3 corpus through `orch check --format json`', () => {
  it('reports each violation at its sink with its witness, nothing on the twins, and exits 1', () => {
    const plans = handful().flatMap((pair, i) =>
      (['violating', 'twin'] as const).map((plan) => {
        const dir = planFolder(root, i, pair.id, plan);
        return { pair, plan, dir, entry: writeProject(dir, pair[plan]) };
      }),
    );
    const r = spawnSync(process.execPath, [BIN, 'check', '--format', 'json', ...plans.map((p) => relative(root, p.entry))], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
      timeout: 120_000,
    });
    expect(r.stderr).toBe('');
    const printed = (JSON.parse(r.stdout) as { diagnostics: Diagnostic[] }).diagnostics.map((d) => ({ ...d, file: resolve(root, d.file) }));
    const problems = plans.flatMap(({ pair, plan, dir }) => {
      const mine = printed.filter((d) => !relative(dir, d.file).startsWith('..'));
      const v = plan === 'violating' ? judgeViolating(pair, dir, mine) : judgeTwin(pair, dir, mine);
      return v.problems.map((p) => `${pair.id} [${plan}] ${p.kind}: ${p.detail}`);
    });
    expect(problems).toEqual([]);
    expect(r.status).toBe(1);
  });
});
