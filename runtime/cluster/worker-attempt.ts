/**
 * What an `orch worker` does with one attempt it claimed (docs/cluster.md, "Secrets and config on
 * workers"), from ITS OWN project's `orch.config.*` and environment — never from the owner's:
 *
 * - the secrets the job names (`StepJob.secrets`) resolve from the environment, then the config's
 *   `secrets`; one that is missing fails the attempt for good (`final: 'config'`), naming it and
 *   the worker, before any handler runs; the values replace the input's placeholders;
 * - a `kind llm` call with a prompt is answered here with the config's `endpoints` and priced with
 *   its `prices` (`ModelExecutor`); a handler's `ctx.usage()` is priced the same way;
 * - MCP tools (a server per project, started on first use and kept for every later attempt) and the
 *   channels of `notify`/`email` come from the config (the executor's edges, runtime/mcp and
 *   runtime/channels), handlers run on this process's threads with `maxOutputBytes` the smaller of
 *   the owner's and the config's;
 * - the outcome leaves redacted — every secret value the worker knows becomes `***` — since it is
 *   written to `orch.attempts` and journaled by an owner that may not know those values; its
 *   `cost` and `usage` go back to the owner, whose budget ledger settles the attempt with them.
 */
import { resolve } from 'node:path';
import type { CapabilityIR, PlanIR, ResourceIR } from '../../compiler/index.js';
import { configMemo, loadConfig, redactConfigSecrets, secretResolver, type OrchConfig } from '../config.js';
import { isInside, locateHandler, projectRoot, type HandlerLocation } from '../executor/handler-path.js';
import { WorkerExecutor } from '../executor/worker-executor.js';
import { EMPTY_MODELS, isModelCall, ModelExecutor, modelClientFor } from '../models/index.js';
import { Redactor } from '../redact.js';
import type { AttemptOutcome, AttemptRequest, Executor } from '../scheduler/types.js';
import { envThenConfig } from '../secret-refs.js';
import { FreshCache } from './fresh-cache.js';
import { fillSecrets } from './job-secrets.js';
import type { StepJob } from './jobs.js';

export interface WorkerAttemptsOptions {
  /** The worker's project root (`orch worker --project`, its nearest root). */
  readonly project: string;
  /** The worker's id of the moment (it changes when the worker registers again), named in its errors. */
  readonly worker: () => string;
  /** Handler threads. */
  readonly slots: number;
  /** Where secrets come from first (default `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
}

export class WorkerAttempts {
  /** Every secret value this worker resolved or holds: blanked in outcomes and spans. */
  readonly redactor = new Redactor();
  private readonly executor: WorkerExecutor;
  private readonly configFor: (root: string) => Promise<OrchConfig>;
  /** The model executor over the handler threads, one per project root (it keeps its endpoint clients). */
  private readonly byRoot = new Map<string, Executor>();
  private readonly env: NodeJS.ProcessEnv;
  private readonly roots = new FreshCache<string>();
  private readonly handlers = new FreshCache<HandlerLocation>();

  private constructor(
    private readonly o: WorkerAttemptsOptions,
    /** The project's config, loaded at start: a broken one stops the worker before it takes a job. */
    readonly config: OrchConfig,
  ) {
    this.env = o.env ?? process.env;
    this.configFor = configMemo((root) => (root === o.project ? Promise.resolve(config) : loadConfig(root)));
    // The executor keeps each plan directory's root itself; its handler look-ups, keyed by the
    // capability objects every job brings anew, go through this worker's cache.
    this.executor = new WorkerExecutor({ workers: o.slots, locate: (cap, baseDir, root) => this.locate(cap, baseDir, root) });
    this.remember(config);
  }

  /** Loads the project's config (its error, naming the file, when it is broken). */
  static async open(o: WorkerAttemptsOptions): Promise<WorkerAttempts> {
    return new WorkerAttempts(o, await loadConfig(o.project));
  }

  /** A plan directory's project root, looked up at most once a second. */
  rootOf(baseDir: string): string {
    return this.roots.get(baseDir, () => projectRoot(baseDir));
  }

  /** Where a capability's handler lives, as `locateHandler` says; a found one is remembered for a second. */
  locate(cap: CapabilityIR, baseDir: string, root: string): HandlerLocation {
    const h = cap.handler;
    if (h === null || 'mcp' in h) return locateHandler(cap, baseDir, root);
    const key = 'builtin' in h ? `builtin\0${h.builtin}` : `${root}\0${baseDir}\0${h.module}\0${h.export}`;
    return this.handlers.get(key, () => locateHandler(cap, baseDir, root), (w) => w.ok);
  }

  /**
   * Whether the job's attempt would share a message with others on the handler threads while
   * they are busy (`WorkerExecutor.shares`): fast, idempotent, no timeout, not a model call.
   */
  shares(job: StepJob): boolean {
    if (isModelCall(job.capability)) return false;
    const baseDir = resolve(this.o.project, job.baseDir);
    return this.executor.shares({ capability: job.capability, timeoutMs: job.timeoutMs, plan: { base_dir: baseDir } as PlanIR });
  }

