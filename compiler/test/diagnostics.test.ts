/**
 * Every diagnostic code of LANGUAGE.md §5 that the compiler reports: a minimal program that
 * triggers it (checked at the right range) and a near miss that does not.
 */
import { describe, expect, it } from 'vitest';
import { BASE, checkText, codes, compileText, covered } from './helpers.js';

function only(code: string, text: string, others: Record<string, string> = {}) {
  const diags = checkText(text, others).filter((d) => d.code === code);
  return diags;
}

const PLAN = (body: string, extra = '') => `${BASE}\n${extra}\nplan p {\n  input { url: string }\n${body}\n}\n`;

describe('E0101 unresolved name', () => {
  it('reports an unknown step with a did-you-mean fix, at the name', () => {
    const text = PLAN(`  step a = fetch(url: input.url)\n  step b = summarize(text: aa.output.body)`);
    const [d, ...rest] = only('E0101', text);
    expect(rest).toEqual([]);
    expect(covered(text, d!)).toBe('aa');
    expect(d!.message).toContain('did you mean "a"');
    expect(d!.fixes?.[0]?.edits[0]?.newText).toBe('a');
  });
  it('reports an unknown capability', () => {
    const text = PLAN(`  step a = fetchh(url: input.url)`);
    const [d] = only('E0101', text);
    expect(covered(text, d!)).toBe('fetchh');
    expect(d!.message).toContain('"fetch"');
  });
  it('reports unknown policy, guardrail, resource and after targets', () => {
    const text = PLAN(`  policy nope\n  guardrails nada\n  step a = fetch(url: input.url) { on nowhere after ghost }`);
    const got = only('E0101', text).map((d) => covered(text, d));
    expect(got.sort()).toEqual(['ghost', 'nada', 'nope', 'nowhere']);
  });
  it('near miss: every name resolves', () => {
    const text = PLAN(`  step a = fetch(url: input.url)\n  step b = summarize(text: a.output.body)`);
    expect(only('E0101', text)).toEqual([]);
  });
  it('reports an unknown sub-plan of run, and an unknown name of an imported module', () => {
    const text = `${PLAN(`  step a = run weekly(week: "x")`)}\nplan other { policy policies.nothing  step b = fetch(url: "y") }\nimport std.policies\n`;
    const got = only('E0101', text).map((d) => [covered(text, d), d.message]);
    expect(got).toEqual([
      ['weekly', 'unknown plan "weekly"'],
      ['policies.nothing', 'unknown policy "policies.nothing"'],
    ]);
  });
});

