/**
 * The built-in model handler end to end (LANGUAGE.md §8.1): `.orch` source compiled by the real
 * compiler, run by the real runtime with a SQLite journal, talking through the real `openai` and
 * `@anthropic-ai/sdk` clients to scripted model servers started here, which record every request.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, preview, type PlanIR } from '../../../compiler/index.js';
import { startModelServer, type ModelServer } from '../../../test/support/model-server.js';
import type { OrchConfig } from '../../config.js';
import { parseModelsConfig, Runtime } from '../../index.js';
import type { ExecutionResult, Executor, RunEvent } from '../../scheduler/types.js';

const KEY = 'sk-cloud-secret-0123456789';
let dir: string;
let rt: Runtime;
let cloud: ModelServer;
let local: ModelServer;
let claude: ModelServer;

/** No step in these plans needs a handler: anything that reaches here is a bug. */
const noHandlers: Executor = { start: (_r, done) => (queueMicrotask(() => done({ ok: false, error: 'not a model call' })), { abort: () => undefined }) };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'orch-models-'));
  [cloud, local, claude] = await Promise.all([startModelServer(), startModelServer(), startModelServer()]);
  rt = await Runtime.open({ db: join(dir, 'runs.db'), executor: noHandlers });
});
afterAll(async () => {
  await rt?.close();
  await Promise.all([cloud?.close(), local?.close(), claude?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

const PRICES = { 'gpt-test': { input_per_mtok: 1000, output_per_mtok: 2000 }, pricey: { input_per_mtok: 1000, output_per_mtok: 1000 }, priced: { input_per_mtok: 2, output_per_mtok: 4 } };

function config(): OrchConfig {
  const raw = {
    endpoints: {
      cloud: { api: 'openai', base_url: cloud.openaiUrl, api_key: 'secret:CLOUD_KEY' },
      local: { api: 'openai', base_url: local.openaiUrl },
      claude: { api: 'anthropic', base_url: claude.anthropicUrl, api_key: 'secret:CLOUD_KEY' },
      // Its key is set nowhere: the endpoint's own failure (LANGUAGE.md §9.1).
      nokey: { api: 'openai', base_url: cloud.openaiUrl, api_key: 'secret:ORCH_TEST_UNSET_MODEL_KEY' },
    },
    prices: PRICES,
  };
  return { file: join(dir, 'orch.config.json'), hooks: {}, secrets: { CLOUD_KEY: KEY }, models: parseModelsConfig(raw, 'orch.config.json') };
}

let n = 0;
/** `withConfig`: the project's orch.config.json holds the runtime's endpoints and prices too (what `orch preview` reads). */
function planOf(src: string, withConfig = false): PlanIR {
  const sub = mkdtempSync(join(dir, `p${n++}-`));
  writeFileSync(join(sub, 'package.json'), '{}');
  // The endpoints' tiers are the compiler's to know (§9.1): local on loopback, the others cloud.
  const endpoints = { cloud: { api: 'openai', tier: 'cloud' }, local: { api: 'openai', base_url: 'http://127.0.0.1:1/v1' }, claude: { api: 'anthropic' }, nokey: { api: 'openai', tier: 'cloud' } };
  writeFileSync(join(sub, 'orch.config.json'), JSON.stringify(withConfig ? { endpoints, prices: PRICES } : { endpoints }));
  const file = join(sub, 'main.orch');
  writeFileSync(file, src);
  const out = compile({ entry: file });
  const errors = out.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(errors.map((d) => `${d.code} ${d.message}`).join('\n'));
  return out.plans[0]!;
}

async function run(p: PlanIR, input: unknown): Promise<{ result: ExecutionResult; events: RunEvent[]; rows: string }> {
  const active = await rt.start(p, { input, config: config() });
  const result = await active.result;
  const events = rt.journal!.load(active.runId);
  return { result, events, rows: JSON.stringify(events) };
}

const SUMMARY = `
capability summarize {
  kind llm
  input  { text: string, audience: "exec" | "team" = "team" }
  output { title: string, bullets: list<string> }
  system "You write short summaries."
  prompt "Summarize for the \${input.audience}:\\n\${input.text}"
  model "gpt-test"
  temperature 0.2
  max_tokens 100
  retry 2 backoff fixed 1ms
  cost 0.5usd
  requires llm
}
resource cloud_model { kind cloud_region  provides llm  endpoint "cloud" }
plan p {
  input { text: string }
  step s = summarize(text: input.text)
  output { title: s.output.title }
}
`;

describe('the built-in model handler', () => {
  it('sends the rendered prompt and the output JSON Schema, records usage and actual cost, never the key', async () => {
    const before = cloud.requests.length;
    cloud.script({ answer: { title: 'T', bullets: ['a', 'b'] }, input_tokens: 100, output_tokens: 50 });
    const { result, events, rows } = await run(planOf(SUMMARY), { text: 'Sales went up.' });
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ title: 'T' });
    const req = cloud.requests[before]!;
    expect(req.headers.authorization).toBe(`Bearer ${KEY}`);
    const body = req.body as { model: string; messages: { role: string; content: string }[]; response_format: { json_schema: { schema: unknown } }; max_tokens: number; temperature: number };
    expect(body.model).toBe('gpt-test');
    expect(body.max_tokens).toBe(100);
    expect(body.temperature).toBe(0.2);
    expect(body.messages[0]).toEqual({ role: 'system', content: 'You write short summaries.' });
    expect(body.messages[1]!.content).toContain('Summarize for the team:\nSales went up.');
    expect(body.response_format.json_schema.schema).toMatchObject({ type: 'object', properties: { title: { type: 'string' }, bullets: { type: 'array', items: { type: 'string' } } } });
    // Usage of the attempt, journaled; cost from the price table (100 × 1000 + 50 × 2000) / 1e6 = 0.2.
    const completed = events.find((e) => e.type === 'step_completed')!;
    expect(completed.data.usage).toEqual({ input_tokens: 100, output_tokens: 50, model: 'gpt-test', endpoint: 'cloud', cost: 0.2 });
    const step = result.steps.find((s) => s.stepId === 's')!;
    expect(step.cost).toBeCloseTo(0.2, 9);
    expect(step.usage).toEqual({ input_tokens: 100, output_tokens: 50, model: 'gpt-test', endpoint: 'cloud' });
    expect(result.metadata.totalCost).toBeCloseTo(0.2, 9);
    expect(rows).not.toContain(KEY);
  });

  it('a refinement sends its own model properties and keeps the base\'s others', async () => {
    const src = `
capability summarize { kind llm  input { text: string }  output { text: string }  prompt "base \${input.text}"  model "gpt-4o-mini"  temperature 0.1  max_tokens 9 }
capability warm from summarize { temperature 0.9  model "other"  system "SYS"  prompt "refined \${input.text}" }
resource cloud_model { kind cloud_region  provides llm  endpoint "cloud" }
plan p { step a = warm(text: "a")  output { a: a.output.text } }
`;
    const before = cloud.requests.length;
    const { result } = await run(planOf(src), {});
    expect(result.status).toBe('completed');
    const body = cloud.requests[before]!.body as { model: string; temperature: number; max_tokens: number; messages: { role: string; content: string }[] };
    expect(body).toMatchObject({ model: 'other', temperature: 0.9, max_tokens: 9 });
    expect(body.messages).toEqual([{ role: 'system', content: 'SYS' }, { role: 'user', content: 'refined a' }]);
  });

  it('an attempt that runs out of time names the model endpoint it waited for — it said only "attempt timed out after 200ms" (§9.1)', async () => {
    const src = `
capability slow { kind llm  input { text: string }  output { text: string }  prompt "\${input.text}"  model "gpt-test" }
resource cloud_model { kind cloud_region  provides llm  endpoint "cloud" }
plan p { step a = slow(text: "a") { timeout 200ms }  output { a: a.output.text } }
`;
    cloud.script({ answer: 'late', delayMs: 2000 });
    const { result } = await run(planOf(src), {});
    expect(result.status).toBe('failed');
    expect(result.steps[0]!.error).toBe('attempt waiting for model endpoint "cloud" timed out after 200ms');
  });

  it('retries a non-matching answer, telling the model the path that was wrong, then succeeds; every attempt is paid', async () => {
    const before = cloud.requests.length;
    cloud.script({ answer: { title: 7, bullets: [] }, input_tokens: 10, output_tokens: 10 }, { answer: { title: 'ok', bullets: [] }, input_tokens: 10, output_tokens: 10 });
    const { result, events } = await run(planOf(SUMMARY), { text: 'x' });
    expect(result.status).toBe('completed');
    const sent = cloud.requests.slice(before).map((r) => (r.body as { messages: { content: string }[] }).messages.at(-1)!.content);
    expect(sent).toHaveLength(2);
    expect(sent[0]).not.toContain('rejected');
    expect(sent[1]).toContain('Your previous answer was rejected');
    expect(sent[1]).toContain('/title');
    const retried = events.find((e) => e.type === 'step_retried')!;
    expect(String(retried.data.error)).toMatch(/model answer does not match .*\/title/);
    expect(result.metadata.totalCost).toBeCloseTo(2 * (10 * 1000 + 10 * 2000) / 1e6, 9);
  });

  it('fails the step with the path when no answer ever matches; invalid JSON says so', async () => {
    cloud.script({ answer: 'not json at all', input_tokens: 1, output_tokens: 1 }, { answer: { bullets: [] }, input_tokens: 1, output_tokens: 1 }, { answer: { bullets: [] }, input_tokens: 1, output_tokens: 1 });
    const { result, events } = await run(planOf(SUMMARY), { text: 'x' });
    expect(result.status).toBe('failed');
    const errors = events.filter((e) => e.type === 'step_retried' || e.type === 'step_failed').map((e) => String(e.data.error));
    expect(errors[0]).toMatch(/model answer is not valid JSON/);
    expect(result.steps.find((s) => s.stepId === 's')!.error).toMatch(/model answer does not match the output type of .*summarize: \/title: is required/);
  });

  it('output { text: string } gets the plain answer; the Messages API through a forced tool', async () => {
    const src = `
capability say { kind llm  input { q: string }  output { text: string }  prompt "\${input.q}"  model "claude-test"  requires llm }
capability shape { kind llm  input { q: string }  output { n: int }  prompt "\${input.q}"  model "claude-test"  max_tokens 20  requires llm }
resource c { kind cloud_region  provides llm  endpoint "claude" }
plan p { step a = say(q: "hi")  step b = shape(q: "count") { after a }  output { a: a.output.text, n: b.output.n } }
`;
    claude.script({ answer: 'hello there', input_tokens: 3, output_tokens: 2 }, { answer: { n: 4 }, input_tokens: 3, output_tokens: 2 });
    const before = claude.requests.length;
    const { result } = await run(planOf(src), {});
    expect(result.output).toEqual({ a: 'hello there', n: 4 });
    const [plain, shaped] = claude.requests.slice(before);
    expect(plain!.body.tools).toBeUndefined();
    expect(shaped!.body).toMatchObject({ max_tokens: 20, tools: [{ input_schema: { type: 'object', properties: { n: { type: 'integer' } } } }], tool_choice: { type: 'tool' } });
    // No price for claude-test: each call costs the capability's estimate (0 here).
    expect(result.metadata.totalCost).toBe(0);
  });
});

describe('no secret is ever sent to a model', () => {
  it('holds for a secret reached through a for each item and a sub-plan input, which the compiler lets pass: no request is made', async () => {
    const src = `
capability chat { kind llm  input { text: string }  output { text: string }  prompt "Say: \${input.text}"  model "gpt-test"  retry 2 backoff fixed 1ms }
resource cloud_model { kind cloud_region  provides llm  endpoint "cloud" }
plan p {
  for each x in [secret("CLOUD_KEY")] {
    step each = chat(text: x) { on_failure continue }
  }
  step nested = run sub(t: secret("CLOUD_KEY")) { on_failure continue }
}
plan sub { input { t: string }  step c = chat(text: "k=\${input.t}")  output { c: c.output.text } }
`;
    const before = cloud.requests.length;
    const { result, rows } = await run(planOf(src), {});
    expect(cloud.requests.length).toBe(before);
    expect(JSON.stringify(result) + rows).not.toContain(KEY);
    const refused = /main\.chat: its prompt would send a secret value to the model, so no request was made/;
    expect(result.steps.find((s) => s.stepId === 'each')!.error).toMatch(refused);
    expect(result.steps.find((s) => s.stepId === 'nested')!.error).toMatch(new RegExp(`^sub-plan sub failed: step c failed: ${refused.source}`));
  });

  it('a secret value the compiler could not see (here a run input) fails the attempt before any request, naming the capability, not the value', async () => {
    const src = `
capability chat { kind llm  input { text: string }  output { text: string }  prompt "Say: \${input.text}"  model "gpt-test"  retry 2 backoff fixed 1ms }
resource cloud_model { kind cloud_region  provides llm  endpoint "cloud" }
plan p { input { text: string }  step a = chat(text: "the key is \${input.text}")  output { a: a.output.text } }
`;
    const before = cloud.requests.length;
    const { result, events, rows } = await run(planOf(src), { text: KEY });
    expect(result.status).toBe('failed');
    expect(cloud.requests.length).toBe(before);
    const error = result.steps.find((s) => s.stepId === 'a')!.error!;
    expect(error).toMatch(/chat: its prompt would send a secret value to the model, so no request was made/);
    expect(error).not.toContain(KEY);
    // Another attempt would carry the same input: not retried, permanent (§9.1).
    expect(events.filter((e) => e.type === 'step_started')).toHaveLength(1);
    expect(events.find((e) => e.type === 'step_failed')!.data).toMatchObject({ permanent: true });
    expect(rows).not.toContain(KEY);
  });
});

describe('step.cost is one figure', () => {
  it('an expression reads the cost --json shows, without floating noise from settling the reservation', async () => {
    const src = `
capability p { kind llm  input { text: string }  output { text: string }  prompt "Say \${input.text}"  model "priced"  cost 0.005usd }
resource cloud_model { kind cloud_region  provides llm  endpoint "cloud" }
plan pl { step b = p(text: "b")  output { bc: b.cost, line: "cost \${b.cost}" } }
`;
    cloud.script({ answer: 'ok', input_tokens: 100, output_tokens: 100 });
    const { result, events } = await run(planOf(src), {});
    expect(result.status).toBe('completed');
    // Reserved 0.005 (the estimate), settled to (100 × 2 + 100 × 4) / 1e6 = 0.0006.
    expect(result.steps[0]!.cost).toBe(0.0006);
    expect(result.output).toEqual({ bc: 0.0006, line: 'cost 0.0006' });
    expect((events.find((e) => e.type === 'step_completed')!.data as { usage: { cost: number } }).usage.cost).toBe(0.0006);
  });
});

describe('a model that does not answer as asked (§8.1)', () => {
  const TEXT = (endpoint: string, model = 'priced') => `
capability say { kind llm  input { q: string }  output { text: string }  prompt "\${input.q}"  model "${model}"  max_tokens 50  retry 1 backoff fixed 1ms  cost 0.25usd  requires llm }
resource r { kind cloud_region  provides llm  endpoint "${endpoint}" }
plan p { step a = say(q: "hi")  output { a: a.output.text } }
`;

  it('a refusal is not an answer: the attempt fails saying so (retried), on both APIs, never an output of the refusal text', async () => {
    for (const [server, endpoint] of [[cloud, 'cloud'], [claude, 'claude']] as const) {
      server.script({ refusal: "I can't help with that.", input_tokens: 5, output_tokens: 5 }, { answer: 'hello', input_tokens: 5, output_tokens: 5 });
      const { result, events } = await run(planOf(TEXT(endpoint)), {});
      expect(result.status, endpoint).toBe('completed');
      expect(result.output).toEqual({ a: 'hello' });
      const retried = events.find((e) => e.type === 'step_retried')!;
      expect(String(retried.data.error)).toBe("model refused to answer: I can't help with that.");
    }
  });

  it("an answer the endpoint's content filter withheld is a refusal, not an empty answer", async () => {
    cloud.script({ finishReason: 'content_filter', input_tokens: 5, output_tokens: 0 }, { answer: 'hello', input_tokens: 5, output_tokens: 5 });
    const { result, events } = await run(planOf(TEXT('cloud')), {});
    expect(result.output).toEqual({ a: 'hello' });
    expect(String(events.find((e) => e.type === 'step_retried')!.data.error)).toBe("model refused to answer: the endpoint's content filter withheld the answer");
  });

  it('an answer without usage costs what the attempt reserved (at least the estimate), never 0', async () => {
    cloud.script({ answer: 'hello', noUsage: true });
    const { result, events } = await run(planOf(TEXT('cloud')), {});
    expect(result.status).toBe('completed');
    expect(result.steps[0]!.cost).toBe(0.25);
    const usage = (events.find((e) => e.type === 'step_completed')!.data as unknown as { usage: Record<string, unknown> }).usage;
    expect(usage).toMatchObject({ model: 'priced', endpoint: 'cloud', cost: 0.25 });
    expect(usage.input_tokens).toBeUndefined();
    // The step's tokens are unknown, not 0 (as orch run --json and the dashboard show them).
    expect(result.steps[0]!.usage).toEqual({ input_tokens: null, output_tokens: null, model: 'priced', endpoint: 'cloud' });
    // No estimate at all: what the attempt reserved (its worst case at the model's price), never 0.
    cloud.script({ answer: 'hello', noUsage: true });
    const free = await run(planOf(TEXT('cloud').replace('  cost 0.25usd', '')), {});
    const reserved = (free.events.find((e) => e.type === 'step_started')!.data as { cost: number }).cost;
    expect(reserved).toBeGreaterThan(0);
    expect(free.result.steps[0]!.cost).toBe(reserved);
  });

  it('usage that is no count of tokens (negative) is no usage: never a negative cost that would credit the budget', async () => {
    cloud.script({ answer: 'hello', input_tokens: -1_000_000, output_tokens: 5 });
    const { result } = await run(planOf(TEXT('cloud')), {});
    expect(result.status).toBe('completed');
    expect(result.steps[0]!.cost).toBe(0.25);
  });

  it('usage that is not two token counts (empty, one missing, not whole numbers, beyond what a number holds) is no usage: the attempt costs its reservation, never a free or cheaper call', async () => {
    const chat = (usage: unknown) => ({ id: 'c', object: 'chat.completion', created: 0, model: 'priced', choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'hello', refusal: null } }], usage });
    for (const usage of [{}, { prompt_tokens: 5 }, { prompt_tokens: '5', completion_tokens: '7' }, { prompt_tokens: -900_000, completion_tokens: 500_000 }, { prompt_tokens: 1e300, completion_tokens: 1 }, { prompt_tokens: 2.5, completion_tokens: 1 }]) {
      cloud.script({ body: chat(usage) });
      const { result, events } = await run(planOf(TEXT('cloud')), {});
      expect(result.status).toBe('completed');
      const reserved = (events.find((e) => e.type === 'step_started')!.data as { cost: number }).cost;
      expect(result.steps[0]!.cost, JSON.stringify(usage)).toBe(reserved);
      expect((events.find((e) => e.type === 'step_completed')!.data as { usage?: { input_tokens?: number } }).usage?.input_tokens, JSON.stringify(usage)).toBeUndefined();
    }
  });

  it('content given as a list of parts (as some gateways answer) is the answer, and the call is paid as reported', async () => {
    const parts = { id: 'c', object: 'chat.completion', created: 0, model: 'priced', choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: [{ type: 'text', text: 'hel' }, { type: 'text', text: 'lo' }], refusal: null } }], usage: { prompt_tokens: 100_000, completion_tokens: 10_000 } };
    cloud.script({ body: parts });
    const { result } = await run(planOf(TEXT('cloud')), {});
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ a: 'hello' });
    expect(result.steps[0]!.cost).toBe(0.24);
    // A Messages gateway's bare string content is the answer too.
    claude.script({ body: { id: 'm', type: 'message', role: 'assistant', model: 'priced', content: 'hello', stop_reason: 'end_turn', usage: { input_tokens: 100_000, output_tokens: 10_000 } } });
    const bare = await run(planOf(TEXT('claude')), {});
    expect(bare.result.output).toEqual({ a: 'hello' });
    expect(bare.result.steps[0]!.cost).toBe(0.24);
    // The JSON value itself as content: its JSON text is the answer, validated and paid as any other.
    cloud.script({ body: { ...parts, choices: [{ ...parts.choices[0], message: { role: 'assistant', content: { odd: true }, refusal: null } }] } });
    const odd = await run(planOf(TEXT('cloud')), {});
    expect(odd.result.output).toEqual({ a: '{"odd":true}' });
    expect(odd.result.steps[0]!.cost).toBe(0.24);
  });

  it('an answer cut off mid-way fails the attempt, which is retried', async () => {
    cloud.script({ answer: 'hello', input_tokens: 1, output_tokens: 1, cutOff: true }, { answer: 'again', input_tokens: 1, output_tokens: 1 });
    const { result, events } = await run(planOf(TEXT('cloud')), {});
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ a: 'again' });
    expect(String(events.find((e) => e.type === 'step_retried')!.data.error)).toMatch(/^model endpoint "cloud" \(openai .*\) failed: /);
  });
});

