/**
 * Assembles `orch serve` from its parts: trigger engine + HTTP app (API, live stream, dashboard)
 * + metrics over a RunStarter. Resumes runs a previous process left unfinished, activates the
 * triggers (unless it only watches: `orch ui`), then listens.
 */
import { apiPathProblem, type ContextIR, type TriggerIR } from '../compiler/index.js';
import { registerApi, registerApiTriggers } from './http/api-routes.js';
import { createApp, DEFAULT_LIMITS, finishRoutes, type HttpLimits } from './http/app.js';
import { People } from './http/auth.js';
import { registerAuditRoutes } from './http/audit-routes.js';
import { keepAuditFor } from './http/audit-retention.js';
import { registerOidc } from './http/oidc.js';
import { registerSessionRoutes, startSession } from './http/session-routes.js';
import { ContextJournaling, ContextStore, memoryBackend, realClock, secretSignals, soleHolder, type AuthConfig, type ClusterLock, type ContextEventRow, type ContextJournal, type OidcConfig, type PeopleStore, type SourceConnection } from '../runtime/index.js';
import { contextSources, type ContextSources } from './context-sources.js';
import { holdContext, type ContextHolder } from './context-holder.js';
import { registerSourceRoutes } from './http/source-routes.js';
import { registerContextEvents } from './http/context-events.js';
import type { FastifyInstance } from 'fastify';
import { registerDashboard } from './http/dashboard-routes.js';
import { registerStream } from './http/stream.js';
import { createContextValidator, createInputValidator } from './input-validator.js';
import { LiveHub } from './live.js';
import { createMetrics } from './metrics.js';
import type { RunStarter } from './run-starter.js';
import { signalsOf, TriggerEngine, type EngineOptions } from './trigger-engine.js';
import { signalBatcher, type SignalBatcher } from './signal-batch.js';

export interface ServeOptions extends Pick<EngineOptions, 'plans' | 'triggers' | 'starter' | 'evaluate' | 'state' | 'context'> {
  /** The bootstrap token (`ORCH_TOKEN`): admin without `auth`, refused with it unless `auth.bootstrap_token`. */
  readonly token: string;
  /** People, roles and sign-in (LANGUAGE.md §8.8); undefined: the bootstrap token is the only identity. */
  readonly auth?: AuthConfig;
  /** Sessions, API tokens and the audit trail, in the journal's database (default: in memory). Closed with the server. */
  readonly people?: PeopleStore;
  /** A secret's value for `password: "secret:NAME"` (default: the environment). */
  readonly secret?: (name: string) => string | undefined;
  readonly host: string;
  readonly port: number;
  readonly catchUp: boolean;
  readonly limits?: Partial<HttpLimits>;
  /** `ui`: serve the dashboard and API over the journal, never fire a trigger or resume a run. */
  readonly mode?: 'serve' | 'ui';
  readonly log?: (line: string) => void;
  /** How often an open `/stream` checks its credential again (default 2 s; tests pass less). */
  readonly streamRecheckMs?: number;
  /** `auth.oidc` of the config, parsed, with its client secret resolved (null: a public client). */
  readonly oidc?: { readonly config: OidcConfig; readonly clientSecret: string | null };
  /** §9.4: the served modules' contexts beside the plans' own (loadServeProgram's `contexts`): a module may declare signals and sources and no plan. */
  readonly contexts?: readonly ContextIR[];
  /** §9.4: the connections of the plans' `source` blocks (orch.config `sources`, parsed), started in `serve` mode. */
  readonly sources?: ReadonlyMap<string, SourceConnection>;
  /** §9.4: where the server keeps things when that outlives it (a durable journal): its MQTT sources use persistent sessions named after it. */
  readonly sourceSessions?: string;
  /** Where the context's own events are journaled (§9.4); none: not journaled. Closed with the server. */
  readonly contextJournal?: ContextJournal;
  /** The config's `retention` (ms), for the context journal. */
  readonly retentionMs?: number | null;
  /** §9.4: who of the servers on this database subscribes to the sources (the backend's `context` lock; default: this one). */
  readonly contextLock?: ClusterLock;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly engine: TriggerEngine;
  readonly resumed: readonly string[];
  /** §9.4: whether this server holds the context's subscriptions now (false in `ui` mode). */
  holdsContext(): boolean;
  /**
   * Stops the schedules and the listener, gives runs in flight `graceMs` to finish, then releases
   * the runtime. Resolves to the number of runs left unfinished (resumed by the next start).
   */
  close(graceMs?: number): Promise<number>;
  /** What `close` is waiting for right now (null before it starts): named when stopping hangs. */
  closing(): string | null;
}

