/**
 * The built-in model handler (LANGUAGE.md §8.1) as an executor effect: an attempt of a `kind llm`
 * capability with a `prompt` (and no handler) is answered here, in the process that owns the
 * run — a model call is network I/O, so it needs no worker thread — and every other attempt goes
 * on to the wrapped executor. The scheduler core only sees an attempt and its outcome: the output,
 * or an error; the cost; and the usage (tokens, model, endpoint).
 *
 * Endpoint and model: the bound resource's `endpoint`/`model`, else the capability's own (the
 * compiler refuses a step with neither endpoint, E0801; there is no default endpoint). The output type is sent as a JSON Schema and the answer validated
 * against it; a mismatch fails the attempt with the path of the first mismatch, and the next
 * attempt's prompt says what was wrong (prompt.ts). `output { text: string }` takes the plain answer.
 */
import type { CapabilityIR, LlmIR } from '../../compiler/index.js';
import { describeValueErrors, endpointOf, isModelCall, modelWorstCase, promptTokenBound, validateValue } from '../../compiler/index.js';
import { fillDefaults } from '../executor/value-defaults.js';
import { DEFAULT_MAX_OUTPUT_BYTES } from '../executor/json-output.js';
import { Redactor } from '../redact.js';
import type { AttemptHandle, AttemptOutcome, AttemptRequest, AttemptUsage, CommitHook, Executor, FailureOwner } from '../scheduler/types.js';
import { isRefusal, refusalOwner, shownUrl, transportReason } from '../transport-error.js';
import type { ModelClient } from './client.js';
import { priceOf, type EndpointConfig, type ModelsConfig } from './config.js';
import { pricedOutcome, pricedUsage } from './priced-usage.js';
import { compiledTier, configuredTier, tierRefusal } from './endpoint-tier.js';
import { ANSWER_REJECTED, modelOf, renderPrompt } from './prompt.js';

export interface ModelSetup {
  readonly models: ModelsConfig;
  /** Resolves a `"secret:NAME"` key (registering it with the run's redactor). */
  readonly secret: (name: string) => string;
  /** Builds a client for an endpoint (default: the SDK client of its `api`). */
  readonly client: (endpoint: EndpointConfig, secret: (name: string) => string) => ModelClient;
  /**
   * The run's redactor on a text (every known secret value blanked): a prompt it changes carries
   * a secret and is never sent. The attempt's own `secrets` are checked too.
   */
  readonly redact?: (text: string) => string;
  /** Whose config `models` is, in a refusal's words (default "this process's orch.config"). */
  readonly configName?: string;
}

const NOOP_HOOK: CommitHook = async () => undefined;

export class ModelExecutor implements Executor {
  private readonly clients = new Map<string, ModelClient>();
  readonly prepare?: (request: AttemptRequest) => CommitHook;
  readonly discard?: (request: AttemptRequest) => void;
  readonly recover?: Executor['recover'];
  readonly checkTool?: Executor['checkTool'];
  /** Whether any model has a price: only then can a handler's token usage be priced (`priced`). */
  private readonly pricing: boolean;

  constructor(
    private readonly inner: Executor,
    private readonly setup: ModelSetup,
  ) {
    // Only what the wrapped executor offers: the scheduler checks for these hooks.
    const prepare = inner.prepare?.bind(inner);
    const discard = inner.discard?.bind(inner);
    if (prepare) this.prepare = (req) => (isModelCall(req.capability) ? NOOP_HOOK : prepare(req));
    if (discard) this.discard = (req) => (isModelCall(req.capability) ? undefined : discard(req));
    if (inner.recover) this.recover = inner.recover.bind(inner);
    if (inner.checkTool) this.checkTool = inner.checkTool.bind(inner);
    this.pricing = Object.keys(setup.models.prices).length > 0;
  }

  start(req: AttemptRequest, done: (outcome: AttemptOutcome) => void, logged?: (lines: readonly string[]) => void, reported?: (usage: AttemptUsage) => void): AttemptHandle {
    // Without a price table every outcome stays as it is: a plain step's attempt gets no wrapper.
    if (!isModelCall(req.capability)) {
      if (!this.pricing) return this.inner.start(req, done, logged, reported);
      const prices = this.setup.models.prices;
      return this.inner.start(req, (o) => done(pricedOutcome(o, prices)), logged, reported && ((u) => reported(pricedUsage(u, prices).usage)));
    }
    const controller = new AbortController();
    let settled = false;
    const settle = (o: AttemptOutcome) => {
      if (settled) return;
      settled = true;
      done(o);
    };
    this.call(req, req.capability, controller.signal).then(
      (o) => settle(o),
      (err: unknown) => settle({ ok: false, error: `model handler failed: ${(err as Error)?.message ?? String(err)}`, cost: 0 }),
    );
    return {
      abort: (reason) => {
        if (settled) return;
        controller.abort(new Error(reason));
        settled = true;
        queueMicrotask(() => done({ ok: false, error: 'attempt aborted' }));
      },
    };
  }

