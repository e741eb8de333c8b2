/**
 * Promises of LANGUAGE.md §2–§4 that no other test pinned: literal values as the IR carries them,
 * the module name a file gets, plan and retry defaults, trust tiers by resource kind, placement
 * tie-breaks, per-step and plan estimates, data-class order in guardrails and unit arithmetic.
 */
import { describe, expect, it } from 'vitest';
import { BASE, checkText, codes, compileText, covered } from './helpers.js';

const errors = (text: string) => checkText(text).filter((d) => d.severity === 'error');

describe('§2 literals as the IR carries them', () => {
  it('durations are milliseconds, money an amount, percent a fraction; escapes are decoded', () => {
    const out = compileText(`plan p {
  output { a: 250ms, b: 30s, c: 5m, d: 2h, e: 1d, f: 0.05usd, g: 12eur, h: 80%, i: "q\\"b\\\\n\\nz", }
}
`);
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const fields = (out.plans[0]!.output as unknown as { fields: { key: string; value: { value: unknown; unit?: string } }[] }).fields;
    const lit = Object.fromEntries(fields.map((f) => [f.key, [f.value.value, f.value.unit]]));
    expect(lit).toEqual({
      a: [250, 'duration'], b: [30_000, 'duration'], c: [300_000, 'duration'], d: [7_200_000, 'duration'],
      e: [86_400_000, 'duration'], f: [0.05, 'money'], g: [12, 'money'], h: [0.8, 'percent'], i: ['q"b\\n\nz', undefined],
    });
  });
});

describe('§3 units never mix silently', () => {
  const PLAN = (args: string) => `capability t { kind tool input { d: duration, m: money, n: number } output { ok: bool } }
plan p { step a = t(${args}) }
`;
  it('duration * number, number * duration, money * number, division by a number and like-unit comparisons are fine', () => {
    expect(errors(PLAN('d: 30s * 2 + 2 * 1m - 30s / 2, m: 2usd * 3 + 3 * 1usd - 4usd / 2, n: 1') + 'plan q { step b = t(d: 1s, m: 1usd, n: 1) when 30s < 1m and 2usd >= 1usd and 50% > 10% }\n')).toEqual([]);
  });
  it('a unit added to a plain number, or two units multiplied, is E0203 at the operation', () => {
    const text = PLAN('d: 30s + 2, m: 2usd * 1usd, n: 1');
    const ds = errors(text);
    expect(codes(ds)).toEqual(['E0203', 'E0203']);
    expect(ds.map((d) => covered(text, d))).toEqual(['30s + 2', '2usd * 1usd']);
  });
  it('a comparison of unlike units is E0203 (money with percent, duration with a number)', () => {
    const text = PLAN('d: 1s, m: 1usd, n: 1').replace(') }', ') when 1usd > 10% or 30s > 5 }');
    const ds = errors(text);
    expect(codes(ds)).toEqual(['E0203', 'E0203']);
    expect(ds.map((d) => covered(text, d))).toEqual(['1usd > 10%', '30s > 5']);
  });
});

describe('§4 module names', () => {
  it('without a module line the module is named after its file, and its capabilities by it', () => {
    const out = compileText(`${BASE}\nplan p { step a = fetch(url: "x") }\n`);
    expect(out.plans[0]!.module).toBe('main');
    expect(out.plans[0]!.steps[0]!.capability).toBe('main.fetch');
  });
  it('a relative file import needs an alias', () => {
    const ds = checkText(`import "./lib.orch"\nplan p { }\n`, { 'lib.orch': 'capability ping { kind tool }\n' });
    expect(codes(ds)).toContain('E0001');
  });
});

describe('§4 defaults and retry forms in the IR', () => {
  it('a plan fails on a failed step by default (on_failure abort)', () => {
    const out = compileText(`${BASE}\nplan p { step a = fetch(url: "x") }\n`);
    expect(out.plans[0]!.on_failure).toBe('abort');
  });
  it('retry 0, retry N backoff fixed D and retry N backoff exponential D max D', () => {
    const out = compileText(`capability a { kind tool retry 3 backoff exponential 1s max 30s }
capability b { kind tool retry 2 backoff fixed 5s }
capability c { kind tool retry 0 }
plan p { step x = a() step y = b() step z = c() }
`);
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const retry = Object.fromEntries(out.plans[0]!.steps.map((s) => [s.id, s.retry]));
    expect(retry.x).toMatchObject({ max: 3, backoff: 'exponential', delay_ms: 1000, max_delay_ms: 30_000 });
    expect(retry.y).toMatchObject({ max: 2, backoff: 'fixed', delay_ms: 5000 });
    expect(retry.z).toMatchObject({ max: 0 });
  });
});

