/**
 * Assembles `orch serve` from its parts: trigger engine + HTTP API + metrics over a RunStarter.
 * Resumes runs a previous process left unfinished, activates the triggers, then listens.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TriggerIR } from '../../compiler/triggers-ir.js';
import { createApiHandler } from './http/routes.js';
import { createContextValidator, createInputValidator } from './input-validator.js';
import { createMetrics } from './metrics.js';
import { TriggerEngine, type EngineOptions } from './trigger-engine.js';

export interface ServeOptions extends Pick<EngineOptions, 'plans' | 'triggers' | 'starter' | 'evaluate' | 'state'> {
  readonly token: string;
  readonly host: string;
  readonly port: number;
  readonly catchUp: boolean;
  readonly bodyLimit?: number;
  readonly log?: (line: string) => void;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly engine: TriggerEngine;
  readonly resumed: readonly string[];
  /**
   * Stops the schedules and the listener, gives runs in flight `graceMs` to finish, then releases
   * the runtime. Resolves to the number of runs left unfinished (resumed by the next start).
   */
  close(graceMs?: number): Promise<number>;
}

/** Paths the built-in API owns; an `api` trigger may not shadow them. */
const RESERVED = /^\/(health|metrics|events|signals|context|triggers|runs)(\/|$)/;

export function checkApiPaths(triggers: readonly TriggerIR[]): string | null {
  const seen = new Map<string, string>();
  for (const t of triggers) {
    if (t.source.kind !== 'api') continue;
    const path = t.source.path;
    if (!path.startsWith('/')) return `trigger ${t.name}: api path "${path}" must start with "/"`;
    if (RESERVED.test(path)) return `trigger ${t.name}: api path "${path}" is reserved by orch serve`;
    const other = seen.get(path);
    if (other) return `triggers ${other} and ${t.name} both use api path "${path}"`;
    seen.set(path, t.name);
  }
  return null;
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const log = opts.log ?? (() => {});
  const problem = checkApiPaths(opts.triggers);
  if (problem) throw new Error(problem);
  let engineRef: TriggerEngine | undefined;
  const metrics = createMetrics(opts.starter, () => engineRef!, () => opts.plans);
  const engine = new TriggerEngine({
    triggers: opts.triggers,
    plans: opts.plans,
    starter: opts.starter,
    evaluate: opts.evaluate,
    checkInput: createInputValidator(),
    state: opts.state,
    log,
    onOutcome: (t, r) => metrics.outcome(t, r),
    onCatchUp: (t) => metrics.catchUp(t),
  });
  engineRef = engine;

  const handler = createApiHandler({
    engine,
    starter: opts.starter,
    metrics,
    checkContext: createContextValidator(opts.plans),
    token: opts.token,
    bodyLimit: opts.bodyLimit,
    log,
  });
  const server: Server = createServer(handler);
  server.keepAliveTimeout = 5000;
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const resumed = await opts.starter.resumeUnfinished();
  await engine.activate({ catchUp: opts.catchUp });

  const { port } = server.address() as AddressInfo;
  const hostForUrl = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  let closing: Promise<number> | undefined;
  return {
    url: `http://${hostForUrl}:${port}`,
    port,
    engine,
    resumed,
    close: (graceMs = 0) =>
      (closing ??= (async () => {
        engine.deactivate();
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await opts.starter.drain(graceMs);
        const left = opts.starter.activeCount();
        await opts.starter.close();
        opts.state.close();
        server.closeAllConnections();
        await stopped;
        return left;
      })()),
  };
}
