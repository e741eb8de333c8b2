/**
 * How long a peer may stay silent before Orch takes it for one that does not speak the protocol
 * (LANGUAGE.md §9.1: such a peer fails the attempt within 15 s). One bound for every transport
 * whose answer is due at once — an SMTP greeting and reply, a webhook's HTTP answer, an MCP
 * server's handshake — so that no transport waits its library's own 30 s or 60 s.
 */

/** The bound when `$ORCH_SILENT_PEER_MS` does not set another (tests set it short). */
export const SILENT_PEER_MS = 10_000;

/** The bound now: `$ORCH_SILENT_PEER_MS` when it is a positive number, else `SILENT_PEER_MS`. */
export function silentPeerMs(): number {
  const n = Number(process.env.ORCH_SILENT_PEER_MS);
  return Number.isFinite(n) && n > 0 ? n : SILENT_PEER_MS;
}

/**
 * How long a peer that greeted (it speaks the protocol) may take over one reply: three silent
 * bounds, 30 s by default. An SMTP server may scan a message for seconds before it answers the
 * data, and an attempt failed there is retried — a second copy of a mail the server had taken.
 */
export function replyMs(): number {
  return 3 * silentPeerMs();
}

/** `10 s`, `0.3 s`: the bound as a message says it. */
export function silentFor(ms: number): string {
  return `${ms / 1000} s`;
}