describe('E0102 duplicate declaration', () => {
  it('reports the second capability and the second step', () => {
    const text = `${BASE}\ncapability fetch { kind tool }\nplan p {\n  step a = fetch(url: "x")\n  step a = fetch(url: "y")\n}\n`;
    const ds = only('E0102', text);
    expect(ds).toHaveLength(2);
    expect(ds.every((d) => covered(text, d) === 'fetch' || covered(text, d) === 'a')).toBe(true);
    expect(ds[0]!.range.start.line).toBe(text.split('\n').findIndex((l) => l.startsWith('capability fetch { kind tool }')) + 1);
  });
  it('reports a second import under an alias already used, by a file or a std import, at the alias', () => {
    const others = { 'other.orch': 'capability c { kind tool input { x: int } output { y: int } }\n', 'lib.orch': 'capability c { kind tool input { x: string } output { y: string } }\n' };
    const twice = `import "./other.orch" as o\nimport "./lib.orch" as o\nplan p { step a = o.c(x: 1) }\n`;
    const [d, ...rest] = checkText(twice, others).filter((x) => x.severity === 'error');
    expect(rest).toEqual([]);
    expect([d!.code, covered(twice, d!), d!.range.start.line]).toEqual(['E0102', 'o', 2]);
    expect(d!.message).toBe('duplicate import alias "o" (first used on line 1)');
    const std = `import "./other.orch" as policies\nimport std.policies\nplan p { policy policies.privacy_first step a = policies.c(x: 1) }\n`;
    const ds = checkText(std, others).filter((x) => x.severity === 'error');
    expect(ds.map((x) => [x.code, covered(std, x)])).toEqual([['E0102', 'policies']]);
    expect(ds[0]!.range.start.line).toBe(2);
  });
  it('near miss: the same std module imported twice, and distinct aliases', () => {
    const text = `import std.policies\nimport std.policies { cost_optimized }\nimport "./lib.orch" as lib\n${BASE}\nplan p { policy cost_optimized step a = lib.c(x: "1") }\n`;
    expect(only('E0102', text, { 'lib.orch': 'capability c { kind tool input { x: string } output { y: string } }\n' })).toEqual([]);
  });
  it('reports an invariant name given twice in a plan or at top level, however written (i and "i" are one name)', () => {
    const text = `${BASE}
plan p {
  step a = fetch(url: "x")
  invariant "done" { eventually a.completed }
  invariant "done" { never a.failed }
}
invariant i { always a.attempts <= 1 }
invariant "i" { always true }
`;
    const ds = only('E0102', text);
    expect(ds.map((d) => [covered(text, d), d.message])).toEqual([
      ['"done"', `duplicate invariant "done" (first declared on line ${text.split('\n').findIndex((l) => l.includes('invariant "done" { eventually')) + 1})`],
      ['"i"', expect.stringContaining('duplicate invariant "i"')],
    ]);
  });
  it("reports a top-level invariant of the name of a plan's own invariant, in the plans it applies to (verify and test report them by name)", () => {
    const text = `${BASE}
plan p {
  step a = fetch(url: "x")
  invariant "i" { eventually a.completed }
}
plan q { step b = fetch(url: "x") }
invariant i { never a.failed }
invariant j { never b.failed }
`;
    const ds = only('E0102', text);
    const line = text.split('\n').findIndex((l) => l.includes('invariant "i"')) + 1;
    expect(ds.map((d) => [covered(text, d), d.message])).toEqual([['i', `invariant "i" applies to plan p, which has its own invariant "i" (line ${line}): rename one`]]);
    expect(ds[0]!.related?.map((r) => r.range.start.line)).toEqual([line]);
  });
  it('reports a second simulate block of one capability, at its name', () => {
    const text = `${BASE}\nplan p { step a = fetch(url: "x") }\nsimulate fetch { fail 1% }\nsimulate fetch { fail 50% }\n`;
    const ds = only('E0102', text);
    expect(ds.map((d) => [covered(text, d), d.range.start.line])).toEqual([['fetch', text.split('\n').findIndex((l) => l.includes('fail 50%')) + 1]]);
    const out = compileText(text);
    expect(out.diagnostics.some((d) => d.code === 'E0102' && d.severity === 'error')).toBe(true);
    expect(out.plans[0]?.simulations['main.fetch']?.fail).toBeCloseTo(0.01); // the first holds, not silently the last
  });
  it('near miss: invariants of one name in two plans, and simulate blocks of two capabilities', () => {
    const text = `${BASE}
plan p { step a = fetch(url: "x") invariant "done" { eventually a.completed } }
plan q { step a = fetch(url: "x") invariant "done" { eventually a.completed } }
simulate fetch { fail 1% }
simulate summarize { fail 1% }
`;
    expect(only('E0102', text)).toEqual([]);
  });
  it('near miss: a capability and a resource may share a name', () => {
    const text = `${BASE}\nresource fetch { kind local_device provides http }\nplan p { step a = fetch(url: "x") }\n`;
    expect(only('E0102', text)).toEqual([]);
  });
});