  private async call(req: AttemptRequest, cap: CapabilityIR & { readonly llm: LlmIR }, signal: AbortSignal): Promise<AttemptOutcome> {
    const target = this.target(cap, req);
    // Configuration another attempt would find the same (§9.1): permanent, nothing was sent.
    if (!target.ok) return { ok: false, error: target.error, cost: 0, final: 'config', ...(target.owner ? { owner: target.owner } : {}) };
    const { endpoint, model } = target;
    const prompt = renderPrompt(cap, req.input, req.previousError);
    // No secret is ever sent to a model (LANGUAGE.md §8.1, docs/language.md): the compiler refuses
    // `secret(…)` in a model call's arguments; a secret value it could not see (a run input, a step
    // output) is caught here, before any request. The error names the capability, never the value.
    if (this.carriesSecret(req, [prompt.system ?? '', prompt.user]))
      return { ok: false, error: `${cap.name}: its prompt would send a secret value to the model, so no request was made (a secret reached the capability's input through a run input or a step output; no secret is ever sent to a model)`, cost: 0, final: 'config', owner: 'call' };
    let client: ModelClient;
    try {
      client = this.clientFor(endpoint);
    } catch (err) {
      // Its key is not set: the endpoint's, so the resource's — another resource may have one.
      return { ok: false, error: `model endpoint "${endpoint.name}": ${(err as Error).message}`, cost: 0, final: 'config', owner: 'resource' };
    }
    let answer;
    try {
      answer = await client.complete({
        model,
        ...(prompt.system !== undefined ? { system: prompt.system } : {}),
        messages: [{ role: 'user', content: prompt.user }],
        ...(cap.llm.max_tokens !== null ? { max_tokens: cap.llm.max_tokens } : {}),
        ...(cap.llm.temperature !== null ? { temperature: cap.llm.temperature } : {}),
        ...(prompt.schema ? { json_schema: { name: schemaName(cap.name), schema: prompt.schema } } : {}),
        signal,
      });
    } catch (err) {
      // Nothing was answered, so nothing is billed: the attempt costs 0 (its resource's cost stays).
      return { ok: false, error: endpointError(endpoint, model, err), cost: 0, usage: { model, endpoint: endpoint.name, cost: 0 }, ...refusal(err) };
    }
    const price = this.setup.models.prices[model] ?? this.setup.models.prices[answer.model];
    const reported = answer.input_tokens !== undefined || answer.output_tokens !== undefined;
    // An endpoint that reports no usage is charged what the attempt reserved (§8.2: its worst case,
    // at least the estimate), never a free call.
    const worst = price && cap.llm.max_tokens !== null ? modelWorstCase(promptTokenBound(prompt), cap.llm.max_tokens, price) : 0;
    const cost = !reported ? Math.max(cap.cost, worst) : price ? priceOf(price, answer.input_tokens ?? 0, answer.output_tokens ?? 0) : cap.cost;
    const tokens = reported ? { input_tokens: answer.input_tokens ?? 0, output_tokens: answer.output_tokens ?? 0 } : {};
    const usage: AttemptUsage = { ...tokens, model: answer.model || model, endpoint: endpoint.name, cost };
    // Declining is not an answer: the attempt fails (paid for) and the retry policy decides.
    if (answer.refusal !== undefined) return { ok: false, error: `model refused to answer: ${answer.refusal}`, cost, usage };
    // The same bound as a handler's output (a misbehaving endpoint must not flood the journal).
    if (Buffer.byteLength(answer.text, 'utf8') > DEFAULT_MAX_OUTPUT_BYTES)
      return { ok: false, error: `${ANSWER_REJECTED}is larger than ${DEFAULT_MAX_OUTPUT_BYTES} bytes`, cost, usage };
    const output = prompt.schema ? parseAnswer(answer.text) : { ok: true as const, value: { text: answer.text } };
    if (!output.ok) return { ok: false, error: `${ANSWER_REJECTED}is not valid JSON: ${output.error}`, cost, usage };
    const check = validateValue(cap.output, output.value);
    if (!check.ok) return { ok: false, error: `${ANSWER_REJECTED}does not match the output type of ${cap.name}: ${describeValueErrors(check.errors.slice(0, 1))}`, cost, usage };
    return { ok: true, output: fillDefaults(cap.output, output.value), cost, usage };
  }

