/** The spec's campaign example end to end: IR shape, semantics carried into it, preview, graph, model. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compile, preview, renderGraph, symbolAt, referencesOf, typeAt } from '../index.js';
import { renderPreviewText } from '../preview.js';
import { validatePlanIR } from '../ir/validate.js';
import type { PlanIR } from '../ir/types.js';
import { compileText, BASE } from './helpers.js';

const FILE = fileURLToPath(new URL('./fixtures/campaign.orch', import.meta.url));
const TEXT = readFileSync(FILE, 'utf8');

function campaign(): { plan: PlanIR; out: ReturnType<typeof compile> } {
  const out = compile({ entry: FILE, plan: 'campaign_launch' });
  expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return { plan: out.plans[0]!, out };
}

describe('campaign example', () => {
  it('compiles to a schema-valid IR with expressions as trees', () => {
    const { plan } = campaign();
    expect(plan.version).toBe('orch.plan/v3');
    expect(plan.plan).toBe('campaign_launch');
    expect(plan.module).toBe('marketing.campaigns');
    expect(validatePlanIR(JSON.parse(JSON.stringify(plan)))).toMatchObject({ ok: true });
    // §9: v2 files still read (v3's shape under their own version); no other version does.
    const asV2 = JSON.parse(JSON.stringify(plan).replaceAll('"orch.plan/v3"', '"orch.plan/v2"')) as object;
    expect(validatePlanIR(asV2)).toMatchObject({ ok: true });
    expect(validatePlanIR({ ...JSON.parse(JSON.stringify(plan)), version: 'orch.plan/v4' })).toMatchObject({ ok: false });
    const render = plan.steps.find((s) => s.id === 'render')!;
    expect(render.args.content_id).toEqual({ op: 'get', object: { op: 'get', object: { op: 'step', id: 'generate' }, key: 'output' }, key: 'id' });
    expect(render.timeout_ms).toBe(30_000);
    expect(render.retry.max).toBe(2);
    const gen = plan.steps.find((s) => s.id === 'generate')!;
    expect(gen.retry).toEqual({ max: 3, backoff: 'exponential', delay_ms: 1000, max_delay_ms: 30_000, jitter: false });
    expect(gen.args.template).toEqual({ op: 'lit', value: 'promotional' }); // default applied
  });

  it('carries dependencies, skip propagation, for each groups and conditions', () => {
    const { plan } = campaign();
    const step = (id: string) => plan.steps.find((s) => s.id === id)!;
    expect(step('send').deps).toEqual(['approve', 'render']);
    expect(step('send').after).toEqual(['approve']);
    expect(step('send').skip_if_skipped).toEqual(['render']);
    expect(step('send').for_each).toMatchObject({ item: 'r', parallel: 10, list: { op: 'get', object: { op: 'var', name: 'input' }, key: 'recipients' } });
    expect(step('send').args.to).toEqual({ op: 'get', object: { op: 'item', name: 'r' }, key: 'email' });
    expect(step('send').fallback?.capability).toBe('marketing.campaigns.send_email_via_cloud');
    expect(step('send').compensate?.capability).toBe('marketing.campaigns.recall_email');
    expect(step('celebrate').when).toMatchObject({ op: '==' });
    expect(step('celebrate').skip_if_skipped).toEqual(['sentiment']);
    // read with ?? → no skip propagation, but still a dependency
    expect(step('maybe').deps).toEqual(['sentiment']);
    expect(step('maybe').skip_if_skipped).toEqual([]);
    expect(step('audit').on_failure).toBe('continue');
    expect(step('cool_off').action).toEqual({ type: 'wait', duration_ms: { op: 'lit', value: 600_000, unit: 'duration' } });
    expect(step('daylight').action).toMatchObject({ type: 'wait_until', timeout_ms: 7_200_000 });
    expect(step('report').action).toMatchObject({ type: 'run', plan: 'weekly_report', args: { week: { op: 'lit', value: 'current' } } });
    expect(Object.keys(plan.subplans)).toEqual(['weekly_report']);
  });

  it('propagates data classes and redacts secrets', () => {
    const { plan } = campaign();
    const step = (id: string) => plan.steps.find((s) => s.id === id)!;
    expect(step('send').data).toBe('personal');
    expect(step('generate').data).toBe('internal');
    expect(step('approve').data).toBe('internal'); // len() of personal recipients is not personal
    const auth = (step('audit').args.headers as { op: 'record'; fields: { key: string; value: unknown }[] }).fields[0]!.value;
    expect(auth).toEqual({ op: 'secret', name: 'AUDIT_TOKEN' });
    expect(JSON.stringify(plan)).not.toContain('process.env');
    expect(plan.input).toMatchObject({ properties: { recipients: { type: 'array', items: { properties: { email: { type: 'string', 'x-orch-data': 'personal' } } } } } });
  });

  it('binds steps with rationale; human and built-in steps need no resource', () => {
    const { plan } = campaign();
    const step = (id: string) => plan.steps.find((s) => s.id === id)!;
    expect(step('generate').resource).toBe('eu_cloud');
    expect(step('generate').binding.rationale).toMatch(/privacy_first/);
    expect(step('send').resource).toBe('edge_mailer');
    expect(step('send').binding.rationale).toContain('pinned');
    expect(step('approve').resource).toBeNull();
    expect(step('approve').binding.tier).toBe('human');
    expect(step('cool_off').resource).toBeNull();
    expect(plan.capabilities['std.capabilities.approval']!.handler).toEqual({ builtin: 'approval' });
    expect(plan.capabilities['marketing.campaigns.content_generation']!.handler).toEqual({ module: './handlers/content.js', export: 'generate' });
    expect(plan.capabilities['marketing.campaigns.sentiment_analysis']!.handler).toEqual({ module: './handlers/sentiment.js', export: 'default' });
  });

  it('estimates, guardrail verdicts, invariants and simulations', () => {
    const { plan } = campaign();
    const byId = new Map(plan.steps.map((s) => [s.id, s]));
    const pathSum = plan.estimates.critical_path.reduce((a, id) => a + byId.get(id)!.estimates.duration_ms, 0);
    expect(plan.estimates.duration_ms).toBe(pathSum);
    // the 10m wait dominates; a `wait until` counts 0 (its duration is unknown until run time)
    expect(plan.estimates.duration_ms).toBe(600_000);
    expect(plan.estimates.critical_path).toEqual(["cool_off"]);
    const cost = plan.steps.reduce((a, s) => a + s.estimates.cost, 0);
    expect(plan.estimates.cost).toBeCloseTo(cost, 12);
    const verdicts = Object.fromEntries(plan.guardrails.map((g) => [g.name, g.static_verdict]));
    expect(verdicts).toEqual({ no_personal_data_in_cloud: 'holds', human_before_send: 'holds', spend_cap: 'holds', short_copy: 'runtime' });
    const hbs = plan.guardrails.find((g) => g.name === 'human_before_send')!;
    expect(hbs.rules[0]).toEqual({ type: 'require', subject: { kind: 'human' }, order: 'before', object: { capability: 'marketing.campaigns.send_email' } });
    expect(plan.invariants.map((i) => i.name)).toContain('never send without approval');
    expect(plan.simulations['marketing.campaigns.content_generation']).toMatchObject({ fail: 0.1, latency_ms: { min: 1000, max: 5000 } });
  });

  it('previews stages, groups, budgets, guardrails and triggers', () => {
    const { plan, out } = campaign();
    const p = preview(plan, out.model);
    expect(p.stages[0]!.steps).toContain('generate');
    expect(p.parallel_groups).toEqual([expect.objectContaining({ item: 'r', parallel: 10, steps: ['send'] })]);
    expect(p.budgets.cost).toMatchObject({ limit: 0.5, ok: true });
    expect(p.triggers.map((t) => t.name)).toEqual(['by_hand']);
    const text = renderPreviewText(p, false);
    expect(text).toContain('Stage 0');
    expect(text).toContain('send = send_email');
    expect(text).toContain('no_personal_data_in_cloud (blocking): holds');
    expect(text).not.toContain('\u001b[');
  });

  it('renders DOT, Mermaid and SVG', () => {
    const { plan } = campaign();
    expect(renderGraph(plan, 'dot')).toContain('"generate" -> "render";');
    expect(renderGraph(plan, 'mermaid')).toContain('s_generate --> s_render');
    const svg = renderGraph(plan, 'svg');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/class="step"/g)).toHaveLength(plan.steps.length);
  });

  it('exposes symbols, references and types for editors', () => {
    const { out } = campaign();
    const model = out.model!;
    const at = TEXT.indexOf('generate.output.id') + 1;
    const hit = symbolAt(model, FILE, at)!;
    expect(hit.symbol.kind).toBe('step');
    expect(hit.symbol.name).toBe('generate');
    expect(TEXT.slice(hit.symbol.nameRange.start.offset, hit.symbol.nameRange.end.offset)).toBe('generate');
    expect(referencesOf(model, hit.symbol.id).length).toBeGreaterThanOrEqual(4);
    const field = symbolAt(model, FILE, TEXT.indexOf('generate.output.id') + 'generate.output.'.length)!;
    expect(field.symbol.kind).toBe('output_field');
    expect(typeAt(model, FILE, TEXT.indexOf('generate.output.id') + 'generate.output.'.length)).toBe('string');
    const cap = symbolAt(model, FILE, TEXT.indexOf('content_generation(product_id') + 2)!;
    expect(cap.symbol.detail).toContain('capability content_generation(product_id: string');
    expect(cap.symbol.doc).toBe('Generates marketing copy for a product.');
  });
});

describe('determinism', () => {
  it('compiling twice gives byte-identical IR', () => {
    const a = JSON.stringify(compile({ entry: FILE }).plans);
    const b = JSON.stringify(compile({ entry: FILE }).plans);
    expect(a).toBe(b);
  });
});

describe('plan selection and placement strategies', () => {
  it('compiles only the requested plan', () => {
    const out = compileText(`${BASE}\nplan a { step x = fetch(url: "1") }\nplan b { step y = fetch(url: "2") }\n`, {}, 'b');
    expect(out.plans.map((p) => p.plan)).toEqual(['b']);
  });
  it('cost vs latency vs privacy_first pick different resources, with ordered fallbacks', () => {
    const res = `
capability job { kind tool input { n: int } output { n: int } requires cpu }
resource home { kind local_device provides cpu cost 0.05usd latency 900ms }
resource edge { kind edge_cluster provides cpu cost 0.02usd latency 300ms }
resource far { kind cloud_region provides cpu cost 0.001usd latency 50ms }
`;
    const pick = (strategy: string) => {
      const out = compileText(`${res}\npolicy pol { strategy ${strategy} max_fallbacks 1 }\nplan p { policy pol step s = job(n: 1) }\n`);
      const s = out.plans[0]!.steps[0]!;
      return [s.resource, ...s.binding.fallbacks];
    };
    expect(pick('privacy_first')).toEqual(['home', 'edge']);
    expect(pick('cost')).toEqual(['far', 'edge']);
    expect(pick('latency')).toEqual(['far', 'edge']);
    expect(pick('balanced')[0]).toBe('far');
  });
});

describe('plan input defaults in the IR', () => {
  it('list and record literal defaults reach the input schema (a run without the field gets them)', () => {
    const out = compileText(`plan p {
  input { xs: list<string> = [], opts: { a: int, tags: list<string> } = { a: 1, tags: ["x"] }, n: int = 3, computed: string = "a\${1}" }
  output { n: len(input.xs) + input.n }
}
`);
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const props = (out.plans[0]!.input as { properties: Record<string, { default?: unknown }> }).properties;
    expect(props.xs!.default).toEqual([]);
    expect(props.opts!.default).toEqual({ a: 1, tags: ['x'] });
    expect(props.n!.default).toBe(3);
    expect('default' in props.computed!).toBe(false); // not a literal: evaluated where it is read
  });
});

describe('record field defaults in the IR', () => {
  it('the field defaults of a type reach the schema at every depth: records, list items, optionals, plan and capability inputs', () => {
    const out = compileText(`type Person = { name: string, age: int = 30, tags: list<string> = [], wait: duration = 2m }
type Team = { lead: Person, members: list<Person> = [], size: int = 2 }
capability greet { kind tool input { team: Team, who: Person?, n: int = 5 } output { text: string } handler "./h.js#greet" }
plan p {
  input { team: Team }
  step s = greet(team: input.team)
  output { t: s.output.text }
}
`);
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    type S = { properties: Record<string, S & { default?: unknown }>; items?: S; anyOf?: S[] };
    const cap = Object.values(out.plans[0]!.capabilities)[0]!.input as S;
    const team = cap.properties.team!;
    expect(team.properties.size!.default).toBe(2);
    expect(team.properties.members!.default).toEqual([]);
    expect(team.properties.lead!.properties.age!.default).toBe(30);
    expect(team.properties.lead!.properties.wait!.default).toBe(120_000);
    expect(team.properties.members!.items!.properties.tags!.default).toEqual([]);
    expect(cap.properties.who!.anyOf![0]!.properties.age!.default).toBe(30);
    expect(cap.properties.n!.default).toBe(5);
    expect('default' in team.properties.lead!.properties.name!).toBe(false);
    const planInput = out.plans[0]!.input as S;
    expect(planInput.properties.team!.properties.lead!.properties.age!.default).toBe(30);
  });
});