describe('orch preview reserves what the run reserves (§8.2)', () => {
  it('for a structured output (schema and instruction sent) and a plain-text one (neither sent)', async () => {
    const src = `
capability gen { kind llm  input { }  output { v: int }  system "Be brief."  prompt "Give a number"  model "pricey"  max_tokens 10 }
capability txt { kind llm  input { }  output { text: string }  prompt "Give a number"  model "pricey"  max_tokens 10 }
capability said { kind llm  input { q: string = "Give a number" }  output { text: string }  prompt "\${input.q}"  model "pricey"  max_tokens 10 }
resource cloud_model { kind cloud_region  provides llm  endpoint "cloud" }
plan p { step a = gen()  step b = txt()  step c = said()  output { a: a.output.v, b: b.output.text, c: c.output.text } }
`;
    cloud.script({ answer: { v: 1 }, input_tokens: 1, output_tokens: 1 }, { answer: 'one', input_tokens: 1, output_tokens: 1 }, { answer: 'two', input_tokens: 1, output_tokens: 1 });
    const plan = planOf(src, true);
    const previewed = Object.fromEntries(preview(plan).steps.map((s) => [s.id, s.reservation]));
    const { result, events } = await run(plan, {});
    expect(result.status).toBe('completed');
    const reserved = (id: string) => (events.find((e) => e.type === 'step_started' && e.stepId === id)!.data as { cost: number }).cost;
    for (const id of ['a', 'b']) {
      expect(previewed[id]!.model).toBe('pricey');
      expect(previewed[id]!.cost).toBe(Math.round(reserved(id) * 1e6) / 1e6);
    }
    // The plain-text call sends neither a schema nor the JSON instruction: far less than the structured one.
    expect(previewed.b!.cost).toBeLessThan(previewed.a!.cost);
    // An interpolated prompt: its literal part now, each byte of input later.
    expect(previewed.c!.per_input_byte).toBeCloseTo(1000 / 1e6, 12);
    expect(previewed.c!.cost + 'Give a number'.length * previewed.c!.per_input_byte).toBeCloseTo(reserved('c'), 9);
  });
});