describe('E0103 import not found / cycle', () => {
  it('reports a missing file import at the path', () => {
    const text = `import "./missing.orch" as m\n${PLAN('  step a = fetch(url: input.url)')}`;
    const [d] = only('E0103', text);
    expect(covered(text, d!)).toBe('"./missing.orch"');
  });
  it('reports an absolute file path at the path, saying imports are relative (it was looked for as a relative one)', () => {
    const text = `import "/tmp/lib.orch" as lib\n${PLAN('  step a = fetch(url: input.url)')}`;
    const [d, ...rest] = only('E0103', text, { 'tmp/lib.orch': 'capability c { kind tool }\n' });
    expect(rest).toEqual([]);
    expect(covered(text, d!)).toBe('"/tmp/lib.orch"');
    expect(d!.message).toBe('import "/tmp/lib.orch": a file import is a path relative to this file (e.g. "./x.orch"), not an absolute one');
  });
  it('reports a missing std module', () => {
    const text = `import std.nothing_here\n${PLAN('  step a = fetch(url: input.url)')}`;
    expect(only('E0103', text)).toHaveLength(1);
  });
  it('reports an import cycle', () => {
    const text = `import "./b.orch" as b\n${PLAN('  step a = fetch(url: input.url)')}`;
    const ds = only('E0103', text, { 'b.orch': 'import "./main.orch" as m\n' });
    expect(ds.length).toBeGreaterThanOrEqual(1);
    expect(ds[0]!.message).toMatch(/import cycle: .*main\.orch → b\.orch → main\.orch/);
  });
  it('near miss: an existing file and std modules import fine, qualified names resolve', () => {
    const lib = 'capability ping { kind tool input { host: string } output { ok: bool } }\nresource box { kind local_device }\n';
    const text = `import std.policies\nimport "./lib.orch" as lib\n${BASE}\nplan p {\n  policy policies.cost_optimized\n  step a = lib.ping(host: "h")\n}\n`;
    const diags = checkText(text, { 'lib.orch': lib });
    expect(codes(diags).filter((c) => c.startsWith('E'))).toEqual([]);
  });
});

describe('E0201 type mismatch', () => {
  it("a sub-plan step's output has the type of the sub-plan's output record, wherever the sub-plan is declared", () => {
    const sub = `plan sub {\n  input { u: string }\n  step f = fetch(url: input.u)\n  output { r: input.u, size: f.output.size }\n}`;
    const body = `  step s = run sub(u: input.url)\n  step a = fetch(url: s.output)\n  step b = fetch(url: input.url, retries: s.output.r)\n  step c = fetch(url: input.url, retries: s.output.size)`;
    for (const text of [PLAN(body, sub), `${PLAN(body)}\n${sub}\n`]) {
      const errors = checkText(text).filter((d) => d.code === 'E0201');
      expect(errors.map((d) => [covered(text, d), d.message])).toEqual([
        ['s.output', 'argument "url" of capability fetch expects string, got { r: string, size: int }'],
        ['s.output.r', 'argument "retries" of capability fetch expects int, got string'],
      ]);
    }
  });
  it('plans that run each other (a cycle) keep their fields untyped, and check', () => {
    const text = `${BASE}\nplan ping {\n  step p = run pong()\n  output { n: 1 }\n}\nplan pong {\n  step q = run ping()\n  step f = fetch(url: "x", retries: q.output.n)\n  output { n: 2 }\n}\n`;
    expect(checkText(text).filter((d) => d.code === 'E0201')).toEqual([]);
  });
  it('a range outside a simulate block is one error, from the parser, and none more from the checker', () => {
    const text = PLAN(`  step a = fetch(url: input.url, retries: 1..5)`);
    const errors = checkText(text).filter((d) => d.severity === 'error');
    expect(errors.map((d) => [d.code, covered(text, d)])).toEqual([['E0001', '1..5']]);
  });
  it('a number with an unknown unit is one error: no argument reported missing, no junk after a property', () => {
    const text = PLAN(`  step a = fetch(url: input.url, retries: 3EUR)\n  step b = run p2(n: 5min)`, `capability pay {\n  kind tool\n  input { amount: money }\n  output { ok: bool }\n  cost 12EUR\n}\nplan p2 { input { n: duration } step w = wait input.n }\nplan p3 { step c = pay(amount: 12EUR) }`);
    const errors = checkText(text).filter((d) => d.severity === 'error');
    expect(errors.map((d) => [d.code, covered(text, d)])).toEqual([
      ['E0001', '12EUR'],
      ['E0001', '12EUR'],
      ['E0001', '3EUR'],
      ['E0001', '5min'],
    ].sort((a, b) => text.indexOf(a[1]!) - text.indexOf(b[1]!)));
    expect(errors[0]!.message).toContain('currencies are written in lower case: 12eur');
  });
  it('a call cut short by a missing comma is one E0001: the arguments after it are not reported missing', () => {
    const text = PLAN(`  step a = notify(channel: "#x" text: "hello")\n  step b = summarize()`);
    const errors = checkText(text).filter((d) => d.severity === 'error');
    expect(errors.map((d) => [d.code, covered(text, d)])).toEqual([
      ['E0001', 'text'],
      ['E0202', 'summarize'],
    ]);
  });
  it('an argument dropped for a bad unit still leaves the others checked: a second one missing is an E0202 of its own call only', () => {
    const text = PLAN(`  step a = summarize(text: 3EUR)\n  step b = summarize()`);
    const e0202 = only('E0202', text);
    expect(e0202.map((d) => covered(text, d))).toEqual(['summarize']);
    expect(e0202[0]!.range.start.line).toBe(text.split('\n').findIndex((l) => l.includes('step b')) + 1);
  });
  it('reports an argument of the wrong type at the value', () => {
    const text = PLAN(`  step a = fetch(url: 42)`);
    const [d] = only('E0201', text);
    expect(covered(text, d!)).toBe('42');
    expect(d!.message).toContain('expects string');
  });
  it('reports an unknown output field with a suggestion', () => {
    const text = PLAN(`  step a = fetch(url: input.url)\n  step b = summarize(text: a.output.bdy)`);
    const [d] = only('E0201', text);
    expect(covered(text, d!)).toBe('bdy');
    expect(d!.message).toContain('did you mean "body"');
  });
  it('reports reading a field of a for-each output list outside the block', () => {
    const text = PLAN(`  for each u in [input.url] { step a = fetch(url: u) }\n  step b = summarize(text: a.output.body)`);
    const [d] = only('E0201', text);
    expect(covered(text, d!)).toBe('body');
    expect(d!.message).toContain('list');
  });
  it('reports a non-bool when', () => {
    const text = PLAN(`  step a = fetch(url: input.url) when input.url`);
    expect(only('E0201', text)).toHaveLength(1);
  });
  it('near miss: int widens to number, enum literal matches, list output used with len()', () => {
    const text = PLAN(`  for each u in [input.url] { step a = fetch(url: u, retries: 2) }\n  step b = summarize(text: "n=\${len(a.output)}")\n  step c = fetch(url: input.url) when b.output.label == "good"`);
    expect(only('E0201', text)).toEqual([]);
  });
});

