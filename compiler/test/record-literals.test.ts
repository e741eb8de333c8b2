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

describe('string-literal enums inside record and list literals', () => {
  const text = (args: string) => `
type Tier = "gold" | "silver"
capability d {
  kind tool
  input { q: { t: "x" | "y" }?, l: list<"a" | "b">?, p: { tier: Tier }?, ps: list<{ tier: Tier }>?, m: map<Tier>?, s: { t: string }?, w: list<string>? }
  output { x: string, xs: list<string> }
  handler "./h.js#h"
}
plan pe {
  step s = d(${args})
  output { x: s.output.x }
}
`;

  it('a value outside the enum is E0201 at the value, through records, lists, aliases and maps', () => {
    const src = text('q: { t: "zzz" }, l: ["a", "c"], p: { tier: "bronze" }, ps: [{ tier: "gold" }, { tier: "tin" }], m: { k: "lead" }');
    expect(errorsAt(src)).toEqual([
      ['E0201', '"zzz"', 'argument "q" of capability d expects "x" | "y" at q.t, got "zzz"'],
      ['E0201', '"c"', 'argument "l" of capability d expects "a" | "b" at l[1], got "c"'],
      ['E0201', '"bronze"', 'argument "p" of capability d expects "gold" | "silver" at p.tier, got "bronze"'],
      ['E0201', '"tin"', 'argument "ps" of capability d expects "gold" | "silver" at ps[1].tier, got "tin"'],
      ['E0201', '"lead"', 'argument "m" of capability d expects "gold" | "silver" at m.k, got "lead"'],
    ]);
  });

  it('values of the enum, and literals where a plain string is expected, check clean', () => {
    expect(errorsAt(text('q: { t: "y" }, l: ["a", "b"], p: { tier: "gold" }, ps: [{ tier: "gold" }, { tier: "silver" }], m: { k: "gold" }'))).toEqual([]);
    expect(errorsAt(text('s: { t: "anything" }, w: ["c", "d"]'))).toEqual([]);
  });

  it('a list of string literals is a list<string> where no enum is expected; its items, iterated, take the enum of its values', () => {
    const src = `
capability d { kind tool input { w: list<string>, one: "d" | "z" } output { x: string } handler "./h.js#h" }
plan pe {
  step a = d(w: ["c", "d"], one: "d")
  for each v in ["z", "d", "z"] {
    step s = d(w: [v], one: v)
  }
}
`;
    expect(errorsAt(src)).toEqual([]);
  });

  it('a string whose value the compiler cannot know is not an enum: an input string, an item that may be outside it (E0201)', () => {
    const src = `
capability d { kind tool input { one: "d" | "z" } output { x: string } handler "./h.js#h" }
plan pe {
  input { s: string }
  step a = d(one: input.s)
  step b = d(one: "\${input.s}")
  for each v in ["c", "d"] {
    step s = d(one: v)
  }
}
`;
    const errs = checkText(src).filter((d) => d.severity === 'error');
    expect(errs.map((d) => [d.code, covered(src, d)])).toEqual([
      ['E0201', 'input.s'],
      ['E0201', '"${input.s}"'],
      ['E0201', 'v'],
    ]);
    expect(errs[2]!.message).toMatch(/"c" \| "d"/);
  });

  it('in a default and in the input a trigger gives, the value outside the enum is reported at the value', () => {
    const src = `
type Tier = "gold" | "silver"
capability d { kind tool input { p: { tier: Tier } = { tier: "tin" } } output { x: string } handler "./h.js#h" }
plan pe {
  input { q: { t: "x" | "y" } }
  step s = d()
  output { x: s.output.x }
}
trigger go { manual run pe with { q: { t: "zzz" } } }
`;
    const all = checkText(src).filter((d) => d.severity === 'error').map((d) => [d.code, covered(src, d), d.message]);
    expect(all).toEqual([
      ['E0201', '"tin"', 'default value is "tin" at tier, but that must be "gold" | "silver"'],
      ['E0701', '"zzz"', 'trigger "go": input "q" of plan pe expects "x" | "y" at q.t, got "zzz"'],
    ]);
  });
});
