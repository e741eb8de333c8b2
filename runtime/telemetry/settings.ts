/**
 * Whether and where this process exports traces (LANGUAGE.md §8.7), from the standard `OTEL_*`
 * variables and the project's `orch.config` `telemetry` block. Pure: no SDK is loaded to decide,
 * so a process with neither pays nothing for tracing.
 */

/** `orch.config` `"telemetry": { "otlp": URL, "trace_url": "https://…/{trace_id}" }`. */
export interface TelemetryConfig {
  /** OTLP/HTTP base endpoint (as `OTEL_EXPORTER_OTLP_ENDPOINT`: `/v1/traces` is appended). */
  readonly otlp?: string;
  /** A link to one trace in the operator's tracing UI; `{trace_id}` is replaced. */
  readonly trace_url?: string;
}

/** The body of an OTLP/HTTP export: JSON (the default here), or protobuf — less CPU per span. */
export type OtlpProtocol = 'http/json' | 'http/protobuf';

export interface TelemetrySettings {
  /** The OTLP/HTTP traces URL spans are sent to (`…/v1/traces`). */
  readonly tracesUrl: string;
  readonly serviceName: string;
  readonly protocol: OtlpProtocol;
  /** \`OTEL_TRACES_SAMPLER\` / \`_ARG\`: which new traces are recorded (the SDK's default: parent-based, always on). */
  readonly sampler?: TraceSampler;
}

/** A standard sampler: \`parentBased\` follows a parent's decision; a root (or any span, without it) is kept at \`ratio\` of trace ids. */
export interface TraceSampler {
  readonly parentBased: boolean;
  readonly ratio: number;
}

/**
 * The exporter settings, or null when tracing is off: no endpoint in the environment or the
 * config, `OTEL_TRACES_EXPORTER=none` (or a list without `otlp`), or `OTEL_SDK_DISABLED=true`.
 * The environment wins over the config: it is the operator's, the config the project's.
 */
export function telemetrySettings(config: TelemetryConfig | undefined, env: NodeJS.ProcessEnv = process.env): TelemetrySettings | null {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return null;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  if (exporters.length > 0 && !exporters.includes('otlp')) return null;
  const signal = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || config?.otlp?.trim();
  const tracesUrl = signal || (base ? appendTracesPath(base) : '');
  if (!tracesUrl) return null;
  return { tracesUrl, serviceName: env.OTEL_SERVICE_NAME?.trim() || 'orch', protocol: otlpProtocol(env), sampler: traceSampler(env) };
}

/**
 * \`OTEL_TRACES_SAMPLER\` as the OpenTelemetry SDK reads it: \`always_on\`, \`always_off\`,
 * \`traceidratio\` and their \`parentbased_\` forms, the ratio from \`OTEL_TRACES_SAMPLER_ARG\`
 * (0–1, else 1); anything else is the default, \`parentbased_always_on\`.
 */
function traceSampler(env: NodeJS.ProcessEnv): TraceSampler {
  const name = (env.OTEL_TRACES_SAMPLER ?? '').trim().toLowerCase();
  const parentBased = !['always_on', 'always_off', 'traceidratio'].includes(name);
  const kind = name.replace(/^parentbased_/, '');
  if (kind === 'always_off') return { parentBased, ratio: 0 };
  if (kind !== 'traceidratio') return { parentBased, ratio: 1 };
  const arg = Number((env.OTEL_TRACES_SAMPLER_ARG ?? '').trim() || 'NaN');
  return { parentBased, ratio: Number.isFinite(arg) && arg >= 0 && arg <= 1 ? arg : 1 };
}

/**
 * Whether a trace id falls within \`ratio\` (the SDK's TraceIdRatioBased rule: its 32-bit words
 * XORed, against \`ratio\` of 2³²−1), so every process deciding on one trace decides alike — a
 * resumed run, a worker.
 */
export function traceIdSampled(traceId: string, ratio: number): boolean {
  if (ratio >= 1) return true;
  if (ratio <= 0) return false;
  let acc = 0;
  for (let i = 0; i < traceId.length / 8; i++) acc = (acc ^ parseInt(traceId.slice(i * 8, i * 8 + 8), 16)) >>> 0;
  return acc <= Math.floor(ratio * 0xffffffff);
}

/**
 * `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`: `http/protobuf`, or
 * JSON — the default of OpenTelemetry's JS OTLP/HTTP exporter, which Orch keeps, and what it
 * sends for any other value (`grpc` is not an OTLP/HTTP protocol).
 */
function otlpProtocol(env: NodeJS.ProcessEnv): OtlpProtocol {
  const named = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?.trim() || env.OTEL_EXPORTER_OTLP_PROTOCOL?.trim() || '').toLowerCase();
  return named === 'http/protobuf' ? 'http/protobuf' : 'http/json';
}

/** As the OTLP spec says for the base endpoint: `v1/traces` relative to it. */
function appendTracesPath(base: string): string {
  return base.endsWith('/') ? `${base}v1/traces` : `${base}/v1/traces`;
}

/** Why a config's `telemetry` block is unusable, or null. */
export function telemetryConfigProblem(raw: unknown): string | null {
  if (raw === undefined) return null;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return 'telemetry must be an object: { "otlp": URL, "trace_url": "…{trace_id}…" }';
  const t = raw as Record<string, unknown>;
  for (const key of Object.keys(t)) if (key !== 'otlp' && key !== 'trace_url') return `telemetry has no key "${key}" (otlp, trace_url)`;
  if (t.otlp !== undefined && !isHttpUrl(t.otlp)) return 'telemetry.otlp must be an http(s) URL';
  if (t.trace_url !== undefined && !(typeof t.trace_url === 'string' && t.trace_url.includes('{trace_id}') && isHttpUrl(t.trace_url.replace('{trace_id}', '0'))))
    return 'telemetry.trace_url must be an http(s) URL holding {trace_id}';
  return null;
}

function isHttpUrl(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/** The dashboard's link to a trace, or null without `trace_url` or a trace id. */
export function traceLink(template: string | undefined, traceId: string | null | undefined): string | null {
  if (!template || !traceId) return null;
  return template.split('{trace_id}').join(encodeURIComponent(traceId));
}
