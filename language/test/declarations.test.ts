/** AST shapes of every declaration and property form (LANGUAGE.md §3–4). */
import { describe, expect, it } from 'vitest';
import type {
  CapabilityDecl, GuardrailDecl, PlanDecl, PolicyDecl, ResourceDecl, SimulateDecl, StepDecl, TriggerDecl, TypeAliasDecl,
} from '../ast.js';
import { firstDecl, parseOk, strip } from './helpers.js';

const id = (name: string) => ({ kind: 'Ident', name });
const qn = (...parts: string[]) => ({ kind: 'QualifiedName', parts: parts.map(id) });

describe('module and imports', () => {
  it('parses the module name and the three import forms', () => {
    const m = strip(
      parseOk(`module marketing.campaigns
import std.policies
import std.guardrails { no_personal_data_in_cloud, human_before_send, }
import "./devices.orch" as devices`),
    );
    expect(m.module).toEqual({ kind: 'ModuleDecl', name: qn('marketing', 'campaigns') });
    expect(m.imports).toEqual([
      { kind: 'StdImport', path: qn('std', 'policies') },
      { kind: 'StdImport', path: qn('std', 'guardrails'), names: [id('no_personal_data_in_cloud'), id('human_before_send')] },
      { kind: 'FileImport', path: './devices.orch', alias: id('devices') },
    ]);
  });
});

describe('types', () => {
  const alias = (t: string) => strip((firstDecl(`type T = ${t}`) as TypeAliasDecl).type);

  it('parses primitives, named, list, map, optional, enum and record types', () => {
    for (const p of ['string', 'number', 'int', 'bool', 'duration', 'money', 'percent', 'any', 'secret']) {
      expect(alias(p)).toEqual({ kind: 'PrimitiveType', name: p });
    }
    expect(alias('devices.Reading')).toEqual({ kind: 'NamedType', name: qn('devices', 'Reading') });
    expect(alias('list<int>')).toEqual({ kind: 'ListType', element: { kind: 'PrimitiveType', name: 'int' } });
    expect(alias('map<list<string>>')).toEqual({
      kind: 'MapType',
      value: { kind: 'ListType', element: { kind: 'PrimitiveType', name: 'string' } },
    });
    expect(alias('string?')).toEqual({ kind: 'OptionalType', inner: { kind: 'PrimitiveType', name: 'string' } });
    expect(alias('"a" | "b" | "c"')).toEqual({ kind: 'EnumType', values: ['a', 'b', 'c'] });
    expect(alias('{ name: string, email: string @personal, tier: "gold" | "basic" = "basic", n: int? }')).toEqual({
      kind: 'RecordType',
      fields: [
        { kind: 'FieldDecl', name: id('name'), type: { kind: 'PrimitiveType', name: 'string' } },
        { kind: 'FieldDecl', name: id('email'), type: { kind: 'PrimitiveType', name: 'string' }, dataClass: 'personal' },
        {
          kind: 'FieldDecl',
          name: id('tier'),
          type: { kind: 'EnumType', values: ['gold', 'basic'] },
          default: { kind: 'StringLit', parts: ['basic'] },
        },
        { kind: 'FieldDecl', name: id('n'), type: { kind: 'OptionalType', inner: { kind: 'PrimitiveType', name: 'int' } } },
      ],
    });
  });

  it('accepts keywords as field names and fields without commas', () => {
    const t = alias('{ cost: money input: string kind: string step: int }');
    expect(t.kind === 'RecordType' && t.fields.map((f) => f.name.name)).toEqual(['cost', 'input', 'kind', 'step']);
  });

  it('reports list/map without exactly one type argument', () => {
    const { diagnostics } = parseWith('type T = list');
    expect(diagnostics[0]?.message).toMatch(/list takes one type argument/);
  });
});

import { parse } from '../index.js';
function parseWith(text: string) {
  return parse({ file: 't.orch', text });
}

