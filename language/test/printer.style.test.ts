/** The canonical style, example by example (LANGUAGE.md syntax in, `orch fmt` text out). */
import { describe, expect, it } from 'vitest';
import type { Expr, Module } from '../ast.js';
import { format } from '../format.js';
import { parse } from '../index.js';
import { escapeStringText, formatNumber, print } from '../printer.js';
import { NO_RANGE } from './arbitraries.js';

function fmt(text: string): string {
  const result = format('style.orch', text);
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return result.text;
}

/** Formats `invariant x { always EXPR }` and returns the printed expression. */
function fmtExpr(expr: string): string {
  const out = fmt(`invariant x { always ${expr} }`);
  return out.replace(/^invariant x \{ always /, '').replace(/ \}\n$/, '');
}

describe('canonical style', () => {
  it('puts properties in a fixed order, one per line, with 2-space indentation', () => {
    const input = `capability c { idempotent true requires llm, http cost 0.002usd timeout 60s kind agent
      handler "./h.js#run" input { a: string } output { id: string } retry 3 backoff exponential 1s max 30s
      latency 4s data internal consent "x.y" }`;
    expect(fmt(input)).toBe(
      [
        'capability c {',
        '  kind agent',
        '  input { a: string }',
        '  output { id: string }',
        '  handler "./h.js#run"',
        '  timeout 60s',
        '  retry 3 backoff exponential 1s max 30s',
        '  cost 0.002usd',
        '  latency 4s',
        '  data internal',
        '  consent "x.y"',
        '  requires llm, http',
        '  idempotent true',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('separates top-level declarations by one blank line and groups imports', () => {
    const input = 'module a.b\nimport std.policies\n\n\nimport "./d.orch" as d\nresource r { kind pool }\n\n\n\ncontext { t: number }';
    expect(fmt(input)).toBe('module a.b\n\nimport std.policies\nimport "./d.orch" as d\n\nresource r {\n  kind pool\n}\n\ncontext {\n  t: number\n}\n');
  });

  it('lays a plan out as properties, steps, then results', () => {
    const input = `plan p { output { n: 1 } step a = wait 1s success "ok": a.completed goal "G" policy lean
      for each r in input.rs parallel 2 { step s = send(to: r) { after a on edge compensate undo(to: r) retry 2 } } }`;
    expect(fmt(input)).toBe(
      [
        'plan p {',
        '  goal "G"',
        '  policy lean',
        '',
        '  step a = wait 1s',
        '  for each r in input.rs parallel 2 {',
        '    step s = send(to: r) {',
        '      after a',
        '      on edge',
        '      retry 2',
        '      compensate undo(to: r)',
        '    }',
        '  }',
        '',
        '  success "ok": a.completed',
        '  output { n: 1 }',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('prints a sub-plan run without parentheses when it has no arguments', () => {
    expect(fmt('plan p { step a = run q() step b = run q(x: 1) }')).toBe('plan p {\n  step a = run q\n  step b = run q(x: 1)\n}\n');
  });

  it('prints triggers one property per line and short invariants on one line', () => {
    expect(fmt('trigger t { event "leak" where event.severity >= 3 run respond with { s: event.id } debounce 30s }')).toBe(
      'trigger t {\n  event "leak" where event.severity >= 3\n  run respond with { s: event.id }\n  debounce 30s\n}\n',
    );
    expect(fmt('invariant i {always a.started implies b.completed}')).toBe('invariant i { always a.started implies b.completed }\n');
  });

  it('puts spaces around binary operators and keeps the parentheses as written', () => {
    expect(fmtExpr('a+b*c')).toBe('a + b * c');
    expect(fmtExpr('(a+b)*c')).toBe('(a + b) * c');
    expect(fmtExpr('a+(b*c)')).toBe('a + (b * c)');
    expect(fmtExpr('not(a)and-b<=-(-c)')).toBe('not (a) and -b <= -(-c)');
    expect(fmtExpr('a??b in[1,2]')).toBe('a ?? b in [1, 2]');
    expect(fmtExpr('x.y[0].z')).toBe('x.y[0].z');
  });

  it('adds the parentheses a hand-built tree needs', () => {
    const n = (name: string): Expr => ({ kind: 'NameExpr', name, range: NO_RANGE });
    const bin = (op: '+' | '*' | 'implies' | '==', left: Expr, right: Expr): Expr => ({ kind: 'BinaryExpr', op, left, right, range: NO_RANGE });
    const cases: [Expr, string][] = [
      [bin('*', bin('+', n('a'), n('b')), n('c')), '(a + b) * c'],
      [bin('+', n('a'), bin('+', n('b'), n('c'))), 'a + (b + c)'],
      [bin('implies', bin('implies', n('a'), n('b')), n('c')), '(a implies b) implies c'],
      [bin('implies', n('a'), bin('implies', n('b'), n('c'))), 'a implies b implies c'],
      [bin('==', bin('==', n('a'), n('b')), n('c')), '(a == b) == c'],
      [{ kind: 'MemberExpr', object: bin('+', n('a'), n('b')), property: { kind: 'Ident', name: 'c', range: NO_RANGE }, range: NO_RANGE }, '(a + b).c'],
      [{ kind: 'UnaryExpr', op: '-', operand: { kind: 'UnaryExpr', op: '-', operand: n('a'), range: NO_RANGE }, range: NO_RANGE }, '- -a'],
    ];
    for (const [expr, text] of cases) {
      const module: Module = {
        kind: 'Module', file: 'x.orch', imports: [], comments: [], range: NO_RANGE,
        declarations: [{ kind: 'InvariantDecl', name: { kind: 'Ident', name: 'x', range: NO_RANGE }, modality: 'always', condition: expr, range: NO_RANGE }],
      };
      const printed = print(module);
      expect(printed).toBe(`invariant x { always ${text} }\n`);
      expect(parse({ file: 'x.orch', text: printed }).diagnostics).toEqual([]);
    }
  });

  it('re-escapes strings and keeps interpolations', () => {
    expect(fmtExpr('"say \\"hi\\"\\t\\\\ ${ user.name } costs \\${literal} $5"')).toBe('"say \\"hi\\"\\t\\\\ ${user.name} costs \\${literal} $5"');
    expect(escapeStringText('a"b\\c\nd${e}$f')).toBe('a\\"b\\\\c\\nd\\${e}$f');
  });

  it('prints numbers so they read back as the same value and kind', () => {
    expect(fmtExpr('[1, 1.0, 1.50, 0.05usd, 0.5usd, 12eur, 99.5%, 250ms, 1.5h]')).toBe('[1, 1.0, 1.5, 0.05usd, 0.50usd, 12eur, 99.5%, 250ms, 1.5h]');
    expect(formatNumber(1e21, true)).toBe('1000000000000000000000');
    expect(formatNumber(1e-7, false)).toBe('0.0000001');
    expect(formatNumber(3, false)).toBe('3.0');
  });

  it('wraps long argument lists and records at 100 columns, one element per line', () => {
    const input = `plan p { step s = send(recipient: input.customer.email_address, subject: "Quarterly report", body: render.output.html) }`;
    expect(fmt(input)).toBe(
      [
        'plan p {',
        '  step s = send(',
        '    recipient: input.customer.email_address,',
        '    subject: "Quarterly report",',
        '    body: render.output.html',
        '  )',
        '}',
        '',
      ].join('\n'),
    );
    const short = 'plan p {\n  step s = send(to: a, subject: "Hi")\n}\n';
    expect(fmt(short)).toBe(short);
  });

  it('gives an empty file back empty and ends every other file with one newline', () => {
    expect(fmt('')).toBe('');
    expect(fmt('// only a comment')).toBe('// only a comment\n');
    expect(fmt('resource r { kind pool }\n\n\n')).toBe('resource r {\n  kind pool\n}\n');
  });

  it('normalizes line endings, a byte-order mark, tabs and trailing spaces (also in comments and docs)', () => {
    const input = '\uFEFF/// doc   \r\ncapability c {\r\n\tkind tool   // k   \r\n  /* multi\r\n     line */\r\n}\r\n';
    expect(fmt(input)).toBe('/// doc\ncapability c {\n  kind tool // k\n  /* multi\n     line */\n}\n');
  });

  it('refuses to format text with syntax errors', () => {
    const broken = 'plan p { step = }';
    const result = format('broken.orch', broken);
    expect(result.changed).toBe(false);
    expect(result.text).toBe(broken);
    expect(result.diagnostics.some((d) => d.code === 'E0001')).toBe(true);
  });
});

describe('keywords as field names', () => {
  it('print as written; in a context block a comma ends a default before a field named by an operator word', () => {
    expect(fmt('context { n: int = 1, in: string, not: bool = true, or: int, and: int }')).toBe(
      'context {\n  n: int = 1,\n  in: string\n  not: bool = true,\n  or: int\n  and: int\n}\n',
    );
    expect(fmt('capability c { kind tool input { in: string } output { true: int } }\nplan p { step a = c(in: "x") output { not: a.output.true } }\n')).toBe(
      'capability c {\n  kind tool\n  input { in: string }\n  output { true: int }\n}\n\nplan p {\n  step a = c(in: "x")\n\n  output { not: a.output.true }\n}\n',
    );
  });
});
