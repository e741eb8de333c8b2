/**
 * The OpenTelemetry GenAI conventions for a model call's attempt span
 * (https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/), from the usage an attempt
 * reports (LANGUAGE.md §8.1). Pure.
 */
import type { AttemptUsage } from './tracing.js';
import { tidyCost } from './span-records.js';

/** A usage record read from an outcome or an event, or null when there is none to speak of. */
export function usageOf(raw: unknown): AttemptUsage | null {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return null;
  const u = raw as Record<string, unknown>;
  const out: { -readonly [K in keyof AttemptUsage]: AttemptUsage[K] } = {};
  if (typeof u.model === 'string' && u.model) out.model = u.model;
  if (typeof u.endpoint === 'string' && u.endpoint) out.endpoint = u.endpoint;
  if (typeof u.operation === 'string' && u.operation) out.operation = u.operation;
  for (const k of ['input_tokens', 'output_tokens', 'cost'] as const) if (typeof u[k] === 'number' && Number.isFinite(u[k])) out[k] = u[k];
  return Object.keys(out).length > 0 ? out : null;
}

/**
 * `gen_ai.*` attributes of a model call (only `orch.cost` / `orch.endpoint` without a model or
 * tokens). `requested`: the model the built-in model handler asked for — the usage names the one
 * that answered (`gpt-4o-mini-2024-07-18` for `gpt-4o-mini`), which the conventions call the
 * response model; a handler's reported `model` is both.
 */
export function genAiAttributes(u: AttemptUsage, requested: string | null = null): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  const modelCall = requested !== null || u.model !== undefined || u.input_tokens !== undefined || u.output_tokens !== undefined;
  if (modelCall) out['gen_ai.operation.name'] = u.operation ?? 'chat';
  const request = requested ?? u.model;
  if (request !== undefined) out['gen_ai.request.model'] = request;
  if (requested !== null && u.model !== undefined && u.model !== requested) out['gen_ai.response.model'] = u.model;
  if (u.input_tokens !== undefined) out['gen_ai.usage.input_tokens'] = u.input_tokens;
  if (u.output_tokens !== undefined) out['gen_ai.usage.output_tokens'] = u.output_tokens;
  if (u.endpoint !== undefined) out['orch.endpoint'] = u.endpoint;
  if (u.cost !== undefined) out['orch.cost'] = tidyCost(u.cost);
  return out;
}
