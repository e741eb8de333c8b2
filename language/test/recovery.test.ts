/** Syntax errors: recovery, positions and wording; duplicate properties (E0102); enum words. */
import { describe, expect, it } from 'vitest';
import type { PlanDecl } from '../ast.js';
import { parse, parseViaCst } from '../index.js';
import { diagnosticsOf } from './helpers.js';
import fc from 'fast-check';
import { arbIdentName, EXPRESSION_HEADS } from './arbitraries.js';

const at = (text: string) =>
  parse({ file: 'f.orch', text }).diagnostics.map((d) => `${d.range.start.line}:${d.range.start.column} ${d.code} ${d.message}`);

describe('error recovery', () => {
  it('reports three separate syntax errors, each at its line, and keeps the rest', () => {
    const text = `capability a {
  kind agent
  timeout 30
  cost 0.1usd
}

plan p {
  step one = a(x: 1 +)
  step two = a(y: 2
  step three = a(z: 3)
}

plan q {
  goal "fine"
  step s = a() {
    timout 5s
    retry 2
  }
}
`;
    const { module, diagnostics } = parse({ file: 'f.orch', text });
    // `timeout 30`: a number where a duration is needed is a unit mismatch, not a syntax error.
    expect(diagnostics.map((d) => [d.code, d.range.start.line])).toEqual([
      ['E0203', 3],
      ['E0001', 8],
      ['E0001', 9],
      ['E0001', 16],
    ]);
    // The declarations around and after the errors are still there.
    expect(module.declarations.map((d) => d.kind)).toEqual(['CapabilityDecl', 'PlanDecl', 'PlanDecl']);
    const p = module.declarations[1] as PlanDecl;
    expect(p.body.map((s) => s.kind === 'StepDecl' && s.name.name)).toContain('three');
    const q = module.declarations[2] as PlanDecl;
    expect(q.goal?.parts).toEqual(['fine']);
    const s = q.body[0]!;
    expect(s.kind === 'StepDecl' && s.retry?.attempts).toBe(2);
  });

  it('reports three errors in three declarations', () => {
    const text = `resource r { kind pool concurrency }
policy p { strategy cost budget cost <= }
guardrail g { severity blocking assert plan.cost <= }
plan ok { goal "still parsed" }`;
    const { module, diagnostics } = parse({ file: 'f.orch', text });
    expect(diagnostics.map((d) => d.range.start.line)).toEqual([1, 2, 3]);
    expect(module.declarations.at(-1)).toMatchObject({ kind: 'PlanDecl', name: { name: 'ok' } });
  });

  it('words messages in user terms', () => {
    expect(at('capability c {\n  kind tool\nplan p { }')).toEqual([
      "2:12 E0001 expected a capability property (kind, input, output, handler, timeout, retry, cost, latency, data, consent, requires, idempotent, destructive, system, prompt, model, endpoint, temperature, max_tokens, trust, endorses) or '}' to close the capability block, found 'plan'",
    ]);
    expect(at('plan p { step a = f(x: ) }')).toEqual(["1:24 E0001 expected an expression after ':', found ')'"]);
    expect(at('plan p { step a = }')).toEqual([
      `1:19 E0001 expected a step action (a capability call such as notify(text: "hi"), wait, wait until or run) after '=', found '}'`,
    ]);
    expect(at('plan p { deadline soon }')).toEqual(["1:19 E0001 expected a duration (e.g. 30s) after 'deadline', found 'soon'"]);
    expect(at('} plan p { }')).toEqual([
      "1:1 E0001 expected a declaration (module, import, type, capability, resource, policy, guardrail, context, plan, trigger, invariant, simulate, source, test), found '}'",
    ]);
    expect(at('plan p {')).toEqual([expect.stringMatching(/^1:9 E0001 expected .* or '}' to close the plan block, found end of file$/)]);
  });

  it('says a block declaration that lost its name needs one, at its brace, and reads its block and the rest', () => {
    const text = `test {
  plan ok
  expect run.status ==
}
capability {
  kind tool
}
trigger { manual }
plan ok { step a = f() }
`;
    for (const run of [parse, parseViaCst]) {
      const { module, diagnostics } = run({ file: 'f.orch', text });
      expect(diagnostics.map((d) => `${d.range.start.line}:${d.range.start.column} ${d.code} ${d.message}`)).toEqual([
        '1:6 E0001 a test needs a name: `test "NAME" {`',
        // The block is read as a test's: its own error is reported, its `plan ok` is no declaration.
        "3:23 E0001 expected an expression after '==', found '}'",
        '5:12 E0001 a capability needs a name: `capability NAME {`',
        '8:9 E0001 a trigger needs a name: `trigger NAME {`',
      ]);
      expect(module.declarations.map((d) => d.kind)).toEqual(['PlanDecl']);
    }
    for (const word of ['resource', 'policy', 'guardrail', 'plan', 'source']) {
      expect(at(`${word} {\n}`)).toEqual([`1:${word.length + 2} E0001 a ${word} needs a name: \`${word} NAME {\``]);
    }
    expect(at('invariant { always true }')).toEqual(['1:11 E0001 an invariant needs a name: `invariant NAME {`']);
    // A declaration word used otherwise is still junk.
    expect(at('plan.cost\nplan p { }')).toEqual([expect.stringMatching(/^1:1 E0001 expected a declaration .*, found 'plan'$/)]);
  });

  it('treats a keyword out of place as one unknown item and keeps parsing the block', () => {
    const { module, diagnostics } = parse({ file: 'f.orch', text: 'plan p {\n  kind tool\n  step a = f()\n}' });
    expect(diagnostics.map((d) => [d.range.start.line, d.message])).toEqual([
      [2, expect.stringMatching(/^expected a plan item .* found 'kind'$/)],
    ]);
    expect((module.declarations[0] as PlanDecl).body.map((s) => s.kind)).toEqual(['StepDecl']);
  });

  it('treats declaration words that start no declaration as junk (one error), and real ones as declarations', () => {
    const typo = parse({ file: 'f.orch', text: 'guardrail g {\n  severity warning\n  asert plan.cost <= 1usd\n}\nplan q { }' });
    expect(typo.diagnostics.map((d) => [d.range.start.line, d.range.start.column])).toEqual([[3, 3]]);
    expect(typo.module.declarations.map((d) => d.kind)).toEqual(['GuardrailDecl', 'PlanDecl']);
    const missingBrace = parse({ file: 'f.orch', text: 'capability c {\n  kind tool\ntype T = string\nplan p { }' });
    expect(missingBrace.diagnostics.map((d) => d.message)).toEqual([expect.stringMatching(/or '}' to close the capability block, found 'type'$/)]);
    expect(missingBrace.module.declarations.map((d) => d.kind)).toEqual(['CapabilityDecl', 'TypeAliasDecl', 'PlanDecl']);
    const planInvariant = parse({ file: 'f.orch', text: 'plan p {\n  invariant i { always true }\n  step a = f()\n}' });
    expect(planInvariant.diagnostics).toEqual([]);
  });

  it('reports a run of stray tokens once', () => {
    expect(diagnosticsOf('plan p { foo bar baz 1 2 3 goal "x" }').length).toBe(1);
    expect(diagnosticsOf('hello world\nplan p { }').length).toBe(1);
  });

  it('reports an invalid enum word with the allowed words', () => {
    expect(at('capability c {\n  kind robot\n}')).toEqual([
      "2:8 E0001 unknown capability kind 'robot' (expected one of: tool, agent, llm, service, human)",
    ]);
    expect(at('plan p { priority urgent }')[0]).toMatch(/unknown priority 'urgent' \(expected one of: critical, high, normal, low, info\)/);
    expect(at('policy p { strategy fastest }')[0]).toMatch(/unknown strategy 'fastest'/);
    expect(at('guardrail g { severity fatal }')[0]).toMatch(/unknown severity 'fatal'/);
    expect(at('type T = { a: string @top_secret }')[0]).toMatch(/unknown data class 'top_secret' \(expected one of: public, internal, personal, sensitive, secret\)/);
    expect(at('plan p { step a = f() { join fastest } }')[0]).toMatch(/unknown join rule 'fastest' \(expected one of: all_success, none_failed, all_done, any_success, first\)/);
  });

  it('reports a weight that placement does not weigh, on both parse paths (a typo was silently ignored)', () => {
    const text = 'policy p { strategy balanced weights { cost: 0.5, speed: 0.5 } }';
    const both = (t: string) =>
      [parse({ file: 'f.orch', text: t }), parseViaCst({ file: 'f.orch', text: t })].map((o) => o.diagnostics.map((d) => `${d.range.start.line}:${d.range.start.column} ${d.code} ${d.message}`));
    const expected = ["1:51 E0001 unknown weight 'speed' (expected one of: cost, latency, energy, reliability)"];
    expect(both(text)).toEqual([expected, expected]);
    expect(both('policy p { weights { cost: 0.3, latency: 0.3, energy: 0.2, reliability: 0.2 } }')).toEqual([[], []]);
  });

  it('an expression where a word goes (`priority input.g`) is one diagnostic over the expression, not two', () => {
    const words = 'critical, high, normal, low, info';
    expect(at('plan p {\n  input { g: string }\n  priority input.g\n  step a = f()\n}')).toEqual([
      `3:12 E0001 a priority is a word (one of: ${words}), not an expression such as 'input.g'`,
    ]);
    const inStep = parse({ file: 'f.orch', text: 'plan p {\n  step a = f() {\n    priority input.level[0]\n  }\n}' });
    expect(inStep.diagnostics.map((d) => [d.message, d.range.start.column, d.range.end.column])).toEqual([
      [`a priority is a word (one of: ${words}), not an expression such as 'input.level[0]'`, 14, 28],
    ]);
    expect(at('plan p { on_failure ctx.mode(1) }')).toEqual(["1:21 E0001 a failure mode is a word (one of: abort, continue, rollback), not an expression such as 'ctx.mode(1)'"]);
    // Junk running on past the expression is the same run, said once; a right word followed by junk is junk.
    expect(at('plan p { priority input.g wat }')).toHaveLength(1);
    expect(at('plan p { priority high.g }')).toEqual([expect.stringMatching(/^1:23 E0001 expected a plan item .* found '\.'$/)]);
    // The CST path says the same as the parse the editor uses.
    expect(parseViaCst({ file: 'f.orch', text: 'plan p { priority input.g }' }).diagnostics.map((d) => d.message)).toEqual([`a priority is a word (one of: ${words}), not an expression such as 'input.g'`]);
  });

  it('reports non-integers where counts are expected', () => {
    expect(at('resource r { concurrency 2.5 }')[0]).toMatch(/concurrency must be a whole number/);
  });
});

