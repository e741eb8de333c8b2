/**
 * The process side of `orch serve`: load, open the journal, start, print the banner, and shut
 * down cleanly on SIGINT/SIGTERM. Resolves to the exit code once the server has stopped.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { projectRootOf } from '../compiler/index.js';
import type { Diagnostic } from '../language/index.js';
import { ContextStore, envThenConfig, evaluateOrUnknown, loadConfig, parseSourcesConfig, realClock, oidcClientSecret, type Backend, type OrchConfig } from '../runtime/index.js';
import { banner } from './banner.js';
import { generateToken } from './http/auth.js';
import { loadServeProgram } from './load.js';
import { openRuntimeStarter } from './runtime-starter.js';
import type { HttpLimits } from './http/app.js';
import type { ContextIR, PlanIR, TriggerIR } from '../compiler/index.js';
import { startServer } from './server.js';
import { signalsOf } from './trigger-engine.js';

/** A failure to start serving, reported by the CLI as one line with this exit code. */
export class ServeError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
    /** The compile errors behind it, for the CLI to show as `orch check` does. */
    readonly diagnostics: readonly Diagnostic[] = [],
  ) {
    super(message);
    this.name = 'ServeError';
  }
}

export interface ServeCliOptions {
  readonly files: readonly string[];
  readonly port: number;
  readonly host: string;
  /** Where runs, trigger state and people are kept (`--db`); its caller closes it once this resolved. */
  readonly backend: Backend;
  readonly catchUp: boolean;
  /** On Postgres, run the steps in this process rather than on `orch worker`s. */
  readonly local?: boolean;
  /** On Postgres, take over a run once its owner's heartbeat is this old (default 10 s). */
  readonly takeOverAfterMs?: number;
  readonly limits?: Partial<HttpLimits>;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

export interface UiCliOptions {
  readonly port: number;
  readonly host: string;
  readonly backend: Backend;
  readonly limits?: Partial<HttpLimits>;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

export async function runServe(o: ServeCliOptions): Promise<number> {
  const files = o.files.length > 0 ? [...o.files] : orchFilesInCwd();
  if (files.length === 0) throw new ServeError('no .orch files given and none in the current directory', 2);
  for (const f of files) {
    if (!existsSync(f)) throw new ServeError(`cannot read ${f}: no such file`, 2);
  }
  const loaded = loadServeProgram(files);
  if (loaded.errors.length > 0) {
    // The compiler's errors travel with the error (the CLI renders them); the rest are lines.
    for (const line of loaded.problems) o.err(`${line}\n`);
    throw new ServeError(`cannot serve: ${loaded.errors.length} error(s) in the modules`, 1, loaded.diagnostics);
  }

  const config = await projectConfig(dirname(resolve(files[0]!)));
  return serveUntilSignal({ ...o, mode: 'serve', config, plans: loaded.plans, contexts: loaded.contexts, triggers: loaded.triggers, warnings: loaded.warnings });
}

/**
 * `orch ui`: the dashboard and the API over a journal, read-write (pause, resume, cancel,
 * approve) but without loading modules, firing triggers or resuming interrupted runs.
 */
export async function runUi(o: UiCliOptions): Promise<number> {
  if (!o.backend.exists()) throw new ServeError(`no journal at ${o.backend.displayName} (nothing has been run here yet; see --db)`, 2);
  const config = await projectConfig(process.cwd());
  return serveUntilSignal({ ...o, mode: 'ui', config, catchUp: false, plans: [], triggers: [], warnings: [] });
}

/**
 * The config whose `auth` block says who may use the server (LANGUAGE.md §8.8): the project's of
 * the first served file (`orch serve`), of the working directory (`orch ui`).
 */
async function projectConfig(dir: string): Promise<OrchConfig> {
  try {
    return await loadConfig(projectRootOf(dir));
  } catch (e) {
    throw new ServeError((e as Error).message, 2);
  }
}

interface ServeProcessOptions extends Omit<ServeCliOptions, 'files'> {
  readonly mode: 'serve' | 'ui';
  readonly config: OrchConfig;
  readonly plans: readonly PlanIR[];
  /** The served modules' contexts (serve/load.ts), a module without a plan's too. */
  readonly contexts?: readonly ContextIR[];
  readonly triggers: readonly TriggerIR[];
  readonly warnings: readonly string[];
}

async function serveUntilSignal(o: ServeProcessOptions): Promise<number> {
  const envToken = process.env.ORCH_TOKEN;
  const token = envToken && envToken.length > 0 ? envToken : generateToken();
  const log = (line: string) => o.err(`orch ${o.mode}: ${line}\n`);
  // §9.4: one context for the triggers and the runs, which read its signals live.
  const context = new ContextStore({ signals: signalsOf([...o.plans, ...(o.contexts ?? [])]), clock: realClock });
  const opened = new Opened();
  const parts = await openParts(o, context, log, opened);
  const server = await opened.or(
    () =>
      startServer({
        plans: o.plans,
        ...(o.contexts ? { contexts: o.contexts } : {}),
        triggers: o.triggers,
        mode: o.mode,
        limits: o.limits,
        starter: parts.starter,
        context,
        // Kleene's third value stays: a condition over an unknown signal is neither true nor false (§9.4).
        evaluate: (expr, scope) => evaluateOrUnknown(expr, { vars: { event: scope.event ?? null, context: scope.context }, ...(scope.signal ? { signal: scope.signal } : {}) }),
        state: parts.state,
        token,
        people: parts.people,
        ...(parts.contextJournal ? { contextJournal: parts.contextJournal, retentionMs: o.config.retentionMs ?? null } : {}),
        ...(o.config.auth ? { auth: o.config.auth } : {}),
        ...(parts.oidc ? { oidc: parts.oidc } : {}),
        ...(parts.sources ? { sources: parts.sources } : {}),
        // A journal that outlives the process: the broker keeps what comes while no server is connected.
        ...(o.backend.capabilities.durable ? { sourceSessions: o.backend.displayName } : {}),
        contextLock: o.backend.lock('context'),
        secret: (name) => process.env[name] ?? o.config.secrets[name],
        host: o.host,
        port: o.port,
        catchUp: o.catchUp,
        log,
      }),
    (e) => {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') return `${o.host}:${o.port} is already in use`;
      if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return `cannot bind to ${o.host}`;
      return e.message;
    },
  );
  o.out(
    banner({
      url: server.url,
      tokenSource: envToken ? 'env' : 'generated',
      token,
      triggers: o.triggers,
      plans: server.engine.planNames(),
      mode: o.mode,
      next: new Map(server.engine.nextRuns().map((n) => [n.trigger, n.next] as const)),
      resumed: server.resumed,
      db: o.backend.displayName,
      ...(o.config.auth
        ? { people: { users: o.config.auth.users.size, oidc: o.config.auth.oidc !== undefined, bootstrapToken: o.config.auth.bootstrapToken } }
        : {}),
    }),
  );
  for (const w of o.warnings) log(w);
  if (!isLoopback(o.host)) log(`bound to ${o.host}, reachable from other machines: keep the token secret and prefer a TLS proxy`);

  const left = await stopOnSignal(server, log);
  // Runs still in flight were left unfinished in the journal (Runtime.close({ cancel: false }));
  // the next `orch serve` resumes them.
  if (left > 0) log(`${left} run(s) left unfinished; they resume at the next start`);
  // Stopping itself failed (logged above): what it could not close must not keep the process up.
  if (left < 0) process.exit(0);
  return 0;
}

/**
 * What the server has opened so far: when a later part cannot start, every earlier one is closed
 * (the last opened first) before the start error, which names the part and never a password.
 */
class Opened {
  private readonly parts: { close(): Promise<unknown> }[] = [];

