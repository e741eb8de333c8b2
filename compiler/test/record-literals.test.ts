/**
 * A record written in a call carries only its parameter type's fields (E0201 at the unknown key,
 * with a suggestion), also inside lists and nested records; a map takes any key, and a value
 * read from a step's output may carry more fields than the parameter needs.
 */
import { describe, expect, it } from 'vitest';
import { checkText, covered } from './helpers.js';

const program = (args: string) => `
type Person = { name: string, email: string, age: int = 30 }
capability c {
  kind tool
  input { p: Person?, ps: list<Person>?, m: map<int>?, nest: { who: Person }? }
  output { n: int }
  handler "./h.js#h"
}
capability d {
  kind tool
  input { n: int }
  output { name: string, email: string, extra: int }
  handler "./h.js#h"
}
plan q {
  step s = d(n: 1)
  step a = c(${args})
}
`;

const errorsAt = (text: string) => checkText(text).filter((d) => d.severity === 'error').map((d) => [d.code, covered(text, d), d.message]);

describe('record literals in calls', () => {
  it('fields of the type, any key of a map and a wider step output check clean', () => {
    expect(errorsAt(program('p: { name: "n", email: "e" }, m: { a: 1, b: 2 }'))).toEqual([]);
    expect(errorsAt(program('p: s.output'))).toEqual([]);
  });

  it('an unknown field is E0201 at its key, in a record, a list of records and a nested record', () => {
    const text = program('p: { name: "n", email: "e", bogus: 1 }, ps: [{ name: "x", email: "z", agee: 3 }], nest: { who: { name: "a", email: "b", x: 1 } }');
    expect(errorsAt(text)).toEqual([
      ['E0201', 'bogus', expect.stringContaining('unknown field "bogus"')],
      ['E0201', 'agee', expect.stringContaining('did you mean "age"?')],
      ['E0201', 'x', expect.stringContaining('unknown field "x"')],
    ]);
  });
});

describe('list literals whose items have no one type', () => {
  const text = (args: string) => `
capability c {
  kind tool
  input { l: list<int>?, a: list<any>?, n: list<number>?, o: list<string?>? }
  output { n: int }
  handler "./h.js#h"
}
plan q {
  step a = c(${args})
}
`;

  it('fit a list<any>, and a list whose type every item fits', () => {
    expect(errorsAt(text('a: [1, "a", true], n: [1, 2.5, 3], o: ["x", null]'))).toEqual([]);
  });

  it('are E0201 where a list of one type is expected, naming the item types', () => {
    const t = text('l: [1, "a"]');
    expect(errorsAt(t)).toEqual([['E0201', '[1, "a"]', expect.stringContaining('got a list of int, string')]]);
    expect(errorsAt(text('l: ["a", 1]'))).toHaveLength(1);
  });
});