describe('E0102: a property given twice', () => {
  it('names the property, the block and the first occurrence', () => {
    const d = diagnosticsOf('capability c {\n  timeout 30s\n  kind tool\n  timeout 60s\n}');
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ code: 'E0102', severity: 'error', range: { start: { line: 4, column: 3 } } });
    expect(d[0]!.message).toBe("'timeout' is given twice in capability 'c' (first on line 2)");
    expect(d[0]!.related?.[0]?.range.start.line).toBe(2);
  });

  it('applies to every block kind, and to inline + block `when`', () => {
    const cases = [
      'resource r { kind pool kind pool }',
      'policy p { prefer local prefer edge }',
      'guardrail g { severity info severity info }',
      'plan p { goal "a" goal "b" }',
      'plan p { step a = f() { timeout 1s timeout 2s } }',
      'plan p { step a = f() when x { when y } }',
      'trigger t { manual run p run q }',
      'simulate c { fail 1% fail 2% }',
      'capability c { retry 1 retry 2 }',
      'type T = { a: int, a: string }',
      'plan p { output { a: 1, a: 2 } }',
    ];
    for (const c of cases) expect(diagnosticsOf(c).map((d) => d.code), c).toEqual(['E0102']);
  });

  it('allows repeatable items', () => {
    expect(diagnosticsOf('policy p { budget cost <= 1usd budget duration <= 1h rate_limit a 1 per 1s rate_limit b 2 per 1s }')).toEqual([]);
    expect(diagnosticsOf('guardrail g { assert plan.cost < 1usd assert plan.duration < 1h }')).toEqual([]);
  });
});

