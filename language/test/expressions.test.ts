/** Expression parsing: precedence, associativity, literals, interpolation (LANGUAGE.md §2, ast.ts). */
import { describe, expect, it } from 'vitest';
import type { InvariantDecl, StringLit } from '../ast.js';
import { format, parse, parseViaCst } from '../index.js';
import { diagnosticsOf, expr, firstDecl, show } from './helpers.js';

describe('precedence and associativity', () => {
  const cases: [string, string][] = [
    ['a implies b or c', '(a implies (b or c))'],
    ['a implies b implies c', '(a implies (b implies c))'],
    ['a or b and c', '(a or (b and c))'],
    ['a and b or c and d', '((a and b) or (c and d))'],
    ['not a and b', '((not a) and b)'],
    ['not a == b', '(not (a == b))'],
    ['not not a', '(not (not a))'],
    ['a == b and c != d', '((a == b) and (c != d))'],
    ['a ?? b == c', '((a ?? b) == c)'],
    ['a ?? b ?? c', '((a ?? b) ?? c)'],
    ['a + b ?? c', '((a + b) ?? c)'],
    ['a + b * c', '(a + (b * c))'],
    ['a - b - c', '((a - b) - c)'],
    ['a * b / c % d', '(((a * b) / c) % d)'],
    ['-a * b', '((-a) * b)'],
    ['- -a', '(-(-a))'],
    ['-a.b[0]', '(-a.b[0])'],
    ['a in [1, 2] and b', '((a in [1, 2]) and b)'],
    ['(a or b) and c', '([(a or b)] and c)'],
    ['x.output.f ?? 0 > 1', '((x.output.f ?? 0) > 1)'],
    ['len(input.items) * 2 >= max(a, b) + 1', '((len(input.items) * 2) >= (max(a, b) + 1))'],
    ['a.b.c[d + 1].e', 'a.b.c[(d + 1)].e'],
    ['send.started implies approve.completed', '(send.started implies approve.completed)'],
    ['step.data >= personal and step.placement == cloud_region', '((step.data >= personal) and (step.placement == cloud_region))'],
  ];
  for (const [source, tree] of cases) {
    it(`${source}  →  ${tree}`, () => {
      expect(show(expr(source))).toBe(tree);
    });
  }

  it('reports chained comparisons', () => {
    const d = diagnosticsOf('invariant x { always a < b < c }');
    expect(d.map((x) => x.code)).toEqual(['E0001']);
    expect(d[0]!.message).toMatch(/comparisons do not chain/);
  });
});

describe('literals', () => {
  it('parses numbers, durations, money, percent, booleans and null', () => {
    expect(expr('42')).toEqual({ kind: 'NumberLit', value: 42, integer: true });
    expect(expr('3.25')).toEqual({ kind: 'NumberLit', value: 3.25, integer: false });
    for (const [src, value, unit] of [['250ms', 250, 'ms'], ['30s', 30, 's'], ['5m', 5, 'm'], ['2h', 2, 'h'], ['1d', 1, 'd'], ['1.5s', 1.5, 's']] as const) {
      expect(expr(src)).toEqual({ kind: 'DurationLit', value, unit });
    }
    expect(expr('0.05usd')).toEqual({ kind: 'MoneyLit', amount: 0.05, currency: 'usd' });
    expect(expr('12eur')).toEqual({ kind: 'MoneyLit', amount: 12, currency: 'eur' });
    expect(expr('3gbp')).toEqual({ kind: 'MoneyLit', amount: 3, currency: 'gbp' });
    expect(expr('80%')).toEqual({ kind: 'PercentLit', value: 80 });
    expect(expr('true')).toEqual({ kind: 'BoolLit', value: true });
    expect(expr('false')).toEqual({ kind: 'BoolLit', value: false });
    expect(expr('null')).toEqual({ kind: 'NullLit' });
  });

  it('parses lists and records with trailing commas and keyword keys', () => {
    expect(show(expr('[1, 2, 3,]'))).toBe('[1, 2, 3]');
    expect(show(expr('[]'))).toBe('[]');
    expect(show(expr('{ cost: 1, input: 2, kind: 3, }'))).toBe('{cost: 1, input: 2, kind: 3}');
  });

  it('reports an unknown unit', () => {
    const d = diagnosticsOf('invariant x { always run.elapsed < 5min }');
    expect(d.map((x) => x.message)).toEqual([expect.stringMatching(/unknown unit 'min' in '5min'/)]);
  });

  it('decodes escapes', () => {
    expect(expr('"a\\"b\\\\c\\nd\\te\\$f"')).toEqual({ kind: 'StringLit', parts: ['a"b\\c\nd\te$f'] });
    expect(expr('""')).toEqual({ kind: 'StringLit', parts: [''] });
  });

  it('reports an unknown escape and an unterminated string', () => {
    expect(diagnosticsOf('invariant x { always a == "\\q" }').map((d) => d.message)).toEqual([expect.stringMatching(/unknown escape '\\q'/)]);
    const d = diagnosticsOf('plan p { goal "never closed\n}');
    expect(d[0]!.message).toMatch(/unterminated string/);
    expect(d[0]!.range.start.line).toBe(1);
  });
});

