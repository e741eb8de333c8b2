/** Offset ↔ line/column conversion and code frames. */
import { describe, expect, it } from 'vitest';
import { codeFrame, LineIndex } from '../source.js';

describe('LineIndex', () => {
  it('maps offsets to 1-based positions across \\n, \\r\\n and lone \\r', () => {
    const idx = new LineIndex('ab\ncd\r\nef\rgh');
    expect(idx.positionAt(0)).toEqual({ line: 1, column: 1, offset: 0 });
    expect(idx.positionAt(2)).toEqual({ line: 1, column: 3, offset: 2 });
    expect(idx.positionAt(3)).toEqual({ line: 2, column: 1, offset: 3 });
    expect(idx.positionAt(7)).toEqual({ line: 3, column: 1, offset: 7 });
    expect(idx.positionAt(10)).toEqual({ line: 4, column: 1, offset: 10 });
    expect(idx.lineCount).toBe(4);
    expect([1, 2, 3, 4].map((l) => idx.lineText(l))).toEqual(['ab', 'cd', 'ef', 'gh']);
    expect(idx.offsetAt(2, 2)).toBe(4);
  });

  it('clamps offsets outside the text and returns the same position for the same offset', () => {
    const idx = new LineIndex('abc');
    expect(idx.positionAt(-5)).toEqual({ line: 1, column: 1, offset: 0 });
    expect(idx.positionAt(99)).toEqual({ line: 1, column: 4, offset: 3 });
    expect(idx.positionAt(Number.NaN).offset).toBe(3);
    expect(idx.positionAt(1)).toBe(idx.positionAt(1));
  });

  it('answers lookups in any order', () => {
    const text = Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\n');
    const idx = new LineIndex(text);
    for (const o of [200, 3, 150, 0, text.length, 77]) {
      const p = idx.positionAt(o);
      expect(text.slice(0, o).split('\n').length).toBe(p.line);
      expect(o - text.lastIndexOf('\n', o - 1)).toBe(p.column);
    }
  });
});

describe('codeFrame', () => {
  it('shows the line with a caret underline under the range', () => {
    const text = 'capability c {\n  kind robot\n}';
    const idx = new LineIndex(text);
    const at = text.indexOf('robot');
    expect(codeFrame(idx, idx.range(at, at + 5))).toBe('2 |   kind robot\n  |        ^^^^^');
  });

  it('lines the carets up under wide characters (CJK, emoji) and combining marks', () => {
    const cjk = 'log(message: "日本語", lvl: 1)';
    const idx = new LineIndex(cjk);
    const at = cjk.indexOf('lvl');
    // Each ideograph is one UTF-16 unit but two terminal cells.
    expect(codeFrame(idx, idx.range(at, at + 3))).toBe(`1 | ${cjk}\n  | ${' '.repeat(at + 3)}^^^`);
    const wide = 'x = "日本" + 1';
    const w = new LineIndex(wide);
    expect(codeFrame(w, w.range(5, 7))).toBe(`1 | ${wide}\n  | ${' '.repeat(5)}^^^^`);
    const accent = 'x = "e\u0301" + y';
    const a = new LineIndex(accent);
    const y = accent.indexOf('y');
    expect(codeFrame(a, a.range(y, y + 1))).toBe(`1 | ${accent}\n  | ${' '.repeat(y - 1)}^`);
    const emoji = 'x = "😀" + y';
    const e = new LineIndex(emoji);
    const ey = emoji.indexOf('y');
    expect(codeFrame(e, e.range(ey, ey + 1))).toBe(`1 | ${emoji}\n  | ${' '.repeat(ey)}^`);
  });

  it('draws one caret for an empty range and keeps tabs aligned', () => {
    const idx = new LineIndex('\tx = ');
    expect(codeFrame(idx, idx.range(5, 5))).toBe('1 | \tx = \n  | \t    ^');
  });
});
