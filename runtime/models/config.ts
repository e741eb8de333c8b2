/**
 * The `endpoints` and `prices` sections of `orch.config` (LANGUAGE.md §8.1), parsed into values
 * with no secret in them: an `api_key` stays a reference (`"secret:NAME"` or a literal) until the
 * moment a client is built (`resolveKey`), and the resolved key is registered with the redactor.
 */
import type { EndpointTier } from '../../compiler/index.js';
import { MODEL_APIS, type ModelApi } from './client.js';

const TIERS: readonly EndpointTier[] = ['local', 'edge', 'cloud'];

export interface EndpointConfig {
  readonly name: string;
  readonly api: ModelApi;
  /** Absent: the SDK's default (api.openai.com, api.anthropic.com). */
  readonly base_url: string | null;
  /** `"secret:NAME"`, a literal key, or null for endpoints that need none (Ollama, llama.cpp). */
  readonly api_key: string | null;
  /** Its `"tier"` (LANGUAGE.md §9.1); null: decided by `base_url` (runtime/models/endpoint-tier.ts). */
  readonly tier: EndpointTier | null;
}

export interface ModelPrice {
  /** Money units per million input (prompt) tokens. */
  readonly input_per_mtok: number;
  /** Money units per million output (completion) tokens. */
  readonly output_per_mtok: number;
}

export interface ModelsConfig {
  /** In the config's order: the first is the default endpoint. */
  readonly endpoints: readonly EndpointConfig[];
  readonly prices: { readonly [model: string]: ModelPrice };
}

export const EMPTY_MODELS: ModelsConfig = { endpoints: [], prices: {} };

const SECRET_PREFIX = 'secret:';

/** The secret name of a `"secret:NAME"` value, else null. */
export function secretRef(value: string): string | null {
  return value.startsWith(SECRET_PREFIX) ? value.slice(SECRET_PREFIX.length) : null;
}

/** Parses both sections of a config object; a malformed entry throws with the config file named. */
export function parseModelsConfig(raw: { readonly [k: string]: unknown }, file: string): ModelsConfig {
  const endpoints: EndpointConfig[] = [];
  const eps = raw.endpoints;
  if (eps !== undefined) {
    if (!isRecord(eps)) throw new Error(`${file}: endpoints must be an object of named endpoints`);
    for (const [name, v] of Object.entries(eps)) {
      if (!isRecord(v)) throw new Error(`${file}: endpoints.${name} must be an object`);
      const api = v.api ?? 'openai';
      if (!(MODEL_APIS as readonly unknown[]).includes(api))
        throw new Error(`${file}: endpoints.${name}.api must be one of ${MODEL_APIS.join(', ')}`);
      const base = v.base_url;
      if (base !== undefined && (typeof base !== 'string' || !/^https?:\/\//.test(base)))
        throw new Error(`${file}: endpoints.${name}.base_url must be an http(s) URL`);
      const key = v.api_key;
      if (key !== undefined && typeof key !== 'string') throw new Error(`${file}: endpoints.${name}.api_key must be a string (e.g. "secret:OPENAI_API_KEY")`);
      const tier = v.tier;
      if (tier !== undefined && !(TIERS as readonly unknown[]).includes(tier)) throw new Error(`${file}: endpoints.${name}.tier must be one of ${TIERS.join(', ')}`);
      endpoints.push({ name, api: api as ModelApi, base_url: base ?? null, api_key: key ?? null, tier: (tier as EndpointTier | undefined) ?? null });
    }
  }
  const prices: Record<string, ModelPrice> = {};
  const ps = raw.prices;
  if (ps !== undefined) {
    if (!isRecord(ps)) throw new Error(`${file}: prices must be an object of models`);
    for (const [model, v] of Object.entries(ps)) {
      const ok = isRecord(v) && isPrice(v.input_per_mtok) && isPrice(v.output_per_mtok);
      if (!ok) throw new Error(`${file}: prices.${model} needs input_per_mtok and output_per_mtok (numbers ≥ 0)`);
      prices[model] = { input_per_mtok: v.input_per_mtok as number, output_per_mtok: v.output_per_mtok as number };
    }
  }
  return { endpoints, prices };
}

/** The endpoint's key, resolved; `secret` resolves (and registers for redaction) a secret name. */
export function resolveKey(endpoint: EndpointConfig, secret: (name: string) => string): string | null {
  if (endpoint.api_key === null) return null;
  const ref = secretRef(endpoint.api_key);
  return ref === null ? endpoint.api_key : secret(ref);
}

/** What `input_tokens` in and `output_tokens` out cost at `price`. */
export function priceOf(price: ModelPrice, input_tokens: number, output_tokens: number): number {
  return (input_tokens * price.input_per_mtok + output_tokens * price.output_per_mtok) / 1_000_000;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isPrice(v: unknown): boolean {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}
