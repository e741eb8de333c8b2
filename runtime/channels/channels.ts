/**
 * orch.config's `channels` (LANGUAGE.md §8.4): where `notify` and `email` deliver. Each channel is
 * one transport — `email` over SMTP, a Slack incoming webhook, a generic webhook — and a message
 * counts as delivered only when that transport accepted it.
 */
import { AttemptError } from '../executor/edge.js';
import { REDACTION_MARK } from '../redact.js';
import { resolveSecretRefs, type SecretLookup } from '../secret-refs.js';
import { replyMs, silentFor, silentPeerMs } from '../silent-peer.js';
import { hostPort, isRefusal, transportError } from '../transport-error.js';

export type Channel =
  | { readonly kind: 'email'; readonly smtp: string; readonly user?: string; readonly password?: string; readonly from: string; readonly to: readonly string[] }
  | { readonly kind: 'slack'; readonly url: string }
  | { readonly kind: 'webhook'; readonly url: string; readonly headers: { readonly [k: string]: string } };

export interface Message {
  readonly channel: string;
  readonly text: string;
  readonly level?: string;
  /** `email` only: the recipients (else the channel's `to`), subject and HTML body. */
  readonly to?: readonly string[];
  readonly subject?: string;
  readonly html?: string | null;
  readonly runId: string;
  readonly stepId: string;
}

export interface Delivery {
  readonly delivered: true;
  readonly messageId?: string;
}

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Channel `name` of a `channels` section (`"secret:…"` values resolved), or why it cannot be used. */
export function channelOf(section: unknown, name: string, secrets: SecretLookup): Channel | { readonly error: string } {
  // Its own entries only: a channel named `toString` or `__proto__` is not configured.
  const raw = isObj(section) && Object.hasOwn(section, name) ? section[name] : undefined;
  if (!isObj(raw)) return { error: `channel "${name}" is not configured` };
  let c: Record<string, unknown>;
  try {
    c = resolveSecretRefs(raw, secrets);
  } catch (err) {
    return { error: `channel "${name}": ${(err as Error).message}` };
  }
  if (isObj(c.email)) {
    const e = c.email;
    if (typeof e.smtp !== 'string' || typeof e.from !== 'string') return { error: `channel "${name}": email needs "smtp" (smtp://host:port) and "from"` };
    // `mail.example.com:587` parses as a URL of scheme `mail.example.com:` and no host: it would go
    // to localhost. The value is not quoted: a URL written wrongly may hold its password anywhere.
    if (!isUrlOf(e.smtp, ['smtp:', 'smtps:'])) return { error: `channel "${name}": "smtp" must be an smtp:// or smtps:// URL (smtp://host:port)` };
    const to = Array.isArray(e.to) ? e.to.filter((x): x is string => typeof x === 'string') : typeof e.to === 'string' ? [e.to] : [];
    return {
      kind: 'email', smtp: e.smtp, from: e.from, to,
      ...(typeof e.user === 'string' ? { user: e.user } : {}),
      ...(typeof e.password === 'string' ? { password: e.password } : {}),
    };
  }
  const slack = typeof c.slack === 'string' ? c.slack : isObj(c.slack) && typeof c.slack.url === 'string' ? c.slack.url : undefined;
  if (slack !== undefined) return httpChannel(name, 'slack', { kind: 'slack', url: slack });
  if (isObj(c.webhook) && typeof c.webhook.url === 'string') {
    const headers = isObj(c.webhook.headers) ? Object.fromEntries(Object.entries(c.webhook.headers).filter(([, v]) => typeof v === 'string')) as Record<string, string> : {};
    return httpChannel(name, 'webhook', { kind: 'webhook', url: c.webhook.url, headers });
  }
  if (typeof c.webhook === 'string') return httpChannel(name, 'webhook', { kind: 'webhook', url: c.webhook, headers: {} });
  return { error: `channel "${name}" needs one of "email", "slack" or "webhook"` };
}

/** A Slack or webhook channel, or why its URL cannot be posted to (configuration: no retry heals it). */
function httpChannel(name: string, kind: string, channel: Extract<Channel, { url: string }>): Channel | { readonly error: string } {
  return isUrlOf(channel.url, ['http:', 'https:']) ? channel : { error: `channel "${name}": the ${kind} URL must be an http:// or https:// URL` };
}

