/**
 * The one computation of what a `kind llm` call (LANGUAGE.md §8.1) may cost at most (§8.2), shared
 * by `orch preview` (compiler/reservation.ts, from the file) and the runtime (the model handler's
 * prompt and the scheduler core's reservation, from the rendered prompt): which outputs are plain
 * text, what the user message adds for a structured one, the prompt's token bound and the worst
 * case. Owned here because the runtime may import the compiler, never the reverse.
 */
import type { JsonSchema } from './ir/types.js';

/** What the user message ends with when the answer must be JSON of the output's schema. */
export const JSON_ANSWER_INSTRUCTION = '\n\nAnswer with one JSON value that matches the given JSON Schema, and nothing else.';

/** Per message framing the APIs add around the text (role markers and the like), in tokens. */
const FRAMING_TOKENS = 16;

/** The messages a call sends, as far as the bound is concerned. */
export interface PromptText {
  readonly system: string | undefined;
  readonly user: string;
  /** Sent with a structured output; null for `output { text: string }`. */
  readonly schema: JsonSchema | null;
}

/** `output { text: string }` (one string field named text): the model's plain answer is the output, no schema is sent. */
export function isPlainText(output: JsonSchema): boolean {
  const s = output as { type?: unknown; properties?: Record<string, { type?: unknown }> };
  if (s.type !== 'object' || !s.properties) return false;
  const keys = Object.keys(s.properties);
  return keys.length === 1 && keys[0] === 'text' && s.properties.text?.type === 'string';
}

/**
 * An upper bound on the prompt's tokens: its UTF-8 bytes (a token covers at least one byte), the
 * schema's (sent with it), and some framing per message.
 */
export function promptTokenBound(p: PromptText): number {
  const bytes = (s: string | undefined) => (s === undefined ? 0 : Buffer.byteLength(s, 'utf8'));
  return bytes(p.system) + bytes(p.user) + (p.schema ? bytes(JSON.stringify(p.schema)) : 0) + 2 * FRAMING_TOKENS;
}

/** The most a call can cost: its prompt bound at the input price and all of `max_tokens` at the output price. */
export function modelWorstCase(promptTokens: number, maxTokens: number, price: { readonly input_per_mtok: number; readonly output_per_mtok: number }): number {
  return (promptTokens * price.input_per_mtok + maxTokens * price.output_per_mtok) / 1_000_000;
}