describe('E0202 unknown / missing argument', () => {
  it('reports an unknown argument at its name, with a did-you-mean fix', () => {
    const text = PLAN(`  step a = fetch(url: input.url, retires: 2)`);
    const [d] = only('E0202', text);
    expect(covered(text, d!)).toBe('retires');
    expect(d!.fixes?.[0]?.edits[0]?.newText).toBe('retries');
  });
  it('reports a missing required argument with a fix that inserts it', () => {
    const text = PLAN(`  step a = fetch(retries: 2)`);
    const [d] = only('E0202', text);
    expect(covered(text, d!)).toBe('fetch');
    expect(d!.message).toContain('"url"');
    const edit = d!.fixes![0]!.edits[0]!;
    const fixed = text.slice(0, edit.range.start.offset) + edit.newText + text.slice(edit.range.end.offset);
    expect(fixed).toContain('fetch(retries: 2, url: "")');
    expect(only('E0202', fixed)).toEqual([]);
  });
  it('the insert fix also works for an empty call and after a trailing comma', () => {
    for (const [call, expected] of [['fetch()', 'fetch(url: "")'], ['fetch(retries: 2,)', 'fetch(retries: 2, url: "",)']] as const) {
      const text = PLAN(`  step a = ${call}`);
      const edit = only('E0202', text)[0]!.fixes![0]!.edits[0]!;
      const fixed = text.slice(0, edit.range.start.offset) + edit.newText + text.slice(edit.range.end.offset);
      expect(fixed).toContain(expected);
      expect(checkText(fixed).filter((d) => d.severity === 'error')).toEqual([]);
    }
  });
  it('near miss: optional parameters may be left out (defaults applied in the IR)', () => {
    const text = PLAN(`  step a = fetch(url: input.url)`);
    const out = compileText(text);
    expect(out.diagnostics.filter((d) => d.code === 'E0202')).toEqual([]);
    expect(out.plans[0]!.steps[0]!.args.retries).toEqual({ op: 'lit', value: 1 });
  });
});

