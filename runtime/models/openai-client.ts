/** The Chat Completions API (OpenAI, Azure, Ollama, vLLM, llama.cpp, gateways) through the `openai` SDK. */
import type OpenAI from 'openai';
import { noAnswer, reportedTokens, type ModelAnswer, type ModelClient, type ModelRequest } from './client.js';

/** Sent when an endpoint needs no key: the SDK refuses to start without one. */
const NO_KEY = 'orch-no-key';

export class OpenAIModelClient implements ModelClient {
  /** The SDK is loaded at the first call: most runs call no model, and every `orch` process loads this module. */
  private sdk: Promise<OpenAI> | undefined;

  constructor(private readonly opts: { readonly baseUrl: string | null; readonly apiKey: string | null; readonly timeoutMs?: number }) {}

  private client(): Promise<OpenAI> {
    const opts = this.opts;
    return (this.sdk ??= import('openai').then(({ default: OpenAI }) => new OpenAI({
      apiKey: opts.apiKey ?? NO_KEY,
      // Explicit, so OPENAI_BASE_URL in the environment never redirects a configured endpoint.
      baseURL: opts.baseUrl ?? 'https://api.openai.com/v1',
      // Orch's retry policy owns retries: each one is a journaled, budgeted attempt.
      maxRetries: 0,
      ...(opts.timeoutMs !== undefined ? { timeout: opts.timeoutMs } : {}),
    })));
  }

  async complete(req: ModelRequest): Promise<ModelAnswer> {
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [];
    if (req.system !== undefined) messages.push({ role: 'system', content: req.system });
    for (const m of req.messages) messages.push({ role: m.role, content: m.content });
    const res = await (await this.client()).chat.completions.create(
      {
        model: req.model,
        messages,
        ...(req.max_tokens !== undefined ? { max_tokens: req.max_tokens } : {}),
        ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
        ...(req.json_schema
          ? { response_format: { type: 'json_schema' as const, json_schema: { name: req.json_schema.name, schema: req.json_schema.schema as Record<string, unknown>, strict: false } } }
          : {}),
      },
      req.signal ? { signal: req.signal } : undefined,
    );
    const choice = res.choices?.[0];
    // Some gateways answer HTTP 200 with their own error object instead of a completion.
    if (!choice) throw noAnswer(req.model, 'choice', 'Chat Completions', res);
    // A filtered answer comes without content: declined, not answered with nothing.
    const refusal = choice.message?.refusal || (choice.finish_reason === 'content_filter' && !choice.message?.content ? "the endpoint's content filter withheld the answer" : undefined);
    return {
      text: answerText(choice.message?.content),
      ...(refusal ? { refusal } : {}),
      ...reportedTokens(res.usage?.prompt_tokens, res.usage?.completion_tokens),
      model: res.model || req.model,
    };
  }
}

/**
 * The answer's text: `content` is a string by the API, but some gateways send a list of parts
 * (`[{ type: "text", text }]`) or the JSON value itself. Either is the answer (its JSON text), so
 * the call is validated and paid as answered — never a crash that would make it free.
 */
function answerText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  if (Array.isArray(content)) return content.map((p) => (typeof p === 'string' ? p : typeof (p as { text?: unknown })?.text === 'string' ? (p as { text: string }).text : '')).join('');
  return JSON.stringify(content);
}