describe('privacy_first keeps a @personal prompt on local models', () => {
  const src = (withEdge: boolean) => `
import std.guardrails { no_personal_data_in_cloud }
capability draft { kind llm  input { email: string @personal }  output { text: string }  prompt "Write to \${input.email}"  model "small"  data personal  requires llm }
resource local_model { kind local_device  provides llm  endpoint "local"  model "small" }
${withEdge ? 'resource edge_model { kind edge_gateway  provides llm  endpoint "local"  model "small-2"  cost 0.001usd }' : ''}
resource cloud_model { kind cloud_region  provides llm  endpoint "cloud"  model "gpt-test" }
policy private { strategy privacy_first  max_fallbacks 3 }
plan p {
  input { email: string @personal }
  policy private
  guardrails no_personal_data_in_cloud
  step d = draft(email: input.email)
}
`;

  it('sends the prompt to the local endpoint, and never to the cloud one', async () => {
    const c0 = cloud.requests.length;
    const l0 = local.requests.length;
    local.script({ answer: 'Hi!', input_tokens: 5, output_tokens: 2 });
    const { result } = await run(planOf(src(false)), { email: 'ann@example.com' });
    expect(result.status).toBe('completed');
    expect(local.requests.slice(l0).map((r) => r.raw).join()).toContain('ann@example.com');
    expect(cloud.requests.length).toBe(c0);
  });

  it('when the local model fails: falls back only to a resource the guardrail allows, else the step fails', async () => {
    const c0 = cloud.requests.length;
    const l0 = local.requests.length;
    local.script({ status: 500 }, { answer: 'from the edge', input_tokens: 5, output_tokens: 2 });
    const withEdge = await run(planOf(src(true)), { email: 'bob@example.com' });
    expect(withEdge.result.status).toBe('completed');
    expect(withEdge.result.output ?? withEdge.result.steps[0]!.output).toBeTruthy();
    const models = local.requests.slice(l0).map((r) => (r.body as { model: string }).model);
    expect(models).toEqual(['small', 'small-2']);

    local.script({ status: 500 });
    const alone = await run(planOf(src(false)), { email: 'cy@example.com' });
    expect(alone.result.status).toBe('failed');
    expect(alone.result.steps[0]!.error).toMatch(/model endpoint "local" .* failed/);
    expect(cloud.requests.length).toBe(c0);
    expect(cloud.requests.map((r) => r.raw).join()).not.toMatch(/@example\.com/);
  });
});