describe('capability', () => {
  it('parses every property', () => {
    const c = strip(
      firstDecl(`capability content_generation {
  kind agent
  input  { product_id: string, template: "promotional" | "newsletter" = "promotional" }
  output { id: string, body: string, word_count: int }
  handler "./handlers/content.js#generate"
  timeout 60s
  retry 3 backoff exponential 1s max 30s
  cost 0.002usd
  latency 4s
  data internal
  consent "marketing.content", "marketing.send"
  requires llm, http
  idempotent true
}`) as CapabilityDecl,
    );
    expect(c).toMatchObject({
      kind: 'CapabilityDecl',
      name: id('content_generation'),
      capabilityKind: 'agent',
      handler: { kind: 'StringLit', parts: ['./handlers/content.js#generate'] },
      timeout: { kind: 'DurationLit', value: 60, unit: 's' },
      retry: {
        kind: 'RetrySpec',
        attempts: 3,
        backoff: { kind: 'exponential', delay: { kind: 'DurationLit', value: 1, unit: 's' }, max: { kind: 'DurationLit', value: 30, unit: 's' } },
      },
      cost: { kind: 'MoneyLit', amount: 0.002, currency: 'usd' },
      latency: { kind: 'DurationLit', value: 4, unit: 's' },
      data: 'internal',
      consent: [{ kind: 'StringLit', parts: ['marketing.content'] }, { kind: 'StringLit', parts: ['marketing.send'] }],
      requires: [id('llm'), id('http')],
      idempotent: true,
    });
    expect(c.input?.fields.map((f) => f.name.name)).toEqual(['product_id', 'template']);
    expect(c.output).toMatchObject({ kind: 'RecordType' });
  });

  it('parses the other retry forms', () => {
    const retry = (r: string) => (strip(firstDecl(`capability c { ${r} }`)) as CapabilityDecl).retry;
    expect(retry('retry 2 backoff fixed 5s')).toEqual({
      kind: 'RetrySpec',
      attempts: 2,
      backoff: { kind: 'fixed', delay: { kind: 'DurationLit', value: 5, unit: 's' } },
    });
    expect(retry('retry 0')).toEqual({ kind: 'RetrySpec', attempts: 0 });
  });

  it('accepts a named output type', () => {
    const c = firstDecl('capability c { output devices.Reading }') as CapabilityDecl;
    expect(strip(c.output)).toEqual({ kind: 'NamedType', name: qn('devices', 'Reading') });
  });
});

describe('resource', () => {
  it('parses every property', () => {
    const r = strip(
      firstDecl(`resource eu_cloud {
  kind cloud_region
  provides llm, http, render
  concurrency 8
  cost 0.001usd
  latency 120ms
  reliability 99.5%
  location "eu-west-1"
  energy 0.4
}`) as ResourceDecl,
    );
    expect(r).toEqual({
      kind: 'ResourceDecl',
      name: id('eu_cloud'),
      resourceKind: 'cloud_region',
      provides: [id('llm'), id('http'), id('render')],
      concurrency: { kind: 'NumberLit', value: 8, integer: true },
      cost: { kind: 'MoneyLit', amount: 0.001, currency: 'usd' },
      latency: { kind: 'DurationLit', value: 120, unit: 'ms' },
      reliability: { kind: 'PercentLit', value: 99.5 },
      location: { kind: 'StringLit', parts: ['eu-west-1'] },
      energy: { kind: 'NumberLit', value: 0.4, integer: false },
    });
  });
});

