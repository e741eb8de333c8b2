/**
 * Issue 15 (front end): no input crashes or hangs parse/format. Flat chains of thousands of
 * operators work; deep nesting gets one clean E0001 at the construct; a file of garbage yields
 * a bounded number of diagnostics; numbers the language cannot hold exactly are errors, not
 * silent rewrites; byte-order marks anywhere are whitespace.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { capDiagnostics, diagnostic, format, parse, type Diagnostic, type Expr } from '../index.js';
import { lex, scanString } from '../lexer.js';
import { BracketScan, ExpressionScan, mayNestTooDeep, nestingLimit } from '../nesting.js';

const plan = (expr: string): string => `plan p {\n  input { a: int }\n  output { v: ${expr} }\n}\n`;
const internal = (ds: readonly Diagnostic[]): Diagnostic[] => ds.filter((d) => /^internal \w+ error/.test(d.message));

function outputExpr(text: string): Expr {
  const m = parse({ file: 'x.orch', text }).module;
  const p = m.declarations[0];
  if (p?.kind !== 'PlanDecl' || p.output?.kind !== 'RecordLit') throw new Error('no output record');
  return p.output.fields[0]!.value;
}

/** Links of the left spine of a chain. */
function chainLength(e: Expr): number {
  let n = 0;
  for (let cur: Expr = e; cur.kind === 'BinaryExpr' || cur.kind === 'MemberExpr'; n++) cur = cur.kind === 'BinaryExpr' ? cur.left : cur.object;
  return n;
}

describe('flat chains of thousands of operators', () => {
  const cases: [string, string, number][] = [
    ['a + chain', Array(5000).fill('1').join(' + '), 4999],
    ['a ?? chain', Array(5000).fill('input.a').join(' ?? '), 5000],
    ['a member chain', `input${'.a'.repeat(5000)}`, 5000],
    ['an and/or chain', Array(3000).fill('true').join(' and ') + ' or false', 3000],
  ];
  for (const [what, expr, links] of cases) {
    it(`${what} parses to a left-nested tree, formats, and formats idempotently`, () => {
      const text = plan(expr);
      const p = parse({ file: 'x.orch', text });
      expect(p.diagnostics).toEqual([]);
      expect(chainLength(outputExpr(text))).toBe(links);
      const f = format('x.orch', text);
      expect(f.refused).toBeUndefined();
      expect(f.diagnostics).toEqual([]);
      const again = format('x.orch', f.text);
      expect(again.refused).toBeUndefined();
      expect(again.text).toBe(f.text);
      // Long operator chains break one operand per line after the first line.
      if (!what.includes('member')) expect(f.text.split('\n').length).toBeGreaterThan(10);
    });
  }
});

describe('deep nesting is one clean E0001 at the construct', () => {
  const cases: [string, string, RegExp][] = [
    ['not not …', plan(`${'not '.repeat(5000)}true`), /expression nested more than 200 levels deep/],
    ['- - …', plan(`${'- '.repeat(5000)}1`), /expression nested more than 200 levels deep/],
    ['----1', plan(`${'-'.repeat(5000)}1`), /expression nested more than 200 levels deep/],
    ['implies chains (right-associative)', plan(Array(3000).fill('true').join(' implies ')), /expression nested more than 200 levels deep/],
    ['"${"${…', plan(`${'"${'.repeat(1000)}1${'}"'.repeat(1000)}`), /interpolations nested more than 16 levels deep/],
    ['list<list<…', `plan p {\n  input { a: ${'list<'.repeat(1000)}int${'>'.repeat(1000)} }\n}\n`, /type arguments nested more than 100 levels deep/],
    ['brackets', plan(`${'('.repeat(1000)}1${')'.repeat(1000)}`), /brackets nested more than 100 levels deep/],
    ['parentheses inside an interpolation', plan(`"\${${'('.repeat(500)}1${')'.repeat(500)}}"`), /brackets nested more than 100 levels deep/],
    ['prefixes inside brackets inside brackets', plan(`${'(not not not not '.repeat(90)}true${')'.repeat(90)}`), /expression nested more than 200 levels deep/],
  ];
  for (const [what, text, message] of cases) {
    it(what, () => {
      const p = parse({ file: 'x.orch', text });
      expect(internal(p.diagnostics)).toEqual([]);
      const hits = p.diagnostics.filter((d) => message.test(d.message));
      expect(hits.length, p.diagnostics.map((d) => d.message).join('\n')).toBeGreaterThanOrEqual(1);
      expect(hits[0]!.code).toBe('E0001');
      // At the construct: inside the output expression / the input type, not at the file start.
      expect(hits[0]!.range.start.line).toBeGreaterThan(1);
      const f = format('x.orch', text);
      expect(f.changed).toBe(false);
      expect(f.refused).toBeUndefined();
    });
  }

  it('nesting below the limits is accepted on both parse paths', () => {
    const text = plan(`${'not '.repeat(150)}true`);
    expect(parse({ file: 'x.orch', text }).diagnostics).toEqual([]);
    const parens = plan(`${'('.repeat(90)}1${')'.repeat(90)}`);
    expect(parse({ file: 'x.orch', text: parens }).diagnostics).toEqual([]);
  });
});

