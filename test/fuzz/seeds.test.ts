/**
 * Replays the inputs `npm run fuzz` saved (test/fuzz/seeds/) and the issue-15 reproducers: each
 * goes through parse, format and check in-process without an exception or an internal error,
 * `fmt` never refuses a file the parser accepts, and formatting is idempotent; one that compiles
 * is also run (the runtime's IR validation, then the scheduler on simulated handlers), as the
 * fuzzer's run stage does.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { check, compile, validatePlanIR } from '../../compiler/index.js';
import { verify } from '../../verify/index.js';
import { format, parse, type Diagnostic } from '../../language/index.js';

const SEEDS = fileURLToPath(new URL('./seeds/', import.meta.url));
const ENTRY = '/virtual/fuzz/main.orch';
const internal = (ds: readonly Diagnostic[]): string[] => ds.map((d) => d.message).filter((m) => /^internal \w+ error/.test(m));

const plan = (expr: string): string => `plan p {\n  input { a: int }\n  output { v: ${expr} }\n}\n`;
const REPRODUCERS: Record<string, string> = {
  'plus-chain': plan(Array(2000).fill('1').join(' + ')),
  'coalesce-chain': plan(Array(2000).fill('input.a').join(' ?? ')),
  'member-chain': plan(`input${'.a'.repeat(5000)}`),
  'not-5000': plan(`${'not '.repeat(5000)}true`),
  'minus-5000': plan(`${'-'.repeat(5000)}1`),
  'interpolation-1000': plan(`${'"${'.repeat(1000)}1${'}"'.repeat(1000)}`),
  'list-type-1000': `plan p {\n  input { a: ${'list<'.repeat(1000)}int${'>'.repeat(1000)} }\n}\n`,
  'stars-50000': plan(`"\${${'*'.repeat(50_000)}}"`),
  'doc-spaces-40000': `/// a${' '.repeat(40_000)}b\nplan p {\n}\n`,
  'bigint-30-digits': plan('123456789012345678901234567890'),
  'bigint-400-digits': plan('1'.repeat(400)),
  'bom-after-doc': '/// doc\n\uFEFF\nplan p {\n}\n',
};

const saved = readdirSync(SEEDS)
  .filter((f) => f.endsWith('.orch'))
  .map((f): [string, string] => [f, readFileSync(`${SEEDS}${f}`, 'utf8')]);

describe('fuzz seeds and issue-15 reproducers', () => {
  for (const [name, text] of [...Object.entries(REPRODUCERS), ...saved]) {
    it(name, async () => {
      const p = parse({ file: ENTRY, text });
      expect(internal(p.diagnostics)).toEqual([]);
      const f = format(ENTRY, text);
      expect(f.refused).toBeUndefined();
      if (f.changed) expect(format(ENTRY, f.text).text).toBe(f.text);
      const host = { readFile: (path: string) => (path === ENTRY ? text : undefined) };
      expect(internal(check({ entry: ENTRY, host }))).toEqual([]);
      const out = compile({ entry: ENTRY, host });
      expect(internal(out.diagnostics)).toEqual([]);
      if (out.diagnostics.some((d) => d.severity === 'error')) return;
      for (const ir of out.plans) {
        expect(validatePlanIR(JSON.parse(JSON.stringify(ir))).ok).toBe(true);
        const result = await verify(ir, { runs: 3, seed: 1, maxListSize: 3 });
        expect(result.invariants.length).toBeGreaterThan(0);
      }
    });
  }
});