describe('policy', () => {
  it('parses strategy, weights, budgets, prefer, max_fallbacks, require_consent and rate limits', () => {
    const p = strip(
      firstDecl(`policy lean {
  strategy balanced
  weights { cost: 0.3, latency: 0.3, energy: 0.2, reliability: 0.2 }
  budget cost <= 0.50usd
  budget duration < 10m
  prefer local
  max_fallbacks 3
  require_consent true
  rate_limit content_generation 10 per 1m
  rate_limit devices.turn_off 2 per 1h
}`) as PolicyDecl,
    );
    expect(p.strategy).toBe('balanced');
    expect(p.weights?.map((w) => [w.key.name, w.value.value])).toEqual([
      ['cost', 0.3], ['latency', 0.3], ['energy', 0.2], ['reliability', 0.2],
    ]);
    expect(p.budgets).toEqual([
      { kind: 'BudgetDecl', metric: 'cost', op: '<=', limit: { kind: 'MoneyLit', amount: 0.5, currency: 'usd' } },
      { kind: 'BudgetDecl', metric: 'duration', op: '<', limit: { kind: 'DurationLit', value: 10, unit: 'm' } },
    ]);
    expect(p.prefer).toBe('local');
    expect(p.maxFallbacks).toEqual({ kind: 'NumberLit', value: 3, integer: true });
    expect(p.requireConsent).toBe(true);
    expect(p.rateLimits).toEqual([
      { kind: 'RateLimitDecl', capability: qn('content_generation'), count: 10, per: { kind: 'DurationLit', value: 1, unit: 'm' } },
      { kind: 'RateLimitDecl', capability: qn('devices', 'turn_off'), count: 2, per: { kind: 'DurationLit', value: 1, unit: 'h' } },
    ]);
  });

  it('keeps a budget whose limit does not match its metric (the compiler reports E0203)', () => {
    const { diagnostics, module } = parseWith('policy p { budget cost <= 10m }');
    expect(diagnostics).toEqual([]);
    const p = module.declarations[0] as unknown as { budgets: { metric: string; limit: { kind: string } }[] };
    expect(p.budgets[0]).toMatchObject({ metric: 'cost', limit: { kind: 'DurationLit' } });
  });

  it('parses a trailing warn', () => {
    const { diagnostics, module } = parseWith('policy p { budget cost <= 0.50usd warn\n budget duration <= 1m }');
    expect(diagnostics).toEqual([]);
    const p = module.declarations[0] as unknown as { budgets: { warn?: boolean }[] };
    expect(p.budgets.map((b) => b.warn === true)).toEqual([true, false]);
  });
});

describe('guardrail', () => {
  it('parses severity, category, message and the four rule forms in order', () => {
    const g = strip(
      firstDecl(`guardrail g {
  severity blocking
  category privacy
  forbid step where step.data >= personal and step.placement == cloud_region
  require kind human before capability send_email
  require approve after generate
  assert plan.cost <= 0.20usd
  check generate where output.word_count <= 500
  message "Personal data must stay local"
}`) as GuardrailDecl,
    );
    expect(g.severity).toBe('blocking');
    expect(g.category).toEqual(id('privacy'));
    expect(g.message).toEqual({ kind: 'StringLit', parts: ['Personal data must stay local'] });
    expect(g.rules.map((r) => r.kind)).toEqual(['ForbidRule', 'RequireRule', 'RequireRule', 'AssertRule', 'CheckRule']);
    expect(g.rules[1]).toEqual({
      kind: 'RequireRule',
      subject: { kind: 'KindSelector', capabilityKind: 'human' },
      order: 'before',
      object: { kind: 'CapabilitySelector', capability: qn('send_email') },
    });
    expect(g.rules[2]).toEqual({
      kind: 'RequireRule',
      subject: { kind: 'StepSelector', step: id('approve') },
      order: 'after',
      object: { kind: 'StepSelector', step: id('generate') },
    });
    expect(g.rules[4]).toMatchObject({ kind: 'CheckRule', target: { kind: 'StepSelector', step: id('generate') } });
  });
});

describe('context', () => {
  it('parses fields with and without commas, with data classes', () => {
    const m = strip(parseOk('context {\n  temperature: number\n  occupied: bool @personal,\n  tariff: money\n}'));
    expect(m.declarations[0]).toEqual({
      kind: 'ContextDecl',
      fields: [
        { kind: 'FieldDecl', name: id('temperature'), type: { kind: 'PrimitiveType', name: 'number' } },
        { kind: 'FieldDecl', name: id('occupied'), type: { kind: 'PrimitiveType', name: 'bool' }, dataClass: 'personal' },
        { kind: 'FieldDecl', name: id('tariff'), type: { kind: 'PrimitiveType', name: 'money' } },
      ],
    });
  });
});

