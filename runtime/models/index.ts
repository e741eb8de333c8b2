/**
 * Language models at Orch's edge (LANGUAGE.md §8.1): endpoint config, the `ModelClient` interface
 * and its two SDK-backed implementations. Nothing here knows about plans or the scheduler.
 */
import { AnthropicModelClient } from './anthropic-client.js';
import type { ModelClient } from './client.js';
import { resolveKey, type EndpointConfig } from './config.js';
import { OpenAIModelClient } from './openai-client.js';

export type { ModelAnswer, ModelApi, ModelClient, ModelMessage, ModelRequest } from './client.js';
export { MODEL_APIS } from './client.js';
export { EMPTY_MODELS, parseModelsConfig, priceOf, resolveKey, secretRef, type EndpointConfig, type ModelPrice, type ModelsConfig } from './config.js';
export { pricedOutcome } from './priced-usage.js';
export { AnthropicModelClient, ANTHROPIC_DEFAULT_MAX_TOKENS } from './anthropic-client.js';
export { OpenAIModelClient } from './openai-client.js';
export { ModelExecutor, type ModelSetup } from './model-executor.js';
export { endpointOf, isModelCall } from '../../compiler/index.js';
export { compiledTier } from './endpoint-tier.js';
export { isPlainText, modelOf, promptTokenBound, renderPrompt, type RenderedPrompt } from './prompt.js';

/**
 * A client for one configured endpoint. `secret` resolves a `"secret:NAME"` key (and must
 * register the value with the run's redactor, as `secretResolver` in runtime/config.ts does).
 */
export function modelClientFor(endpoint: EndpointConfig, secret: (name: string) => string, opts: { readonly timeoutMs?: number } = {}): ModelClient {
  const apiKey = resolveKey(endpoint, secret);
  const o = { baseUrl: endpoint.base_url, apiKey, ...opts };
  return endpoint.api === 'anthropic' ? new AnthropicModelClient(o) : new OpenAIModelClient(o);
}
