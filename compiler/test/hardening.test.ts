/**
 * Issue 15 (front end): `check` and `compile` of long chains and deep nesting never fall over.
 * Chains are checked in loops at any length; an expression whose compiled IR would nest deeper
 * than MAX_IR_DEPTH is one clean E0001 (the IR is JSON, validated by recursive code).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { ExprIR } from '../ir/types.js';
import { MAX_IR_DEPTH } from '../check/expr.js';
import { staticEval, UNKNOWN } from '../static-eval.js';
import { checkText, compileText } from './helpers.js';

const plan = (expr: string): string => `plan p {\n  input { a: int, r: { a: int } }\n  output { v: ${expr} }\n}\n`;
const internal = (ds: readonly { message: string }[]): string[] => ds.map((d) => d.message).filter((m) => /^internal \w+ error/.test(m));

describe('check of long chains', () => {
  for (const [what, expr] of [
    ['+', Array(2000).fill('1').join(' + ')],
    ['??', Array(2000).fill('input.a').join(' ?? ')],
    ['member', `input.r${'.a'.repeat(2000)}`],
    ['index', `[1]${'[0]'.repeat(2000)}`],
    ['and', Array(2000).fill('true').join(' and ')],
  ] as const) {
    it(`a ${what} chain of 2,000 links: one clean E0001 (too deep to compile), no internal error`, () => {
      const ds = checkText(plan(expr));
      expect(internal(ds)).toEqual([]);
      const deep = ds.filter((d) => d.message.startsWith('expression too deep for a compiled plan'));
      expect(deep).toHaveLength(1);
      expect(deep[0]!.code).toBe('E0001');
      expect(deep[0]!.range.start.line).toBe(3);
    });
  }

  it('the chain is still type-checked link by link (an error deep in a 5,000-link chain is found)', () => {
    const terms = Array(5000).fill('1');
    terms[4000] = '"x" == 1';
    const ds = checkText(plan(terms.join(' + ')));
    expect(internal(ds)).toEqual([]);
    expect(ds.some((d) => d.code === 'E0201')).toBe(true);
  });

  it(`a chain just under ${MAX_IR_DEPTH} IR levels compiles to valid IR that folds statically`, () => {
    const n = MAX_IR_DEPTH - 10;
    const out = compileText(plan(Array(n).fill('1').join(' + ')));
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const ir = out.plans[0]!.output as ExprIR & { op: 'record' };
    expect(staticEval(ir.fields[0]!.value, {})).toBe(n);
    // The IR survives the JSON round trip the runtime reads it through.
    expect(JSON.parse(JSON.stringify(out.plans[0]))).toEqual(JSON.parse(JSON.stringify(out.plans[0])));
  });

  it('deep nesting is a syntax E0001, never an internal error', () => {
    for (const expr of [`${'not '.repeat(5000)}true`, `${'-'.repeat(5000)}1`, `${'"${'.repeat(1000)}1${'}"'.repeat(1000)}`]) {
      const ds = checkText(plan(expr));
      expect(internal(ds)).toEqual([]);
      expect(ds.some((d) => d.code === 'E0001')).toBe(true);
    }
  });

  it('at most 100 diagnostics per file, then one counting the rest', () => {
    const text = `plan p {\n  input { a: int }\n${[...Array(300)].map((_, i) => `  success "s${i}": input.a == "x${i}"`).join('\n')}\n}\n`;
    const ds = checkText(text);
    expect(ds).toHaveLength(101);
    expect(ds[100]!.message).toMatch(/^200 more errors not shown/);
  });
});

describe('static evaluation of long IR chains', () => {
  it('folds a 100,000-link chain without recursion', () => {
    let e: ExprIR = { op: 'lit', value: 0 };
    for (let i = 0; i < 100_000; i++) e = { op: '+', left: e, right: { op: 'lit', value: 1 } };
    expect(staticEval(e, {})).toBe(100_000);
    let g: ExprIR = { op: 'var', name: 'input' };
    for (let i = 0; i < 100_000; i++) g = { op: 'get', object: g, key: 'a' };
    expect(staticEval(g, {})).toBe(UNKNOWN);
    let s: ExprIR = { op: 'lit', value: false };
    for (let i = 0; i < 100_000; i++) s = { op: 'or', left: s, right: { op: 'lit', value: i === 99_999 } };
    expect(staticEval(s, {})).toBe(true);
  });
});

describe('the real CLI', () => {
  const BIN = fileURLToPath(new URL('../../bin/orch.js', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'orch-harden-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 });

  it('check and fmt of a 2,000-term chain: clean diagnostics (exit 1) and formatting (exit 0), no internal error', () => {
    const file = join(dir, 'chain.orch');
    writeFileSync(file, plan(Array(2000).fill('1').join(' + ')));
    const c = run('check', file);
    expect(c.status).toBe(1);
    expect(c.stdout + c.stderr).toContain('expression too deep for a compiled plan');
    expect(c.stdout + c.stderr).not.toContain('internal');
    const f = run('fmt', file);
    expect(f.stderr).not.toContain('internal');
    expect(f.status).toBe(0);
    expect(run('fmt', '--check', file).status).toBe(0);
  });

  it('check of 5,000 nested `not`: exit 1 with the nesting E0001', () => {
    const file = join(dir, 'not.orch');
    writeFileSync(file, plan(`${'not '.repeat(5000)}true`));
    const c = run('check', file);
    expect(c.status).toBe(1);
    expect(c.stdout + c.stderr).toContain('expression nested more than 200 levels deep');
  });

  it('fmt of a file with a 400-digit number refuses with the E0001, not as a formatter bug', () => {
    const file = join(dir, 'big.orch');
    writeFileSync(file, plan('1'.repeat(400)));
    const f = run('fmt', file);
    expect(f.status).toBe(1);
    expect(f.stdout + f.stderr).toContain('is too large');
    expect(f.stdout + f.stderr).not.toContain('formatter bug');
  });
});
