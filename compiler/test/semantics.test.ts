/** Smaller semantic rules: imports, invariants, triggers, for each, sub-plans, selectors. */
import { describe, expect, it } from 'vitest';
import { BASE, checkText, codes, compileText, covered } from './helpers.js';

describe('imports', () => {
  it('a named std import that does not exist is E0101 with a suggestion', () => {
    const text = `import std.guardrails { no_personal_data_in_clod }\n${BASE}\nplan p { step a = fetch(url: "x") }\n`;
    const [d] = checkText(text).filter((x) => x.code === 'E0101');
    expect(covered(text, d!)).toBe('no_personal_data_in_clod');
    expect(d!.message).toContain('no_personal_data_in_cloud');
  });
  it('named imports are usable unqualified, module imports qualified', () => {
    const text = `import std.guardrails { spend_cap_1usd }\nimport std.policies\n${BASE}\nplan p { policy policies.cost_optimized guardrails spend_cap_1usd step a = fetch(url: "x") }\n`;
    const out = compileText(text);
    expect(codes(out.diagnostics).filter((c) => c.startsWith('E'))).toEqual([]);
    expect(out.plans[0]!.policy?.name).toBe('cost_optimized');
    expect(out.plans[0]!.guardrails.map((g) => g.name)).toEqual(['spend_cap_1usd']);
  });
  it('an unqualified std policy suggests the qualified name', () => {
    const text = `import std.policies\n${BASE}\nplan p { policy cost_optimized step a = fetch(url: "x") }\n`;
    const [d] = checkText(text).filter((x) => x.code === 'E0101');
    expect(d!.message).toContain('policies.cost_optimized');
  });
  it('capabilities of a file import are called through its alias and named in the IR by module', () => {
    const lib = 'module tools.net\ncapability ping { kind tool input { host: string } output { ok: bool } }\n';
    const out = compileText(`import "./lib.orch" as net\nplan p { step a = net.ping(host: "h") }\n`, { 'lib.orch': lib });
    expect(codes(out.diagnostics)).toEqual([]);
    expect(out.plans[0]!.steps[0]!.capability).toBe('tools.net.ping');
  });
  it('two files of one name in two folders are two modules: each step calls its own capability and runs on its own resource', () => {
    const util = (kind: string, fn: string) => `capability c { kind tool input { n: int } output { ok: bool } handler "./h.js#${fn}" }\nresource box { kind ${kind} }\n`;
    const main = `import "./a/util.orch" as a\nimport "./b/util.orch" as b\nplan p {\n  step s1 = a.c(n: 1) { on a.box }\n  step s2 = b.c(n: 2) { on b.box }\n}\n`;
    const out = compileText(main, { 'a/util.orch': util('local_device', 'fa'), 'b/util.orch': util('cloud_region', 'fb'), 'a/h.js': '', 'b/h.js': '' });
    expect(codes(out.diagnostics).filter((c) => c.startsWith('E'))).toEqual([]);
    const ir = out.plans[0]!;
    const [s1, s2] = ir.steps;
    expect([s1!.capability, s2!.capability]).toEqual(['util.c', 'b.util.c']);
    expect([ir.capabilities[s1!.capability!]!.handler, ir.capabilities[s2!.capability!]!.handler]).toEqual([
      expect.objectContaining({ export: 'fa' }), expect.objectContaining({ export: 'fb' }),
    ]);
    expect([s1!.resource, s2!.resource]).toEqual(['box', 'b.util.box']);
    expect(ir.resources['b.util.box']!.kind).toBe('cloud_region');
  });
  it('a step pinned to a resource whose name another module took first runs on its own one', () => {
    const lib = (m: string, kind: string) => `module ${m}\nresource box { kind ${kind} }\n`;
    const main = `import "./x.orch" as x\nimport "./y.orch" as y\nplan p {\n  step s1 = log(message: "1") { on x.box }\n  step s2 = log(message: "2") { on y.box }\n}\n`;
    const out = compileText(main, { 'x.orch': lib('x', 'local_device'), 'y.orch': lib('y', 'cloud_region') });
    expect(codes(out.diagnostics).filter((c) => c.startsWith('E'))).toEqual([]);
    expect(out.plans[0]!.steps.map((s) => s.resource)).toEqual(['box', 'y.box']);
  });
  it('sub-plans of one name in two modules are two sub-plans: each run step runs its own', () => {
    const lib = (m: string) => `module ${m}\nplan sub {\n  step l = log(message: "${m}")\n  output { who: "${m}" }\n}\n`;
    const main = `import "./x.orch" as x\nimport "./y.orch" as y\nplan p {\n  step a = run x.sub()\n  step b = run y.sub()\n}\n`;
    const out = compileText(main, { 'x.orch': lib('x'), 'y.orch': lib('y') });
    expect(codes(out.diagnostics).filter((c) => c.startsWith('E'))).toEqual([]);
    const ir = out.plans[0]!;
    const keys = ir.steps.map((s) => (s.action.type === 'run' ? s.action.plan : ''));
    expect(keys).toEqual(['sub', 'y.sub']);
    expect(keys.map((k) => ir.subplans[k]!.module)).toEqual(['x', 'y']);
  });
  it('W0601 tells two modules\' resources of one name apart: the one placement binds is used, the other not', () => {
    const mod = (m: string, cap: string, provides: string) =>
      `module ${m}\ncapability ${cap} { kind tool input { text: string } output { text: string } requires megaphone }\nresource box { kind local_device  provides ${provides} }\nplan p${m} {\n  step s = ${cap}(text: "${m}")\n}\n`;
    const main = `import "./x.orch" as x\nimport "./y.orch" as y\nplan p {\n  step a = run x.px()\n  step b = run y.py()\n}\n`;
    const unused = (x: string, y: string) =>
      checkText(main, { 'x.orch': mod('x', 'shout', x), 'y.orch': mod('y', 'honk', y) }).filter((d) => d.code === 'W0601').map((d) => `${d.file.replace(/^.*\//, '')}: ${d.message}`);
    // Every step needs a megaphone: the box providing one hosts them all (as `box` or `y.box`).
    expect(unused('megaphone', 'ink')).toEqual(['y.orch: resource "box" is never used']);
    expect(unused('ink', 'megaphone')).toEqual(['x.orch: resource "box" is never used']);
  });
  it('guardrails of one name in two modules are told apart in the IR and their findings', () => {
    const lib = (m: string) => `module ${m}\nguardrail g {\n  severity warning\n  message "${m}"\n  forbid step where step.id == "${m}"\n}\n`;
    const main = `import "./x.orch" as x\nimport "./y.orch" as y\nplan p {\n  guardrails x.g, y.g\n  step x = log(message: "1")\n  step y = log(message: "2")\n}\n`;
    const out = compileText(main, { 'x.orch': lib('x'), 'y.orch': lib('y') });
    expect(codes(out.diagnostics).filter((c) => c.startsWith('E'))).toEqual([]);
    expect(out.plans[0]!.guardrails.map((g) => [g.name, g.message])).toEqual([['g', 'x'], ['y.g', 'y']]);
    expect(out.diagnostics.filter((d) => d.code === 'W0402').map((d) => d.message)).toEqual([
      'guardrail "g" (warning) violated by step "x": x',
      'guardrail "y.g" (warning) violated by step "y": y',
    ]);
  });
  it('one module name declared by two files is E0102 at the second', () => {
    const lib = 'module shared\ncapability c { kind tool }\n';
    const main = `import "./a.orch" as a\nimport "./b.orch" as b\nplan p {\n  step s1 = a.c()\n  step s2 = b.c()\n}\n`;
    const ds = checkText(main, { 'a.orch': lib, 'b.orch': lib }).filter((d) => d.code === 'E0102');
    expect(ds.map((d) => [d.file.replace(/^.*\//, ''), d.message])).toEqual([['b.orch', 'module "shared" is also the module of /virtual/project/a.orch: the modules of one program need different names']]);
  });
});

describe('invariants', () => {
  it('a top-level invariant applies to the plans that have its steps', () => {
    const text = `${BASE}
plan p { step a = fetch(url: "x") step b = fetch(url: a.output.body) }
plan q { step z = fetch(url: "y") }
invariant order { always b.started implies a.completed }
`;
    const out = compileText(text);
    expect(codes(out.diagnostics).filter((c) => c.startsWith('E'))).toEqual([]);
    const byName = Object.fromEntries(out.plans.map((p) => [p.plan, p.invariants.map((i) => i.name)]));
    expect(byName).toEqual({ p: ['order'], q: [] });
  });
  it('a top-level invariant naming steps no plan has is E0101', () => {
    const text = `${BASE}\nplan p { step a = fetch(url: "x") }\ninvariant order { always ghost.started implies a.completed }\n`;
    expect(checkText(text).filter((d) => d.code === 'E0101').map((d) => covered(text, d))).toEqual(['ghost']);
  });
});

describe('triggers', () => {
  it('a chained trigger after an unknown plan is E0701', () => {
    const text = `${BASE}\nplan p { step a = fetch(url: "x") }\ntrigger t { after nope completed run p }\n`;
    const ds = checkText(text).filter((d) => d.code === 'E0701');
    expect(ds.map((d) => covered(text, d))).toEqual(['nope']);
  });
  it('a schedule without with for a plan with required inputs is E0701', () => {
    const text = `${BASE}\nplan p { input { url: string } step a = fetch(url: input.url) }\ntrigger t { schedule "*/5 * * * *" run p }\n`;
    expect(checkText(text).filter((d) => d.code === 'E0701')).toHaveLength(1);
  });
});

describe('for each and sub-plans', () => {
  it('nested for each is accepted (v0.2): the inner block sees the outer item', () => {
    const text = `${BASE}\nplan p { input { xs: list<list<string>> } for each a in input.xs { for each b in a { step s = fetch(url: b) } } }\n`;
    expect(codes(checkText(text)).filter((c) => c.startsWith('E'))).toEqual([]);
  });
  it('a for each over a step output depends on that step and types the item', () => {
    const text = `capability list_urls { kind tool output { urls: list<string> } }\n${BASE}\nplan p {\n  step l = list_urls()\n  for each u in l.output.urls parallel 2 { step f = fetch(url: u) }\n  output { n: len(f.output) }\n}\n`;
    const out = compileText(text);
    expect(codes(out.diagnostics).filter((c) => c.startsWith('E'))).toEqual([]);
    const f = out.plans[0]!.steps.find((s) => s.id === 'f')!;
    expect(f.deps).toEqual(['l']);
    expect(f.for_each).toMatchObject({ item: 'u', parallel: 2 });
  });
  it('sub-plan cycles through run are reported', () => {
    const text = `plan a { step x = run b() }\nplan b { step y = run a() }\n`;
    expect(checkText(text).some((d) => d.code === 'E0301' && d.message.startsWith('sub-plan cycle'))).toBe(true);
  });
  it("a run step's output has the sub-plan's output fields: another field is E0201, and a sub-plan without an output gives null", () => {
    const child = `plan child { input { n: int } step f = fetch(url: "u") output { body: f.output.body, n: input.n } }\nplan bare { step f = fetch(url: "u") }\n`;
    const good = `${BASE}${child}plan p { step s = run child(n: 1) step t = summarize(text: s.output.body) step u = summarize(text: "\${s.output.n}") }\n`;
    expect(codes(checkText(good)).filter((c) => c.startsWith('E'))).toEqual([]);
    const bad = `${BASE}${child}plan p { step s = run child(n: 1) step t = summarize(text: s.output.bodyy) step b = run bare() step u = summarize(text: b.output.x) }\n`;
    const diags = checkText(bad).filter((d) => d.code === 'E0201');
    expect(diags.map((d) => d.message)).toEqual([expect.stringContaining('has no field "bodyy"'), expect.stringContaining('null has no field "x"')]);
  });
});