  /** `open()`'s result, kept to be closed on a later failure; its own failure closes the rest and becomes a ServeError (exit 2). */
  async or<T>(open: () => Promise<T>, message: (e: Error) => string): Promise<T> {
    try {
      const part = await open();
      if (part && typeof (part as { close?: unknown }).close === 'function') this.parts.push(part as unknown as { close(): Promise<unknown> });
      return part;
    } catch (e) {
      for (const p of this.parts.reverse()) await p.close().catch(() => {});
      throw new ServeError(message(e as Error), 2);
    }
  }
}

/** The journal, the trigger state, people, the context journal, then the config's sources and OpenID client. */
async function openParts(o: ServeProcessOptions, context: ContextStore, log: (line: string) => void, opened: Opened) {
  const { backend } = o;
  const shown = backend.displayName;
  // An unreachable or unmigrated database: one line, never the password.
  const starter = await opened.or(
    () => openRuntimeStarter({ backend, plans: o.plans, log, signal: (n) => context.read(n), ...(o.local ? { local: true } : {}), ...(o.takeOverAfterMs !== undefined ? { takeOverAfterMs: o.takeOverAfterMs } : {}) }),
    (e) => `cannot open the journal ${shown}: ${e.message}`,
  );
  const state = await opened.or(() => backend.triggerState(), (e) => `cannot open the trigger state in ${shown}: ${e.message}`);
  const people = await opened.or(() => backend.people(), (e) => `cannot open the sessions and audit trail in ${shown}: ${e.message}`);
  const contextJournal = await opened.or(async () => (o.mode === 'serve' ? backend.contextJournal() : undefined), (e) => `cannot open the context journal in ${shown}: ${e.message}`);
  // A clear password or an unset secret is a start error naming the field, never a value.
  const { sources, oidc } = await opened.or(
    async () => {
      const secrets = envThenConfig(o.config.secrets);
      const c = o.config.auth?.oidc;
      return {
        sources: o.mode === 'serve' ? parseSourcesConfig(o.config.sources, secrets, o.config.file ? dirname(o.config.file) : process.cwd()) : undefined,
        oidc: c ? { config: c, clientSecret: oidcClientSecret(c, secrets) } : undefined,
      };
    },
    (e) => e.message,
  );
  return { starter, state, people, contextJournal, sources, oidc };
}

/**
 * Waits for SIGINT or SIGTERM, then closes the server with a grace period for runs in flight;
 * resolves to how many runs were left unfinished (-1 when closing failed). A second signal, or a
 * close that hangs past its limit, exits the process at once.
 */
function stopOnSignal(server: { close(graceMs: number): Promise<number>; closing(): string | null | undefined }, log: (line: string) => void): Promise<number> {
  return new Promise<number>((done) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        log(`${signal} again: exiting now`);
        process.exit(0);
      }
      stopping = true;
      log(`${signal}: stopping; runs in flight get ${GRACE_MS / 1000}s to finish`);
      // Whatever hangs while stopping (a database that stopped answering), the process still
      // ends: every journal write is already durable, so what is left resumes at the next start.
      setTimeout(() => {
        log(`stopping took more than ${(GRACE_MS + STOP_LIMIT_MS) / 1000}s (waiting for ${server.closing() ?? 'nothing'}): exiting now`);
        process.exit(1);
      }, GRACE_MS + STOP_LIMIT_MS).unref();
      server.close(GRACE_MS).then(done, (err: unknown) => {
        log(`error while stopping: ${(err as Error)?.message ?? String(err)}`);
        done(-1);
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** How long a stopping server lets runs in flight finish before leaving them to the next start. */
const GRACE_MS = 3000;
/** How long closing may take after the grace period before the process exits anyway. */
const STOP_LIMIT_MS = 10_000;

function orchFilesInCwd(): string[] {
  return readdirSync(process.cwd())
    .filter((f) => f.endsWith('.orch'))
    .sort();
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
