/**
 * Assembles `orch serve` from its parts: trigger engine + HTTP app (API, live stream, dashboard)
 * + metrics over a RunStarter. Resumes runs a previous process left unfinished, activates the
 * triggers (unless it only watches: `orch ui`), then listens.
 */
import type { TriggerIR } from '../compiler/index.js';
import type { OidcConfig } from '../runtime/index.js';
import { registerApi, registerApiTriggers } from './http/api-routes.js';
import { createApp, DEFAULT_LIMITS, finishRoutes, type HttpLimits } from './http/app.js';
import { Sessions } from './http/auth.js';
import { registerDashboard, setSessionCookies } from './http/dashboard-routes.js';
import { registerOidc } from './http/oidc.js';
import { registerStream } from './http/stream.js';
import { createContextValidator, createInputValidator } from './input-validator.js';
import { LiveHub } from './live.js';
import { createMetrics } from './metrics.js';
import type { RunStarter } from './run-starter.js';
import { TriggerEngine, type EngineOptions } from './trigger-engine.js';

export interface ServeOptions extends Pick<EngineOptions, 'plans' | 'triggers' | 'starter' | 'evaluate' | 'state'> {
  readonly token: string;
  readonly host: string;
  readonly port: number;
  readonly catchUp: boolean;
  readonly limits?: Partial<HttpLimits>;
  /** `ui`: serve the dashboard and API over the journal, never fire a trigger or resume a run. */
  readonly mode?: 'serve' | 'ui';
  readonly log?: (line: string) => void;
  /** `auth.oidc` of the config, parsed, with its client secret resolved (null: a public client). */
  readonly oidc?: { readonly config: OidcConfig; readonly clientSecret: string | null };
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

/** Paths the built-in API and the dashboard own; an `api` trigger may not shadow them. */
const RESERVED = /^\/($|(health|metrics|events|signals|context|triggers|runs|stream|session|login|ui|approvals|resources|auth)(\/|$))/;

export function checkApiPaths(triggers: readonly TriggerIR[]): string | null {
  const seen = new Map<string, string>();
  for (const t of triggers) {
    if (t.source.kind !== 'api') continue;
    const path = t.source.path;
    if (!path.startsWith('/')) return `trigger ${t.name}: api path "${path}" must start with "/"`;
    if (RESERVED.test(path)) return `trigger ${t.name}: api path "${path}" is reserved by orch serve`;
    if (/[:*]/.test(path)) return `trigger ${t.name}: api path "${path}" may not contain ":" or "*"`;
    const other = seen.get(path);
    if (other) return `triggers ${other} and ${t.name} both use api path "${path}"`;
    seen.set(path, t.name);
  }
  return null;
}

/** Remembers which trigger started each run this process started (`null`: `POST /runs`). */
function recordTriggers(starter: RunStarter): { starter: RunStarter; triggerOf: (runId: string) => string | null | undefined } {
  const byRun = new Map<string, string | null>();
  const recording: RunStarter = Object.create(starter) as RunStarter;
  recording.start = async (plan, input, meta) => {
    const r = await starter.start(plan, input, meta);
    byRun.set(r.runId, meta.trigger);
    return r;
  };
  return { starter: recording, triggerOf: (id) => byRun.get(id) };
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const log = opts.log ?? (() => {});
  const mode = opts.mode ?? 'serve';
  const problem = checkApiPaths(opts.triggers);
  if (problem) throw new Error(problem);
  const { starter, triggerOf } = recordTriggers(opts.starter);
  const metrics = createMetrics(starter, () => engine, () => opts.plans);
  const engine = new TriggerEngine({
    triggers: opts.triggers,
    plans: opts.plans,
    starter,
    evaluate: opts.evaluate,
    checkInput: createInputValidator(),
    state: opts.state,
    log,
    onOutcome: (t, r) => metrics.outcome(t, r),
    onCatchUp: (t) => metrics.catchUp(t),
  });
  const hub = new LiveHub();
  starter.onEvent((e) => hub.publish(e));

  const sessions = new Sessions();
  const limits: HttpLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const app = await createApp({ token: opts.token, limits, sessions, log });
  const stepCancel = (runId: string, stepId: string) => starter.cancelStep(runId, stepId);
  registerApi(app, { engine, starter, metrics, checkContext: createContextValidator(opts.plans), triggerOf, stepCancel });
  registerApiTriggers(app, engine, opts.triggers);
  const streams = registerStream(app, hub);
  registerDashboard(app, { token: opts.token, sessions, starter, mode, stepCancel: true, ...(opts.oidc ? { oidcName: opts.oidc.config.name } : {}) });
  // OpenID Connect sign-in opens a session of this process's `Sessions`, carrying the identity.
  if (opts.oidc)
    registerOidc(app, {
      ...opts.oidc,
      log,
      signIn: (req, reply, identity) => {
        const { id, session } = sessions.open(identity.name, identity);
        setSessionCookies(req, reply, id, session.csrf);
      },
    });
  finishRoutes(app);

  await app.listen({ port: opts.port, host: opts.host });

  const resumed = mode === 'serve' ? await starter.resumeUnfinished() : [];
  if (mode === 'serve') await engine.activate({ catchUp: opts.catchUp });

  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
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
        streams.closeAll();
        const stopped = app.close();
        app.server.closeIdleConnections();
        await starter.drain(graceMs);
        const left = starter.activeCount();
        await starter.close();
        await opts.state.close();
        app.server.closeAllConnections();
        await stopped;
        return left;
      })()),
  };
}
