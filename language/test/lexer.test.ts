/** Lexical rules (LANGUAGE.md §2) and the editor token stream. */
import { describe, expect, it } from 'vitest';
import { lex } from '../lexer.js';
import { tokenize } from '../index.js';

const kinds = (text: string) => lex(text).tokens.map((t) => `${t.tokenType.name}:${t.image}`);

describe('lexer', () => {
  it('lexes 1..800 as number, range, number (not a decimal)', () => {
    expect(kinds('1..800')).toEqual(['Number:1', 'DotDot:..', 'Number:800']);
    expect(kinds('1s..5s')).toEqual(['Duration:1s', 'DotDot:..', 'Duration:5s']);
    expect(kinds('1.5..2.5')).toEqual(['Number:1.5', 'DotDot:..', 'Number:2.5']);
  });

  it('tells units apart', () => {
    expect(kinds('250ms 30s 5m 2h 1d 0.05usd 12eur 3gbp 80% 7 7.5')).toEqual([
      'Duration:250ms', 'Duration:30s', 'Duration:5m', 'Duration:2h', 'Duration:1d',
      'Money:0.05usd', 'Money:12eur', 'Money:3gbp', 'Percent:80%', 'Number:7', 'Number:7.5',
    ]);
    expect(lex('5min').problems.map((p) => p.message)).toEqual([expect.stringMatching(/unknown unit 'min'/)]);
  });

  it('keeps keywords apart from longer identifiers', () => {
    expect(kinds('require require_consent required max max_fallbacks stepper')).toEqual([
      'Kw_require:require', 'Kw_require_consent:require_consent', 'Identifier:required', 'Kw_max:max',
      'Kw_max_fallbacks:max_fallbacks', 'Identifier:stepper',
    ]);
  });

  it('collects comments, including doc comments, outside the token stream', () => {
    const r = lex('/// doc\n// line\n/* block\n */ plan');
    expect(r.tokens.map((t) => t.image)).toEqual(['plan']);
    expect(r.comments.map((c) => c.tokenType.name)).toEqual(['DocComment', 'LineComment', 'BlockComment']);
  });

  it('ends a string at its first unescaped quote, and at the line end when unterminated', () => {
    expect(lex('"a\\\\" x').tokens.map((t) => t.image)).toEqual(['"a\\\\"', 'x']);
    expect(lex('"a\\" x').problems.map((p) => p.message)).toEqual(['unterminated string (missing closing ")']);
    expect(lex('"${ "}" }" x').tokens.map((t) => t.image)).toEqual(['"${ "}" }"', 'x']);
    expect(lex('"abc\nplan').tokens.map((t) => t.image)).toEqual(['"abc', 'plan']);
  });

  it('stores three fields a token (end and type index follow from them); an end set by hand is kept', () => {
    const [step, name, , num] = lex('step run_a = 12.5').tokens;
    expect(Object.keys(step!)).toEqual(['image', 'startOffset', 'tokenType']);
    expect([step!.endOffset, step!.tokenTypeIdx]).toEqual([3, step!.tokenType.tokenTypeIdx]);
    expect([name!.image, name!.startOffset, name!.endOffset, num!.endOffset]).toEqual(['run_a', 5, 9, 16]);
    num!.startOffset += 100; // an interpolation's tokens are moved to their place in the file
    expect(num!.endOffset).toBe(116);
    name!.endOffset = 42;
    expect([name!.endOffset, name!.startOffset]).toEqual([42, 5]);
  });

  it('reports unexpected characters and an unterminated block comment', () => {
    expect(lex('plan é {}').problems.map((p) => p.message)).toEqual(["unexpected character 'é' (names are ASCII letters, digits and _; other text goes in a \"string\")"]);
    expect(lex('plan /* never closed').problems.map((p) => p.message)).toEqual(["unterminated block comment (missing '*/')"]);
  });

  it('names an invisible character by its code point (a no-break space pasted from a web page, a zero-width space)', () => {
    expect(lex('plan\u00A0p {}').problems.map((p) => p.message)).toEqual(['unexpected character U+00A0 (a no-break space; write a plain space)']);
    expect(lex('plan p {\u2028}').problems.map((p) => p.message)).toEqual(['unexpected character U+2028 (a line separator; write a plain newline)']);
    expect(lex('plan p\u200B {}').problems.map((p) => p.message)).toEqual(['unexpected character U+200B (an invisible character; delete it)']);
    expect(lex('plan p\u0007 {}').problems.map((p) => p.message)).toEqual(['unexpected character U+0007 (an invisible character; delete it)']);
  });
});

describe('tokenize (for editors)', () => {
  it('returns every token and comment with type and range', () => {
    const toks = tokenize('/// d\nplan p { step cost = f(x: 1s) } // c');
    expect(toks.map((t) => [t.type, t.image])).toEqual([
      ['docComment', '/// d'], ['keyword', 'plan'], ['name', 'p'], ['punctuation', '{'], ['keyword', 'step'], ['keyword', 'cost'],
      ['punctuation', '='], ['name', 'f'], ['punctuation', '('], ['name', 'x'], ['punctuation', ':'], ['duration', '1s'],
      ['punctuation', ')'], ['punctuation', '}'], ['comment', '// c'],
    ]);
    expect(toks[1]!.range).toMatchObject({ start: { line: 2, column: 1, offset: 6 }, end: { line: 2, column: 5, offset: 10 } });
    expect(toks[5]!.soft).toBe(true);
  });
});