describe('E0203 unit mismatch', () => {
  it('reports 30s + 2usd', () => {
    const text = PLAN(`  step a = fetch(url: input.url) when 30s + 2usd > 1s`);
    const [d] = only('E0203', text);
    expect(covered(text, d!)).toBe('30s + 2usd');
  });
  it('reports money of different currencies', () => {
    const text = PLAN(`  step a = fetch(url: input.url) when 1usd + 2eur > 0usd`);
    expect(only('E0203', text)).toHaveLength(1);
  });
  it('reports a duration argument given a number', () => {
    const text = `${BASE}\ncapability pause { kind tool input { for: duration } }\nplan p { step a = pause(for: 5) }\n`;
    expect(only('E0203', text)).toHaveLength(1);
  });
  it('reports a property value of another unit at the value, and nothing else about it', () => {
    const text = `capability a { kind tool input { x: string } output { y: string } cost 5s latency 2usd timeout 3usd }
resource r { kind local_device provides x reliability 5s cost 1s }
plan p { deadline 5usd step s = a(x: "1") { timeout 1usd } output { y: s.output.y } }
`;
    const errors = checkText(text).filter((d) => d.severity === 'error');
    expect(errors.map((d) => [d.code, covered(text, d)])).toEqual([
      ['E0203', '5s'], ['E0203', '2usd'], ['E0203', '3usd'], ['E0203', '5s'], ['E0203', '1s'], ['E0203', '5usd'], ['E0203', '1usd'],
    ]);
    expect(errors[2]!.message).toBe("'timeout' needs a duration (e.g. 30s), found an amount of money '3usd'");
  });
  it('near miss: duration * number, money * number and like-unit comparisons', () => {
    const text = PLAN(`  step a = fetch(url: input.url) when 30s * 2 > 1m and 2usd * 3 <= 10usd and 50% < 80%`);
    expect(only('E0203', text)).toEqual([]);
    expect(only('E0201', text)).toEqual([]);
  });
});

describe('E0301 dependency cycle', () => {
  it('names the whole cycle in order, at a step of it', () => {
    const text = PLAN(`  step a = fetch(url: c.output.body)\n  step b = summarize(text: a.output.body)\n  step c = fetch(url: b.output.summary)`);
    const [d, ...rest] = only('E0301', text);
    expect(rest).toEqual([]);
    // in data-flow order: b reads a, c reads b, a reads c
    expect(d!.message).toBe('dependency cycle: a → b → c → a');
    expect(covered(text, d!)).toBe('a');
  });
  it('counts explicit after edges', () => {
    const text = PLAN(`  step a = fetch(url: input.url) { after b }\n  step b = fetch(url: input.url) { after a }`);
    expect(only('E0301', text)[0]!.message).toBe('dependency cycle: a → b → a');
  });
  it('near miss: a diamond is fine', () => {
    const text = PLAN(`  step a = fetch(url: input.url)\n  step b = summarize(text: a.output.body)\n  step c = summarize(text: a.output.body)\n  step d = fetch(url: b.output.summary) { after c }`);
    expect(only('E0301', text)).toEqual([]);
  });
});

const GUARDED = (severity: string, tier: string) => `${BASE}
resource edge_box { kind edge_gateway provides llm }
guardrail keep_local {
  severity ${severity}
  forbid step where step.data >= personal and step.tier == ${tier}
  message "personal data stays home"
}
plan p {
  input { email: string @personal }
  guardrails keep_local
  step a = summarize(text: input.email)
}
`;