describe('errors that cannot heal are not retried (§9.1)', () => {
  const src = (first: string) => `
capability chat { kind llm  input { q: string }  output { text: string }  prompt "\${input.q}"  model "gpt-test"  retry 2 backoff fixed 1ms  requires llm }
resource first { kind local_device  provides llm  endpoint "${first}" }
resource second { kind local_device  provides llm  endpoint "local"  cost 0.001usd }
policy cheapest { strategy cost }
plan p { policy cheapest  step a = chat(q: "hi")  output { a: a.output.text } }
`;
  const startedOn = (events: RunEvent[]) => events.filter((e) => e.type === 'step_started').map((e) => (e.data as { resource: string }).resource);

  it("a missing key is the endpoint's: no retry on it, the next resource answers", async () => {
    const c0 = cloud.requests.length;
    local.script({ answer: 'from the second', input_tokens: 1, output_tokens: 1 });
    const { result, events } = await run(planOf(src('nokey')), {});
    expect(result.status).toBe('completed');
    expect(startedOn(events)).toEqual(['first', 'second']);
    expect(cloud.requests.length).toBe(c0);
    const moved = events.find((e) => e.type === 'step_retried')!.data;
    expect(moved).toMatchObject({ permanent: true, rebind: 'second' });
    expect(String(moved.error)).toMatch(/model endpoint "nokey": secret "ORCH_TEST_UNSET_MODEL_KEY" is not set/);
  });

  it('a refused request (HTTP 400) fails the step at once: one request, no other resource, permanent', async () => {
    const c0 = cloud.requests.length;
    const l0 = local.requests.length;
    cloud.script({ status: 400 });
    const { result, events } = await run(planOf(src('cloud')), {});
    expect(result.status).toBe('failed');
    expect(cloud.requests.length - c0).toBe(1);
    expect(local.requests.length).toBe(l0);
    expect(startedOn(events)).toEqual(['first']);
    const failed = events.find((e) => e.type === 'step_failed')!.data;
    expect(failed).toMatchObject({ permanent: true });
    // The status once: the SDK's message begins with it too ("HTTP 400: 400 scripted …").
    expect(String(failed.error)).toMatch(/model endpoint "cloud" \(openai http:\/\/127\.0\.0\.1:\d+\/v1, model gpt-test\) failed: HTTP 400: scripted failure 400$/);
    expect(result.metadata.totalCost).toBe(0);
  });

  it('a 401 is the resource\'s (its key): the next resource is tried; a 429 is retried as before', async () => {
    cloud.script({ status: 401 });
    local.script({ answer: 'ok', input_tokens: 1, output_tokens: 1 });
    const refused = await run(planOf(src('cloud')), {});
    expect(refused.result.status).toBe('completed');
    expect(startedOn(refused.events)).toEqual(['first', 'second']);

    cloud.script({ status: 429 }, { answer: 'later', input_tokens: 1, output_tokens: 1 });
    const limited = await run(planOf(src('cloud')), {});
    expect(limited.result.status).toBe('completed');
    expect(startedOn(limited.events)).toEqual(['first', 'first']);
  });

  it("the run's config giving the endpoint a higher tier than the compiled one refuses it: no request, permanent, on every resource", async () => {
    const l0 = local.requests.length;
    const p = planOf(src('local'));
    expect(p.resources.first!.endpoint_tier).toBe('local');
    const cfg = config();
    const higher = { ...cfg, models: { ...cfg.models!, endpoints: cfg.models!.endpoints.map((e) => (e.name === 'local' ? { ...e, tier: 'edge' as const } : e)) } };
    const active = await rt.start(p, { input: {}, config: higher });
    const result = await active.result;
    const events = rt.journal!.load(active.runId);
    expect(result.status).toBe('failed');
    expect(local.requests.length).toBe(l0);
    // The resource's endpoint: the next resource is tried (it names the same endpoint, refused too), never retried.
    expect(startedOn(events)).toEqual(['first', 'second']);
    const failed = events.find((e) => e.type === 'step_failed')!.data;
    expect(failed).toMatchObject({ permanent: true });
    expect(String(failed.error)).toBe(
      `model endpoint "local" is tier edge in ${cfg.file} but the plan was compiled for tier local: a step is never sent to a higher tier than the one its guardrails were checked against, so no request was made (give the endpoint "tier": "local" there only if it is one, or compile the plan against this config)`,
    );
  });

  it('a transport error names the endpoint and how it is reached', async () => {
    const gone = await startModelServer();
    const url = gone.openaiUrl;
    await gone.close();
    const p = planOf(src('cloud'));
    const cfg = config();
    const active = await rt.start(p, { input: {}, config: { ...cfg, models: { ...cfg.models!, endpoints: cfg.models!.endpoints.map((e) => (e.name === 'cloud' ? { ...e, base_url: url } : e)) } } });
    const result = await active.result;
    const error = rt.journal!.load(active.runId).filter((e) => e.type === 'step_retried').map((e) => String(e.data.error))[0];
    expect(error).toBe(`model endpoint "cloud" (openai ${url}, model gpt-test) failed: connection refused`);
    // Not permanent: retried on its resource, then the next resource answers.
    expect(result.status).toBe('completed');
  });
});
