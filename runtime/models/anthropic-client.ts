/**
 * The Messages API through `@anthropic-ai/sdk`. Structured output is asked for with one tool
 * whose `input_schema` is the wanted schema and a `tool_choice` that forces it: the tool call's
 * input is the answer. Tools work on every model and gateway that speaks Messages, where the
 * newer `output_config` formats do not yet.
 */
import type Anthropic from '@anthropic-ai/sdk';
import { noAnswer, reportedTokens, type ModelAnswer, type ModelClient, type ModelRequest } from './client.js';

/** The Messages API requires `max_tokens`; this is sent when the capability gives none. */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4096;
const NO_KEY = 'orch-no-key';

export class AnthropicModelClient implements ModelClient {
  /** The SDK is loaded at the first call: most runs call no model, and every `orch` process loads this module. */
  private sdk: Promise<Anthropic> | undefined;

  constructor(private readonly opts: { readonly baseUrl: string | null; readonly apiKey: string | null; readonly timeoutMs?: number }) {}

  private client(): Promise<Anthropic> {
    const opts = this.opts;
    return (this.sdk ??= import('@anthropic-ai/sdk').then(({ default: Anthropic }) => new Anthropic({
      // Always explicit: the SDK otherwise looks for credentials in the environment and on disk.
      apiKey: opts.apiKey ?? NO_KEY,
      baseURL: opts.baseUrl ?? 'https://api.anthropic.com',
      maxRetries: 0,
      ...(opts.timeoutMs !== undefined ? { timeout: opts.timeoutMs } : {}),
    })));
  }

  async complete(req: ModelRequest): Promise<ModelAnswer> {
    const tool = req.json_schema ? { name: toolName(req.json_schema.name), description: 'Give the answer.', input_schema: req.json_schema.schema } : null;
    const res = await (await this.client()).messages.create(
      {
        model: req.model,
        max_tokens: req.max_tokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS,
        messages: req.messages.map((m) => ({ role: m.role, content: m.content })),
        ...(req.system !== undefined ? { system: req.system } : {}),
        ...(req.temperature !== undefined ? { temperature: Math.min(req.temperature, 1) } : {}),
        ...(tool
          ? { tools: [tool as Anthropic.Messages.Tool], tool_choice: { type: 'tool' as const, name: tool.name } }
          : {}),
      },
      req.signal ? { signal: req.signal } : undefined,
    );
    // A gateway's bare string is one text block. An answer with no content at all is no Messages
    // answer (a gateway's error object, a web page): it was taken for an empty text, which a
    // `text` output accepts.
    const content: unknown = (res as { content?: unknown } | null)?.content;
    if (!Array.isArray(content) && typeof content !== 'string') throw noAnswer(req.model, 'content', 'Messages', res);
    const blocks = (Array.isArray(content) ? content.filter((b) => b !== null && typeof b === 'object') : typeof content === 'string' ? [{ type: 'text', text: content }] : []) as readonly { type: string; text?: unknown; input?: unknown; name?: string }[];
    let text: string;
    const call = tool ? blocks.find((b) => b.type === 'tool_use' && b.name === tool.name) : undefined;
    if (call) text = JSON.stringify(call.input ?? null);
    else text = blocks.filter((b) => b.type === 'text').map((b) => (typeof b.text === 'string' ? b.text : '')).join('');
    const refused = (res.stop_reason as string | null) === 'refusal';
    return {
      text: refused ? '' : text,
      ...(refused ? { refusal: blocks.filter((b) => b.type === 'text').map((b) => (typeof b.text === 'string' ? b.text : '')).join('') || 'no reason given' } : {}),
      ...reportedTokens(res.usage?.input_tokens, res.usage?.output_tokens),
      model: res.model || req.model,
    };
  }
}

/** Tool names allow `[a-zA-Z0-9_-]{1,64}`. */
function toolName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64) || 'answer';
}
