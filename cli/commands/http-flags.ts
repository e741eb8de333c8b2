/** The flags `orch serve` and `orch ui` share: the port and the HTTP server's limits. */
import { InvalidArgumentError } from 'commander';
import type { HttpLimits } from '../../serve/index.js';
import { CliError } from '../errors.js';

export interface LimitFlags {
  readonly headersTimeout: number;
  readonly requestTimeout: number;
  readonly maxConnections: number;
}
export function limitsOf(o: LimitFlags): Partial<HttpLimits> {
  if (o.headersTimeout > o.requestTimeout) throw new CliError('--headers-timeout may not be longer than --request-timeout', 2);
  return { headersTimeoutMs: o.headersTimeout, requestTimeoutMs: o.requestTimeout, maxConnections: o.maxConnections };
}

export function positiveMs(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

export function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be an integer from 0 to 65535');
  return n;
}
