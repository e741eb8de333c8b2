/**
 * `simulate` blocks (LANGUAGE.md §4): each output value is a value of its field's type — a range's
 * bounds too (`word_count: 1..800`) — and `fail` is a percentage between 0 % and 100 %.
 */
import { describe, expect, it } from 'vitest';
import { checkText, covered } from './helpers.js';

const program = (simulate: string) => `
capability gen {
  kind tool
  input { x: int }
  output { id: string, n: int, w: number, label: "good" | "bad", tags: list<"a" | "b">, wait: duration }
  cost 0.01usd
}
plan p {
  step a = gen(x: 1)
  output { o: a.output.n }
}
simulate gen { ${simulate} }
`;

const errorsAt = (text: string) => checkText(text).filter((d) => d.severity === 'error').map((d) => [d.code, covered(text, d), d.message]);

describe('simulate blocks', () => {
  it('values and ranges of the output fields\' types, and a fail rate within 0–100 %, check clean', () => {
    expect(errorsAt(program('output { id: "c-1", n: 1..800, w: 0.5..2, label: "good", tags: ["a"], wait: 1s..3s } fail 10% latency 1s..5s'))).toEqual([]);
    expect(errorsAt(program('fail 0%'))).toEqual([]);
    expect(errorsAt(program('fail 100%'))).toEqual([]);
  });

  it('an output value of another type is E0201 at the value, an enum member at any depth', () => {
    const text = program('output { id: 5, label: "meh", tags: ["a", "c"] }');
    expect(errorsAt(text)).toEqual([
      ['E0201', '5', 'simulated output "id" of capability gen expects string, got int'],
      ['E0201', '"meh"', 'simulated output "label" of capability gen expects "good" | "bad", got string'],
      ['E0201', '"c"', 'simulated output "tags" of capability gen expects "a" | "b" at tags[1], got "c"'],
    ]);
  });

  it('a range whose bounds are not of the field\'s type is E0203 for another unit, E0201 otherwise', () => {
    const text = program('output { n: 1s..3s, w: 1usd..2usd, id: 1..3, wait: 1..2 }');
    expect(errorsAt(text)).toEqual([
      ['E0203', '1s..3s', 'simulated output "n" of capability gen expects int, got a range of duration'],
      ['E0203', '1usd..2usd', 'simulated output "w" of capability gen expects number, got a range of money(usd)'],
      ['E0201', '1..3', 'simulated output "id" of capability gen expects string, got a range of int'],
      ['E0203', '1..2', 'simulated output "wait" of capability gen expects duration, got a range of int'],
    ]);
  });

  it('a fraction bound for an int field is E0201', () => {
    expect(errorsAt(program('output { n: 1..2.5 }')).map(([c, at]) => [c, at])).toEqual([['E0201', '1..2.5']]);
  });

  it('a fail rate over 100 % is E0201 at the rate', () => {
    const text = program('fail 150%');
    expect(errorsAt(text)).toEqual([['E0201', '150%', 'fail is a percentage from 0% to 100%, not 150%']]);
  });

  it('a range written high..low is E0201 at the range (verify swapped some and clamped others)', () => {
    const text = program('output { n: 800..1 }\n  latency 5s..1s\n  cost 0.02usd..0.01usd');
    expect(errorsAt(text)).toEqual([
      ['E0201', '800..1', expect.stringContaining('lower bound is above its upper bound')],
      ['E0201', '5s..1s', expect.stringContaining('lower bound')],
      ['E0201', '0.02usd..0.01usd', expect.stringContaining('lower bound')],
    ]);
    expect(errorsAt(program('output { n: 1..800 }\n  latency 1s..5s\n  cost 0.01usd..0.02usd'))).toEqual([]);
  });
});