describe('§4 trust tiers, placement and estimates', () => {
  const KINDS = { local_device: 'local', edge_gateway: 'local', edge_cluster: 'edge', cloud_region: 'cloud', pool: 'cloud', human: 'human' };
  it('the tier of a resource follows its kind', () => {
    const resources = Object.keys(KINDS).map((k) => `resource r_${k} { kind ${k} provides cpu }`).join('\n');
    const out = compileText(`capability job { kind tool requires cpu }\n${resources}\nplan p { step s = job() }\n`);
    const tiers = Object.fromEntries(Object.values(out.plans[0]!.resources).map((r) => [r.kind, r.tier]));
    expect(tiers).toEqual(KINDS);
  });
  it('step.tier and step.placement in a guardrail read the bound resource', () => {
    const text = (kind: string, cond: string) => `capability job { kind tool requires cpu }
resource r { kind ${kind} provides cpu }
guardrail g { severity warning forbid step where ${cond} }
plan p { guardrails g step s = job() }
`;
    expect(codes(checkText(text('edge_gateway', 'step.tier == local')))).toEqual(['W0402']);
    expect(codes(checkText(text('edge_gateway', 'step.placement == edge_gateway')))).toEqual(['W0402']);
    expect(codes(checkText(text('edge_cluster', 'step.tier == local')))).toEqual([]);
    expect(codes(checkText(text('pool', 'step.tier == cloud and step.placement == pool')))).toEqual(['W0402']);
  });
  it('privacy_first takes the lowest tier, then the lower cost within it', () => {
    const out = compileText(`capability job { kind tool requires cpu }
resource pricey { kind local_device provides cpu cost 0.05usd }
resource cheap { kind edge_gateway provides cpu cost 0.02usd }
resource far { kind cloud_region provides cpu cost 0.001usd }
policy pol { strategy privacy_first }
plan p { policy pol step s = job() }
`);
    const b = out.plans[0]!.steps[0]!.binding;
    expect(b.resource).toBe('cheap');
    expect(b.fallbacks).toEqual(['pricey', 'far']);
    expect(b.rationale).toContain('privacy_first');
  });
  it('a step costs its capability plus its resource; the plan sums the steps and takes the critical path of latencies', () => {
    const out = compileText(`capability job { kind tool input { n: int } output { n: int } cost 0.01usd latency 2s requires cpu }
resource near { kind local_device provides cpu cost 0.02usd latency 900ms }
resource far { kind cloud_region provides cpu cost 0.001usd latency 50ms }
policy pol { strategy privacy_first }
plan p {
  policy pol
  step a = job(n: 1)
  step b = job(n: a.output.n)
  step c = job(n: a.output.n) { on far }
  step d = job(n: 1) { after b, c }
}
`);
    const plan = out.plans[0]!;
    const est = Object.fromEntries(plan.steps.map((s) => [s.id, s.estimates]));
    expect(est.a!.cost).toBeCloseTo(0.03, 12);
    expect(est.a!.duration_ms).toBe(2900);
    expect(est.c!.cost).toBeCloseTo(0.011, 12);
    expect(est.c!.duration_ms).toBe(2050);
    expect(plan.estimates.cost).toBeCloseTo(0.03 * 3 + 0.011, 12);
    expect(plan.estimates.critical_path).toEqual(['a', 'b', 'd']);
    expect(plan.estimates.duration_ms).toBe(2900 * 3);
  });
});

