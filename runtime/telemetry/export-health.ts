/**
 * Whether the OTLP endpoint answers (LANGUAGE.md §9.1, "Operators see failures at once"), seen
 * from the tracing thread. The exporter retries a refused connection for about 8 s (its
 * `RetryingTransport`: 1 s, 1.5 s, 2.25 s …) and says nothing; a flush at the end of a run waited
 * for all of it. Here the exporter's own HTTP agent watches each connection it opens: a refused or
 * failing one, or one not made within `CONNECT_MS`, is reported to the main thread at once (which
 * tells the operator once and stops waiting on flushes), and a connection made or an export
 * accepted reports the endpoint back.
 */
import type { Agent as HttpAgent } from 'node:http';
import type { Socket } from 'node:net';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { transportReason } from '../transport-error.js';

/** A connection not made within this is an endpoint that cannot be reached (a dropped SYN waits for minutes). */
export const CONNECT_MS = 700;

export interface HealthReport {
  /** The endpoint cannot be reached (or refuses the spans): why. */
  readonly unreachable?: string;
  /** It answered again. */
  readonly reachable?: true;
}

export class ExportHealth {
  private down = false;

  constructor(private readonly report: (r: HealthReport) => void) {}

  /**
   * The exporter's `httpAgentOptions`: the agent it would make (keep-alive), watching every
   * connection. Loaded lazily, as the exporter asks (its docs: no static `node:http` import).
   */
  readonly agentFactory = async (protocol: string): Promise<HttpAgent> => {
    const mod = protocol === 'https:' ? await import('node:https') : await import('node:http');
    const agent = new mod.Agent({ keepAlive: true });
    const create = (agent as unknown as { createConnection: (...a: unknown[]) => Socket }).createConnection.bind(agent);
    (agent as unknown as { createConnection: (...a: unknown[]) => Socket }).createConnection = (...args: unknown[]) => this.watch(create(...args));
    return agent;
  };

  /** `exporter` with each export's result observed: an accepted export is a reachable endpoint, a refused one (HTTP 4xx) a problem. */
  exporter(inner: SpanExporter): SpanExporter {
    const export_ = inner.export.bind(inner);
    inner.export = (spans: ReadableSpan[], done: (r: ExportResult) => void) =>
      export_(spans, (r) => {
        // 0: ExportResultCode.SUCCESS.
        if (r.code === 0) this.up();
        else if (r.error && !this.down) this.fail(`the endpoint did not take the spans: ${r.error.message}`);
        done(r);
      });
    return inner;
  }

  private watch(socket: Socket): Socket {
    const timer = setTimeout(() => this.fail(`no connection within ${CONNECT_MS} ms`), CONNECT_MS);
    timer.unref();
    socket.once('connect', () => {
      clearTimeout(timer);
      this.up();
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      this.fail(transportReason(err));
    });
    socket.once('close', () => clearTimeout(timer));
    return socket;
  }

  private fail(why: string): void {
    if (this.down) return;
    this.down = true;
    this.report({ unreachable: why });
  }

  private up(): void {
    if (!this.down) return;
    this.down = false;
    this.report({ reachable: true });
  }
}
