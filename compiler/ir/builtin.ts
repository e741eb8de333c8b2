/**
 * Which of std's built-ins a capability runs (`email`, `notify`, `approval`, `http_request`, …),
 * read from its handler, never its name: a refinement (`capability mail from
 * std.capabilities.email { cost 0.01usd }`) keeps the handler and sends email all the same, so
 * every rule about std's capabilities — §9.3's sinks and sources, channels, approvers — holds for
 * it too. The runtime dispatches by the same field.
 */
import type { CapabilityIR } from './types.js';

export function builtinOf(cap: Pick<CapabilityIR, 'handler'> | null | undefined): string | null {
  const h = cap?.handler;
  return h && 'builtin' in h ? h.builtin : null;
}
