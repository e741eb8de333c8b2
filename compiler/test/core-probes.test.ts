/**
 * Holes found by probing LANGUAGE.md §2–§6 (the core language and the CLI contract) sentence by
 * sentence: each test pins the rule the spec states where the implementation let it slip.
 */
import { describe, expect, it } from 'vitest';
import { check } from '../index.js';
import { DIR, checkText, covered, memoryHost } from './helpers.js';

const CAP = `capability c {
  kind tool
  input { x: string }
  output { y: string }
  cost 0.01usd
}
`;

describe('§3 money of the program: spend is in the one currency of every cost and budget', () => {
  const e0203 = (text: string) => checkText(text).filter((d) => d.code === 'E0203').map((d) => covered(text, d));

  it('run.cost, plan.cost, step.cost and x.cost against another currency are E0203 (guardrails, invariants, conditions)', () => {
    const text = `${CAP}
guardrail spend { severity blocking  assert run.cost <= 5eur }
guardrail est { severity warning  assert plan.cost <= 5eur }
guardrail per_step { severity warning  forbid step where step.cost > 1eur }
plan p {
  guardrails spend, est, per_step
  step a = c(x: "1")
  step b = c(x: a.output.y) when a.cost == 0eur
  invariant inv { always run.cost + 1eur <= 5eur }
  output { y: b.output.y }
}
`;
    expect(e0203(text)).toEqual(['run.cost <= 5eur', 'plan.cost <= 5eur', 'step.cost > 1eur', 'a.cost == 0eur', 'run.cost + 1eur']);
  });

  it('the same expressions in the program currency, or with no currency written anywhere, are fine; a money field has no currency', () => {
    expect(e0203(`${CAP}
plan p {
  input { m: money, l: list<money> = [1usd] }
  step a = c(x: "1")
  output { y: a.output.y, m: input.m > 1eur, l: input.l[0] ?? 0eur }
}
`)).toEqual([]);
    expect(e0203(`${CAP}
guardrail spend { severity blocking  assert run.cost <= 5usd }
plan p {
  guardrails spend
  step a = c(x: "1")
  invariant inv { always run.cost + a.cost <= 5usd }
  output { y: a.output.y }
}
`)).toEqual([]);
    expect(e0203(`${CAP.replace('  cost 0.01usd\n', '')}
plan p {
  step a = c(x: "1")
  invariant inv { always run.cost <= 5eur }
  output { y: a.output.y }
}
`)).toEqual([]);
  });

  it("the std library's usd guardrails are not judged in a program of another currency", () => {
    const text = `import std.guardrails { human_before_send }
capability c { kind tool input { x: string } output { y: string } cost 1eur }
plan p { guardrails human_before_send step a = c(x: "1") output { y: a.output.y } }
`;
    expect(checkText(text).filter((d) => d.severity === 'error')).toEqual([]);
  });

  it("a test's expect on run.cost in another currency is E0203", () => {
    const test = `import "./main.orch" as m
test "t" {
  plan m.p
  mock m.c returns { y: "z" }
  expect run.cost <= 5eur
}
`;
    const host = memoryHost({ [`${DIR}/main.orch`]: `${CAP}plan p {\n  step a = c(x: "1")\n  output { y: a.output.y }\n}\n`, [`${DIR}/main.test.orch`]: test });
    const got = check({ entry: `${DIR}/main.test.orch`, host }).filter((d) => d.code === 'E0203');
    expect(got.map((d) => [d.range.start.line, d.message])).toEqual([[5, expect.stringMatching(/cannot mix currencies usd and eur/)]]);
  });
});

describe('§2 identifiers are ASCII and strings straight-quoted: E0001 says so', () => {
  it('a curled quote or a letter outside ASCII', () => {
    expect(checkText('plan p {\n  goal \u201Cx\u201D\n}\n').map((d) => d.message)[0]).toBe('unexpected character \'\u201C\' (strings use straight double quotes: "…")');
    const d = checkText('plan p {\n  step caf\u00e9 = wait 1s\n}\n')[0]!;
    expect([d.message, d.range.start.line, d.range.start.column]).toEqual(['unexpected character \'\u00e9\' (names are ASCII letters, digits and _; other text goes in a "string")', 2, 11]);
  });

  it("a single quote or a backtick, as other languages write strings, says to use double quotes", () => {
    // One diagnostic for the one mistake: the text between the quotes is read as the string, not as a name too.
    for (const q of ["'", '`']) expect(checkText(`plan p {\n  goal ${q}x${q}\n}\n`).map((d) => d.message), q).toEqual(['strings are written in double quotes: "x"']);
    expect(checkText(`plan p {\n  step t = transform(value: 'a')\n}\n`).map((d) => `${d.code} ${d.message}`)).toEqual(['E0001 strings are written in double quotes: "a"']);
    expect(checkText(`plan p {\n  goal 'x\n}\n`).map((d) => d.message)[0]).toBe(`unexpected character ''' (strings are written in double quotes: "…")`);
  });
});

