/**
 * `std.capabilities.http_request`: one HTTP request with `fetch`, aborted with the step (timeout,
 * cancel). A non-2xx status is a normal output (`ok: false`); network errors fail the attempt.
 */
import type { HandlerContext } from './context.js';

export interface HttpRequestInput {
  readonly url: string;
  readonly method?: string;
  readonly headers?: { readonly [name: string]: string };
  readonly body?: unknown;
}

export async function handler(
  input: HttpRequestInput,
  ctx: HandlerContext,
): Promise<{ status: number; ok: boolean; headers: Record<string, string>; body: unknown }> {
  const method = (input.method ?? 'GET').toUpperCase();
  const headers: Record<string, string> = { ...(input.headers ?? {}) };
  let body: string | undefined;
  if (input.body !== undefined && input.body !== null && method !== 'GET' && method !== 'HEAD') {
    body = typeof input.body === 'string' ? input.body : JSON.stringify(input.body);
    if (typeof input.body !== 'string' && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
      headers['content-type'] = 'application/json';
  }
  const res = await fetch(input.url, { method, headers, body, signal: ctx.signal });
  const text = await res.text();
  let parsed: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json')) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  return { status: res.status, ok: res.ok, headers: Object.fromEntries(res.headers.entries()), body: parsed };
}
