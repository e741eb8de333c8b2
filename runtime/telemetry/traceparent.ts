/**
 * W3C Trace Context `traceparent` headers (https://www.w3.org/TR/trace-context/), read and
 * written without the SDK: `POST /runs` accepts one whether or not this process exports traces.
 */

export interface SpanRef {
  /** 32 lowercase hex digits, not all zero. */
  readonly traceId: string;
  /** 16 lowercase hex digits, not all zero. */
  readonly spanId: string;
  readonly sampled: boolean;
}

const HEADER = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** The span a `traceparent` names, or null for a malformed one (ignored, as the spec says). */
export function parseTraceparent(header: unknown): SpanRef | null {
  if (typeof header !== 'string') return null;
  const m = HEADER.exec(header.trim().toLowerCase());
  if (!m) return null;
  const [, version, traceId, spanId, flags, rest] = m;
  // Version ff is invalid; version 00 has exactly four fields.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return null;
  if (/^0+$/.test(traceId!) || /^0+$/.test(spanId!)) return null;
  return { traceId: traceId!, spanId: spanId!, sampled: (parseInt(flags!, 16) & 1) === 1 };
}

export function formatTraceparent(ref: SpanRef): string {
  return `00-${ref.traceId}-${ref.spanId}-${ref.sampled ? '01' : '00'}`;
}