describe('string interpolation', () => {
  it('parses ${expr} parts into expressions', () => {
    const s = expr('"Send ${len(input.recipients)} emails to ${input.team.name}!"') as StringLit;
    expect(s.parts.length).toBe(5);
    expect(s.parts[0]).toBe('Send ');
    expect(show(s.parts[1] as never)).toBe('len(input.recipients)');
    expect(s.parts[2]).toBe(' emails to ');
    expect(show(s.parts[3] as never)).toBe('input.team.name');
    expect(s.parts[4]).toBe('!');
  });

  it('supports nested strings, records and braces inside an interpolation', () => {
    const s = expr('"x${ format("${a}", { k: "}" }) }y"') as StringLit;
    expect(s.parts[0]).toBe('x');
    expect(s.parts[1]).toMatchObject({ kind: 'CallExpr', callee: { name: 'format' } });
    expect(s.parts[2]).toBe('y');
  });

  it('gives interpolated expressions ranges in the file', () => {
    const text = 'invariant x {\n  always "a ${input.b} c" == d\n}';
    const inv = firstDecl(text) as InvariantDecl;
    const s = (inv.condition as { left: StringLit }).left;
    const e = s.parts[1] as { range: { start: { line: number; column: number; offset: number }; end: { offset: number } } };
    expect(text.slice(e.range.start.offset, e.range.end.offset)).toBe('input.b');
    expect(e.range.start).toMatchObject({ line: 2, column: 15 });
  });

  it('reports errors inside an interpolation at their place in the file', () => {
    const text = 'invariant x { always "a ${1 +} b" == d }';
    const d = diagnosticsOf(text);
    expect(d.map((x) => x.code)).toEqual(['E0001']);
    expect(text.slice(d[0]!.range.start.offset, d[0]!.range.end.offset)).toBe('}');
  });

  it('reports an empty or unterminated interpolation', () => {
    expect(diagnosticsOf('invariant x { always "${}" == d }').map((d) => d.message)).toEqual([expect.stringMatching(/empty interpolation/)]);
    expect(diagnosticsOf('invariant x { always "${a" == d }').map((d) => d.message)[0]).toMatch(/unterminated/);
  });

  it('"x ${" is one mistake, one diagnostic: the quote after ${ ends the string, and what follows parses', () => {
    // It was three: the string read on to the line end (unterminated, the `)` swallowed), the
    // interpolation, and the `)` then missing.
    const text = 'plan p {\n  step t = transform(value: "x ${")\n  output { v: t.output.value }\n}\n';
    for (const run of [parse, parseViaCst]) {
      const d = run({ file: 'i.orch', text }).diagnostics;
      expect(d.map((x) => x.message)).toEqual(["unterminated interpolation (missing '}')"]);
      expect(text.slice(d[0]!.range.start.offset, d[0]!.range.end.offset)).toBe('${');
    }
    // With a `}` later on the line the quote is read as a string's opening, as before.
    expect(diagnosticsOf('invariant x { always "${f("a)}" == d }').map((d) => d.message)[0]).toMatch(/unterminated/);
  });

  it('"a ${x" with a `}` or more strings later on its line is one diagnostic too: the first quote after ${ ends the string', () => {
    // It was three or four: the string read on to the line end (taking the `}` and what follows),
    // the interpolation, the bracket or block then missing.
    const lines = [
      'step t = transform(value: "a ${x", n: {a: 1})',
      'step t = transform(value: "a ${input.x", n: "b")',
    ];
    for (const line of lines) {
      const text = `plan p {\n  ${line}\n  output { v: t.output.value }\n}\nplan q {\n  step u =\n}\n`;
      for (const run of [parse, parseViaCst]) {
        const d = run({ file: 'i.orch', text }).diagnostics;
        // The later mistake is still found: the rest of the file was parsed.
        expect(d.map((x) => x.message), line).toEqual(["unterminated interpolation (missing '}')", expect.stringMatching(/^expected a step action/)]);
        expect(text.slice(d[0]!.range.start.offset, d[0]!.range.end.offset)).toBe('${');
      }
    }
    expect(diagnosticsOf('invariant x { always "${a" == d }').map((d) => d.message)).toEqual(["unterminated interpolation (missing '}')"]);
  });
});

