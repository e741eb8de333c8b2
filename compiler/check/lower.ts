/** Literal properties → IR units (durations in ms, percents as fractions, retry specs). */
import type { DurationLit, RetrySpec } from '../../language/index.js';
import type { RetryIR } from '../ir/types.js';
import { durationMs } from './expr.js';

export const NO_RETRY: RetryIR = { max: 0, backoff: 'none', delay_ms: 0, max_delay_ms: null, jitter: false };

export function ms(d: DurationLit | undefined): number | null {
  return d ? durationMs(d.value, d.unit) : null;
}

/**
 * A retry count as the IR holds it: a whole number ≥ 0. A count the parser could not read (`retry
 * 3A`, reported as E0001) is none, so that even a plan with errors lowers to IR the schema accepts.
 */
function retryCount(attempts: number): number {
  return Number.isFinite(attempts) ? Math.max(0, Math.floor(attempts)) : 0;
}

export function retryIR(r: RetrySpec | undefined, fallback: RetryIR = NO_RETRY): RetryIR {
  if (!r) return fallback;
  const max = retryCount(r.attempts);
  if (!r.backoff) return { max, backoff: max > 0 ? 'fixed' : 'none', delay_ms: 0, max_delay_ms: null, jitter: false };
  return {
    max,
    backoff: r.backoff.kind,
    delay_ms: ms(r.backoff.delay) ?? 0,
    max_delay_ms: ms(r.backoff.max),
    jitter: false,
  };
}

export const PRIORITY_INDEX = { critical: 0, high: 1, normal: 2, low: 3, info: 4 } as const;
