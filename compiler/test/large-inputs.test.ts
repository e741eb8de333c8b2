/**
 * Issue 34, item 8: inputs large in one direction are checked in time linear in their size. The
 * timings live in bench/large-inputs.ts (`npm run bench -- large-inputs`); these tests hold the
 * answers for inputs big enough that the quadratic versions were slow here (seconds), yet cheap
 * with the linear ones.
 */
import { describe, expect, it } from 'vitest';
import { format, parse, parseViaCst, type Module } from '../../language/index.js';
import { checkText, compileText } from './helpers.js';

const N = 20_000;

function wideCall(n: number, args: (i: number) => string): string {
  const fields = Array.from({ length: n }, (_, i) => `a${i}: int`).join(', ');
  return `capability wide { kind tool input { ${fields} } output { v: int } latency 1ms }
plan p {
  step s = wide(${Array.from({ length: n }, (_, i) => args(i)).filter(Boolean).join(', ')})
  output { v: s.output.v }
}
`;
}

function stepDoc(m: Module): string | undefined {
  const plan = m.declarations.find((i) => i.kind === 'PlanDecl');
  const step = plan && 'body' in plan ? plan.body.find((b) => b.kind === 'StepDecl') : undefined;
  return step && 'doc' in step ? step.doc : undefined;
}

describe('a call of many arguments', () => {
  it(`compiles ${N.toLocaleString('en')} arguments to their parameters`, () => {
    const out = compileText(wideCall(N, (i) => `a${i}: ${i}`));
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const args = out.plans[0]!.steps[0]!.args as Record<string, { value: number }>;
    expect(Object.keys(args)).toHaveLength(N);
    expect(args[`a${N - 1}`]).toEqual({ op: 'lit', value: N - 1 });
  });

  it('still reports a repeated and a missing argument among many', () => {
    const ds = checkText(wideCall(N, (i) => (i === 7 ? '' : i === 9 ? `a9: 9, a9: 10` : `a${i}: ${i}`)));
    const messages = ds.filter((d) => d.code === 'E0202').map((d) => d.message);
    expect(messages).toContain('argument "a9" is given twice');
    expect(messages.some((m) => m.startsWith('missing required argument "a7" '))).toBe(true);
    expect(messages).toHaveLength(2);
  });
});

describe('a long doc comment', () => {
  it(`keeps ${N.toLocaleString('en')} \`///\` lines of a step, in order`, () => {
    const doc = Array.from({ length: N }, (_, i) => `  /// line ${i}`).join('\n');
    const text = `capability echo { kind tool input { value: int } output { value: int } }\nplan p {\n${doc}\n  step s = echo(value: 1)\n}\n`;
    for (const parser of [parse, parseViaCst]) {
      const lines = stepDoc(parser({ file: 'doc.orch', text }).module)?.split('\n');
      expect(lines).toHaveLength(N);
      expect(lines![0]).toBe('line 0');
      expect(lines![N - 1]).toBe(`line ${N - 1}`);
    }
  });
});

describe('formatting large inputs', () => {
  it('formats a call of 10,000 arguments, and the result is stable', () => {
    const n = 10_000;
    const text = wideCall(n, (i) => `a${i}:${i}`);
    const once = format('wide.orch', text);
    expect(once.refused).toBeUndefined();
    expect(once.changed).toBe(true);
    expect(once.text).toContain(`a${n - 1}: ${n - 1}`);
    expect(format('wide.orch', once.text)).toMatchObject({ changed: false, text: once.text });
  });

  it('formats 2,000 small plans, each one kept', () => {
    const plans = Array.from({ length: 2000 }, (_, i) => `plan p${i} {\n    step s = echo(value: ${i})\n}\n`).join('');
    const text = `capability echo { kind tool input { value: int } output { value: int } }\n${plans}`;
    const out = format('plans.orch', text);
    expect(out.refused).toBeUndefined();
    expect(out.changed).toBe(true);
    expect(out.text.match(/^plan p\d+ \{$/gm)).toHaveLength(2000);
    expect(format('plans.orch', out.text).changed).toBe(false);
  });
});

describe('a long `??` chain', () => {
  it(`of ${N.toLocaleString('en')} terms is one clean E0001 (too deep to compile), no internal error`, () => {
    const chain = Array.from({ length: N }, () => 'input.a').join(' ?? ');
    const ds = checkText(`capability echo { kind tool input { value: int } output { value: int } }\nplan p {\n  input { a: int }\n  step s = echo(value: ${chain})\n}\n`);
    expect(ds.map((d) => d.code)).toEqual(['E0001']);
    expect(ds[0]!.message).toContain('expression too deep for a compiled plan');
  });
});