  /**
   * Runs one claimed attempt: its outcome, redacted, with cost and usage. Never rejects. `signal`
   * gives it up: not started yet, it never starts; running, it is aborted.
   */
  async run(job: StepJob, traceparent: string | undefined, signal?: AbortSignal): Promise<AttemptOutcome> {
    try {
      return this.redactor.value(await this.attempt(job, traceparent, signal));
    } catch (err) {
      return this.redactor.value({ ok: false, error: `on worker ${this.o.worker()}: ${(err as Error).message}` });
    }
  }

  private async attempt(job: StepJob, traceparent: string | undefined, signal: AbortSignal | undefined): Promise<AttemptOutcome> {
    const worker = this.o.worker();
    const baseDir = resolve(this.o.project, job.baseDir);
    if (!isInside(this.o.project, baseDir)) return { ok: false, error: `plan directory ${job.baseDir} is outside the project ${this.o.project}` };
    const root = this.rootOf(baseDir);
    let config: OrchConfig;
    try {
      config = await this.configFor(root);
    } catch (err) {
      return { ok: false, error: `on worker ${worker}: ${(err as Error).message}`, final: 'config' };
    }
    this.remember(config);
    const lookup = envThenConfig(config.secrets, this.env);
    const resolved: Record<string, string> = {};
    for (const name of secretNamesOf(job)) {
      const v = lookup(name);
      if (v === undefined)
        return { ok: false, error: `secret "${name}" is not set on worker ${worker} (environment variable or "secrets" of ${config.file ?? `an orch.config.json in ${root}`})`, final: 'config' };
      this.redactor.add(v);
      resolved[name] = v;
    }
    const cap = job.capability;
    // A model call and an MCP tool have no handler file; a missing one is named with this worker.
    if (!isModelCall(cap) && !(cap.handler !== null && 'mcp' in cap.handler)) {
      const where = this.locate(cap, baseDir, this.o.project);
      if (!where.ok) return { ok: false, error: `${where.error} (on worker ${worker})`, final: 'unloadable' };
    }
    const limit = smaller(job.maxOutputBytes, config.maxOutputBytes ?? null);
    if (limit !== null) this.executor.limitOutputs(baseDir, limit);
    const req: AttemptRequest = {
      runId: job.run,
      stepId: job.stepId,
      baseStepId: job.stepId,
      attempt: job.attempt,
      purpose: 'call',
      capability: cap,
      input: fillSecrets(job.input, resolved, job.secretTag ?? ''),
      resource: job.resource === null ? null : ({ name: job.resource, ...job.resourceModel } as ResourceIR),
      timeoutMs: job.timeoutMs,
      // As in-process: every configured secret, and those the arguments read.
      secrets: { ...config.secrets, ...resolved },
      plan: { base_dir: baseDir } as PlanIR,
      ...(traceparent !== undefined ? { traceparent } : {}),
      ...(job.previousError !== undefined ? { previousError: job.previousError } : {}),
      ...(job.endpointTier !== undefined ? { endpointTier: job.endpointTier } : {}),
    };
    const executor = this.executorFor(root, config);
    if (signal?.aborted) return { ok: false, error: `attempt aborted: ${String(signal.reason)}` };
    return new Promise((done) => {
      const handle = executor.start(req, done);
      signal?.addEventListener('abort', () => handle.abort(String(signal.reason)), { once: true });
      // The owner gives up on the attempt at its timeout, and so does this worker: the handler's
      // ctx.signal fires, and one that ignores it is ended after the executor's grace, so it
      // cannot hold this slot for ever.
      if (job.timeoutMs !== null) {
        const t = setTimeout(() => handle.abort('timeout'), job.timeoutMs);
        t.unref();
      }
    });
  }

  private executorFor(root: string, config: OrchConfig): Executor {
    let e = this.byRoot.get(root);
    if (!e) {
      const secret = secretResolver(config, this.redactor, this.env);
      e = new ModelExecutor(this.executor, { models: config.models ?? EMPTY_MODELS, secret, client: modelClientFor, redact: (t) => this.redactor.text(t), configName: `this worker's ${config.file ?? 'config (none)'}` });
      this.byRoot.set(root, e);
    }
    return e;
  }

  /** Registers a config's secret values, and those its `"secret:NAME"` strings resolve to, for redaction. */
  private remember(config: OrchConfig): void {
    redactConfigSecrets(config, this.redactor, this.env);
  }

  async close(): Promise<void> {
    await this.executor.close();
  }
}

/** The names a job needs (a job of an older owner carried `{name: value}`: only its names are used). */
function secretNamesOf(job: StepJob): readonly string[] {
  const s = job.secrets as unknown;
  if (Array.isArray(s)) return s.filter((n): n is string => typeof n === 'string');
  return s && typeof s === 'object' ? Object.keys(s) : [];
}

function smaller(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}
