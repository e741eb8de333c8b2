/**
 * LANGUAGE.md §9.3 names the answers of a `kind llm` step and of `http_request` untrusted sources
 * outright: no declaration makes them trusted (only an MCP tool's refinement may say `trust
 * trusted` of what it refines). One rule for the capability check (E0201 at such a `trust
 * trusted`), the compile-time flows and the load-time re-check of an older IR.
 */
import { builtinOf } from './builtin.js';
import type { CapabilityIR } from './types.js';

/** Why `cap`'s answers are untrusted whatever it declares (`llm`, `http_request`), or null. */
export function alwaysUntrusted(cap: Pick<CapabilityIR, 'kind' | 'handler'>): 'llm' | 'http_request' | null {
  if (cap.kind === 'llm') return 'llm';
  if (builtinOf(cap) === 'http_request') return 'http_request';
  return null;
}

/** The E0201 message for a `trust trusted` on such a capability. */
export function trustTrustedRefused(name: string, why: 'llm' | 'http_request'): string {
  return (
    `capability ${name} is a ${why === 'llm' ? 'kind llm' : 'http_request'} capability: its answers are untrusted whatever it declares (§9.3); ` +
    `"trust trusted" is for a refinement of an MCP tool — vouch for a value with endorse(V, reason: "…") or a validator (endorses true)`
  );
}
