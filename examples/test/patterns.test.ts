/**
 * examples/patterns/: the v0.2 control-flow forms (nested `for each`, `race`, `repeat`, `join
 * first`, the soft `??`) in realistic plans: clean `orch check`, canonical format, an IR that
 * validates against the published v2 schema compiled with ajv's default (strict) options, a
 * preview and a graph that show the blocks, and `orch verify` exploring them (the runtime runs
 * them: `runtime/test/control-flow.test.ts`).
 */
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { orchAsync as orch, REPO_ROOT } from './cli.js';

const DIR = path.join(REPO_ROOT, 'examples', 'patterns');
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.orch') && !f.endsWith('.test.orch')).sort();
const schema = JSON.parse(readFileSync(path.join(REPO_ROOT, 'compiler', 'schema', 'orch.plan.v3.schema.json'), 'utf8')) as object;
const validate = new Ajv2020().compile(schema);

const EXPECTED: Record<string, { preview: string[]; graph: string }> = {
  'draft_review_loop.orch': { preview: ['[repeat revise ×1..3, on_failure continue]', 'loops run once .. max times', 'checked_before_send (blocking): holds'], graph: 'label="repeat revise ×1..3";' },
  'nested_teams.orch': { preview: ['[for each team, parallel 2 (2 items) › for each member, parallel 5 (3 items)]'], graph: 'subgraph "cluster_each_member_2"' },
  'reply_or_remind.orch': { preview: ['[race answer: first of acknowledged, reminder]', 'critical path: page → acknowledged → escalation'], graph: 'label="race answer: first wins";' },
};

const INPUT = JSON.stringify({ teams: [{ name: 'a', channel: '#a', members: [{ email: 'x@a' }, { email: 'y@a' }] }, { name: 'b', channel: '#b', members: [{ email: 'z@b' }] }] });

describe('examples/patterns', () => {
  it('has the expected pattern files', () => {
    expect(FILES).toEqual(Object.keys(EXPECTED).sort());
  });

  describe.concurrent.each(FILES)('%s', (file) => {
    const rel = `examples/patterns/${file}`;
    it('checks clean and is formatted', async () => {
      const check = await orch(['check', rel]);
      expect(check.stdout + check.stderr).toContain('no problems in 1 file');
      expect(check.code).toBe(0);
      expect((await orch(['fmt', '--check', rel])).code).toBe(0);
    });

    it('compiles to orch.plan/v3 that the published schema accepts under strict ajv', async () => {
      const out = path.join(mkdtempSync(path.join(tmpdir(), 'orch-patterns-')), 'plan.json');
      expect((await orch(['compile', rel, '-o', out])).code).toBe(0);
      const ir = JSON.parse(readFileSync(out, 'utf8')) as { version: string; blocks: unknown[] };
      expect(ir.version).toBe('orch.plan/v3');
      expect(validate(ir), JSON.stringify(validate.errors)).toBe(true);
      expect(ir.blocks.length).toBeGreaterThan(0);
    });

    it('previews and draws its blocks', async () => {
      const p = await orch(['preview', rel, ...(file === 'nested_teams.orch' ? ['--input', INPUT] : [])]);
      expect(p.code).toBe(0);
      for (const line of EXPECTED[file]!.preview) expect(p.stdout).toContain(line);
      const g = await orch(['graph', rel]);
      expect(g.stdout).toContain(EXPECTED[file]!.graph);
    });

    it('orch verify explores it: races either way, loops every iteration count, nested items', async () => {
      const v = await orch(['verify', rel, '--runs', '60', '--seed', '7']);
      expect(v.stderr).toBe('');
      expect(v.code).toBe(0);
      expect(v.stdout).toMatch(/ok: 60 runs explored, \d+ distinct paths/);
    });
  });
});