describe('the nesting bound of the direct parse', () => {
  const args = (n: number, arg: string) => Array.from({ length: n }, (_, i) => `  step s${i} = f(x: ${arg})`).join('\n');
  it('side by side, interpolations and prefixes do not add up (a large plan keeps the fast path)', () => {
    const text = `plan p {\n${args(5000, '"${a} ${b}"')}\n${args(5000, 'not not not a')}\n}\n`;
    expect(mayNestTooDeep(lex(text).tokens)).toBe(false);
  });
  it('nested, they do', () => {
    expect(mayNestTooDeep(lex(plan(`${'(not not not not '.repeat(40)}true${')'.repeat(40)}`)).tokens)).toBe(true);
    expect(mayNestTooDeep(lex(plan(Array(300).fill('true').join(' implies '))).tokens)).toBe(true);
  });
  // parse.ts scans a large file's tokens a chunk at a time.
  it('scanned in two parts, cut anywhere, the bounds say what they say of the whole list', () => {
    const texts = [
      plan(`${'(not not not not '.repeat(40)}true${')'.repeat(40)}`),
      plan(`${'['.repeat(101)}1${']'.repeat(101)}`),
      `type t = ${'list<'.repeat(101)}int${'>'.repeat(101)}\n`,
      plan(`${'('.repeat(90)}1${')'.repeat(90)}`),
    ];
    for (const text of texts) {
      const tokens = lex(text).tokens;
      const whole = [nestingLimit(tokens), mayNestTooDeep(tokens)];
      for (let cut = 0; cut <= tokens.length; cut += 7) {
        const brackets = new BracketScan();
        const expressions = new ExpressionScan();
        const first = [brackets.scan(tokens.slice(0, cut)), expressions.scan(tokens.slice(0, cut))] as const;
        const parts = [first[0] ?? brackets.scan(tokens.slice(cut)), first[1] || expressions.scan(tokens.slice(cut))];
        expect(parts, `${text.slice(0, 40)} cut at ${cut}`).toEqual(whole);
      }
    }
  });
});

