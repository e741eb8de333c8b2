/**
 * Failures at Orch's edges in the operator's words (LANGUAGE.md §9.1): which channel, server or
 * endpoint, over which transport, and what went wrong — `channel "ops" (SMTP 127.0.0.1:2599):
 * connection refused`, never a bare `connect ECONNREFUSED 127.0.0.1:2599` — and which HTTP
 * statuses are a refusal another attempt would meet again.
 */
import type { FailureOwner } from './scheduler/types.js';

/** Node's system error codes, as a person would say them. */
const REASONS: { readonly [code: string]: string } = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the peer',
  ECONNABORTED: 'connection aborted',
  EPIPE: 'connection closed by the peer',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'no answer in time',
  ECONNTIMEOUT: 'no answer in time',
  UND_ERR_CONNECT_TIMEOUT: 'no answer in time',
  UND_ERR_SOCKET: 'connection closed by the peer',
  ENOENT: 'command not found',
  EACCES: 'permission denied',
};

/** The system error code of `err` or of a cause it wraps (fetch and the SDKs wrap them), if any. */
export function errorCode(err: unknown): string | null {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    // nodemailer keeps the system's code apart from its own (`ESOCKET`).
    const code = (e as { originalCode?: unknown }).originalCode ?? (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z_]+$/.test(code)) return code;
    // An AggregateError (happy eyeballs: one per address) says it through its first error.
    const first = (e as { errors?: unknown[] }).errors?.[0];
    if (first !== undefined) return errorCode(first);
  }
  return null;
}

/** What went wrong, in words: the code's meaning, else the message. */
export function transportReason(err: unknown): string {
  const code = errorCode(err);
  if (code !== null && REASONS[code]) return REASONS[code]!;
  // Node's HTTP parser (`HPE_…`, as fetch's cause) read an answer that is not HTTP: an SSH banner, SMTP's greeting.
  if (code !== null && code.startsWith('HPE_')) return `the peer does not speak HTTP (${innermostMessage(err)})`;
  // OpenSSL's own line (`…:error:0A00010B:SSL routines:…`) says it to no operator.
  if (code !== null && code.startsWith('ERR_SSL_')) {
    const why = sslReason(err) ?? code.slice('ERR_SSL_'.length).toLowerCase().replace(/_/g, ' ');
    return NOT_TLS.has(code) ? `the peer does not speak TLS (${why})` : `the TLS handshake failed (${why})`;
  }
  if (code !== null && UNTRUSTED_CERT.has(code)) return `its TLS certificate is not trusted: ${innermostMessage(err)}`;
  const message = err instanceof Error ? err.message : String(err);
  return code !== null && !message.includes(code) ? `${message} (${code})` : message;
}

/** OpenSSL's answer to a peer that is not TLS at all: a plain SMTP greeting, an HTTP answer. */
const NOT_TLS = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_HTTP_REQUEST', 'ERR_SSL_RECORD_LAYER_FAILURE', 'ERR_SSL_UNKNOWN_PROTOCOL']);

/** Node's codes of a certificate the peer showed and the system does not trust. */
const UNTRUSTED_CERT = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** OpenSSL's reason (`wrong version number`) of `err` or a cause it wraps. */
function sslReason(err: unknown): string | null {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const reason = (e as { reason?: unknown }).reason;
    if (typeof reason === 'string' && reason) return reason;
  }
  return null;
}

/** The message of the deepest cause (fetch says `fetch failed`; its cause says why). */
function innermostMessage(err: unknown): string {
  let e = err;
  for (let depth = 0; depth < 5 && e instanceof Error && e.cause instanceof Error; depth++) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}

/** `channel "ops" (SMTP 127.0.0.1:2599): connection refused`. */
export function transportError(what: string, transport: string, err: unknown): string {
  return `${what} (${transport}): ${transportReason(err)}`;
}

/** `host:port` of a URL (the port its scheme implies when none is written). */
export function hostPort(url: string, defaultPort?: number): string {
  try {
    const u = new URL(url);
    const port = u.port || (defaultPort !== undefined ? String(defaultPort) : u.protocol === 'https:' ? '443' : u.protocol === 'http:' ? '80' : '');
    return port ? `${u.hostname}:${port}` : u.hostname;
  } catch {
    return url;
  }
}

/**
 * A URL as a message shows it: scheme, host, port and path — never its user and password
 * (`https://u:p@host`) nor its query (`?key=…`), where credentials are written.
 */
export function shownUrl(url: string): string {
  if (URL.canParse(url)) {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' && !url.endsWith('/') ? '' : u.pathname}`;
  }
  return url.replace(/\/\/[^/?#]*@/, '//').replace(/[?#].*$/, '');
}

/**
 * Whether an HTTP status is a refusal another attempt would meet again: 4xx, except 408 (timeout),
 * 409 (conflict), 425 (too early) and 429 (too many requests), which a later try may pass.
 */
export function isRefusal(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 409 && status !== 425 && status !== 429;
}

/** A refusal of the credentials (401, 403) is the resource's (its endpoint's key); any other is the call's. */
export function refusalOwner(status: number): FailureOwner {
  return status === 401 || status === 403 ? 'resource' : 'call';
}