describe('plan', () => {
  const plan = (body: string) => strip(firstDecl(`plan p {\n${body}\n}`) as PlanDecl);
  const step = (s: string) => plan(s).body[0] as StepDecl;

  it('parses the plan properties', () => {
    const p = plan(`goal "Launch"
  input { product_id: string }
  policy std.lean
  guardrails a, b.c
  priority high
  deadline 2h
  concurrency 16
  on_failure rollback
  success "all sent": true
  success false
  output { campaign: 1, sent: 2 }`);
    expect(p).toMatchObject({
      goal: { kind: 'StringLit', parts: ['Launch'] },
      policy: qn('std', 'lean'),
      guardrails: [qn('a'), qn('b', 'c')],
      priority: 'high',
      deadline: { kind: 'DurationLit', value: 2, unit: 'h' },
      concurrency: { kind: 'NumberLit', value: 16, integer: true },
      onFailure: 'rollback',
    });
    expect(p.input?.fields.map((f) => f.name.name)).toEqual(['product_id']);
    expect(p.success).toEqual([
      { kind: 'SuccessCriterion', label: { kind: 'StringLit', parts: ['all sent'] }, condition: { kind: 'BoolLit', value: true } },
      { kind: 'SuccessCriterion', condition: { kind: 'BoolLit', value: false } },
    ]);
    expect(p.output?.fields.map((f) => f.key.name)).toEqual(['campaign', 'sent']);
  });

  it('parses a capability call step with an inline when', () => {
    expect(step('step celebrate = notify(channel: "#wins", text: "ok",) when sentiment.output.label == "positive"')).toEqual({
      kind: 'StepDecl',
      name: id('celebrate'),
      action: {
        kind: 'CapabilityCall',
        capability: qn('notify'),
        args: [
          { kind: 'Argument', name: id('channel'), value: { kind: 'StringLit', parts: ['#wins'] } },
          { kind: 'Argument', name: id('text'), value: { kind: 'StringLit', parts: ['ok'] } },
        ],
      },
      after: [],
      when: {
        kind: 'BinaryExpr',
        op: '==',
        left: {
          kind: 'MemberExpr',
          object: { kind: 'MemberExpr', object: { kind: 'NameExpr', name: 'sentiment' }, property: id('output') },
          property: id('label'),
        },
        right: { kind: 'StringLit', parts: ['positive'] },
      },
    });
  });

  it('parses every step option', () => {
    const s = step(`step send = send_email(to: r.email) {
      after approve, render
      on edge_mailer
      fallback send_email_via_cloud(to: r.email)
      compensate recall_email(to: r.email)
      timeout 30s
      retry 2 backoff fixed 1s
      join any_success
      on_failure continue
      priority critical
      when input.go
    }`);
    expect(s).toMatchObject({
      after: [id('approve'), id('render')],
      on: qn('edge_mailer'),
      fallback: { kind: 'CapabilityCall', capability: qn('send_email_via_cloud') },
      compensate: { kind: 'CapabilityCall', capability: qn('recall_email') },
      timeout: { kind: 'DurationLit', value: 30, unit: 's' },
      retry: { kind: 'RetrySpec', attempts: 2, backoff: { kind: 'fixed' } },
      join: 'any_success',
      onFailure: 'continue',
      priority: 'critical',
      when: { kind: 'MemberExpr' },
    });
  });

  it('parses wait, wait until and run actions', () => {
    expect(step('step cool_off = wait 10m').action).toEqual({ kind: 'WaitAction', duration: { kind: 'DurationLit', value: 10, unit: 'm' } });
    expect(step('step d = wait until context.light_level > 100 timeout 2h').action).toEqual({
      kind: 'WaitUntilAction',
      condition: {
        kind: 'BinaryExpr',
        op: '>',
        left: { kind: 'MemberExpr', object: { kind: 'NameExpr', name: 'context' }, property: id('light_level') },
        right: { kind: 'NumberLit', value: 100, integer: true },
      },
      timeout: { kind: 'DurationLit', value: 2, unit: 'h' },
    });
    expect(step('step r = run weekly_report(week: "current")').action).toEqual({
      kind: 'RunAction',
      plan: qn('weekly_report'),
      args: [{ kind: 'Argument', name: id('week'), value: { kind: 'StringLit', parts: ['current'] } }],
    });
    expect(step('step r = run reports.weekly').action).toEqual({ kind: 'RunAction', plan: qn('reports', 'weekly'), args: [] });
    // `run(...)` and `wait(...)` as capability names still parse as calls.
    expect(step('step r = run(x: 1)').action).toMatchObject({ kind: 'CapabilityCall', capability: qn('run') });
  });

  it('parses for each with parallel, nested loops and plan-scoped invariants in body order', () => {
    const p = plan(`step a = f()
  for each r in input.recipients parallel 10 {
    step send = g(to: r.email)
    for each x in r.items { step inner = h(x: x) }
  }
  invariant "sent after a" { always send.started implies a.completed }
  step z = f()`);
    expect(p.body.map((b) => b.kind)).toEqual(['StepDecl', 'ForEachDecl', 'InvariantDecl', 'StepDecl']);
    const loop = p.body[1]!;
    expect(loop).toMatchObject({
      kind: 'ForEachDecl',
      item: id('r'),
      list: { kind: 'MemberExpr', property: id('recipients') },
      parallel: { kind: 'NumberLit', value: 10, integer: true },
    });
    expect(loop.kind === 'ForEachDecl' && loop.body.map((b) => b.kind)).toEqual(['StepDecl', 'ForEachDecl']);
  });

  it('accepts keywords as step names, argument names and member names', () => {
    const s = step('step output = data(input: cost.step, kind: run.output)');
    expect(s.name).toEqual(id('output'));
    expect(s.action.kind === 'CapabilityCall' && s.action.args.map((a) => a.name.name)).toEqual(['input', 'kind']);
  });
});

