/**
 * Which calls the built-in model handler answers and where their prompt goes (LANGUAGE.md §8.1,
 * §9.1), read from the IR alone: the runtime's model executor, a worker's job and the scheduler's
 * words for an attempt that ran out of time all ask the same question.
 */
import type { CapabilityIR, LlmIR, ResourceIR } from './types.js';

/** Whether the built-in model handler answers this capability (a `kind llm` with a `prompt`, no handler). */
export function isModelCall(cap: CapabilityIR): cap is CapabilityIR & { readonly llm: LlmIR } {
  return cap.llm !== undefined && cap.handler === null;
}

/** The endpoint a model call reaches: the bound resource's, else the capability's own; undefined: none was decided (E0801). */
export function endpointOf(cap: CapabilityIR & { readonly llm: LlmIR }, resource: ResourceIR | null): string | undefined {
  return resource?.endpoint ?? cap.llm.endpoint ?? undefined;
}

/** The endpoint `cap`'s call on `resource` sends its prompt to; undefined when it is no model call or none was decided. */
export function modelEndpointOf(cap: CapabilityIR, resource: ResourceIR | null): string | undefined {
  return isModelCall(cap) ? endpointOf(cap, resource) : undefined;
}