function isUrlOf(text: string, schemes: readonly string[]): boolean {
  if (!URL.canParse(text)) return false;
  const u = new URL(text);
  return schemes.includes(u.protocol) && u.hostname !== '';
}

/** Sends one message; throws when the transport does not accept it (the attempt fails and is retried). */
export async function deliver(channel: Channel, m: Message, signal: AbortSignal): Promise<Delivery> {
  switch (channel.kind) {
    case 'email':
      return sendEmail(channel, m);
    case 'slack':
      await post(channel.url, {}, { text: levelPrefix(m.level) + m.text }, signal, `slack channel "${m.channel}"`);
      return { delivered: true };
    case 'webhook':
      await post(channel.url, channel.headers, { channel: m.channel, text: m.text, level: m.level ?? 'info', run_id: m.runId, step_id: m.stepId, ...(m.subject ? { subject: m.subject } : {}) }, signal, `webhook channel "${m.channel}"`);
      return { delivered: true };
  }
}

/**
 * A hook's answer without its own URL or path, which an error page may quote (`Cannot POST
 * /services/T0/B0/XXXX`): a Slack hook's path is its credential, and the error names the hook by
 * host and port only. Decoded too: a page may show the path as it was read.
 */
function withoutPath(answer: string, url: string): string {
  const u = new URL(url);
  const quoted = [url, u.pathname + u.search, u.pathname].flatMap((p) => [p, decoded(p)]).filter((p) => p.length >= 4);
  // Longest first: the whole URL, then its path with the query, then the path alone.
  return quoted.sort((a, b) => b.length - a.length).reduce((out, p) => out.split(p).join(REDACTION_MARK), answer);
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // not percent-encoded text: as sent
  }
}

function levelPrefix(level: string | undefined): string {
  return level && level !== 'info' ? `${level.toUpperCase()}: ` : '';
}

async function post(url: string, headers: { readonly [k: string]: string }, body: unknown, signal: AbortSignal, what: string): Promise<void> {
  const transport = `HTTP ${hostPort(url)}`;
  // A hook that takes the connection and answers nothing is not an HTTP hook (§9.1): fetch itself
  // would wait for its headers for 5 minutes. The bound runs again while the answer's body is read.
  const ms = silentPeerMs();
  const silent = new AbortController();
  const timer = setTimeout(() => silent.abort(), ms);
  const both = AbortSignal.any([signal, silent.signal]);
  let res: Response;
  let answer: string;
  try {
    try {
      res = await postFollowing(url, { 'content-type': 'application/json', ...headers }, JSON.stringify(body), both);
    } catch (err) {
      if (signal.aborted) throw err;
      if (silent.signal.aborted) throw new Error(`${what} (${transport}): no HTTP answer within ${silentFor(ms)} (is it an HTTP server?)`);
      throw new Error(transportError(what, transport, err));
    }
    timer.refresh();
    // The body is read so the connection is reused, and a short answer helps say why it was refused.
    answer = withoutPath((await res.text().catch(() => '')).slice(0, 200), url);
  } finally {
    clearTimeout(timer);
  }
  if (res.ok) return;
  if (res.status >= 300 && res.status < 400) {
    // fetch would follow a 301/302/303 with a GET, the message dropped and the hook's 200 taken
    // for a delivery (a 307/308 to another host is not followed either): the channel's URL must
    // change, which no retry does.
    throw new AttemptError(`${what} (${transport}) refused the message: HTTP ${res.status}, a redirect not followed (it would drop the message or send its headers to another host): set the URL it leads to`, { final: 'refused', owner: 'call' });
  }
  const message = `${what} (${transport}) refused the message: HTTP ${res.status}${answer ? ` ${answer}` : ''}`;
  // A 4xx the hook would answer again (its URL, its token) is permanent (LANGUAGE.md §9.1).
  throw isRefusal(res.status) ? new AttemptError(message, { final: 'refused', owner: 'call' }) : new Error(message);
}

/** Redirects a POST follows: 307 and 308, which keep its method and body (RFC 9110 §15.4). */
const MAX_REDIRECTS = 5;

/**
 * POSTs `body`, following 307/308 within the same host only (http → https, another path): the
 * channel's headers may carry its token, which another host must not get. Any other 3xx is returned.
 */
