/**
 * Secrets of steps on workers (docs/cluster.md, "Secrets and config on workers"): no secret value
 * is ever written to Postgres. The owner of a run on workers evaluates `secret("NAME")` to a
 * placeholder (`secretPlaceholder`) — it need not hold the secret at all — so a step's arguments
 * carry placeholders where a secret goes (`"Bearer " + secret("TOKEN")` becomes `Bearer
 * ⟦orch.secret:TOKEN#tag⟧`), and its job names the secrets it needs and the placeholders' tag
 * (`jobSecretsAndModel`). The worker resolves each name from its own environment, then its own
 * project's `orch.config` `secrets`, and puts the values in place of those placeholders
 * (`fillSecrets`) just before the handler runs.
 */
import { randomBytes } from 'node:crypto';
import type { AttemptRequest } from '../scheduler/types.js';
import { compiledTier } from '../models/endpoint-tier.js';
import { isModelCall, modelEndpointOf } from '../../compiler/index.js';
import type { StepJob } from './jobs.js';

/**
 * This process's placeholder tag. A placeholder is only filled when it carries the tag its job
 * names, so text that merely looks like one — a run input or a webhook payload written by someone
 * who wants a secret sent where the plan never sends it — stays text.
 */
const OWN_TAG = randomBytes(8).toString('hex');

/** What `secret("NAME")` evaluates to on the owner of a run on workers. */
export function secretPlaceholder(name: string, tag: string = OWN_TAG): string {
  return `⟦orch.secret:${name}#${tag}⟧`;
}

/**
 * The owner's `secret` resolver for a run on workers: a placeholder, handed to `onPlaceholder` (the
 * run's redactor) so the journal shows `***` where the value will go, as it does for a run in-process.
 */
export function placeholderSecrets(onPlaceholder: (placeholder: string) => void): (name: string) => string {
  return (name) => {
    const p = secretPlaceholder(name);
    onPlaceholder(p);
    return p;
  };
}

/**
 * The names of the secrets an attempt needs on its worker: those its arguments read (`req.secrets`
 * holds this process's placeholder for each). The owner's configured secret values in
 * `req.secrets` are not sent: a worker gives handlers its own.
 */
export function jobSecretNames(req: Pick<AttemptRequest, 'secrets'>): string[] {
  return Object.entries(req.secrets)
    .filter(([name, v]) => v === secretPlaceholder(name))
    .map(([name]) => name)
    .sort();
}

/**
 * A copy of `value` with each placeholder of `values`' names under `tag` replaced by its secret;
 * any other text (a placeholder of another tag or name included) is left as it is.
 */
export function fillSecrets<T>(value: T, values: { readonly [name: string]: string }, tag: string): T {
  const names = Object.keys(values);
  if (names.length === 0) return value;
  const fill = (s: string): string => {
    if (!s.includes('⟦orch.secret:')) return s;
    for (const n of names) s = s.split(secretPlaceholder(n, tag)).join(values[n]!);
    return s;
  };
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return fill(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

/**
 * What a job carries besides the attempt's identity (`StepJob`): the names of its secrets and the
 * tag of their placeholders, the bound resource's endpoint and model, the compiled tier of a model
 * call's endpoint, and the previous attempt's
 * error — what the worker needs to run the attempt from its own config.
 */
export function jobSecretsAndModel(req: AttemptRequest): Pick<StepJob, 'secrets' | 'secretTag' | 'resourceModel' | 'endpointTier' | 'previousError'> {
  const r = req.resource;
  const model = r && (r.endpoint !== undefined || r.model !== undefined) ? { ...(r.endpoint !== undefined ? { endpoint: r.endpoint } : {}), ...(r.model !== undefined ? { model: r.model } : {}) } : null;
  const secrets = jobSecretNames(req);
  const cap = req.capability;
  const endpoint = modelEndpointOf(cap, r);
  const endpointTier = endpoint !== undefined ? compiledTier(req, endpoint) : undefined;
  return {
    secrets,
    ...(secrets.length > 0 ? { secretTag: OWN_TAG } : {}),
    ...(model ? { resourceModel: model } : {}),
    ...(endpointTier !== undefined ? { endpointTier } : {}),
    // Only a model call uses it (its next prompt says what was wrong).
    ...(req.previousError && isModelCall(req.capability) ? { previousError: req.previousError } : {}),
  };
}
