/**
 * What the built-in model handler sends for a `kind llm` call (LANGUAGE.md §8.1), as pure
 * functions: the rendered system and user messages, whether the answer is plain text or
 * structured. The scheduler core bounds the rendered prompt's tokens (compiler/model-prompt.ts,
 * the computation `orch preview` uses too) to reserve the call's worst case before it starts
 * (§8.2); the handler sends exactly what is rendered here, so the two agree.
 */
import type { CapabilityIR, JsonSchema, LlmIR, ResourceIR } from '../../compiler/index.js';
import { isPlainText, JSON_ANSWER_INSTRUCTION, promptTokenBound } from '../../compiler/index.js';
import type { ModelCalls } from '../scheduler/core/protocol.js';
import { evaluate, formatValue } from '../evaluate.js';

export { isPlainText, promptTokenBound } from '../../compiler/index.js';

export interface RenderedPrompt {
  readonly system: string | undefined;
  /** The user message: the prompt, and after a failed attempt what was wrong with it. */
  readonly user: string;
  /** The JSON Schema the answer must match; null for an `output { text: string }` capability. */
  readonly schema: JsonSchema | null;
}

/** How the model handler's errors about an answer begin: only those are told to the model on retry. */
export const ANSWER_REJECTED = 'model answer ';

/** The model a call uses: the bound resource's, else the capability's own (a worker knows only the resource's `model`). */
export function modelOf(cap: CapabilityIR, resource: Pick<ResourceIR, 'model'> | null | undefined): string | null {
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
  if (schema) user += JSON_ANSWER_INSTRUCTION;
  if (previousError?.startsWith(ANSWER_REJECTED)) user += `\n\nYour previous answer was rejected: ${previousError}\nAnswer again, correctly.`;
  return { system: cap.llm.system ? text(cap.llm.system) : undefined, user, schema };
}

function withTopDefaults(schema: JsonSchema, input: { readonly [k: string]: unknown }): { [k: string]: unknown } {
  const props = (schema as { properties?: Record<string, { default?: unknown }> }).properties;
  if (!props) return { ...input };
  const out: { [k: string]: unknown } = { ...input };
  for (const [k, p] of Object.entries(props)) if (out[k] === undefined && p && 'default' in p) out[k] = p.default;
  return out;
}

/** The scheduler core's view of this handler: it reserves a call's worst case from this very rendering. */
export const MODEL_CALLS: ModelCalls = {
  model: modelOf,
  promptTokens: (cap, input, previousError) => promptTokenBound(renderPrompt(cap, input, previousError)),
};