describe('a file of garbage gives a bounded number of diagnostics', () => {
  it('50,000 stray `*` after `${`', () => {
    const text = plan(`"\${${'*'.repeat(50_000)}}"`);
    const p = parse({ file: 'x.orch', text });
    expect(p.diagnostics.length).toBeGreaterThanOrEqual(1);
    expect(p.diagnostics.length).toBeLessThanOrEqual(101);
  });

  it('thousands of bad declarations: 100 errors, then one that counts the rest', () => {
    const text = 'plan p { x }\n'.repeat(3000);
    const p = parse({ file: 'x.orch', text });
    expect(p.diagnostics).toHaveLength(101);
    expect(p.diagnostics[100]!.message).toMatch(/^\d+ more errors not shown \(at most 100 per file\)/);
    expect(p.diagnostics[100]!.severity).toBe('error');
  });

  it('25,000 stray `*` in an expression', () => {
    const p = parse({ file: 'x.orch', text: plan('* '.repeat(25_000)) });
    expect(p.diagnostics.length).toBeGreaterThanOrEqual(1);
    expect(p.diagnostics.length).toBeLessThanOrEqual(101);
  });

  it('capDiagnostics keeps the first 100 of each file and counts the rest', () => {
    const r = { start: { line: 1, column: 1, offset: 0 }, end: { line: 1, column: 1, offset: 0 } };
    const ds = [...Array(150)].map((_, i) => diagnostic(i % 2 ? 'E0201' : 'W0601', `d${i}`, i < 120 ? 'a.orch' : 'b.orch', r));
    const out = capDiagnostics(ds);
    expect(out.filter((d) => d.file === 'a.orch')).toHaveLength(101);
    expect(out.filter((d) => d.file === 'b.orch')).toHaveLength(30);
    expect(out.find((d) => d.message.startsWith('20 more problems'))?.file).toBe('a.orch');
    expect(capDiagnostics(ds.slice(0, 100))).toHaveLength(100);
  });
});

describe('the formatter is linear', () => {
  it('a doc comment holding 40,000 spaces formats (trailing spaces dropped, inner ones kept)', () => {
    const text = `/// a${' '.repeat(40_000)}b${' '.repeat(10)}\nplan p {\n}\n`;
    const f = format('x.orch', text);
    expect(f.refused).toBeUndefined();
    expect(f.text).toBe(`/// a${' '.repeat(40_000)}b\nplan p {}\n`);
  });

  it('a 20,000-step plan formats to a fixed point', { timeout: 120_000 }, () => {
    const steps = [...Array(20_000)].map((_, i) => `  step s${i} = wait ${i + 1}s`).join('\n');
    const text = `plan big {\n${steps}\n}\n`;
    const f = format('x.orch', text);
    expect(f.refused).toBeUndefined();
    expect(f.changed).toBe(false);
  });
});

describe('numbers', () => {
  it('integers above 2^53 - 1 are an E0001, not a silent rewrite; fmt leaves the file alone', () => {
    for (const digits of ['123456789012345678901234567890', '9007199254740993', '1'.repeat(400)]) {
      for (const lit of [digits, `${digits}.5`, `${digits}s`, `${digits}usd`, `${digits}%`]) {
        const text = plan(lit);
        const p = parse({ file: 'x.orch', text });
        expect(p.diagnostics.map((d) => d.code), lit).toEqual(['E0001']);
        expect(p.diagnostics[0]!.message).toMatch(/is too large: whole parts above 9007199254740991/);
        const f = format('x.orch', text);
        expect(f.changed).toBe(false);
        expect(f.refused).toBeUndefined();
      }
    }
  });

  it('leading zeros are not significant digits: only the value of the whole part is too large or not', () => {
    const tooLarge = ['0009007199254740993', '0'.repeat(40) + '12345678901234567'];
    const fine = ['0009007199254740991', '0'.repeat(40), '0'.repeat(40) + '1234567890123456', '0.5', '00.0000000000000000000001'];
    for (const digits of [...tooLarge, ...fine]) {
      for (const lit of [digits, `${digits}s`, `${digits}usd`, `${digits}%`]) {
        const p = parse({ file: 'x.orch', text: plan(lit) });
        expect(p.diagnostics.map((d) => d.code), lit).toEqual(tooLarge.includes(digits) ? ['E0001'] : []);
      }
    }
  });

  it('2^53 - 1 and tiny decimals are kept exactly by fmt', () => {
    for (const lit of ['9007199254740991', '0.000000000000000000000001', '0.00000015', '123.25']) {
      const text = plan(lit);
      expect(parse({ file: 'x.orch', text }).diagnostics).toEqual([]);
      const f = format('x.orch', text);
      expect(f.refused).toBeUndefined();
      expect(f.text).toContain(`v: ${lit} }`);
    }
  });
});

