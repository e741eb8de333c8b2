/**
 * `check` takes shortcuts a full compile cannot: no IR, no hover types, no reference list (only
 * use counts), guardrail facts only when a guardrail applies. None of them may change what is
 * reported: on every example program, and on garbled variants of them, `check` reports exactly
 * the diagnostics `compile` reports — with its `test` blocks (§9.2: `check` checks them, a
 * compile for `compile`, `run` and `serve` leaves them alone).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { check, checkFiles, compile } from '../index.js';
import { compileProgram } from '../program.js';
import { diskHost, type SourceHost } from '../load.js';
import { BASE, checkText, codes, compileText } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');

function orchFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return orchFiles(p);
    return name.endsWith('.orch') ? [p] : [];
  });
}

const PROGRAMS = [...orchFiles(join(ROOT, 'examples')), ...orchFiles(join(ROOT, 'compiler', 'test', 'fixtures'))];

function hostWith(file: string, text: string): SourceHost {
  return { readFile: (p) => (p === file ? text : diskHost.readFile(p)) };
}

describe('check mode', () => {
  it('has example programs to compare on', () => {
    expect(PROGRAMS.length).toBeGreaterThan(5);
  });

  it.each(PROGRAMS.map((p) => [p.slice(ROOT.length + 1), p]))('reports what compile reports: %s', (_name, file) => {
    expect(check({ entry: file })).toEqual(compile({ entry: file, tests: true }).diagnostics);
  });

  it('reports what compile reports on garbled programs (a word replaced)', () => {
    const WORDS = ['foo', 'input', 'output', 'context', 'string', 'int', 'http', '1s', '3', '"x"', 'null', 'true', '0.5usd', '10%'];
    fc.assert(
      fc.property(fc.constantFrom(...PROGRAMS), fc.nat(), fc.constantFrom(...WORDS), (file, at, word) => {
        const text = readFileSync(file, 'utf8');
        const tokens = [...text.matchAll(/[A-Za-z_][A-Za-z0-9_]*|"[^"\n]*"|\d+(\.\d+)?[a-z%]*/g)];
        const m = tokens[at % tokens.length]!;
        const garbled = text.slice(0, m.index) + word + text.slice(m.index! + m[0].length);
        const host = hostWith(file, garbled);
        expect(check({ entry: file, host })).toEqual(compile({ entry: file, host, tests: true }).diagnostics);
      }),
      { numRuns: 60 },
    );
  });

  it('compact ranges (orch check, orch run) change no diagnostic and no IR, garbled programs included', () => {
    const same = (file: string, host: SourceHost) => {
      const ordinary = compile({ entry: file, host, navigation: false });
      const compact = compile({ entry: file, host, navigation: false, compact: true });
      expect(JSON.stringify(compact.diagnostics)).toBe(JSON.stringify(ordinary.diagnostics));
      expect(JSON.stringify(compact.plans)).toBe(JSON.stringify(ordinary.plans));
    };
    for (const file of PROGRAMS) same(file, diskHost);
    const WORDS = ['foo', 'input', 'output', 'step', '{', '(', '1s', '"x"', 'null', '0.5usd'];
    fc.assert(
      fc.property(fc.constantFrom(...PROGRAMS), fc.nat(), fc.constantFrom(...WORDS), (file, at, word) => {
        const text = readFileSync(file, 'utf8');
        const tokens = [...text.matchAll(/[A-Za-z_][A-Za-z0-9_]*|"[^"\n]*"|\d+(\.\d+)?[a-z%]*/g)];
        const m = tokens[at % tokens.length]!;
        same(file, hostWith(file, text.slice(0, m.index) + word + text.slice(m.index! + m[0].length)));
      }),
      { numRuns: 60 },
    );
  });

  it('checkFiles (orch check, compact ranges) reports what check reports', async () => {
    for (const file of PROGRAMS) expect(await checkFiles([file])).toEqual(check({ entry: file }));
  });

  it('proves a guardrail over two different `when`s as compile does (an approval skipped when the send is not)', () => {
    // `check` builds no IR for most expressions; a `when` it must, or every condition looks alike
    // and "the approval runs whenever the send does" is proved for any two of them.
    const plan = (approvalWhen: string) => `${BASE}
capability send {
  kind tool
  input { to: string }
  output { ok: bool }
  cost 0usd
  latency 1s
  requires http
}
guardrail signed {
  severity blocking
  require kind human before capability send
}
plan p {
  input { urgent: bool, big: bool }
  guardrails signed
  step ok = approval(approver: "lead", summary: "send?") when ${approvalWhen}
  step out = send(to: "x") when input.urgent { after ok }
}
`;
    expect(codes(compileText(plan('input.urgent')).diagnostics)).not.toContain('E0401');
    expect(codes(checkText(plan('input.urgent')))).not.toContain('E0401');
    expect(codes(compileText(plan('input.big')).diagnostics)).toContain('E0401');
    expect(codes(checkText(plan('input.big')))).toContain('E0401');
  });

  it('counts the uses of every symbol that a full compile records as references', () => {
    for (const file of PROGRAMS) {
      const full = compileProgram({ entry: file, host: diskHost, tests: true });
      const counted = compileProgram({ entry: file, host: diskHost, checkOnly: true, recordTypes: false, recordReferences: false });
      expect(counted.model.references).toEqual([]);
      const fromReferences = full.model.symbols.map((s) => full.model.references.filter((r) => r.symbol === s.id && !r.isDeclaration).length);
      expect(counted.model.uses).toEqual(fromReferences);
      expect(full.model.uses).toEqual(fromReferences);
    }
  });
});