describe('E0401 / W0402 / I0403 guardrails at compile time', () => {
  it('blocking forbid violated on every resource that can host the step → E0401 naming guardrail and step', () => {
    const text = GUARDED('blocking', 'local').replace('step.tier == local', 'step.tier != human');
    const [d] = only('E0401', text);
    expect(covered(text, d!)).toBe('a');
    expect(d!.message).toContain('keep_local');
    expect(d!.message).toContain('"a"');
  });
  it('near miss: a blocking forbid that leaves another resource rebinds the step there instead (§7.2)', () => {
    // The cloud region accepts personal data (§9.3), so the step may go there.
    const out = compileText(GUARDED('blocking', 'local').replace('resource cloud {\n  kind cloud_region', 'resource cloud {\n  kind cloud_region\n  accepts personal'));
    expect(out.diagnostics.filter((d) => d.code === 'E0401' || d.code === 'E0903')).toEqual([]);
    expect(out.plans[0]!.steps[0]!.binding).toMatchObject({ resource: 'cloud', dropped: [{ resource: 'edge_box' }] });
  });
  it('warning severity → W0402; advisory → hint I0403', () => {
    expect(only('W0402', GUARDED('warning', 'local'))).toHaveLength(1);
    const hint = checkText(GUARDED('advisory', 'local')).filter((d) => d.code === 'I0403');
    expect(hint).toHaveLength(1);
    expect(hint[0]!.severity).toBe('hint');
  });
  it('require kind human before capability is proved on the DAG', () => {
    const text = `${BASE}
guardrail ask_first { severity blocking require kind human before capability fetch }
plan p {
  step go = fetch(url: "x")
}
`;
    const [d] = only('E0401', text);
    expect(covered(text, d!)).toBe('go');
    const ok = text.replace('step go = fetch(url: "x")', 'step ok = approval(approver: "me", summary: "go?")\n  step go = fetch(url: "x") { after ok }');
    expect(only('E0401', ok)).toEqual([]);
    const out = compileText(ok);
    expect(out.plans[0]!.guardrails.find((g) => g.name === 'ask_first')!.static_verdict).toBe('holds');
  });
  it('assert plan.cost over estimates', () => {
    const text = `${BASE}\nguardrail cheap { severity blocking assert plan.cost <= 0.005usd }\nplan p { step a = fetch(url: "x") }\n`;
    expect(only('E0401', text)).toHaveLength(1);
    expect(only('E0401', text.replace('0.005usd', '1usd'))).toEqual([]);
  });
  it('near miss: the step is placed where the rule does not apply (cloud)', () => {
    const text = GUARDED('blocking', 'cloud');
    // privacy_first puts it on edge_box (local tier): a cloud-only ban holds.
    expect(only('E0401', text)).toEqual([]);
    const out = compileText(text);
    expect(out.plans[0]!.guardrails[0]!.static_verdict).toBe('holds');
    expect(out.plans[0]!.steps[0]!.data).toBe('personal');
  });
});

describe('E0501 no resource can host a step', () => {
  it('reports a step whose requirements nothing provides', () => {
    const text = `${BASE}\ncapability paint { kind tool input { x: int } requires gpu }\nplan p { step a = paint(x: 1) }\n`;
    const [d] = only('E0501', text);
    expect(covered(text, d!)).toBe('a');
    expect(d!.message).toContain('gpu');
  });
  it('reports a pinned resource lacking a tag', () => {
    const text = PLAN(`  step a = summarize(text: "x") { on laptop }`);
    expect(only('E0501', text)[0]!.message).toContain('laptop');
  });
  it('near miss: human and built-in steps need no resource', () => {
    const text = PLAN(`  step ok = approval(approver: "me", summary: "go?")\n  step w = wait 1m`);
    expect(only('E0501', text)).toEqual([]);
  });
});

describe('W0502 budget exceeded', () => {
  const text = (limit: string) => `${BASE}\npolicy tight { strategy cost budget cost <= ${limit} budget duration <= 1h }\nplan p { policy tight step a = fetch(url: "x") }\n`;
  it('warns when the estimate exceeds the budget, on the policy reference', () => {
    const t = text('0.001usd');
    const [d] = only('W0502', t);
    expect(covered(t, d!)).toBe('tight');
    expect(d!.message).toContain('exceeds the budget');
  });
  it('near miss: within budget', () => {
    expect(only('W0502', text('1usd'))).toEqual([]);
  });
});

