/**
 * LANGUAGE.md §9.1, "Which model sees the data" (issue 47, item 8): the compiler decides a model
 * step's endpoint — its resource's, else its capability's `endpoint "NAME"`, else E0801 (no
 * "first endpoint of the config") — and the step's tier is the higher of the resource's and the
 * endpoint's, which placement, the personal-data guardrail and the preview see.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { check, compile, preview, renderPreviewText, validatePlanIR } from '../index.js';
import { endpointTier, isLoopback } from '../endpoint-tiers.js';
import { diskHost } from '../load.js';

const dir = mkdtempSync(join(tmpdir(), 'orch-endpoints-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CONFIG = { endpoints: { cloud: { api: 'openai' }, ollama: { api: 'openai', base_url: 'http://127.0.0.1:11434/v1' }, gw: { api: 'openai', base_url: 'http://10.0.0.2/v1', tier: 'edge' } } };

function project(source: string, config: object | null = CONFIG, file = 'orch.config.json'): string {
  const sub = mkdtempSync(join(dir, 'p-'));
  if (config) writeFileSync(join(sub, file), file.endsWith('.json') ? JSON.stringify(config) : 'export default {}\n');
  writeFileSync(join(sub, 'main.orch'), source);
  return join(sub, 'main.orch');
}

const draft = (props: string) => `
capability draft { kind llm  input { email: string @personal }  output { text: string }  prompt "Write to \${input.email}"  model "m"  data personal  requires llm ${props} }
`;
const PLAN = `
plan p {
  input { email: string @personal }
  step d = draft(email: input.email)
  output { t: d.output.text }
}
`;

describe('a model step’s endpoint is decided by the compiler (§9.1)', () => {
  it('is E0801 when neither its resource nor its capability names one — no default endpoint', () => {
    const entry = project(`${draft('')}resource laptop { kind local_device  provides llm }\n${PLAN}`);
    const e = check({ entry, host: diskHost }).filter((d) => d.code === 'E0801');
    expect(e).toHaveLength(1);
    expect(e[0]!.message).toMatch(/step "d": the model endpoint its prompt is sent to is not decided: no resource that can host it \(laptop\) names an endpoint/);
    // No resources at all: the same.
    expect(check({ entry: project(`${draft('')}${PLAN}`), host: diskHost }).map((d) => d.code)).toContain('E0801');
  });

  it('the resource that would host the step is not also called unused (W0601): E0801 says what it lacks', () => {
    const codes = (source: string) =>
      check({ entry: project(source), host: diskHost })
        .filter((d) => d.code === 'W0601' || d.code === 'E0801')
        .map((d) => `${d.code} ${d.message.split(':')[0]}`);
    expect(codes(`${draft('')}resource laptop { kind local_device  provides llm }\n${PLAN}`)).toEqual(['E0801 step "d"']);
    expect(codes(`${draft('')}resource laptop { kind local_device  provides llm }\n${PLAN.replace('step d = draft(email: input.email)', 'step d = draft(email: input.email) { on laptop }')}`)).toEqual(['E0801 step "d"']);
    // Its model undecided (the endpoint is): the same.
    expect(codes(`${draft('endpoint "ollama"').replace('model "m"', '')}resource laptop { kind local_device  provides llm }\n${PLAN}`)).toEqual(['E0801 step "d"']);
    // A resource that could host nothing is still unused.
    expect(codes(`${draft('')}resource laptop { kind local_device  provides llm }\nresource printer { kind local_device  provides ink }\n${PLAN}`)).toEqual(['W0601 resource "printer" is never used', 'E0801 step "d"']);
  });

  it('takes the capability’s endpoint where the resource names none; the step’s tier is the higher one, recorded in the IR and shown by the preview', () => {
    // Personal data to a cloud endpoint is §9.3's E0903: a warning in a project on "flows": "warn", so the plan still compiles.
    const entry = project(`${draft('endpoint "cloud"')}resource laptop { kind local_device  provides llm }\n${PLAN}`, { ...CONFIG, flows: 'warn' });
    const out = compile({ entry, host: diskHost });
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(out.diagnostics.filter((d) => d.code === 'E0903').map((d) => [d.severity, d.message.split(':')[0]])).toEqual([['warning', 'personal data reaches model endpoint cloud (cloud) in step d']]);
    const ir = out.plans[0]!;
    expect(validatePlanIR(JSON.parse(JSON.stringify(ir))).ok).toBe(true);
    expect(ir.steps[0]!.binding).toMatchObject({ resource: 'laptop', tier: 'cloud', endpoint: 'cloud', endpoint_tier: 'cloud' });
    // The capability's own endpoint keeps its tier too: a run-time alternative resource without one sends the call there.
    expect(ir.capabilities['main.draft']!.llm).toMatchObject({ endpoint: 'cloud', endpoint_tier: 'cloud' });
    expect(ir.resources.laptop ?? Object.values(ir.resources).find((r) => r.name === 'laptop')).toMatchObject({ tier: 'local' });
    const p = preview(ir);
    expect(p.steps[0]).toMatchObject({ resource: 'laptop', tier: 'cloud', endpoint: { name: 'cloud', tier: 'cloud' } });
    expect(renderPreviewText(p, false)).toMatch(/on laptop \(cloud\), model endpoint cloud \(cloud\)/);
  });

  it('with no resources declared the step runs on the local host at its endpoint’s tier, which the preview prints', () => {
    const plain = (endpoint: string) => compile({ entry: project(`${draft(`endpoint "${endpoint}"`)}${PLAN}`, { ...CONFIG, flows: 'warn' }), host: diskHost }).plans[0]!;
    expect(plain('ollama').steps[0]!.binding).toMatchObject({ resource: null, tier: 'local', endpoint: 'ollama', endpoint_tier: 'local' });
    const cloud = plain('cloud');
    expect(cloud.steps[0]!.binding).toMatchObject({ resource: null, tier: 'cloud', endpoint: 'cloud', endpoint_tier: 'cloud' });
    expect(renderPreviewText(preview(cloud), false)).toMatch(/\+ d = draft\n {6}model endpoint cloud \(cloud\)/);
  });

  it('the preview prints a model compensation call’s endpoint and tier, as a fallback call’s', () => {
    const src = `${draft('endpoint "gw"')}capability keep { kind tool  input { email: string @personal }  output { ok: bool }  requires llm }
plan p {
  input { email: string @personal }
  step k = keep(email: input.email) {
    compensate draft(email: input.email)
  }
}
`;
    const out = compile({ entry: project(src), host: diskHost });
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const p = preview(out.plans[0]!);
    expect(p.steps[0]!.compensate_call).toEqual({ capability: 'main.draft', endpoint: { name: 'gw', tier: 'edge' } });
    expect(renderPreviewText(p, false)).toMatch(/\n {6}compensate call draft, model endpoint gw \(edge\)\n/);
  });

  it('the preview of a plan prints the endpoint and tier of its sub-plans’ model steps too, named as the run names them (s/d)', () => {
    const src = `${draft('endpoint "gw"')}
plan inner {
  input { email: string @personal }
  step d = draft(email: input.email)
  output { t: d.output.text }
}
plan deeper {
  input { email: string @personal }
  step i = run inner(email: input.email)
}
plan p {
  input { email: string @personal }
  step s = run inner(email: input.email)
  step n = run deeper(email: input.email)
}
`;
    const out = compile({ entry: project(src), host: diskHost });
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const p = preview(out.plans.find((x) => x.plan === 'p')!);
    expect(p.subplan_model_steps).toEqual([
      { step: 's/d', endpoint: { name: 'gw', tier: 'edge' }, resource: null, tier: 'edge' },
      { step: 'n/i/d', endpoint: { name: 'gw', tier: 'edge' }, resource: null, tier: 'edge' },
    ]);
    expect(renderPreviewText(p, false)).toMatch(/Sub-plans: inner, deeper\n {2}s\/d: model endpoint gw \(edge\)\n {2}n\/i\/d: model endpoint gw \(edge\)\n/);
  });

  it('a sub-plan’s model step on a cloud resource with a local endpoint: the preview gives its resource and its own tier (cloud), as for a step of the plan', () => {
    const src = `${draft('')}resource rented { kind cloud_region  provides llm  endpoint "ollama" }
plan inner {
  input { email: string }
  step d = draft(email: input.email)
  output { t: d.output.text }
}
plan p { step s = run inner(email: "x") }
`;
    const out = compile({ entry: project(src), host: diskHost });
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const p = preview(out.plans.find((x) => x.plan === 'p')!);
    expect(p.subplan_model_steps).toEqual([{ step: 's/d', endpoint: { name: 'ollama', tier: 'local' }, resource: 'rented', tier: 'cloud' }]);
    expect(renderPreviewText(p, false)).toContain('  s/d: on rented (cloud), model endpoint ollama (local)\n');
  });

  it('the preview prints a model fallback call’s own endpoint and tier beside the step’s', () => {
    const src = `${draft('endpoint "ollama"')}capability spare { kind llm  input { email: string @personal }  output { text: string }  prompt "Hi \${input.email}"  model "m"  endpoint "gw"  requires llm }
plan p {
  input { email: string @personal }
  step d = draft(email: input.email) { fallback spare(email: input.email) }
  output { t: d.output.text }
}
`;
    const ir = compile({ entry: project(src), host: diskHost }).plans[0]!;
    expect(ir.steps[0]!.fallback!.binding).toMatchObject({ endpoint: 'gw', endpoint_tier: 'edge' });
    const p = preview(ir);
    expect(p.steps[0]!.fallback_call).toMatchObject({ capability: 'main.spare', endpoint: { name: 'gw', tier: 'edge' } });
    expect(renderPreviewText(p, false)).toMatch(/model endpoint ollama \(local\) — .*\n {6}fallback call spare, model endpoint gw \(edge\)\n/);
  });

  it('the preview prints where each fallback resource of a model step sends the prompt — it named only the resources, though a rebound call goes to another endpoint', () => {
    const src = `${draft('endpoint "gw"')}resource box { kind local_device  provides llm  endpoint "ollama" }
resource spare_box { kind local_device  provides llm }
resource twin { kind local_device  provides llm  endpoint "ollama" }
${PLAN}`;
    const ir = compile({ entry: project(src, { ...CONFIG, flows: 'warn' }), host: diskHost }).plans[0]!;
    const p = preview(ir);
    const s = p.steps[0]!;
    expect(s.resource).toBe('box');
    expect([...s.fallbacks].sort()).toEqual(['spare_box', 'twin']);
    // A resource naming no endpoint sends the call to the capability's own (gw).
    const expected = s.fallbacks.map((r) => ({ resource: r, endpoint: r === 'twin' ? { name: 'ollama', tier: 'local' } : { name: 'gw', tier: 'edge' } }));
    expect(s.fallback_endpoints).toEqual(expected);
    const shown = s.fallbacks.map((r) => (r === 'twin' ? 'twin (model endpoint ollama, local)' : `${r} (model endpoint gw, edge)`)).join(', ');
    expect(renderPreviewText(p, false)).toContain(`\n      fallbacks: ${shown}\n`);
  });

  it('the resource’s endpoint wins; a loopback base_url is local, a "tier" is taken as written', () => {
    const entry = project(`${draft('endpoint "cloud"')}resource box { kind local_device  provides llm  endpoint "ollama" }\n${PLAN}`);
    expect(compile({ entry, host: diskHost }).plans[0]!.steps[0]!.binding).toMatchObject({ resource: 'box', tier: 'local', endpoint: 'ollama', endpoint_tier: 'local' });
    const edge = project(`${draft('')}resource box { kind local_device  provides llm  endpoint "gw" }\n${PLAN}`);
    expect(compile({ entry: edge, host: diskHost }).plans[0]!.steps[0]!.binding).toMatchObject({ tier: 'edge', endpoint: 'gw', endpoint_tier: 'edge' });
  });

  it('the personal-data guardrail sees the endpoint: a @personal prompt to a cloud endpoint on a local resource is E0401', () => {
    const guard = `
guardrail personal_local {
  severity blocking
  forbid step where step.data >= personal and step.tier == cloud
}
policy p { strategy privacy_first }
`;
    const bad = project(`${draft('endpoint "cloud"')}resource laptop { kind local_device  provides llm }\n${guard}${PLAN.replace('plan p {', 'plan p {\n  policy p\n  guardrails personal_local')}`);
    const codes = check({ entry: bad, host: diskHost }).map((d) => d.code);
    expect(codes).toContain('E0401');
    // With a local resource on a local endpoint too, placement takes that one and the plan holds.
    const ok = project(`${draft('endpoint "cloud"')}resource laptop { kind local_device  provides llm }\nresource box { kind local_device  provides llm  endpoint "ollama" }\n${guard}${PLAN.replace('plan p {', 'plan p {\n  policy p\n  guardrails personal_local')}`);
    const out = compile({ entry: ok, host: diskHost });
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(out.plans[0]!.steps[0]!.binding).toMatchObject({ resource: 'box', endpoint: 'ollama', tier: 'local' });
  });

  it('endpoint tiers: loopback hosts, a JS config’s tiers from orch.config.json, unknown endpoints cloud', () => {
    expect(['http://localhost:1/v1', 'http://127.0.0.9/v1', 'http://[::1]:8080/'].every(isLoopback)).toBe(true);
    // The fully qualified `localhost.` and an IPv4-mapped IPv6 loopback are loopback too (both were cloud).
    expect(['http://localhost.:11434/v1', 'http://[::ffff:127.0.0.1]:1/', 'http://[0:0:0:0:0:0:0:1]/'].every(isLoopback)).toBe(true);
    expect(['http://localhost.example.com/', 'http://[::ffff:10.0.0.1]/', 'http://127.0.0.1.nip.io/'].some(isLoopback)).toBe(false);
    expect(['http://10.0.0.1/', 'https://api.openai.com/v1', 'not a url'].some(isLoopback)).toBe(false);
    expect(endpointTier('nope', { kind: 'json', root: dir, file: '', raw: CONFIG })).toBe('cloud');
    // A "tier" that is none of the three (a typo) is cloud, whatever the base_url, and W0803 says so.
    const typo = { endpoints: { ep: { base_url: 'http://127.0.0.1:1/v1', tier: 'Local' } } };
    expect(endpointTier('ep', { kind: 'json', root: dir, file: '', raw: typo })).toBe('cloud');
    const w = check({ entry: project(`${draft('endpoint "ep"')}${PLAN}`, typo), host: diskHost });
    expect(w.filter((d) => d.code === 'W0803' && d.message.includes('"tier"')).map((d) => d.message)).toEqual([
      'endpoint "ep" has "tier": "Local", which is not local, edge or cloud: it counts as cloud here (orch run refuses the config)',
    ]);
    expect(w.map((d) => d.code)).toContain('E0903');
    expect(endpointTier('x', { kind: 'opaque', root: dir, file: '' })).toBe('cloud');
    const sub = mkdtempSync(join(dir, 'js-'));
    writeFileSync(join(sub, 'orch.config.json'), JSON.stringify({ tiers: { x: 'local', y: 'moon' } }));
    expect(endpointTier('x', { kind: 'opaque', root: sub, file: '' })).toBe('local');
    expect(endpointTier('y', { kind: 'opaque', root: sub, file: '' })).toBe('cloud');
  });

  it('W0803 at an endpoint whose base_url or api_key orch run refuses (runtime/models/config.ts), never quoting the URL', () => {
    const bad = { endpoints: { ep: { base_url: 'api.example.com/v1?key=HUNTER2', api_key: 42, tier: 'cloud' } } };
    const found = check({ entry: project(`${draft('endpoint "ep"')}${PLAN}`, bad), host: diskHost })
      .filter((d) => d.code === 'W0803' && d.message.startsWith('endpoint "ep"'))
      .map((d) => d.message);
    expect(found).toEqual([
      'endpoint "ep" has a "base_url" that is not an http:// or https:// URL: orch run refuses the config',
      'endpoint "ep" has an "api_key" that is not a string (e.g. "secret:OPENAI_API_KEY"): orch run refuses the config',
    ]);
    expect(found.join('\n')).not.toContain('HUNTER2');
    const good = { endpoints: { ep: { base_url: 'https://api.example.com/v1', api_key: 'secret:K', tier: 'cloud' } } };
    expect(check({ entry: project(`${draft('endpoint "ep"')}${PLAN}`, good), host: diskHost }).filter((d) => d.code === 'W0803' && d.message.startsWith('endpoint "ep"'))).toEqual([]);
  });

  it('endpoint is a property of kind llm capabilities only (E0801 elsewhere)', () => {
    const entry = project(`capability t { kind tool  input { }  output { }  handler "./h.mjs#t"  endpoint "cloud" }\nplan q { step a = t() }\n`);
    expect(check({ entry, host: diskHost }).filter((d) => d.code === 'E0801').map((d) => d.message)).toEqual([expect.stringMatching(/endpoint is a property of kind llm capabilities/)]);
  });

  it('a secret-class value never reaches a cloud or edge model endpoint’s prompt (§9.3 E0903, an error); a local one may take it', () => {
    const relay = (endpoint: string) => `
capability relay { kind llm  input { token: string }  output { text: string }  prompt "Use \${input.token}"  model "m"  requires llm  endpoint "${endpoint}" }
resource laptop { kind local_device  provides llm }
plan p {
  input { token: string @secret }
  step d = relay(token: input.token)
  output { t: d.output.text }
}
`;
    const flows = (endpoint: string) => check({ entry: project(relay(endpoint)), host: diskHost }).filter((d) => d.code === 'E0903').map((d) => [d.severity, d.message.split(':')[0]]);
    expect(flows('cloud')).toEqual([['error', 'secret data reaches model endpoint cloud (cloud) in step d']]);
    expect(flows('gw')).toEqual([['error', 'secret data reaches model endpoint gw (edge) in step d']]);
    expect(flows('ollama')).toEqual([]);
  });
});

describe('a model step’s model is decided by the compiler too (§8.1; docs/language.md, "No model")', () => {
  const cap = (props: string) => `
capability ask { kind llm  input { q: string }  output { text: string }  prompt "\${input.q}"  endpoint "ollama"  requires llm ${props} }
plan p {
  input { q: string }
  step a = ask(q: input.q)
  output { t: a.output.text }
}
`;
  const e0801 = (source: string) => check({ entry: project(source), host: diskHost }).filter((d) => d.code === 'E0801').map((d) => d.message);

  it('is E0801 when neither its resource nor its capability names a model — it would fail at its first attempt', () => {
    expect(e0801(`${cap('')}resource box { kind local_device  provides llm }\n`)).toEqual([
      'step "a": the model its prompt is sent to is not decided: its resource box names no model, and the capability has no model "NAME" — give the capability or its resource a model',
    ]);
    expect(e0801(cap(''))).toEqual([
      'step "a": the model its prompt is sent to is not decided: it runs on no resource, and the capability has no model "NAME" — give the capability or its resource a model',
    ]);
  });

  it('is no error when the capability or the bound resource names one', () => {
    expect(e0801(`${cap('model "m"')}resource box { kind local_device  provides llm }\n`)).toEqual([]);
    expect(e0801(`${cap('')}resource box { kind local_device  provides llm  model "llama3.2" }\n`)).toEqual([]);
  });
});