describe('E0203: a property value of another unit', () => {
  const both = (text: string) =>
    [parse({ file: 'f.orch', text }), parseViaCst({ file: 'f.orch', text })].map((o) =>
      o.diagnostics.map((d) => `${d.range.start.line}:${d.range.start.column} ${d.code} ${d.message}`),
    );

  it('is a unit mismatch at the value naming the unit expected, on both parse paths, and drops only that property', () => {
    const text = `capability a { kind tool cost 5s latency 2usd timeout 3usd }
resource r { kind local_device reliability 5s cost 1s latency 10% }
plan p { deadline 5usd step s = a() { timeout 1usd } }
trigger t { manual run p debounce 3 }
simulate a { fail 0.5 latency 1usd..2usd cost 3s }`;
    const expected = [
      "1:31 E0203 'cost' needs an amount of money (e.g. 0.05usd), found a duration '5s'",
      "1:42 E0203 'latency' needs a duration (e.g. 30s), found an amount of money '2usd'",
      "1:55 E0203 'timeout' needs a duration (e.g. 30s), found an amount of money '3usd'",
      "2:44 E0203 'reliability' needs a percentage (e.g. 80%), found a duration '5s'",
      "2:52 E0203 'cost' needs an amount of money (e.g. 0.05usd), found a duration '1s'",
      "2:63 E0203 'latency' needs a duration (e.g. 30s), found a percentage '10%'",
      "3:19 E0203 'deadline' needs a duration (e.g. 30s), found an amount of money '5usd'",
      "3:47 E0203 'timeout' needs a duration (e.g. 30s), found an amount of money '1usd'",
      "4:35 E0203 'debounce' needs a duration (e.g. 30s), found a number '3'",
      "5:19 E0203 'fail' needs a percentage (e.g. 80%), found a number '0.5'",
      "5:31 E0203 'latency' needs a duration or a duration range such as 1s..5s, found '1usd..2usd'",
      "5:47 E0203 'cost' needs an amount of money or a range such as 0.01usd..0.05usd, found '3s'",
    ];
    expect(both(text)).toEqual([expected, expected]);
    const d = parse({ file: 'f.orch', text }).module.declarations[0]!;
    expect(d.kind === 'CapabilityDecl' && [d.capabilityKind, d.cost, d.timeout]).toEqual(['tool', undefined, undefined]);
  });

  it('also in a retry backoff, a rate limit window and a wait until timeout', () => {
    const text = `capability a { kind tool retry 2 backoff fixed 1usd }
capability b { kind tool retry 2 backoff exponential 1s max 50% }
policy p { rate_limit a 1 per 5usd }
plan q { step w = wait until true timeout 3 step x = a() }`;
    const expected = [
      "1:48 E0203 'backoff' needs a duration (e.g. 30s), found an amount of money '1usd'",
      "2:61 E0203 'max' needs a duration (e.g. 30s), found a percentage '50%'",
      "3:31 E0203 'per' needs a duration (e.g. 30s), found an amount of money '5usd'",
      "4:43 E0203 'timeout' needs a duration (e.g. 30s), found a number '3'",
    ];
    expect(both(text)).toEqual([expected, expected]);
    const plan = parse({ file: 'f.orch', text }).module.declarations[3]!;
    expect(plan.kind === 'PlanDecl' && plan.body.map((s) => s.kind === 'StepDecl' && s.name.name)).toEqual(['w', 'x']);
    expect(both('policy p { rate_limit a 1 per soon }')[1]).toEqual(["1:31 E0001 expected a duration (e.g. 30s) after 'per', found 'soon'"]);
  });

  it("also in a budget's limit: a plain number or a percentage is E0203 naming what the metric needs, and only that budget is dropped", () => {
    const text = `policy p {
  budget cost <= 5
  budget duration <= 10
  budget cost <= 80% warn
  budget cost <= 0.5usd
}`;
    const expected = [
      "2:18 E0203 'budget cost' needs an amount of money (e.g. 0.05usd), found a number '5'",
      "3:22 E0203 'budget duration' needs a duration (e.g. 30s), found a number '10'",
      "4:18 E0203 'budget cost' needs an amount of money (e.g. 0.05usd), found a percentage '80%'",
    ];
    expect(both(text)).toEqual([expected, expected]);
    const policy = parse({ file: 'f.orch', text }).module.declarations[0]!;
    expect(policy.kind === 'PolicyDecl' && policy.budgets.map((b) => [b.metric, b.limit.kind])).toEqual([['cost', 'MoneyLit']]);
  });

  it('also where a plain number is needed: a duration, money or percentage there is E0203 too, and the block after it is kept', () => {
    const text = `capability a { kind tool retry 2s temperature 0.5usd max_tokens 10s }
resource r { kind local_device concurrency 2s energy 5% }
policy p { max_fallbacks 1s rate_limit a 3s per 1m weights { cost: 2usd } }
plan q {
  concurrency 4usd
  repeat l max 3s until true { step t = a() }
  for each i in [1] parallel 2% { step u = a() }
}
test "t" { plan q mock a fails "x" times 2s then returns 1 }`;
    const expected = [
      "1:32 E0203 'retry' needs a number, found a duration '2s'",
      "1:47 E0203 'temperature' needs a number, found an amount of money '0.5usd'",
      "1:65 E0203 'max_tokens' needs a number, found a duration '10s'",
      "2:44 E0203 'concurrency' needs a number, found a duration '2s'",
      "2:54 E0203 'energy' needs a number, found a percentage '5%'",
      "3:26 E0203 'max_fallbacks' needs a number, found a duration '1s'",
      "3:42 E0203 'rate_limit' needs a number, found a duration '3s'",
      "3:68 E0203 'cost' needs a number, found an amount of money '2usd'",
      "5:15 E0203 'concurrency' needs a number, found an amount of money '4usd'",
      "6:16 E0203 'max' needs a number, found a duration '3s'",
      "7:30 E0203 'parallel' needs a number, found a percentage '2%'",
      "9:42 E0203 'times' needs a number, found a duration '2s'",
    ];
    expect(both(text)).toEqual([expected, expected]);
    const plan = parse({ file: 'f.orch', text }).module.declarations.find((d) => d.kind === 'PlanDecl')!;
    expect(plan.kind === 'PlanDecl' && plan.body.map((s) => s.kind)).toEqual(['RepeatDecl', 'ForEachDecl']);
    // A token that is no number at all stays a syntax error, naming what is needed.
    expect(both('plan p { repeat l max lots until true { step x = f() } }')[0]).toEqual(["1:23 E0001 expected a number after 'max', found 'lots'"]);
    expect(both('capability a { kind tool retry soon }')[1]).toEqual(["1:32 E0001 expected a number after 'retry', found 'soon'"]);
  });

  it('a token that is no number at all stays a syntax error naming the unit', () => {
    expect(both('capability a { timeout soon }')).toEqual([
      ["1:24 E0001 expected a duration (e.g. 30s) after 'timeout', found 'soon'"],
      ["1:24 E0001 expected a duration (e.g. 30s) after 'timeout', found 'soon'"],
    ]);
    expect(both('resource r { reliability high }')[0]).toEqual(["1:26 E0001 expected a percentage (e.g. 80%) after 'reliability', found 'high'"]);
  });
});

