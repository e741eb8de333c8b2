/**
 * A local OTLP/HTTP trace receiver for tests (JSON protocol, the `exporter-trace-otlp-http`
 * encoding): every span of every `POST /v1/traces` is kept, flattened; any other request's
 * headers are kept too (what a handler's HTTP call sent). No collector, no network beyond
 * 127.0.0.1.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

export type AttrValue = string | number | boolean | null;

export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** '' for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  /** Epoch ms. */
  readonly start: number;
  readonly end: number;
  readonly attributes: { readonly [key: string]: AttrValue };
  readonly events: readonly { readonly name: string; readonly attributes: { readonly [key: string]: AttrValue } }[];
  readonly links: readonly { readonly traceId: string; readonly spanId: string }[];
  /** 0 unset, 1 ok, 2 error. */
  readonly status: { readonly code: number; readonly message?: string };
  readonly service: string;
}

export interface OtlpReceiver {
  /** The base endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT` / `telemetry.otlp`). */
  readonly url: string;
  readonly spans: ReceivedSpan[];
  /** Requests to any other path: method, path, headers. */
  readonly calls: { readonly method: string; readonly path: string; readonly headers: IncomingHttpHeaders }[];
  /** Resolves once `test` holds for the spans received, within `ms`. */
  waitFor(test: (spans: readonly ReceivedSpan[]) => boolean, ms?: number, what?: string): Promise<void>;
  close(): Promise<void>;
}

interface OtlpAny {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: OtlpAny[] };
}

function value(v: OtlpAny | undefined): AttrValue {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue) return JSON.stringify((v.arrayValue.values ?? []).map(value));
  return null;
}

function attrs(list: { key: string; value?: OtlpAny }[] | undefined): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const a of list ?? []) out[a.key] = value(a.value);
  return out;
}

const ms = (nanos: string | number | undefined) => Number(BigInt(String(nanos ?? 0)) / 1_000_000n);

/** Span and trace ids arrive as hex (JSON encoding) or base64 (older serializers). */
function hex(id: string | undefined): string {
  if (!id) return '';
  return /^[0-9a-f]+$/i.test(id) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex');
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const calls: OtlpReceiver['calls'] = [];
  const waiters = new Set<() => void>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        calls.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
        return;
      }
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          resourceSpans?: { resource?: { attributes?: { key: string; value?: OtlpAny }[] }; scopeSpans?: { spans?: Record<string, any>[] }[] }[];
        };
        for (const rs of body.resourceSpans ?? []) {
          const service = String(attrs(rs.resource?.attributes)['service.name'] ?? '');
          for (const ss of rs.scopeSpans ?? [])
            for (const s of ss.spans ?? [])
              spans.push({
                traceId: hex(s.traceId),
                spanId: hex(s.spanId),
                parentSpanId: hex(s.parentSpanId),
                name: s.name,
                start: ms(s.startTimeUnixNano),
                end: ms(s.endTimeUnixNano),
                attributes: attrs(s.attributes),
                events: (s.events ?? []).map((e: { name: string; attributes?: { key: string; value?: OtlpAny }[] }) => ({ name: e.name, attributes: attrs(e.attributes) })),
                links: (s.links ?? []).map((l: { traceId: string; spanId: string }) => ({ traceId: hex(l.traceId), spanId: hex(l.spanId) })),
                status: { code: Number(s.status?.code ?? 0), ...(s.status?.message ? { message: s.status.message } : {}) },
                service,
              });
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch {
        res.writeHead(400).end();
      }
      for (const w of [...waiters]) w();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    calls,
    waitFor(test, timeoutMs = 20_000, what = 'spans') {
      if (test(spans)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!test(spans)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${what}; received: ${spans.map((s) => s.name).join(', ')}`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * A receiver that keeps each export's body as it came — JSON parsed, protobuf as bytes — for the
 * tests of the wire format itself (flags, raw attribute values, the encoding), which the
 * flattened spans of `startOtlpReceiver` would hide.
 */
export interface RawOtlpReceiver {
  /** The full traces URL (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`). */
  readonly tracesUrl: string;
  /** The JSON bodies, parsed, in the order they arrived. */
  readonly json: unknown[];
  /** The bodies sent as `application/x-protobuf`. */
  readonly protobuf: Buffer[];
  close(): Promise<void>;
}

export async function startRawOtlpReceiver(): Promise<RawOtlpReceiver> {
  const json: unknown[] = [];
  const protobuf: Buffer[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.headers['content-type'] === 'application/x-protobuf') {
        protobuf.push(body);
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        return;
      }
      json.push(JSON.parse(body.toString('utf8')));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    tracesUrl: `http://127.0.0.1:${(server.address() as { port: number }).port}/v1/traces`,
    json,
    protobuf,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
