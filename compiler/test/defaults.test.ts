/**
 * Defaults are values of their field's type (LANGUAGE.md §3 `{ other: T = default }`): in a type
 * alias, a capability's input and a plan's input, a mismatch is E0201 (E0203 between units) at
 * the default, once; a fitting default checks clean.
 */
import { describe, expect, it } from 'vitest';
import { checkText, covered } from './helpers.js';

const errorsAt = (text: string) => checkText(text).filter((d) => d.severity === 'error').map((d) => [d.code, covered(text, d)]);

const program = (typeFields: string, capFields: string, planFields: string) => `
type R = { ${typeFields} }
capability c {
  kind tool
  input { ${capFields}, r: R? }
  output { n: int }
  handler "./h.js#h"
}
plan q {
  input { ${planFields} }
  step a = c(n: input.n)
}
`;

describe('default values', () => {
  it('defaults of their field type check clean', () => {
    const text = program('a: money = 5usd, e: "x" | "y" = "x", l: list<int> = [1, 2], o: string? = null, em: list<string> = []', 'n: int, t: duration = 30s, p: number = 2', 'n: int = 3, m: percent = 80%');
    expect(errorsAt(text)).toEqual([]);
  });

  it('a default of another type is E0201 at the default (at the item of a list), in a type, a capability input and a plan input', () => {
    const text = program('e: "x" | "y" = "z", l: list<int> = ["q"]', 'n: int, s: string = 1', 'n: int = "x"');
    expect(errorsAt(text)).toEqual([
      ['E0201', '"z"'],
      ['E0201', '"q"'],
      ['E0201', '1'],
      ['E0201', '"x"'],
    ]);
  });

  it('a default of another unit is E0203', () => {
    const text = program('a: money = 5s', 'n: int, t: duration = 2usd', 'n: int');
    expect(errorsAt(text)).toEqual([
      ['E0203', '5s'],
      ['E0203', '2usd'],
    ]);
  });
});

describe('which code a mismatch of numbers gets', () => {
  const call = (args: string) => `
capability c {
  kind tool
  input { i: int?, d: duration?, m: money? }
  output { n: int }
  handler "./h.js#h"
}
plan q {
  step a = c(${args})
}
`;
  it('a fraction for an int is a type mismatch (E0201); a plain number for a duration is a unit mismatch (E0203)', () => {
    expect(errorsAt(call('i: 1.5'))).toEqual([['E0201', '1.5']]);
    expect(errorsAt(call('d: 5'))).toEqual([['E0203', '5']]);
    expect(errorsAt(call('m: 30s'))).toEqual([['E0203', '30s']]);
  });
});