describe('parse never throws', () => {
  it('returns a module for odd inputs', () => {
    for (const text of ['', '\uFEFF', '"', '${', '/*', '{{{{', '}}}}', 'plan', '\0\0', 'plan p { step a = f(x: "${"${"${}"}"}") }']) {
      const r = parse({ file: 'odd.orch', text });
      expect(r.module.kind).toBe('Module');
    }
  });
});

describe('an expression where a literal is required: one mistake, one diagnostic', () => {
  const both = (text: string) =>
    [parse({ file: 'f.orch', text }), parseViaCst({ file: 'f.orch', text })].map((o) =>
      o.diagnostics.map((d) => `${d.range.start.line}:${d.range.start.column} ${d.code} ${d.message}`),
    );
  const plan = (line: string, body = '  step s = f(x: 1)') => `plan p {\n  input { n: int, d: duration, items: list<string> }\n${line}\n${body}\n}\n`;

  it('reports only the syntax error: no E0102 for the plan input it names, no stray "expected \'{\'"', () => {
    const cases: [string, string | undefined, string][] = [
      ['  for each x in input.items parallel input.n {', '    step s = f(x: x)\n  }', "3:38 E0001 expected a number after 'parallel', found 'input'"],
      ['  for each x in input.items parallel len(input.items) {', '    step s = f(x: x)\n  }', "3:38 E0001 expected a number after 'parallel', found 'len'"],
      ['  repeat r max input.n until true {', '    step s = f(x: 1)\n  }', "3:16 E0001 expected a number after 'max', found 'input'"],
      ['  deadline input.d', undefined, "3:12 E0001 expected a duration (e.g. 30s) after 'deadline', found 'input'"],
      ['  concurrency input.n * 2', undefined, "3:15 E0001 expected a number after 'concurrency', found 'input'"],
      ['  goal input.goal', undefined, "3:8 E0001 expected a string after 'goal', found 'input'"],
      ['  step w = wait until context.x > 1 timeout input.d', undefined, "3:45 E0001 expected a duration (e.g. 30s) after 'timeout', found 'input'"],
    ];
    for (const [line, body, error] of cases) expect(both(plan(line, body)), line).toEqual([[error], [error]]);
  });

  it('keeps the block the literal belonged to, and what follows it', () => {
    const { module, diagnostics } = parse({ file: 'f.orch', text: plan('  for each x in input.items parallel input.n {', '    step s = f(x: x)\n  }\n  step after_it = f(x: 2)') });
    expect(diagnostics).toHaveLength(1);
    const p = module.declarations[0] as PlanDecl;
    expect(p.body.map((s) => s.kind)).toEqual(['ForEachDecl', 'StepDecl']);
    const loop = p.body[0]!;
    expect(loop.kind === 'ForEachDecl' && loop.parallel).toBeUndefined();
    expect(loop.kind === 'ForEachDecl' && loop.body.map((s) => s.kind === 'StepDecl' && s.name.name)).toEqual(['s']);
  });

  it('any member chain or arithmetic on one, wherever a plan takes a literal, is one syntax error', () => {
    const chain = fc.tuple(fc.constantFrom(...EXPRESSION_HEADS), fc.array(arbIdentName, { minLength: 1, maxLength: 3 })).map(([h, fs]) => [h, ...fs].join('.'));
    const expr = fc.oneof(chain, fc.tuple(chain, fc.constantFrom('+', '*', '-', '??'), fc.oneof(chain, fc.constant('2'))).map((p) => p.join(' ')), chain.map((c) => `len(${c})`));
    const sites = [
      (e: string) => plan(`  for each x in input.items parallel ${e} {`, '    step s = f(x: x)\n  }'),
      (e: string) => plan(`  repeat r max ${e} until true {`, '    step s = f(x: 1)\n  }'),
      (e: string) => plan(`  deadline ${e}`),
      (e: string) => plan(`  concurrency ${e}`),
      (e: string) => plan(`  goal ${e}`),
    ];
    fc.assert(
      fc.property(expr, fc.constantFrom(...sites), (e, site) => {
        for (const found of both(site(e))) expect(found.map((d) => d.split(' ')[1]), `${e}: ${found.join(' | ')}`).toEqual(['E0001']);
      }),
      { numRuns: 200 },
    );
  });

  it('a missing value before the next item on its own line is still recovered as missing', () => {
    expect(both(plan('  deadline', '  step s = f(x: 1)'))[0]).toEqual(["3:11 E0001 expected a duration (e.g. 30s) after 'deadline', found 'step'"]);
  });
});