describe('§2 identifiers: __proto__ cannot be a name (schemas and records would drop it unseen)', () => {
  it('is E0001 where it names a field, an input, a step or an argument; read after a dot it is a member', () => {
    const text = 'plan p {\n  input { __proto__: int = 3 }\n  output { __proto__: 1, m: { __proto__: 5 } }\n}\n';
    expect(checkText(text).map((d) => `${d.code} ${covered(text, d)} ${d.range.start.line}`)).toEqual(['E0001 __proto__ 2', 'E0001 __proto__ 3', 'E0001 __proto__ 3']);
    expect(checkText('plan p {\n  input { a: any }\n  output { x: input.a.__proto__ ?? 0 }\n}\n')).toEqual([]);
  });
});

describe('§2 numbers are integers and decimals: other notations are E0001 saying what to write', () => {
  const message = (lit: string) => checkText(`plan p { output { a: ${lit} } }\n`).map((d) => `${d.code} ${d.message}`);

  it('digit separators and exponents are not read as a unit', () => {
    expect(message('1_000')).toEqual([expect.stringMatching(/^E0001 '1_000': digit separators are not allowed in numbers; write 1000$/)]);
    expect(message('2_500_000usd')).toEqual([expect.stringMatching(/^E0001 '2_500_000usd': digit separators are not allowed in numbers; write 2500000usd$/)]);
    expect(message('1e3')).toEqual([expect.stringMatching(/^E0001 '1e3': exponents are not allowed in numbers; write 1000$/)]);
    expect(message('5usdx')).toEqual([expect.stringMatching(/^E0001 unknown unit 'usdx' in '5usdx'/)]);
  });
});

describe('§3 optional T?: a value that may be null is no operand of arithmetic or of a built-in that needs a value', () => {
  const INPUT = 'input { l: list<int> = [1], o: int?, m: map<string> = { k: "1" } }';
  const e0201 = (v: string) => {
    const text = `plan p {\n  ${INPUT}\n  output { v: ${v} }\n}\n`;
    return checkText(text).filter((d) => d.code === 'E0201').map((d) => `${covered(text, d)}: ${d.message}`);
  };

  it('check says E0201 where the evaluator would fail the run on null', () => {
    expect(e0201('input.o * 2')).toEqual(['input.o: "*" needs a value, but this may be null (int?): add ?? and a default']);
    expect(e0201('1 + input.l[5]')).toEqual(['input.l[5]: "+" needs a value, but this may be null (int?): add ?? and a default']);
    for (const v of ['input.o % 2', 'round(input.o)', 'min(input.o, 2)', 'sum([input.o])', 'max([input.o, 1])', 'upper(input.m["z"])', 'split(input.m["z"], ",")', 'lines(input.m["z"])'])
      expect(e0201(v), v).toHaveLength(1);
  });

  it('?? gives a value; comparisons, len, contains, in and concatenation take null as it is', () => {
    for (const v of ['(input.o ?? 0) * 2', 'input.l[5] ?? 0 + 1', 'input.o > 1', 'input.o == null', 'len(input.m["z"])', 'contains(input.m["z"], "a")', '"x" in input.m["z"]', '"a" + input.m["z"]', 'round(input.l[0] ?? 1)'])
      expect(e0201(v), v).toEqual([]);
  });
});

describe('§4 expressions: `in` over a string or a map looks for a string', () => {
  it('a number, a bool or a duration in a string or map is E0201 (the run would always say false)', () => {
    const text = `plan p {\n  input { s: string = "abc", m: map<int> = { a: 1 }, o: string? }\n  output { a: 1 in input.s, b: true in input.m, c: 5s in "5s", d: "a" in input.s, e: input.o in input.m, f: "a" in input.m }\n}\n`;
    expect(checkText(text).filter((d) => d.code === 'E0201').map((d) => `${covered(text, d)}: ${d.message}`)).toEqual([
      '1: "in" over a string or map looks for a string, not int',
      'true: "in" over a string or map looks for a string, not bool',
      '5s: "in" over a string or map looks for a string, not duration',
    ]);
  });
});

describe('§4 retry: a backoff whose max is below its first delay', () => {
  it('is E0201 at max, on a capability and on a step; max equal to the delay is fine', () => {
    const text = `capability c {
  kind tool
  input { x: string }
  output { y: string }
  retry 3 backoff exponential 5s max 1s
}
plan p {
  step a = c(x: "1") { retry 2 backoff exponential 2m max 30s }
  step b = c(x: a.output.y) { retry 2 backoff exponential 30s max 30s }
  output { y: b.output.y }
}
`;
    expect(checkText(text).filter((d) => d.code === 'E0201').map((d) => `${covered(text, d)}: ${d.message}`)).toEqual([
      '1s: a backoff\'s max 1s is below its first delay 5s: raise max or lower the delay',
      '30s: a backoff\'s max 30s is below its first delay 2m: raise max or lower the delay',
    ]);
  });
});

