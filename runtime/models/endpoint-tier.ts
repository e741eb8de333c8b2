/**
 * A model step's endpoint tier, re-decided where the call is made (LANGUAGE.md §9.1). The compiler
 * decided the step's endpoint and recorded the tier the project's config gave it; guardrails,
 * placement and the E0903 proofs all rest on that tier. The process that answers the call — an
 * `orch worker` with its own config, or `orch run` with the config as it is now — may know the same
 * endpoint name as something else (another URL, or an explicit higher `"tier"`). Sending the prompt
 * there would break what was proved, so such an attempt is refused before any request; an equal or
 * lower tier keeps every promise and runs.
 */
import type { AttemptRequest } from '../scheduler/types.js';
import { higherTier, isLoopback, type CapabilityIR, type EndpointTier } from '../../compiler/index.js';
import type { EndpointConfig } from './config.js';

/** The tier this process's config gives an endpoint: its `"tier"`, else by its `base_url`'s host. */
export function configuredTier(ep: Pick<EndpointConfig, 'tier' | 'base_url'>): EndpointTier {
  if (ep.tier !== null) return ep.tier;
  return ep.base_url !== null && isLoopback(ep.base_url) ? 'local' : 'cloud';
}

/**
 * The tier the compiled plan recorded for endpoint `name` as this attempt reaches it: the bound
 * resource's `endpoint_tier` when the name is the resource's, else the step's `binding` when it
 * names that endpoint (a worker has no plan: its job says it, `endpointTier`). Undefined when the
 * IR records none (a plan compiled before v0.4).
 */
export function compiledTier(
  req: Pick<AttemptRequest, 'plan' | 'baseStepId' | 'resource' | 'endpointTier'> & { readonly purpose?: AttemptRequest['purpose']; readonly capability?: CapabilityIR },
  name: string,
): EndpointTier | undefined {
  if (req.endpointTier !== undefined) return req.endpointTier;
  if (req.resource?.endpoint === name && req.resource.endpoint_tier !== undefined) return req.resource.endpoint_tier;
  const step = req.plan.steps?.find((s) => s.id === req.baseStepId);
  // A fallback or compensate call is placed on its own binding, with its own endpoint: read that
  // one (the step's names another endpoint, so its tier would go unchecked).
  const b = req.purpose === 'fallback' ? step?.fallback?.binding : req.purpose === 'compensate' ? step?.compensate?.binding : step?.binding;
  if (b?.endpoint === name && b.endpoint_tier !== undefined) return b.endpoint_tier;
  // A run-time alternative resource that names no endpoint sends the call to the capability's own.
  const llm = req.capability?.llm;
  return llm?.endpoint === name ? llm.endpoint_tier : undefined;
}

/**
 * Why the attempt is refused, or null when it may run: `here` higher than `compiled` is refused,
 * naming the endpoint, both tiers and whose config said so.
 */
export function tierRefusal(name: string, compiled: EndpointTier | undefined, here: EndpointTier, config: string): string | null {
  if (compiled === undefined || higherTier(compiled, here) === compiled) return null;
  return (
    `model endpoint "${name}" is tier ${here} in ${config} but the plan was compiled for tier ${compiled}: ` +
    `a step is never sent to a higher tier than the one its guardrails were checked against, so no request was made ` +
    `(give the endpoint "tier": "${compiled}" there only if it is one, or compile the plan against this config)`
  );
}