describe('§3 data classes are ordered public < internal < personal < sensitive < secret', () => {
  it('step.data >= personal holds for personal, sensitive and secret data, not for public or internal', () => {
    const text = (cls: string) => `capability work { kind tool input { t: string } output { ok: bool } requires cpu }
resource far { kind cloud_region provides cpu accepts secret }
guardrail g { severity warning forbid step where step.data >= personal and step.placement == cloud_region }
plan p { input { v: string @${cls} } guardrails g step a = work(t: input.v) }
`;
    const verdict = (cls: string) => codes(checkText(text(cls)));
    expect(['public', 'internal', 'personal', 'sensitive', 'secret'].map(verdict)).toEqual([[], [], ['W0402'], ['W0402'], ['W0402']]);
  });
});

describe('§4 policy: default strategy, prefer and weights', () => {
  const RES = `capability job { kind tool requires cpu }
resource r1 { kind local_device provides cpu cost 0.05usd latency 10ms }
resource r2 { kind edge_cluster provides cpu cost 0.01usd latency 500ms }
resource r3 { kind cloud_region provides cpu cost 0.01usd latency 100ms }
resource r4 { kind pool provides cpu cost 0.03usd latency 20ms }
resource r5 { kind edge_gateway provides cpu cost 0.04usd latency 30ms }
`;
  const bind = (policy: string) => {
    const out = compileText(`${RES}${policy ? `policy pol { ${policy} }\n` : ''}plan p { ${policy ? 'policy pol ' : ''}step s = job() }\n`);
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    return out.plans[0]!.steps[0]!.binding;
  };
  it('a plan without a policy places privacy_first, with three fallbacks', () => {
    expect(bind('')).toMatchObject({ resource: 'r5', tier: 'local', fallbacks: ['r1', 'r2', 'r3'] });
  });
  it('prefer breaks a tie of the strategy\'s criterion', () => {
    expect(bind('strategy cost prefer cloud').resource).toBe('r3');
    expect(bind('strategy cost prefer edge').resource).toBe('r2');
  });
  it('balanced follows its weights', () => {
    expect(bind('strategy balanced weights { cost: 0, latency: 1, energy: 0, reliability: 0 }').resource).toBe('r1');
    expect(['r2', 'r3']).toContain(bind('strategy balanced weights { cost: 1, latency: 0, energy: 0, reliability: 0 }').resource);
  });
  it('max_fallbacks caps the alternatives', () => {
    expect(bind('strategy cost max_fallbacks 1').fallbacks).toHaveLength(1);
  });
});

describe('§4 step attributes and status values', () => {
  const PLAN = (args: string, when = '') => `capability t { kind tool input { b: bool, n: int, d: duration, m: money, s: string? } output { ok: bool } }
plan p {
  step a = t(b: true, n: 1, d: 1s, m: 1usd)
  step x = t(${args})${when}
}
`;
  it('started completed failed skipped are bool, attempts int, duration a duration, cost money, resource a string (or null)', () => {
    const text = PLAN('b: a.started and a.completed and not a.failed and not a.skipped, n: a.attempts, d: a.duration, m: a.cost, s: a.resource', ' when a.output.ok');
    expect(errors(text)).toEqual([]);
  });
  it('status is one of the nine status values: each compares, another string is E0201', () => {
    const all = ['pending', 'queued', 'running', 'paused', 'completed', 'failed', 'skipped', 'cancelled', 'timeout'];
    const base = 'b: true, n: 1, d: 1s, m: 1usd';
    expect(errors(PLAN(base, ` when ${all.map((s) => `a.status == "${s}"`).join(' or ')}`))).toEqual([]);
    const text = PLAN(base, ' when a.status == "done"');
    const ds = errors(text);
    expect(codes(ds)).toEqual(['E0201']);
    expect(ds[0]!.message).toContain('"done" is not one of');
  });
  it('an attribute that is not one is E0201; a duration where money is expected is E0203', () => {
    expect(codes(errors(PLAN('b: true, n: a.tries, d: 1s, m: 1usd')))).toEqual(['E0201']);
    expect(codes(errors(PLAN('b: true, n: 1, d: 1s, m: a.duration')))).toEqual(['E0203']);
  });
});