async function postFollowing(url: string, headers: { readonly [k: string]: string }, body: string, signal: AbortSignal): Promise<Response> {
  let at = url;
  for (let hop = 0; ; hop++) {
    const res = await fetch(at, { method: 'POST', headers, body, signal, redirect: 'manual' });
    const location = res.headers.get('location');
    if ((res.status !== 307 && res.status !== 308) || !location || hop === MAX_REDIRECTS) return res;
    const next = URL.canParse(location, at) ? new URL(location, at) : null;
    if (!next || next.hostname !== new URL(at).hostname || !['http:', 'https:'].includes(next.protocol)) return res;
    await res.body?.cancel().catch(() => undefined);
    at = next.href;
  }
}

async function sendEmail(c: Extract<Channel, { kind: 'email' }>, m: Message): Promise<Delivery> {
  const url = new URL(c.smtp);
  const secure = url.protocol === 'smtps:';
  const user = c.user ?? (url.username ? decodeURIComponent(url.username) : undefined);
  const pass = c.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
  const to = m.to && m.to.length ? m.to : c.to;
  if (to.length === 0) throw new AttemptError(`email channel "${m.channel}" has no recipients ("to")`, { final: 'config', owner: 'call', cost: 0 });
  // Loaded at the first email: every `orch` process loads this module, few send mail.
  const { default: nodemailer } = await import('nodemailer');
  const silent = silentPeerMs();
  const transport = nodemailer.createTransport({
    host: url.hostname,
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    ...(user ? { auth: { user, pass: pass ?? '' } } : {}),
    // A peer that does not greet within the bound does not speak SMTP (§9.1); one that greeted
    // has each reply's longer bound (replyMs: a slow server's retried attempt would send twice).
    connectionTimeout: silent,
    greetingTimeout: silent,
    socketTimeout: replyMs(),
  });
  const name = `channel "${m.channel}"`;
  const via = `SMTP ${url.hostname}:${url.port || (secure ? 465 : 587)}`;
  const what = `${name} (${via})`;
  try {
    const info = await transport.sendMail({
      from: c.from,
      to: [...to],
      subject: m.subject ?? `${levelPrefix(m.level)}${m.text.split('\n')[0]!.slice(0, 78)}`,
      text: m.text,
      ...(m.html ? { html: m.html } : {}),
    });
    const rejected = (info.rejected ?? []).map(String);
    // The others have it: another attempt would send it to them again, so this one is final.
    if (rejected.length > 0) throw new AttemptError(`${what}: the SMTP server refused ${rejected.join(', ')}`, { final: 'refused', owner: 'call' });
    return { delivered: true, messageId: info.messageId };
  } catch (err) {
    if (err instanceof AttemptError) throw err;
    const message = smtpFailure(name, via, err, silent);
    // A 5xx reply (credentials refused, no such mailbox) is SMTP's "do not repeat": permanent like
    // an HTTP 4xx refusal (LANGUAGE.md §9.1); a 4xx reply asks for a later try and is retried.
    throw isSmtpRefusal(err) ? new AttemptError(message, { final: 'refused', owner: 'call' }) : new Error(message);
  } finally {
    transport.close();
  }
}

/**
 * Whether nodemailer's error is the server's permanent refusal: a 5xx reply other than 503 (bad
 * sequence, the client's doing), as nodemailer itself classifies it (`permanent`).
 */
function isSmtpRefusal(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { permanent?: unknown; code?: unknown; responseCode?: unknown };
  // EENVELOPE with no server reply: nodemailer itself found no address to send to (`to: ["not an
  // address"]`) — the same addresses are refused again at every attempt.
  return e.permanent === true || (e.code === 'EENVELOPE' && e.responseCode === undefined);
}

/** nodemailer's failures in words: a peer that never greets or greets wrongly does not speak SMTP. */
function smtpFailure(name: string, transport: string, err: unknown, silentMs: number): string {
  const what = `${name} (${transport})`;
  const e = err as { timeoutType?: unknown; code?: unknown; response?: unknown };
  if (e.timeoutType === 'GREETING_TIMEOUT') return `${what}: no SMTP greeting within ${silentFor(silentMs)} (is it an SMTP server?)`;
  if (e.timeoutType === 'SOCKET_TIMEOUT') return `${what}: no SMTP answer within ${silentFor(replyMs())}`;
  if (e.code === 'EPROTOCOL') return `${what}: the peer does not speak SMTP (${(err as Error).message})`;
  // An SMTP answer (auth refused, a 5xx) is the server's own words.
  if (typeof e.response === 'string') return `${what}: ${e.response}`;
  return transportError(name, transport, err);
}
