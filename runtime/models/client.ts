/**
 * What Orch needs of a language model: one request, one answer, and what it cost in tokens. The
 * two implementations (openai-client.ts, anthropic-client.ts) wrap the official SDKs; everything
 * above this interface (the built-in model handler, `orch draft`) is protocol-free.
 */

export interface ModelMessage {
  readonly role: 'user' | 'assistant';
  readonly content: string;
}

export interface ModelRequest {
  readonly model: string;
  readonly system?: string;
  readonly messages: readonly ModelMessage[];
  readonly max_tokens?: number;
  readonly temperature?: number;
  /**
   * When given, the answer must be a JSON value of this schema: sent as `response_format`
   * `json_schema` (Chat Completions) or as the one tool the model must call (Messages), and
   * returned as JSON text in `text`. The caller still validates it: a model may ignore it.
   */
  readonly json_schema?: { readonly name: string; readonly schema: object };
  readonly signal?: AbortSignal;
}

export interface ModelAnswer {
  /** The answer's text (JSON text when `json_schema` was given). */
  readonly text: string;
  /** The model declined to answer (Chat Completions `refusal`, Messages `stop_reason: "refusal"`): why. */
  readonly refusal?: string;
  /** Absent when the endpoint reported no usage. */
  readonly input_tokens?: number;
  readonly output_tokens?: number;
  /** The model that answered, as the endpoint names it. */
  readonly model: string;
}

export interface ModelClient {
  complete(request: ModelRequest): Promise<ModelAnswer>;
}

/** The protocols an endpoint may speak (LANGUAGE.md §8.1 `api`). */
export const MODEL_APIS = ['openai', 'anthropic'] as const;
export type ModelApi = (typeof MODEL_APIS)[number];

/**
 * The usage an answer reports, or nothing: an endpoint's two counts only when both are token
 * counts (whole numbers ≥ 0 that a number holds exactly). An empty `usage`, one count missing, or a count that is no number
 * says nothing about what the call cost, so the attempt is charged its reservation (§8.2), never
 * a free or cheaper call.
 */
export function reportedTokens(input: unknown, output: unknown): { input_tokens: number; output_tokens: number } | Record<string, never> {
  const count = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
  return count(input) && count(output) ? { input_tokens: input, output_tokens: output } : {};
}

/**
 * An HTTP 200 that carries no answer: a gateway's own error object says why (its message);
 * anything else — a web page, another service's JSON — is a peer that does not speak the API
 * (§9.1), shown by the start of what it sent.
 */
export function noAnswer(model: string, missing: 'choice' | 'content', api: string, res: unknown): Error {
  const said = res !== null && typeof res === 'object' ? (res as { error?: { message?: unknown } }).error?.message : undefined;
  if (typeof said === 'string' && said) return new Error(`model ${model} answered with no ${missing}: ${said}`);
  const raw = typeof res === 'string' ? JSON.stringify(res) : (JSON.stringify(res) ?? String(res));
  const shown = raw.replace(/\s+/g, ' ').slice(0, 120);
  return new Error(`model ${model} answered with no ${missing}: the peer does not speak the ${api} API (it answered ${shown}${raw.length > 120 ? '…' : ''})`);
}