describe('§3 list, map, optional and alias types', () => {
  const PLAN = (args: string) => `type Counts = map<int>
capability t { kind tool input { s: string, n: int } output { ok: bool } }
plan p {
  input { m: Counts, xs: list<string>, o: string?, r: { a: int, b: string = "d" } }
  step a = t(${args})
}
`;
  it('an index of a list or a map is optional: ?? gives the value type back', () => {
    expect(errors(PLAN('s: input.xs[0] ?? "none", n: input.m["k"] ?? len(input.m) + input.r.a'))).toEqual([]);
    expect(errors(PLAN('s: input.o ?? input.r.b, n: 1'))).toEqual([]);
  });
  it('a T? where a T is needed is E0201', () => {
    const text = PLAN('s: input.o, n: input.m["k"]');
    const ds = errors(text);
    expect(codes(ds)).toEqual(['E0201', 'E0201']);
    expect(ds.map((d) => covered(text, d))).toEqual(['input.o', 'input.m["k"]']);
  });
  it('null fits only an optional type', () => {
    expect(errors(`capability t { kind tool input { a: int?, b: int } output { ok: bool } }\nplan p { step s = t(a: null, b: 1) }\n`)).toEqual([]);
    expect(codes(errors(`capability t { kind tool input { a: int?, b: int } output { ok: bool } }\nplan p { step s = t(a: 1, b: null) }\n`))).toEqual(['E0201']);
  });
});

describe('§4 std.guardrails of the example', () => {
  const text = (steps: string) => `import std.guardrails { no_personal_data_in_cloud, human_before_send }
capability send_email { kind tool input { to: string } output { id: string } requires mail }
resource far { kind pool provides mail accepts secret }
resource home { kind local_device provides mail }
plan p {
  input { to: string @personal }
  guardrails no_personal_data_in_cloud, human_before_send
${steps}
}
`;
  it('personal data pinned to a cloud resource, and a send without a person before it, are E0401 naming the guardrail and step', () => {
    const ds = checkText(text('  step s = send_email(to: input.to) { on far }')).filter((d) => d.severity === 'error');
    expect(ds.map((d) => [d.code, d.message.split(':')[0]])).toEqual([
      ['E0401', 'guardrail "no_personal_data_in_cloud" (blocking) violated by step "s"'],
      ['E0401', 'guardrail "human_before_send" (blocking) violated by step "s"'],
    ]);
  });
  it('near miss: placed at home after an approval, both hold', () => {
    const out = compileText(text('  step ok = approval(approver: "lead", summary: "send?")\n  step s = send_email(to: input.to) { after ok }'));
    expect(out.diagnostics.filter((d) => d.severity !== 'warning')).toEqual([]); // W0601: far is never a candidate now
    expect(out.plans[0]!.steps.find((s) => s.id === 's')!.resource).toBe('home');
    expect(out.plans[0]!.guardrails.map((g) => g.static_verdict)).toEqual(['holds', 'holds']);
  });
});

describe('§4 for each', () => {
  it('parallel N bounds the items (IR for_each.parallel); left out it is null, bounded only by concurrency', () => {
    const out = compileText(`${BASE}
plan p {
  input { xs: list<string> }
  for each x in input.xs parallel 3 { step a = fetch(url: x) }
  for each y in input.xs { step b = fetch(url: y) }
  output { n: len(a.output) + len(b.output) }
}
`);
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const each = Object.fromEntries(out.plans[0]!.steps.map((s) => [s.id, s.for_each?.parallel]));
    expect(each).toEqual({ a: 3, b: null });
  });
});

describe('§4 where invariants apply', () => {
  it('a top-level invariant naming no step applies to every plan of its module, not to an imported module\'s plans', () => {
    const lib = `module lib\ncapability ping { kind tool }\nplan lp { step a = ping() }\ninvariant lib_only { always run.cost <= 1usd }\n`;
    const out = compileText(`import "./lib.orch" as lib
${BASE}
plan p { step a = fetch(url: "x") invariant own { eventually a.completed } }
plan q { step b = fetch(url: "y") }
invariant cheap { always run.cost <= 1usd }
`, { 'lib.orch': lib });
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const byPlan = Object.fromEntries(out.plans.map((p) => [p.plan, p.invariants.map((i) => i.name).sort()]));
    expect(byPlan).toEqual({ p: ['cheap', 'own'], q: ['cheap'] });
  });
});