export function checkApiPaths(triggers: readonly TriggerIR[]): string | null {
  const seen = new Map<string, string>();
  for (const t of triggers) {
    if (t.source.kind !== 'api') continue;
    const path = t.source.path;
    const problem = apiPathProblem(path);
    if (problem) return `trigger ${t.name}: ${problem}`;
    const other = seen.get(path);
    if (other) return `triggers ${other} and ${t.name} both use api path "${path}"`;
    seen.set(path, t.name);
  }
  return null;
}

/**
 * Marks every run the server starts or retries as bound to people when it knows people (§9.1).
 * Which trigger started a run is journaled with it (`StartMeta.trigger`), not remembered here.
 */
function bindingPeople(starter: RunStarter, peopleBound: boolean): RunStarter {
  const binding: RunStarter = Object.create(starter) as RunStarter;
  binding.start = (plan, input, meta) => starter.start(plan, input, { ...meta, peopleBound });
  binding.retry = (runId, meta = {}) => starter.retry(runId, { ...meta, peopleBound });
  return binding;
}

/** The server's parts before it listens: what `startServer` starts, and what in-process tests `inject` into. */
export interface BuiltServer {
  readonly app: FastifyInstance;
  readonly engine: TriggerEngine;
  readonly starter: RunStarter;
  readonly people: People;
  readonly streams: { closeAll(): void };
  readonly sources: ContextSources;
  readonly journaling: ContextJournaling | null;
  /** The sources' messages on their way to the engine, a turn's worth at a time. */
  readonly batcher: SignalBatcher;
}