describe('byte-order marks anywhere', () => {
  const cases = [
    '\uFEFFplan p {\n}\n',
    '/// doc\n\uFEFF\nplan p {\n}\n',
    '/// doc\n\uFEFFplan p {\n}\n',
    'plan p {\n  goal "x"\uFEFF\n}\n',
    '/// doc\n\f\nplan p {\n}\n',
  ];
  for (const text of cases) {
    it(JSON.stringify(text), () => {
      const p = parse({ file: 'x.orch', text });
      expect(p.diagnostics).toEqual([]);
      const f = format('x.orch', text);
      expect(f.refused).toBeUndefined();
      expect(f.text).not.toContain('\uFEFF');
      expect(format('x.orch', f.text).text).toBe(f.text);
    });
  }
  it('a doc comment before a BOM line still documents the declaration', () => {
    const m = parse({ file: 'x.orch', text: '/// doc\n\uFEFF\nplan p {\n}\n' }).module;
    expect(m.declarations[0]?.doc).toBe('doc');
  });
});

/**
 * The recursive scanner the iterative one replaced: the reference for what strings are. A string
 * in an interpolation left open at its line end is read as closing the string around the
 * interpolation: at the interpolation's first quote when the quotes scanned after it pair up
 * (`"a ${x", n: {a: 1})`), else at its own quote when no `}` follows it on its line (`"x ${"`).
 */
function referenceScan(text: string, start: number): number {
  /** Quotes scanned inside interpolations, opening or closing a string. */
  let seen = 0;
  /** Where the string opened at `i0` ends, and whether at its closing quote. */
  const scanStr = (i0: number): [number, boolean] => {
    let i = i0 + 1;
    while (i < text.length) {
      const c = text[i];
      if (c === '"') {
        if (i0 !== start) seen++;
        return [i + 1, true];
      }
      if (c === '\n' || c === '\r') return [i, false];
      if (c === '\\') {
        if (text[i + 1] === '\n' || text[i + 1] === '\r') return [i + 1, false];
        i += 2;
        continue;
      }
      if (c === '$' && text[i + 1] === '{') {
        const [end, closesAt] = scanInterp(i + 2);
        if (closesAt !== undefined) return [closesAt, true];
        i = end;
        continue;
      }
      i++;
    }
    return [Math.min(i, text.length), false];
  };
  /** Where the interpolation from `s` ends; with a second value, where the string around it closes instead. */
  const scanInterp = (s: number): [number, number?] => {
    let depth = 1;
    let i = s;
    let first = -1;
    let before = 0;
    while (i < text.length) {
      const c = text[i];
      if (c === '\n' || c === '\r') return [i];
      if (c === '"') {
        const q = i;
        if (first < 0) [first, before] = [q, seen];
        seen++;
        const [end, closed] = scanStr(i);
        i = end;
        if (!closed && (seen - before) % 2 === 1) return [first, first + 1];
        if (!closed) return text.slice(q + 1, end).includes('}') ? [i] : [q, q + 1];
        continue;
      }
      if (c === '{') depth++;
      if (c === '}') {
        depth--;
        if (depth === 0) return [i + 1];
      }
      i++;
    }
    return [i];
  };
  return scanStr(start)[0];
}

describe('string scanning without recursion', () => {
  it('ends every string where the recursive scanner did', () => {
    const chars = fc.constantFrom('"', '$', '{', '}', '\\', '\n', 'a', ' ', '${', '"${');
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 40 }), (parts) => {
        const text = `"${parts.join('')}`;
        expect(scanString(text, 0)).toBe(referenceScan(text, 0));
      }),
      { numRuns: 3000 },
    );
  });

  it('scans strings nested 20,000 deep', () => {
    const text = `${'"${'.repeat(20_000)}${'}"'.repeat(20_000)}`;
    expect(scanString(text, 0)).toBe(text.length);
  });
});
