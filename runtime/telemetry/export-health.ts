/**
 * Whether the OTLP endpoint answers (LANGUAGE.md §9.1, "Operators see failures at once"), seen
 * from the tracing thread. The exporter retries a refused connection for about 8 s (its
 * `RetryingTransport`: 1 s, 1.5 s, 2.25 s …) and says nothing; a flush at the end of a run waited
 * for all of it. Here the exporter's own HTTP agent watches each connection it opens: a refused or
 * failing one, or one not made within `CONNECT_MS`, is reported to the main thread at once (which
 * tells the operator once and stops waiting on flushes), and a connection made or an export
 * accepted reports the endpoint back. A peer that takes the connection but never answers (a
 * hung collector, a port that is not OTLP's) held a flush for the exporter's 10 s timeout: a
 * flush that hears no answer to any export within `ANSWER_MS` says so the same way, and only an
 * accepted export reports such an endpoint back (a new connection to it proves nothing).
 */
import type { Agent as HttpAgent } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { transportReason } from '../transport-error.js';

/** A connection not made within this is an endpoint that cannot be reached (a dropped SYN waits for minutes). */
export const CONNECT_MS = 700;
/** A flush that hears no answer to any export within this (from its start, or the last answer) is waiting on an endpoint that cannot be reached. */
export const ANSWER_MS = 900;

export interface HealthReport {
  /** The endpoint cannot be reached (or refuses the spans): why. */
  readonly unreachable?: string;
  /** It answered again. */
  readonly reachable?: true;
}

export class ExportHealth {
  /** Why it is down: no connection (a new one brings it back), or no answer (only an accepted export does). */
  private down: 'connect' | 'answer' | null = null;
  /** When an export last ended, accepted or not. */
  private answeredAt = 0;

  constructor(
    private readonly report: (r: HealthReport) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Watches a flush (`done`: it ended): while it waits, no export answering within `ANSWER_MS`
   * makes the endpoint unreachable — the waiting flush is then released by the main thread.
   */
  watchFlush(done: Promise<unknown>, answerMs = ANSWER_MS): void {
    const started = this.now();
    let timer: NodeJS.Timeout | undefined;
    const check = () => {
      const since = this.now() - Math.max(started, this.answeredAt);
      if (since >= answerMs) return this.fail(`no answer within ${answerMs} ms`, 'answer');
      timer = setTimeout(check, answerMs - since);
      timer.unref();
    };
    timer = setTimeout(check, answerMs);
    timer.unref();
    void done.finally(() => clearTimeout(timer));
  }

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

  /**
   * Opens one connection to the endpoint as tracing starts and closes it once made: the first
   * export waits for the batch processor's delay (5 s) or a flush, and `orch serve` would tell
   * the operator of an endpoint it cannot reach only seconds after a run had ended.
   */
  probe(url: string): void {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return; // the exporter says what is wrong with it
    }
    const port = Number(target.port) || (target.protocol === 'https:' ? 443 : 80);
    const socket = this.watch(connect({ host: target.hostname.replace(/^\[|\]$/g, ''), port }));
    socket.unref();
    socket.once('connect', () => socket.destroy());
    // `watch` reports the error; a listener keeps it from being thrown.
    socket.on('error', () => undefined);
  }

  /** `exporter` with each export's result observed: an accepted export is a reachable endpoint, a refused one (HTTP 4xx) a problem. */
  exporter(inner: SpanExporter): SpanExporter {
    const export_ = inner.export.bind(inner);
    inner.export = (spans: ReadableSpan[], done: (r: ExportResult) => void) =>
      export_(spans, (r) => {
        this.answeredAt = this.now();
        // 0: ExportResultCode.SUCCESS.
        if (r.code === 0) this.up('answer');
        else if (r.error && !this.down) this.fail(`the endpoint did not take the spans: ${r.error.message}`, 'answer');
        done(r);
      });
    return inner;
  }

  private watch(socket: Socket): Socket {
    const timer = setTimeout(() => this.fail(`no connection within ${CONNECT_MS} ms`, 'connect'), CONNECT_MS);
    timer.unref();
    socket.once('connect', () => {
      clearTimeout(timer);
      this.up('connect');
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      this.fail(transportReason(err), 'connect');
    });
    socket.once('close', () => clearTimeout(timer));
    return socket;
  }

  private fail(why: string, kind: 'connect' | 'answer'): void {
    if (this.down) return;
    this.down = kind;
    this.report({ unreachable: why });
  }

  /** `by` proves the endpoint back: an accepted export always, a connection only when no connection was the trouble. */
  private up(by: 'connect' | 'answer'): void {
    if (this.down === null || (by === 'connect' && this.down === 'answer')) return;
    this.down = null;
    this.report({ reachable: true });
  }
}