export async function buildServer(opts: Omit<ServeOptions, 'host' | 'port' | 'catchUp'>): Promise<BuiltServer> {
  const log = opts.log ?? (() => {});
  const mode = opts.mode ?? 'serve';
  const problem = checkApiPaths(opts.triggers);
  if (problem) throw new Error(problem);
  const starter = bindingPeople(opts.starter, opts.auth !== undefined);
  const metrics = createMetrics(starter, () => engine, () => opts.plans);
  // Every signal and source the served modules declare, a module without a plan's too (§9.4).
  const declared: readonly ContextIR[] = [...opts.plans, ...(opts.contexts ?? [])];
  const engine = new TriggerEngine({
    triggers: opts.triggers,
    plans: opts.plans,
    starter,
    evaluate: opts.evaluate,
    checkInput: createInputValidator(),
    state: opts.state,
    context: opts.context ?? new ContextStore({ signals: signalsOf(declared), clock: realClock }),
    log,
    onOutcome: (t, r) => metrics.outcome(t, r),
    onCatchUp: (t) => metrics.catchUp(t),
  });
  const hub = new LiveHub();
  starter.onEvent((e) => hub.publish(e));
  const contextHub = new LiveHub<ContextEventRow>();
  const journaling =
    opts.contextJournal && mode === 'serve'
      ? new ContextJournaling({ journal: opts.contextJournal, clock: realClock, retentionMs: opts.retentionMs ?? null, onRow: (r) => contextHub.publish(r) })
      : null;
  // What the store does by itself (staleness, derived signals) is journaled by the server holding
  // the context; what a source or `POST /signals` set here, by this server (§9.4, one context per cluster).
  if (journaling) engine.store.subscribe((c) => (engine.leads() || !(c.type === 'context_stale' || (c.type === 'context_updated' && c.source === 'derived'))) && journaling.change(c));

  const people = new People({
    token: opts.token,
    store: opts.people ?? (await memoryBackend().people()),
    ...(opts.auth ? { auth: opts.auth } : {}),
    ...(opts.oidc ? { oidc: opts.oidc.config } : {}),
    ...(opts.secret ? { secret: opts.secret } : {}),
  });
  // A user removed from the config while no server ran loses their API tokens now, for good.
  await people.revokeTokensOfRemovedUsers().catch((err: unknown) => log(`cannot revoke the API tokens of removed users: ${(err as Error).message}`));
  const limits: HttpLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const app = await createApp({ people, limits, log, ...(opts.auth ? { trustProxy: opts.auth.trustProxy } : {}) });
  const stepCancel = (runId: string, stepId: string) => starter.cancelStep(runId, stepId);
  const secrets = secretSignals(declared);
  registerApi(app, { engine, starter, metrics, checkContext: createContextValidator(declared), stepCancel, peopleConfigured: opts.auth !== undefined, secretSignals: secrets });
  registerApiTriggers(app, engine, opts.triggers);
  const batcher = signalBatcher((sets) => engine.ingest(sets), log);
  const sink = {
    set: (name: string, value: unknown, meta: { readonly source: string; readonly at?: number }) =>
      batcher.push({ name, value, source: meta.source, ...(meta.at !== undefined ? { at: meta.at } : {}) }),
    reject: (name: string, meta: { readonly source: string }, reason: string) => engine.store.reject(name, meta, reason),
  };
  const sources = contextSources({ declared, connections: opts.sources ?? new Map(), store: sink, log, ...(opts.sourceSessions !== undefined ? { sessionIdentity: opts.sourceSessions } : {}) });
  registerSourceRoutes(app, sources, people.bearerBrake, () => batcher.flush());
  registerContextEvents(app, opts.contextJournal ?? null, secrets);
  const streams = registerStream(app, hub, people, opts.streamRecheckMs, contextHub, secrets);
  registerSessionRoutes(app, people, log);
  registerAuditRoutes(app, people.store);
  if (opts.auth?.auditRetentionMs != null) await keepAuditFor(app, people.store, opts.auth.auditRetentionMs, log);
  registerDashboard(app, { people, starter, spend: metrics.spend, mode, stepCancel: true, ...(opts.oidc ? { oidcName: opts.oidc.config.name } : {}) });
  // OpenID Connect sign-in opens a session in the journal's database like any other sign-in.
  if (opts.oidc) registerOidc(app, { ...opts.oidc, log, signIn: (req, reply, identity) => startSession(people, req, reply, identity) });
  finishRoutes(app);
  return { app, engine, starter, people, streams, sources, journaling, batcher };
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const mode = opts.mode ?? 'serve';
  const { app, engine, starter, people, streams, sources, journaling, batcher } = await buildServer(opts);
  await app.listen({ port: opts.port, host: opts.host });

  // A run taken back reads the server's context: its saved values and holds first, else a `when`
  // over a held signal would read it unknown and skip its step.
  if (mode === 'serve') await engine.contextReady();
  const resumed = mode === 'serve' ? await starter.resumeUnfinished() : [];
  if (mode === 'serve') await engine.activate({ catchUp: opts.catchUp });
  // After the triggers listen to the context: the first messages (retained ones) reach them.
  if (mode === 'serve') engine.lead(false); // until the context's lock is held
  const holder: ContextHolder | null = mode === 'serve' ? await holdContext({ lock: opts.contextLock ?? soleHolder(), sources, log: opts.log ?? (() => {}), onChange: (h) => engine.lead(h) }) : null;

  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  const hostForUrl = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  let closing: Promise<number> | undefined;
  let phase: string | null = null;
  return {
    url: `http://${hostForUrl}:${port}`,
    port,
    engine,
    resumed,
    holdsContext: () => holder?.holding() ?? false,
    closing: () => phase,
    close: (graceMs = 0) =>
      (closing ??= (async () => {
        phase = 'the runs in flight';
        engine.deactivate();
        await (holder ? holder.release() : sources.close());
        await batcher.flush();
        engine.store.close();
        streams.closeAll();
        const stopped = app.close();
        app.server.closeIdleConnections();
        await starter.drain(graceMs);
        const left = starter.activeCount();
        await starter.close((what) => (phase = what));
        phase = 'the server state to close';
        await engine.unfollow();
        await opts.state.close();
        phase = 'the context journal to close';
        await journaling?.close();
        await opts.contextJournal?.close();
        phase = 'the people store to close';
        await people.store.close();
        phase = 'the HTTP connections to close';
        app.server.closeAllConnections();
        await stopped;
        phase = 'nothing';
        return left;
      })()),
  };
}