describe('trigger', () => {
  const trig = (body: string) => strip(firstDecl(`trigger t { ${body} }`) as TriggerDecl);

  it('parses all six sources', () => {
    expect(trig('schedule "0 2 * * *" timezone "Europe/Paris" run optimize_energy with { zone: "living_room" }')).toEqual({
      kind: 'TriggerDecl',
      name: id('t'),
      source: { kind: 'ScheduleSource', cron: { kind: 'StringLit', parts: ['0 2 * * *'] }, timezone: { kind: 'StringLit', parts: ['Europe/Paris'] } },
      plan: qn('optimize_energy'),
      with: { kind: 'RecordLit', fields: [{ kind: 'RecordField', key: id('zone'), value: { kind: 'StringLit', parts: ['living_room'] } }] },
    });
    expect(trig('event "sensor.leak" where event.severity >= 3 run leak_response with { sensor: event.device_id } debounce 30s')).toMatchObject({
      source: { kind: 'EventSource', eventType: { parts: ['sensor.leak'] }, where: { kind: 'BinaryExpr', op: '>=' } },
      plan: qn('leak_response'),
      debounce: { kind: 'DurationLit', value: 30, unit: 's' },
    });
    expect(trig('manual run campaign_launch').source).toEqual({ kind: 'ManualSource' });
    expect(trig('api "/campaigns" run campaign_launch').source).toEqual({ kind: 'ApiSource', path: { kind: 'StringLit', parts: ['/campaigns'] } });
    expect(trig('when context.temperature > 28 run cool_down').source).toMatchObject({ kind: 'ConditionSource', condition: { op: '>' } });
    for (const outcome of ['completed', 'failed', 'finished']) {
      expect(trig(`after campaign_launch ${outcome} run weekly_report`).source).toEqual({
        kind: 'ChainSource',
        plan: qn('campaign_launch'),
        outcome,
      });
    }
  });

  it('requires a source and a plan, and only one source', () => {
    expect(diagnosticsMessages('trigger t { run p }')).toEqual([expect.stringMatching(/needs a source/)]);
    expect(diagnosticsMessages('trigger t { manual }')).toEqual([expect.stringMatching(/needs 'run PLAN'/)]);
    expect(diagnosticsMessages('trigger t { manual api "/x" run p }')).toEqual([expect.stringMatching(/one source/)]);
    expect(diagnosticsMessages('trigger t { manual timezone "UTC" run p }')).toEqual([expect.stringMatching(/timezone' only applies/)]);    // A misspelt outcome is the one error: the trigger has its source, it is only ill-written.
    expect(diagnosticsMessages('trigger t { after p exploded run q }')).toEqual(["unknown plan outcome 'exploded' (expected one of: completed, failed, finished)"]);
  });
});

function diagnosticsMessages(text: string): string[] {
  return parseWith(text).diagnostics.map((d) => d.message);
}

describe('invariants and simulate', () => {
  it('parses identifier and string names and the three modalities', () => {
    const m = strip(
      parseOk(`invariant "never send without approval" { always send.started implies approve.completed }
invariant budget_holds { never run.cost > 0.50usd }
invariant valve_closes { eventually close_valve.completed or run.status == "failed" }`),
    );
    expect(m.declarations.map((d) => d.kind === 'InvariantDecl' && [d.name, d.modality])).toEqual([
      [{ kind: 'StringLit', parts: ['never send without approval'] }, 'always'],
      [id('budget_holds'), 'never'],
      [id('valve_closes'), 'eventually'],
    ]);
  });

  it('parses simulate with ranges', () => {
    const s = strip(
      firstDecl(`simulate content_generation {
  output { id: "c-1", body: "Hello", word_count: 1..800 }
  fail 10%
  latency 1s..5s
  cost 0.01usd..0.05usd
}`) as SimulateDecl,
    );
    expect(s.capability).toEqual(qn('content_generation'));
    expect(s.output?.fields[2]?.value).toEqual({
      kind: 'RangeExpr',
      from: { kind: 'NumberLit', value: 1, integer: true },
      to: { kind: 'NumberLit', value: 800, integer: true },
    });
    expect(s.fail).toEqual({ kind: 'PercentLit', value: 10 });
    expect(s.latency).toEqual({
      kind: 'RangeExpr',
      from: { kind: 'DurationLit', value: 1, unit: 's' },
      to: { kind: 'DurationLit', value: 5, unit: 's' },
    });
    expect(s.cost).toMatchObject({ kind: 'RangeExpr', from: { kind: 'MoneyLit', amount: 0.01 } });
    const single = strip(firstDecl('simulate c { latency 2s cost 0.02usd }') as SimulateDecl);
    expect(single.latency).toEqual({ kind: 'DurationLit', value: 2, unit: 's' });
    expect(single.cost).toEqual({ kind: 'MoneyLit', amount: 0.02, currency: 'usd' });
  });

  it('rejects a range outside simulate', () => {
    expect(diagnosticsMessages('invariant i { always x in 1..3 }')).toEqual([expect.stringMatching(/only allowed inside a simulate block/)]);
  });
});

describe('trailing commas in name and string lists (LANGUAGE.md §2)', () => {
  it('end a list before the next property, on every list form', () => {
    const cap = firstDecl('capability c { requires llm, http, consent "a", "b", idempotent true }') as CapabilityDecl;
    expect(strip(cap.requires)).toEqual([id('llm'), id('http')]);
    expect(cap.consent?.map((s) => s.parts.join(''))).toEqual(['a', 'b']);
    expect(cap.idempotent).toBe(true);
    const plan = firstDecl('plan p { guardrails g1, std.g2,\n  step a = c() }') as PlanDecl;
    expect(strip(plan.guardrails)).toEqual([qn('g1'), qn('std', 'g2')]);
    expect(plan.body).toHaveLength(1);
  });

  it('keep a keyword-named last item that the next property follows', () => {
    const res = firstDecl('resource r { provides http, output\n  location "x" }') as ResourceDecl;
    expect(strip(res.provides)).toEqual([id("http"), id("output")]);
    expect(res.location?.parts).toEqual(['x']);
    const plan = firstDecl('plan p { guardrails g1, step\n  step a = c() }') as PlanDecl;
    expect(strip(plan.guardrails)).toEqual([qn('g1'), qn('step')]);
  });
});