describe('§4 built-ins: arguments the run could only answer one way, or not as meant', () => {
  const e0201 = (v: string) => {
    const text = `plan p {\n  input { l: list<int> = [1], s: string = "ab", m: map<int> = { k: 1 }, n: int = 1, r: { x: int } = { x: 1 } }\n  output { v: ${v} }\n}\n`;
    return checkText(text).filter((d) => d.code === 'E0201' || d.code === 'E0203').map((d) => `${d.code} ${covered(text, d)}: ${d.message}`);
  };

  it('contains() of an item that can never be in the list, or of a non-string in a string or map, as `in`', () => {
    expect(e0201('contains(input.l, "a")')).toEqual(['E0201 "a": contains() looks in a list<int> for string: it is never found']);
    expect(e0201('contains(input.l, 1s)')).toEqual(['E0203 1s: contains() looks in a list<int> for duration: it is never found']);
    expect(e0201('contains(input.s, 1)')).toEqual(['E0201 1: contains() over a string or map looks for a string, not int']);
    expect(e0201('contains(input.m, true)')).toEqual(['E0201 true: contains() over a string or map looks for a string, not bool']);
    for (const ok of ['contains(input.l, 2)', 'contains(input.l, input.n)', 'contains(input.s, "a")', 'contains(input.m, "k")']) expect(e0201(ok), ok).toEqual([]);
  });

  it('contains() of a record looks for a key, as `in` does (the run answers both alike)', () => {
    for (const ok of ['contains({ k: 1 }, "k")', 'contains(input.r, "x")', '"k" in { k: 1 }']) expect(e0201(ok), ok).toEqual([]);
    expect(e0201('contains(input.r, 1)')).toEqual(['E0201 1: contains() over a string or map looks for a string, not int']);
    expect(e0201('contains(input.n, "a")')).toEqual(['E0201 input.n: contains() needs a list, map, record or string first, not int']);
  });

  it('sum, min and max of a literal list of several units are E0203 at the first item of another unit, as `+` is (§3: units never mix silently)', () => {
    expect(e0201('sum([1s, 2usd])')).toEqual(['E0203 2usd: sum(): cannot mix duration and money (duration and money(usd))']);
    expect(e0201('max([1usd, 2eur])')).toEqual(['E0203 2eur: max(): cannot mix currencies usd and eur']);
    expect(e0201('min([1s, 2])')).toEqual(['E0203 2: min(): cannot mix duration and number (duration and int)']);
    expect(e0201('sum([1, "a"])')).toEqual(['E0201 "a": sum() needs numbers, durations, money or percents, not string']);
    for (const ok of ['sum([1, 2.5])', 'max([1s, 2m])', 'sum([1usd, 2usd])', 'sum([])']) expect(e0201(ok), ok).toEqual([]);
  });

  it('==, != and in between currencies are E0203, as < is (not a type mismatch)', () => {
    expect(e0201('1usd == 1eur')).toEqual(['E0203 1usd == 1eur: "==": cannot mix currencies usd and eur']);
    expect(e0201('1usd != 1eur')).toEqual(['E0203 1usd != 1eur: "!=": cannot mix currencies usd and eur']);
    expect(e0201('1usd in [1eur]')).toEqual(['E0203 1usd in [1eur]: "in": cannot mix currencies usd and eur']);
    expect(e0201('1s in [1usd]')).toEqual(['E0203 1s in [1usd]: "in": cannot mix duration and money']);
    expect(e0201('contains([1usd], 1eur)')).toEqual(['E0203 1eur: contains() looks in a list<money(usd)> for money(eur): it is never found']);
    expect(e0201('1 in ["a"]')).toEqual([expect.stringMatching(/^E0201 /)]);
  });

  it("round()'s digits are a whole number", () => {
    expect(e0201('round(2.5, 1.5)')).toEqual(["E0201 1.5: round()'s second argument is a whole number of decimals, not number"]);
    expect(e0201('round(2.5, "a")')).toHaveLength(1);
    expect(e0201('round(2.555, input.n)')).toEqual([]);
  });
});

