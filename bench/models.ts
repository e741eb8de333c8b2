/**
 * The built-in model handler's overhead per call (LANGUAGE.md §8.1): the same structured request
 * to the same scripted local model server, once as a bare `openai` SDK call and once through the
 * handler (prompt rendering, JSON Schema, answer parsing and validation, usage and cost),
 * interleaved in one run so both see the same machine. Target: ≤ 1 ms p50.
 */
import OpenAI from 'openai';
import type { CapabilityIR } from '../compiler/index.js';
import { ModelExecutor, modelClientFor, parseModelsConfig } from '../runtime/index.js';
import type { AttemptOutcome, AttemptRequest, Executor } from '../runtime/index.js';
import { startModelServer } from '../test/support/model-server.js';
import { median, smoke, type BenchFigure } from './figure.js';

const CALLS = smoke(400, 5);

const output = { type: 'object', properties: { title: { type: 'string' }, bullets: { type: 'array', items: { type: 'string' } } }, required: ['title', 'bullets'], additionalProperties: false };
const cap: CapabilityIR = {
  name: 'bench.summarize',
  kind: 'llm',
  input: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
  output,
  handler: null,
  timeout_ms: null,
  retry: { max: 0, backoff: 'none', delay_ms: 0, max_delay_ms: null, jitter: false },
  cost: 0,
  latency_ms: 0,
  data: 'public',
  consent: [],
  requires: [],
  idempotent: false,
  llm: {
    prompt: { op: 'concat', parts: [{ op: 'lit', value: 'Summarize:\n' }, { op: 'get', object: { op: 'var', name: 'input' }, key: 'text' }] },
    system: { op: 'lit', value: 'You write short summaries.' },
    model: 'bench-model',
    // The compiler decides a model step's endpoint (§9.1, E0801): this IR names it as a compile would.
    endpoint: 'local',
    temperature: 0.2,
    max_tokens: 200,
  },
};

export async function bench(): Promise<readonly BenchFigure[]> {
  const server = await startModelServer(() => ({ answer: { title: 'Sales', bullets: ['up 4%', 'north leads'] }, input_tokens: 120, output_tokens: 30 }));
  try {
    const models = parseModelsConfig({ endpoints: { local: { api: 'openai', base_url: server.openaiUrl } }, prices: { 'bench-model': { input_per_mtok: 1, output_per_mtok: 2 } } }, 'bench');
    const none: Executor = { start: () => ({ abort: () => undefined }) };
    const handler = new ModelExecutor(none, { models, secret: () => '', client: modelClientFor });
    const sdk = new OpenAI({ apiKey: 'orch-no-key', baseURL: server.openaiUrl, maxRetries: 0 });
    const text = 'Sales rose 4% week on week; the north region led with 38% of orders.';
    const req = { runId: 'b', stepId: 's', baseStepId: 's', attempt: 1, purpose: 'call', capability: cap, input: { text }, resource: null, timeoutMs: null, secrets: {}, plan: {} } as unknown as AttemptRequest;
    const bare = async () => {
      const r = await sdk.chat.completions.create({
        model: 'bench-model',
        max_tokens: 200,
        temperature: 0.2,
        messages: [
          { role: 'system', content: 'You write short summaries.' },
          { role: 'user', content: `Summarize:\n${text}` },
        ],
        response_format: { type: 'json_schema', json_schema: { name: 'bench_summarize', schema: output, strict: false } },
      });
      JSON.parse(r.choices[0]!.message.content ?? 'null');
    };
    const viaHandler = () =>
      new Promise<void>((resolve, reject) =>
        handler.start(req, (o: AttemptOutcome) => (o.ok ? resolve() : reject(new Error(o.error)))),
      );
    for (let i = 0; i < smoke(50, 1); i++) {
      await bare();
      await viaHandler();
    }
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      let t = performance.now();
      await bare();
      a.push(performance.now() - t);
      t = performance.now();
      await viaHandler();
      b.push(performance.now() - t);
    }
    const overhead = median(b) - median(a);
    return [
      { name: 'model call, bare openai SDK to a local scripted server (p50)', value: median(a), unit: 'ms', target: '', met: true },
      { name: 'model call through the built-in model handler (p50)', value: median(b), unit: 'ms', target: '', met: true },
      { name: 'built-in model handler overhead per call (p50 difference)', value: overhead, unit: 'ms', target: '≤ 1 ms', met: overhead <= 1 },
    ];
  } finally {
    await server.close();
  }
}