  private target(
    cap: CapabilityIR & { readonly llm: LlmIR },
    req: AttemptRequest,
  ): { ok: true; endpoint: EndpointConfig; model: string } | { ok: false; error: string; owner?: FailureOwner } {
    const resource = req.resource;
    const eps = this.setup.models.endpoints;
    if (eps.length === 0)
      return { ok: false, error: `no model endpoint is configured for ${cap.name}: add "endpoints" to orch.config.json (docs/language.md, "Models")` };
    // The compiler decided it (§9.1): the resource's endpoint, else the capability's — never a default.
    const name = endpointOf(cap, resource);
    if (name === undefined)
      return { ok: false, error: `${cap.name}: no model endpoint is decided for it${resource ? ` on resource ${resource.name}` : ''} — give the capability or its resource an endpoint and compile again (E0801; a plan compiled before v0.4 sent it to the config's first endpoint)` };
    const endpoint = eps.find((e) => e.name === name);
    if (!endpoint) {
      const of = resource?.endpoint !== undefined ? `resource ${resource.name}` : `capability ${cap.name}`;
      return { ok: false, error: `endpoint "${name}" of ${of} is not defined in orch.config.json "endpoints"`, ...(resource?.endpoint !== undefined ? { owner: 'resource' as const } : {}) };
    }
    const owner = resource?.endpoint === name ? { owner: 'resource' as const } : {};
    const refused = tierRefusal(name, compiledTier(req, name), configuredTier(endpoint), this.setup.configName ?? "this process's orch.config");
    if (refused !== null) return { ok: false, error: refused, ...owner };
    const model = modelOf(cap, resource);
    if (model === null) return { ok: false, error: `no model for ${cap.name}: give the capability or its resource a model` };
    return { ok: true, endpoint, model };
  }

  private carriesSecret(req: AttemptRequest, texts: readonly string[]): boolean {
    const own = new Redactor();
    for (const v of Object.values(req.secrets)) own.add(v);
    const redact = this.setup.redact;
    return texts.some((t) => own.text(t) !== t || (redact !== undefined && redact(t) !== t));
  }

  private clientFor(endpoint: EndpointConfig): ModelClient {
    let c = this.clients.get(endpoint.name);
    if (!c) this.clients.set(endpoint.name, (c = this.setup.client(endpoint, this.setup.secret)));
    return c;
  }
}

function parseAnswer(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  // Models often fence JSON in a Markdown code block even when asked not to.
  const fenced = /^\s*```(?:json)?\s*([\s\S]*?)\s*```\s*$/.exec(text);
  try {
    return { ok: true, value: JSON.parse(fenced ? fenced[1]! : text) };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/** `response_format.json_schema.name` allows `[a-zA-Z0-9_-]{1,64}`. */
function schemaName(capability: string): string {
  return capability.replace(/[^a-zA-Z0-9_-]/g, '_').slice(-64) || 'output';
}

/**
 * A failed request in the operator's words (§9.1): the endpoint, its API and address, the model,
 * and what went wrong — an HTTP status with the endpoint's message, or the transport's failure.
 */
function endpointError(endpoint: EndpointConfig, model: string, err: unknown): string {
  const where = `${endpoint.api} ${shownUrl(endpoint.base_url ?? DEFAULT_BASE[endpoint.api])}, model ${model}`;
  const status = httpStatus(err);
  // The SDKs begin their message with the status ("400 …"): said once.
  if (status !== null) return `model endpoint "${endpoint.name}" (${where}) failed: HTTP ${status}: ${(err as Error).message.replace(new RegExp(`^${status} `), '')}`;
  return `model endpoint "${endpoint.name}" (${where}) failed: ${transportReason(err)}`;
}

const DEFAULT_BASE = { openai: 'https://api.openai.com/v1', anthropic: 'https://api.anthropic.com' } as const;

function httpStatus(err: unknown): number | null {
  const status = err instanceof Error ? (err as { status?: unknown }).status : undefined;
  return typeof status === 'number' ? status : null;
}

/** A 4xx the endpoint would answer again is permanent (§9.1); a 401/403 is the resource's (its key). */
function refusal(err: unknown): Pick<AttemptOutcome & { ok: false }, 'final' | 'owner'> {
  const status = httpStatus(err);
  return status !== null && isRefusal(status) ? { final: 'refused', owner: refusalOwner(status) } : {};
}
