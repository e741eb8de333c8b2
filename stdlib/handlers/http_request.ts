/**
 * `std.capabilities.http_request`: one HTTP request with `fetch`, aborted with the step (timeout,
 * cancel). A status of `fail_on_status` (default 500) or above fails the attempt, so a server
 * error is retried; a lower one is a normal output (check `status`: a 404 completes the step).
 * A 4xx that fails (`fail_on_status 400`) is permanent unless it is 408/409/425/429. Network
 * errors fail the attempt.
 */
import type { HandlerContext } from './context.js';

export interface HttpRequestInput {
  readonly url: string;
  readonly method?: string;
  readonly headers?: { readonly [name: string]: string };
  readonly body?: unknown;
  /** Milliseconds (a `duration` at run time). */
  readonly timeout?: number;
  /** The lowest status that fails the attempt (default 500; 400 fails on 4xx too, 600 never). */
  readonly fail_on_status?: number;
}

export async function handler(
  input: HttpRequestInput,
  ctx: HandlerContext,
): Promise<{ status: number; headers: Record<string, string>; body: unknown }> {
  const method = (input.method ?? 'GET').toUpperCase();
  const headers: Record<string, string> = { ...(input.headers ?? {}) };
  // The call joins the run's trace, unless the plan set its own traceparent.
  if (ctx.traceparent && !Object.keys(headers).some((h) => h.toLowerCase() === 'traceparent')) headers.traceparent = ctx.traceparent;
  let body: string | undefined;
  if (input.body !== undefined && input.body !== null && method !== 'GET' && method !== 'HEAD') {
    body = typeof input.body === 'string' ? input.body : JSON.stringify(input.body);
    if (typeof input.body !== 'string' && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
      headers['content-type'] = 'application/json';
  }
  const signals = [ctx.signal];
  if (typeof input.timeout === 'number' && input.timeout > 0) signals.push(AbortSignal.timeout(input.timeout));
  const signal = signals.length > 1 && typeof AbortSignal.any === 'function' ? AbortSignal.any(signals) : ctx.signal;
  const res = await fetch(input.url, { method, headers, body, signal });
  const text = await res.text();
  const failFrom = typeof input.fail_on_status === 'number' ? input.fail_on_status : 500;
  if (res.status >= failFrom) {
    // The URL without its query string: a token in it must not reach the journal.
    const where = URL.canParse(input.url) ? `${new URL(input.url).origin}${new URL(input.url).pathname}` : 'the URL';
    const err = new Error(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''} from ${method} ${where} (fail_on_status ${failFrom})`);
    // A refused request (4xx but 408, 409, 425, 429) would be refused again: not retried (LANGUAGE.md §9.1).
    if (res.status >= 400 && res.status < 500 && ![408, 409, 425, 429].includes(res.status)) Object.assign(err, { permanent: true });
    throw err;
  }
  let parsed: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json')) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  return { status: res.status, headers: Object.fromEntries(res.headers.entries()), body: parsed };
}
