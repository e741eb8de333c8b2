/**
 * Formatting a piece at a time (format-pieces.ts) answers exactly as formatting the whole file:
 * `format` and `checkFormatted` with pieces of one character (a cut at every place the file
 * allows) against no pieces at all, on the fixtures (comments, `///` docs, imports), on
 * generated modules laid out badly, and on files a piece of which cannot stand alone; and the
 * layout-only check that spares most re-parsing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkFormatted, format, sameTokens } from '../format.js';
import { pieceBounds } from '../format-pieces.js';
import { arbModuleText } from './arbitraries.js';

const RUNS = Math.max(30, Math.round(Number(process.env.ORCH_PROPERTY_RUNS ?? 300) / 5));
const PIECES = { pieceChars: 1 };
const WHOLE = { pieceChars: Number.POSITIVE_INFINITY };

const fixtures = new URL('./fixtures/', import.meta.url);
const sources = readdirSync(fixtures).filter((f) => f.endsWith('.orch')).map((f) => readFileSync(new URL(f, fixtures), 'utf8'));
/** The fixtures as one file: one `module` line and the imports would keep it in one piece. */
const joined = sources.map((t) => t.replace(/^(module|import)\b.*$/gm, '')).join('\n');

/** The same tokens laid out badly: no blank lines, no indentation. */
const squashed = (text: string): string => text.replace(/\n\s*\n/g, '\n').replace(/\n[ \t]+/g, '\n');

function expectSameAnswers(text: string): void {
  expect(format('m.orch', text, PIECES)).toEqual(format('m.orch', text, WHOLE));
  expect(checkFormatted('m.orch', text, PIECES)).toEqual(checkFormatted('m.orch', text, WHOLE));
}

describe('formatting a piece at a time', () => {
  it('cuts only before a declaration that follows a line `}` at column 0, into pieces of at least the size', () => {
    const text = 'plan a {\n  x {\n  }\n}\nplan b {\n}\n\n\nresource r {\n}\n// c\nplan c {}\n';
    expect(pieceBounds(text, 1)).toEqual([0, text.indexOf('\nplan b'), text.indexOf('\n\n\nresource'), text.length]);
    expect(pieceBounds(text, 25)).toEqual([0, text.indexOf('\n\n\nresource'), text.length]);
    expect(pieceBounds(text, 1000)).toEqual([0, text.length]);
  });

  it('answers as the whole-file path on the fixtures: as written, formatted, joined, squashed, CRLF', () => {
    const texts = [...sources, joined, squashed(joined), joined.replace(/\n/g, '\r\n')];
    expect(pieceBounds(joined, 1).length).toBeGreaterThan(10);
    for (const text of texts) {
      expectSameAnswers(text);
      const tidy = format('m.orch', text, PIECES);
      expect(tidy.refused).toBeUndefined();
      expectSameAnswers(tidy.text);
      expect(format('m.orch', tidy.text, PIECES).changed).toBe(false);
    }
  });

  it('falls back to the whole file when a piece cannot stand alone or has an error', () => {
    // A `}` at column 0 that closes a nested block: the piece before it lacks its closing brace.
    const odd = 'plan a {\n  step s = f() {\n    timeout 1s\n}\nplan b {}\n}\nplan c {}\n';
    const late = `${joined}\nplan broken {\n  step = \n}\n`;
    for (const text of [odd, late, `module m\n${joined}`, `${joined}\nimport std.http\n`]) expectSameAnswers(text);
    expect(checkFormatted('m.orch', late, PIECES).diagnostics.length).toBeGreaterThan(0);
  });

  it('generated modules, laid out badly, format as a whole and idempotently (property)', () => {
    fc.assert(
      fc.property(fc.array(arbModuleText, { minLength: 2, maxLength: 4 }), (texts) => {
        const text = squashed(texts.map((t) => t.replace(/^(module|import)\b.*$/gm, '')).join('\n'));
        expectSameAnswers(text);
        const once = format('m.orch', text, PIECES);
        expect(once.refused).toBeUndefined();
        expect(format('m.orch', once.text, PIECES)).toMatchObject({ text: once.text, changed: false });
        expect(checkFormatted('m.orch', once.text, PIECES).changed).toBe(false);
      }),
      { numRuns: RUNS },
    );
  }, 180_000);
});

describe('sameTokens (the layout-only check)', () => {
  it('holds for the same tokens and comments laid out differently, and for nothing else', () => {
    const a = 'plan p { // c\n  step s = f(x: 1) /* b */\n}\n';
    expect(sameTokens(a, 'plan p {    // c\n\n      step s = f(\n x: 1) /* b */ }')).toBe(true);
    expect(sameTokens(a, 'plan p { // c\n  step s = f(x: 2) /* b */\n}\n')).toBe(false);
    expect(sameTokens(a, 'plan p { // d\n  step s = f(x: 1) /* b */\n}\n')).toBe(false);
    // A line comment swallowing the code after it: other tokens.
    expect(sameTokens(a, 'plan p { // c step s = f(x: 1) /* b */\n}\n')).toBe(false);
    // Where a `///` documents what follows depends on the lines: never decided by tokens.
    expect(sameTokens('/// d\nplan p {}\n', '/// d\nplan p {}\n')).toBe(false);
    // A text the lexer complains about.
    expect(sameTokens('plan p { goal "x }\n', 'plan p { goal "x }\n')).toBe(false);
  });

  it('skips the lines both texts share without missing what a block comment or a string spans', () => {
    const steps = Array.from({ length: 200 }, (_, i) => `  step s${i} = f(x: ${i})\n`).join('');
    const a = `plan p { input { x: int } output { v: s0.output }\n${steps}}\n`;
    const b = `plan p {\n  input { x: int }\n  output { v: s0.output }\n${steps}}\n`;
    expect(sameTokens(a, b)).toBe(true);
    // A difference among the shared-looking lines, after the texts are back in step.
    expect(sameTokens(a, b.replace('s150 = f(x: 150)', 's150 = f(x: 151)'))).toBe(false);
    // A block comment opened on one line and closed lines later, in one text only: the lines
    // between are the same characters but not the same tokens.
    const opened = b.replace('  step s10 = f(x: 10)\n', '  step s10 = f(x: 10) /*\n').replace('  step s20 = f(x: 20)\n', '  step s20 = f(x: 20) */\n');
    expect(sameTokens(a, opened)).toBe(false);
    // The same comment in both, laid out differently before it.
    const commented = a.replace('  step s10 = f(x: 10)\n', '  step s10 = f(x: 10) /*\n').replace('  step s20 = f(x: 20)\n', '  step s20 = f(x: 20) */\n');
    expect(sameTokens(commented, opened)).toBe(true);
    // A string left open in the formatted text: a lexical problem there.
    expect(sameTokens(a, b.replace('f(x: 30)', 'f(x: "30)'))).toBe(false);
    // A squashed text (no line in common) against the laid-out one, either way round.
    const squashed = b.replace(/\n\s*/g, ' ');
    expect(sameTokens(squashed, b)).toBe(true);
    expect(sameTokens(b, squashed)).toBe(true);
    expect(sameTokens(b, `${squashed} x`)).toBe(false);
  });
});
