/**
 * Holes found probing LANGUAGE.md §3 (types) against the checker: each is one mistake reported
 * once, where it is, and never a value of one type silently taken for another.
 */
import { describe, expect, it } from 'vitest';
import { checkText, codes, covered } from './helpers.js';

const errors = (text: string) => checkText(text).filter((d) => d.severity === 'error');
const PLAN = (body: string) => `type E = "a" | "b"
plan p {
  input { n: int = 1, o: int?, e: E = "a", oe: E?, s: string? }
${body}
}
`;

describe('§3 `??`: the default is of the value\'s type', () => {
  it('an optional value with a default of another type is E0201 at the `??` (it was accepted)', () => {
    const text = PLAN('  step t = transform(value: input.o ?? "none")');
    const ds = errors(text);
    expect(codes(ds)).toEqual(['E0201']);
    expect(covered(text, ds[0]!)).toBe('input.o ?? "none"');
  });

  it('a mismatched `??` is one error: what it is passed to does not report it again', () => {
    const text = PLAN('  step t = log(message: input.n ?? "y")');
    const ds = errors(text);
    expect(ds.map((d) => d.message)).toEqual(['"??": incompatible types int (input.n) and string (a string)']);
  });

  it('defaults of the same type, a wider number, null, or `any` stay fine', () => {
    const text = PLAN(`  step a = log(message: input.s ?? "x")
  step b = transform(value: input.o ?? 2)
  step c = transform(value: input.o ?? 2.5)
  step d = transform(value: input.o ?? null)
  step f = transform(value: input.oe ?? "b")
  step g = transform(value: input.o ?? input.n)
  step h = transform(value: input.o ?? b.output.value)`);
    expect(errors(text)).toEqual([]);
  });
});

describe('§3 a percentage compares with a plain number, by `==` as by `<`', () => {
  it('`pc == 0.5` and `pc != n` are fine, as `pc > 0.5` is (both are fractions at run time)', () => {
    const text = `plan p {
  input { pc: percent = 10%, n: number = 0.5 }
  step a = log(message: "x") when input.pc == 0.5 or input.pc != input.n or input.pc > 0.5 or 0.1 == input.pc or input.pc in [0.1, 0.2]
}
`;
    expect(errors(text)).toEqual([]);
  });

  it('a percentage is still no duration or money, by `==` either', () => {
    const text = `plan p {
  input { pc: percent = 10%, d: duration = 1s }
  step a = log(message: "x") when input.pc == input.d or input.pc == 1usd
}
`;
    expect(codes(errors(text))).toEqual(['E0203', 'E0203']);
  });
});

describe('§9.4 `hold` keeps a derived signal\'s `true`: only a bool signal has one', () => {
  it('`hold` on a derived number is E0201 at the hold (it was accepted and did nothing)', () => {
    const text = `context { t: number, d: number = context.t * 2 hold 5m, b: bool = context.t > 1 hold 5m }
plan p { step s = log(message: "x") }
`;
    const ds = errors(text);
    expect(codes(ds)).toEqual(['E0201']);
    expect(covered(text, ds[0]!)).toBe('5m');
    expect(ds[0]!.message).toContain('"d" is number');
  });
});

describe('§3 an enum value `in` a list of literals: each literal is one of the enum, as with `==`', () => {
  it('`e in ["a", "z"]` is E0201 at "z" with a suggestion (it was accepted; `e == "z"` was not)', () => {
    const text = PLAN('  step t = log(message: "x") when input.e in ["a", "bb"]');
    const ds = errors(text);
    expect(codes(ds)).toEqual(['E0201']);
    expect(covered(text, ds[0]!)).toBe('"bb"');
    expect(ds[0]!.message).toContain('did you mean "b"');
  });
  it('members of the enum, or a list that is no literal, are fine', () => {
    expect(errors(PLAN('  step t = log(message: "x") when input.e in ["a", "b"] and input.oe in ["b"]'))).toEqual([]);
  });
});