describe('§4 expressions: a literal zero divisor', () => {
  it('x / 0 and x % 0s are E0201 at the zero (the run fails there); a computed divisor is left to the run', () => {
    const text = `plan p {\n  input { n: int = 1, d: duration = 1s }\n  output { a: input.n / 0, b: input.d % 0s, c: input.n / 0.0, d: input.n * 0, e: input.n / input.n }\n}\n`;
    expect(checkText(text).filter((d) => d.code === 'E0201').map((d) => `${covered(text, d)}: ${d.message}`)).toEqual([
      '0: division by zero: the run would fail here', '0s: modulo by zero: the run would fail here', '0.0: division by zero: the run would fail here',
    ]);
  });
});

describe('§3 data classes compared with a string literal', () => {
  it('a string naming no data class is E0201 at it, with a suggestion (the run failed: "not a data class")', () => {
    const text = `capability c { kind tool input { e: string } output { y: string } data internal }
guardrail g { severity blocking forbid step where step.data >= "persona" }
guardrail ok { severity blocking forbid step where step.data >= "secret" and step.data > personal }
plan p { guardrails g, ok step a = c(e: "x") output { y: a.output.y } }
`;
    expect(checkText(text).filter((d) => d.code === 'E0201').map((d) => `${covered(text, d)}: ${d.message}`)).toEqual([
      '"persona": "persona" is not a data class (public < internal < personal < sensitive < secret); did you mean "personal"?',
    ]);
  });
});

describe('§4 guardrails: step.placement, step.tier and step.kind against a literal naming none', () => {
  it('is E0201 with a suggestion, as the bare names are E0101 (a typo silently disabled the rule)', () => {
    const text = `capability c { kind tool input { e: string } output { y: string } }
guardrail g { severity blocking forbid step where step.placement == "cloud_regoin" or step.tier == "clod" or step.kind == "agnt" }
guardrail ok { severity warning forbid step where step.placement == "pool" or step.tier in ["cloud", "edge"] or step.kind == llm or step.placement == cloud_region }
plan p { guardrails g, ok step a = c(e: "x") output { y: a.output.y } }
`;
    expect(checkText(text).filter((d) => d.code === 'E0201').map((d) => covered(text, d) + ': ' + d.message.replace(/ \(.*?\)/, ''))).toEqual([
      '"cloud_regoin": "cloud_regoin" is not one of "local_device" | "edge_gateway" | "edge_cluster" | "cloud_region" | "pool" | "human"; did you mean "cloud_region"?',
      '"clod": "clod" is not one of "local" | "edge" | "cloud" | "human"; did you mean "cloud"?',
      '"agnt": "agnt" is not one of "tool" | "agent" | "llm" | "service" | "human"; did you mean "agent"?',
    ]);
  });
});

describe('§5 E0401/W0402 of an assert: the estimates in the units W0502 prints', () => {
  it('cost with its currency, duration in its unit', () => {
    const text = `capability c { kind tool input { x: string } output { y: string } cost 1usd latency 2s }
guardrail g { severity warning assert plan.cost <= 0.1usd }
plan p { guardrails g step a = c(x: "1") output { y: a.output.y } }
`;
    expect(checkText(text).filter((d) => d.code === 'W0402').map((d) => d.message)).toEqual([
      'guardrail "g" (warning) violated by plan "p" (estimates: worst-case cost 1usd, duration 2s, 1 steps, local ratio 1)',
    ]);
  });
});

describe('§2 keywords as names: a step, block or item named input or context would hide the plan input or the context', () => {
  const e0102 = (text: string) => checkText(text).filter((d) => d.code === 'E0102').map((d) => `${covered(text, d)}: ${d.message}`);

  it('is E0102 at the name where the plan declares an input (the module a context): input.X would read the step', () => {
    expect(e0102(`${CAP}plan p {\n  input { q: string }\n  step input = c(x: "1")\n}\n`)).toEqual(['input: step "input" hides the input of plan p (input.X would read the step): rename it']);
    expect(e0102(`${CAP}plan p {\n  input { xs: list<string> }\n  for each input in input.xs parallel 2 {\n    step a = c(x: input)\n  }\n}\n`)).toEqual([
      'input: for each item "input" hides the input of plan p (input.X would read the for each item): rename it',
    ]);
    expect(e0102(`${CAP}plan p {\n  input { q: string }\n  race input {\n    step a = c(x: "1")\n    step b = c(x: "2")\n  }\n}\n`)).toEqual([
      'input: race "input" hides the input of plan p (input.X would read the race): rename it',
    ]);
    expect(e0102(`${CAP}context { t: string }\nplan p {\n  step context = c(x: context.t)\n}\n`)).toEqual(['context: step "context" hides the context (context.X would read the step): rename it']);
  });

  it('is fine where nothing is hidden, and other keywords stay usable as step names', () => {
    expect(e0102(`${CAP}plan p {\n  step input = c(x: "1")\n  step cost = c(x: input.output.y)\n  step run = c(x: cost.output.y)\n  output { y: run.output.y }\n}\n`)).toEqual([]);
  });
});