describe('keywords as field names (LANGUAGE.md §2)', () => {
  const text = `capability d { kind tool input { in: string, not: int = 1 } output { in: string, not: bool, true: int, null: string? } }
type T = { and: string, or: int, implies: bool }
plan p {
  step a = d(in: "x", not: 2)
  step b = d(in: "\${a.output.in} \${a.output.null}", not: a.output.true) when a.output.not and not a.output.not
  output { in: a.output.in, false: { or: 1, null: a.output.not } }
}`;

  it('any keyword, reserved ones included, is a field name in record types and literals, arguments and after a dot — on both parse paths', () => {
    for (const run of [parse, parseViaCst]) {
      const out = run({ file: 'k.orch', text });
      expect(out.diagnostics.map((d) => `${d.range.start.line}:${d.range.start.column} ${d.message}`)).toEqual([]);
      const plan = out.module.declarations[2]!;
      if (plan.kind !== 'PlanDecl') throw new Error('no plan');
      const b = plan.body[1]!;
      if (b.kind !== 'StepDecl' || b.action.kind !== 'CapabilityCall') throw new Error('no step');
      expect(show(b.when!)).toBe('(a.output.not and (not a.output.not))');
      expect(b.action.args.map((x) => x.name.name)).toEqual(['in', 'not']);
      expect(plan.output!.fields.map((f) => f.key.name)).toEqual(['in', 'false']);
    }
  });

  it('where a value is expected, the reserved words keep their meaning', () => {
    expect(show(expr('not x.in'))).toBe('(not x.in)');
    expect(show(expr('a in [true, null]'))).toBe('(a in [true, null])');
    expect(diagnosticsOf('plan p { step in = d() }').map((d) => d.code)).toEqual(['E0001']);
    // Commas between fields are optional, but `1 in` continues the value: the error says so.
    expect(diagnosticsOf('context { n: int = 1 in: string }').map((d) => d.message)).toEqual([
      "expected an expression after 'in', found ':' (a field named 'in' after a value needs a comma before it)",
    ]);
    expect(diagnosticsOf('context { n: int = 1, in: string }')).toEqual([]);
  });
});

describe('record keys that are no names (a map value: HTTP headers)', () => {
  // `orch test --capture` writes a map's keys as they are, and a test mocks an answer's headers:
  // a key that is no name is written as a string — without which `{ "content-type": … }` had no way to be written.
  const text = `plan p {
  step a = transform(value: { "content-type": "text/plain", "x y": 1, plain: 2, "": 3, "a\\"b": 4, "x-\\\${k}": 5 })
}
`;

  it('parses on both paths, the key being the string it says', () => {
    for (const run of [parse, parseViaCst]) {
      const out = run({ file: 'k.orch', text });
      expect(out.diagnostics).toEqual([]);
      const plan = out.module.declarations[0]!;
      if (plan.kind !== 'PlanDecl' || plan.body[0]!.kind !== 'StepDecl' || plan.body[0]!.action.kind !== 'CapabilityCall') throw new Error('no step');
      const value = plan.body[0]!.action.args[0]!.value;
      if (value.kind !== 'RecordLit') throw new Error('no record');
      expect(value.fields.map((f) => f.key.name)).toEqual(['content-type', 'x y', 'plain', '', 'a"b', 'x-${k}']);
    }
  });

  it('is printed quoted only where it is no name, and formats to itself', () => {
    const once = format('k.orch', text);
    expect(once.diagnostics).toEqual([]);
    expect(once.text).toContain('"content-type": "text/plain"');
    expect(once.text).toContain('plain: 2');
    expect(once.text).toContain('"x-\\${k}": 5');
    expect(format('k.orch', once.text).text).toBe(once.text);
  });

  it('a key with an interpolation is refused', () => {
    expect(diagnosticsOf('plan p { step a = transform(value: { "${x}": 1 }) }').map((d) => d.code)).toEqual(['E0001']);
  });
});