describe('W0601 unused declaration', () => {
  it('reports an unused capability and an unread llm step', () => {
    const text = `${BASE}\ncapability spare { kind tool }\nplan p { step a = fetch(url: "x") step s = summarize(text: a.output.body) }\n`;
    const ds = only('W0601', text).map((d) => covered(text, d));
    expect(ds.sort()).toEqual(['s', 'spare']);
  });
  it('reports a type alias nothing refers to (its own declaration is no use of it); one a used type names is used', () => {
    const text = `${BASE}\ntype Spare = int\ntype Item = { n: int }\ntype Items = list<Item>\nplan p { input { xs: Items } step a = fetch(url: "x") }\n`;
    const types = only('W0601', text).filter((d) => d.message.startsWith('type '));
    expect(types.map((d) => `${covered(text, d)}: ${d.message}`)).toEqual(['Spare: type "Spare" is never used']);
  });
  it('near miss: a used llm output and a tool step with effects are fine', () => {
    const text = `${BASE}\nplan p {\n  step a = fetch(url: "x")\n  step s = summarize(text: a.output.body)\n  output { s: s.output.summary }\n}\n`;
    expect(only('W0601', text)).toEqual([]);
  });
});

describe('E0701 invalid trigger', () => {
  const withPlan = (trigger: string) => `${BASE}\nplan p { input { url: string } step a = fetch(url: input.url) }\n${trigger}\n`;
  it('reports a bad cron expression at the string', () => {
    const t = withPlan('trigger t { schedule "61 2 * * *" run p with { url: "x" } }');
    const [d] = only('E0701', t);
    expect(covered(t, d!)).toBe('"61 2 * * *"');
  });
  it('reports an unknown plan and a with/input mismatch', () => {
    expect(only('E0701', withPlan('trigger t { manual run q }'))).toHaveLength(1);
    const t = withPlan('trigger t { schedule "0 2 * * *" run p with { ur: "x" } }');
    const msgs = only('E0701', t).map((d) => d.message).join('\n');
    expect(msgs).toContain('no input "ur"');
    expect(msgs).toContain('missing required input "url"');
    expect(only('E0701', withPlan('trigger t { schedule "0 2 * * *" run p with { url: 3 } }'))).toHaveLength(1);
  });
  it('near miss: valid cron, time zone and input', () => {
    expect(only('E0701', withPlan('trigger t { schedule "0 2 * * *" timezone "Europe/Paris" run p with { url: "x" } }'))).toEqual([]);
    expect(only('E0701', withPlan('trigger m { manual run p }'))).toEqual([]);
  });
});

describe('W0601 in files without plans', () => {
  it('reports an unused capability of a bare file, not of a named library module', () => {
    const bare = 'capability lonely { kind tool input { x: int } }\n';
    expect(checkText(bare).filter((d) => d.code === 'W0601')).toHaveLength(1);
    expect(checkText(`module my.lib\n${bare}`).filter((d) => d.code === 'W0601')).toEqual([]);
  });
});

describe('data classes from context', () => {
  it('a step reading a personal context field is personal', () => {
    const text = `${BASE}\ncontext { occupied: bool @personal }\nplan p { step a = fetch(url: "\${context.occupied}") }\n`;
    const out = compileText(text);
    expect(out.plans[0]!.steps[0]!.data).toBe('personal');
    expect(out.plans[0]!.context).toMatchObject({ properties: { occupied: { type: 'boolean', 'x-orch-data': 'personal' } } });
  });
});

describe('E0203 across declarations', () => {
  it('a budget in another currency than the costs is a unit mismatch', () => {
    const text = `${BASE}\npolicy pol { budget cost <= 5eur }\nplan p { policy pol step a = fetch(url: "x") }\n`;
    const [d] = only('E0203', text);
    expect(covered(text, d!)).toBe('5eur');
    expect(only('E0203', text.replace('5eur', '5usd'))).toEqual([]);
  });
});
