/**
 * Secrets of steps on workers (docs/cluster.md, "Secrets and config on workers"): no secret value
 * is ever written to Postgres. The owner of a run on workers evaluates `secret("NAME")` to a
 * placeholder (`secretPlaceholder`) — it need not hold the secret at all — so a step's arguments
 * carry placeholders where a secret goes (`"Bearer " + secret("TOKEN")` becomes `Bearer
 * ⟦orch.secret:TOKEN⟧`), and its job names the secrets it needs (`jobSecretNames`). The worker
 * resolves each name from its own environment, then its own project's `orch.config` `secrets`, and
 * puts the values in place of the placeholders (`fillSecrets`) just before the handler runs.
 */
import type { AttemptRequest } from '../scheduler/types.js';
import { isModelCall } from '../models/model-executor.js';
import type { StepJob } from './jobs.js';

const OPEN = '⟦orch.secret:';
const CLOSE = '⟧';
const PLACEHOLDER = /⟦orch\.secret:([^⟧]+)⟧/g;

/** What `secret("NAME")` evaluates to on the owner of a run on workers. */
export function secretPlaceholder(name: string): string {
  return `${OPEN}${name}${CLOSE}`;
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
 * The names of the secrets an attempt needs on its worker: every placeholder in its input, and
 * every secret its arguments read (a placeholder value in `req.secrets`). The owner's configured
 * secret values in `req.secrets` are not sent: a worker gives handlers its own.
 */
export function jobSecretNames(req: Pick<AttemptRequest, 'input' | 'secrets'>): string[] {
  const names = new Set<string>();
  for (const [name, v] of Object.entries(req.secrets)) if (v === secretPlaceholder(name)) names.add(name);
  walkStrings(req.input, (s) => {
    for (const m of s.matchAll(PLACEHOLDER)) names.add(m[1]!);
  });
  return [...names].sort();
}

/** A copy of `value` with every placeholder replaced by its secret (`values` holds every name it names). */
export function fillSecrets<T>(value: T, values: { readonly [name: string]: string }): T {
  if (typeof value === 'string') return (value.includes(OPEN) ? value.replace(PLACEHOLDER, (all, name: string) => values[name] ?? all) : value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => fillSecrets(v, values)) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillSecrets(v, values)])) as T;
  return value;
}

function walkStrings(value: unknown, visit: (s: string) => void): void {
  if (typeof value === 'string') visit(value);
  else if (Array.isArray(value)) for (const v of value) walkStrings(v, visit);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) walkStrings(v, visit);
}

/**
 * What a job carries besides the attempt's identity (`StepJob`): the names of its secrets, the
 * bound resource's endpoint and model, and the previous attempt's error — what the worker needs to
 * run the attempt from its own config.
 */
export function jobSecretsAndModel(req: AttemptRequest): Pick<StepJob, 'secrets' | 'resourceModel' | 'previousError'> {
  const r = req.resource;
  const model = r && (r.endpoint !== undefined || r.model !== undefined) ? { ...(r.endpoint !== undefined ? { endpoint: r.endpoint } : {}), ...(r.model !== undefined ? { model: r.model } : {}) } : null;
  return {
    secrets: jobSecretNames(req),
    ...(model ? { resourceModel: model } : {}),
    // Only a model call uses it (its next prompt says what was wrong).
    ...(req.previousError && isModelCall(req.capability) ? { previousError: req.previousError } : {}),
  };
}