describe('a reserved word as a declaration name: one diagnostic at the word, the rest checked', () => {
  const decls: [string, string][] = [
    ['capability in {\n  kind tool\n}', 'capability'],
    ['plan not {\n  step a = f()\n}', 'plan'],
    ['type true = string', 'type'],
    ['resource null { kind tool }', 'resource'],
    ['policy and { strategy cheapest }', 'policy'],
    ['guardrail implies { severity error }', 'guardrail'],
    ['trigger or { manual }', 'trigger'],
    ['source false { }', 'source'],
  ];
  it.each(decls)('%s', (decl, what) => {
    const word = /^\w+ (\w+)/.exec(decl)![1]!;
    // A mistake after it is still found: the parse went on.
    const text = `${decl}\nplan q {\n  step x =\n}\n`;
    for (const run of [parse, parseViaCst]) {
      const d = run({ file: 'r.orch', text }).diagnostics;
      expect(d.map((x) => `${x.code} ${x.message}`)).toEqual([
        `E0001 '${word}' is a reserved word and cannot name a ${what}; choose another name`,
        expect.stringMatching(/^E0001 expected a step action .* found '}'$/),
      ]);
      expect(text.slice(d[0]!.range.start.offset, d[0]!.range.end.offset)).toBe(word);
    }
  });

  it('reads the block of the declaration: a mistake inside it is reported too', () => {
    const d = diagnosticsOf('capability in {\n  kind tool\n  colour "red"\n}\n');
    expect(d.map((x) => x.message)).toEqual(["'in' is a reserved word and cannot name a capability; choose another name", expect.stringMatching(/^expected a capability property .* found 'colour'$/)]);
  });

  it('an invariant or a test named with a reserved word is told so at the word, and what follows is checked', () => {
    for (const [decl, what] of [['invariant in { always x }', 'an invariant'], ['test not { }', 'a test']] as const) {
      const text = `${decl}\nplan q {\n  step x =\n}\n`;
      const word = decl.split(' ')[1]!;
      const d = diagnosticsOf(text);
      expect(d.map((x) => x.message)).toEqual([`'${word}' is a reserved word and cannot name ${what}; choose another name`, expect.stringMatching(/^expected a step action/)]);
      expect(text.slice(d[0]!.range.start.offset, d[0]!.range.end.offset)).toBe(word);
    }
  });

  it('keywords that may be names (§2) still name declarations', () => {
    expect(diagnosticsOf('capability input { kind tool }\nplan step { step output = input() }\ntype cost = string\n')).toEqual([]);
  });
});
