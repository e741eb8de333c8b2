/**
 * What the built-in model handler sends for a `kind llm` call (LANGUAGE.md §8.1), as pure
 * functions: the rendered system and user messages, whether the answer is plain text or
 * structured, and an upper bound on the prompt's tokens. The scheduler core uses the bound to
 * reserve the call's worst case before it starts (§8.2); the handler sends exactly what is
 * rendered here, so the two agree.
 */
import type { CapabilityIR, JsonSchema, LlmIR, ResourceIR } from '../../compiler/index.js';
import { evaluate, formatValue } from '../evaluate.js';

export interface RenderedPrompt {
  readonly system: string | undefined;
  /** The user message: the prompt, and after a failed attempt what was wrong with it. */
  readonly user: string;
  /** The JSON Schema the answer must match; null for an `output { text: string }` capability. */
  readonly schema: JsonSchema | null;
}

/** How the model handler's errors about an answer begin: only those are told to the model on retry. */
export const ANSWER_REJECTED = 'model answer ';

/** Per message framing the APIs add around the text (role markers and the like), in tokens. */
const FRAMING_TOKENS = 16;

/** `output { text: string }` (one string field named text): the model's plain answer is the output. */
export function isPlainText(output: JsonSchema): boolean {
  const s = output as { type?: unknown; properties?: Record<string, { type?: unknown }>; required?: unknown };
  if (s.type !== 'object' || !s.properties) return false;
  const keys = Object.keys(s.properties);
  return keys.length === 1 && keys[0] === 'text' && s.properties.text?.type === 'string';
}

/** The model a call uses: the bound resource's, else the capability's own. */
export function modelOf(cap: CapabilityIR, resource: ResourceIR | null): string | null {
  return resource?.model ?? cap.llm?.model ?? null;
}

/**
 * Renders `prompt` and `system` from the call's input (top-level defaults filled in, as the
 * handler receives it); `previousError` is the last attempt's failure, told to the model.
 */
export function renderPrompt(cap: CapabilityIR & { readonly llm: LlmIR }, input: { readonly [k: string]: unknown }, previousError?: string | null): RenderedPrompt {
  const vars = { input: withTopDefaults(cap.input, input) };
  const text = (e: LlmIR['prompt']) => {
    const v = evaluate(e, { vars });
    return typeof v === 'string' ? v : formatValue(v);
  };
  const schema = isPlainText(cap.output) ? null : cap.output;
  let user = text(cap.llm.prompt);
  if (schema) user += '\n\nAnswer with one JSON value that matches the given JSON Schema, and nothing else.';
  if (previousError?.startsWith(ANSWER_REJECTED)) user += `\n\nYour previous answer was rejected: ${previousError}\nAnswer again, correctly.`;
  return { system: cap.llm.system ? text(cap.llm.system) : undefined, user, schema };
}

/**
 * An upper bound on the prompt's tokens: its UTF-8 bytes (a token covers at least one byte), the
 * schema's (sent with it), and some framing per message.
 */
export function promptTokenBound(p: RenderedPrompt): number {
  const bytes = (s: string | undefined) => (s === undefined ? 0 : Buffer.byteLength(s, 'utf8'));
  return bytes(p.system) + bytes(p.user) + (p.schema ? bytes(JSON.stringify(p.schema)) : 0) + 2 * FRAMING_TOKENS;
}

function withTopDefaults(schema: JsonSchema, input: { readonly [k: string]: unknown }): { [k: string]: unknown } {
  const props = (schema as { properties?: Record<string, { default?: unknown }> }).properties;
  if (!props) return { ...input };
  const out: { [k: string]: unknown } = { ...input };
  for (const [k, p] of Object.entries(props)) if (out[k] === undefined && p && 'default' in p) out[k] = p.default;
  return out;
}
