/**
 * The JSON API of `orch serve` (docs/cli.md): events, signals, context, triggers, runs and their
 * controls, metrics and health. Routing, body parsing, limits and schema checks are Fastify's;
 * the handlers only turn engine and starter answers into status codes.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TriggerIR } from '../../compiler/index.js';
import type { ContextCheck } from '../input-validator.js';
import type { ServeMetrics } from '../metrics.js';
import type { ControlResult, RunStarter } from '../run-starter.js';
import type { FireResult, TriggerEngine } from '../trigger-engine.js';
import {
  decisionBody,
  eventBody,
  messagesFor,
  objectBody,
  runParams,
  runRequestBody,
  runsQuery,
  signalsBody,
  stepParams,
  triggerParams,
} from './schemas.js';
import { MAX_EVENT_TYPE } from './schemas.js';
import { RUN_STATUSES, shownSignal, traceLink, traceUrlTemplate, type SignalState, type Starter } from '../../runtime/index.js';
import { decider, requestStarter } from './person.js';

export interface ApiDeps {
  readonly engine: TriggerEngine;
  readonly starter: RunStarter;
  readonly metrics: ServeMetrics;
  readonly checkContext: ContextCheck;
  /** Whether the runtime can cancel one step of a run (`POST /runs/ID/steps/STEP/cancel`). */
  readonly stepCancel?: (runId: string, stepId: string) => Promise<ControlResult>;
  /** The config has an `auth` block: every identity is a person whom decisions check (§8.8). */
  readonly peopleConfigured: boolean;
  /** Context signals of class `secret`: their values read `***` (`secretSignals`). */
  readonly secretSignals?: ReadonlySet<string>;
}

type Params<T extends string> = { [K in T]: string };

export function registerApi(app: FastifyInstance, deps: ApiDeps): void {
  registerInputRoutes(app, deps);
  registerRunRoutes(app, deps);
  registerRunControlRoutes(app, deps);
}

const control = (reply: FastifyReply, runId: string, r: ControlResult) =>
  r.ok ? reply.code(202).send({ runId, status: r.status }) : reply.code(r.reason === 'not_found' ? 404 : r.reason === 'forbidden' ? 403 : 409).send({ error: r.message });
/** Routes whose input body is optional: a bare POST means `{}`. */
const optionalBody = async (req: FastifyRequest) => {
  if (req.body === undefined) req.body = {};
};
const planInput = { root: 'the plan input must be a JSON object' };

/** What comes into the server: health and metrics, events, signals, the context, triggers fired by hand. */
function registerInputRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { engine, metrics } = deps;
  app.get('/health', async () => ({ status: 'ok' }));

  app.get('/metrics', async (_req, reply) => {
    const text = await metrics.render();
    return reply.type(metrics.contentType).send(text);
  });

  app.post<{ Body: { type: string } }>(
    '/events',
    {
      schema: { body: eventBody },
      schemaErrorFormatter: messagesFor({
        root: 'an event must be a JSON object',
        type: `an event needs a "type": a non-empty string of at most ${MAX_EVENT_TYPE} characters`,
      }),
    },
    async (req, reply) => {
      const receipt = await engine.ingestEvent(req.body, requestStarter(req));
      metrics.event(receipt.results.length > 0);
      noteFired(req, engine, receipt.results);
      return reply.code(202).send(receipt);
    },
  );

  app.post<{ Body: Record<string, unknown> }>(
    '/signals',
    { schema: { body: signalsBody }, schemaErrorFormatter: messagesFor({ root: 'signals must set at least one context field as a JSON object' }) },
    async (req, reply) => {
      const problem = deps.checkContext(req.body) ?? storeRefusal(engine.store, req.body);
      if (problem) {
        // `api` is a source like MQTT's (§9.4): what it may not set is journaled, not only answered.
        engine.store.reject(problem.signal, { source: 'api' }, problem.reason);
        return reply.code(400).send({ error: problem.message });
      }
      const fired = await engine.signal(req.body, requestStarter(req));
      noteFired(req, engine, fired);
      return reply.code(202).send({ context: engine.currentContext(), results: fired });
    },
  );

  registerContextRoutes(app, engine, deps.secretSignals ?? new Set());

  app.get('/triggers', async () => {
    const stats = engine.stats();
    const next = new Map(engine.nextRuns().map((n) => [n.trigger, n.next?.toISOString() ?? null] as const));
    return {
      events: stats.events,
      triggers: stats.triggers.map((s) => ({
        ...s,
        source: engine.trigger(s.name)?.source,
        ...(next.has(s.name) ? { next: next.get(s.name) } : {}),
      })),
    };
  });

  app.post<{ Params: Params<'name'>; Body: Record<string, unknown> }>(
    '/triggers/:name/fire',
    { schema: { params: triggerParams, body: objectBody }, preValidation: optionalBody, schemaErrorFormatter: messagesFor(planInput) },
    async (req, reply) => {
      const t = engine.trigger(req.params.name);
      if (!t) return reply.code(404).send({ error: `unknown trigger "${req.params.name}"` });
      if (t.source.kind !== 'manual') {
        return reply.code(409).send({ error: `trigger "${t.name}" is a ${t.source.kind} trigger; only manual triggers are fired by hand` });
      }
      const r = await engine.fire(t, req.body, { ...starterOfRequest(req) });
      noteFired(req, engine, [r]);
      return fired(reply, r);
    },
  );
}

/** The runs: listed, started, read (record, timeline, trace, plan). */
function registerRunRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { engine, starter } = deps;
  app.get<{ Querystring: { limit?: string; status?: string; plan?: string; trigger?: string } }>(
    '/runs',
    { schema: { querystring: runsQuery }, schemaErrorFormatter: messagesFor({ root: 'bad query', limit: '"limit" must be a positive integer', status: `"status" must be one of ${RUN_STATUSES.join(', ')}` }) },
    async (req) => {
      const { status, plan, trigger } = req.query;
      const limit = req.query.limit === undefined ? Infinity : Number(req.query.limit);
      const runs = (await starter.list())
        .filter(
          (r) =>
            (status === undefined || r.status === status) &&
            (plan === undefined || r.planId === plan) &&
            (trigger === undefined || ('trigger' in r && (r.trigger ?? '') === trigger)),
        )
        .slice(0, limit);
      return { runs };
    },
  );

  app.post<{ Body: { plan: string; input?: Record<string, unknown>; consent?: string[] } }>(
    '/runs',
    {
      schema: { body: runRequestBody },
      schemaErrorFormatter: messagesFor(() => ({
        root: 'a run request must be a JSON object',
        plan: `a run request needs "plan": one of ${engine.planNames().join(', ') || '(none loaded)'}`,
        input: '"input" must be a JSON object',
        consent: '"consent" must be a list of scope names',
      })),
    },
    async (req, reply) => {
      const r = await engine.startPlan(req.body.plan, req.body.input ?? {}, req.body.consent, traceparentOf(req), requestStarter(req));
      if (r.ok) {
        req.auditStarted = [{ runId: r.runId, plan: req.body.plan }];
        return reply.code(202).send({ runId: r.runId });
      }
      return reply.code(r.status === 404 ? 400 : r.status).send({ error: r.error });
    },
  );

  app.get<{ Params: Params<'id'> }>('/runs/:id', { schema: { params: runParams } }, async (req, reply) => {
    const run = await starter.get(req.params.id);
    if (!run) return reply.code(404).send({ error: `unknown run "${req.params.id}"` });
    return reply.send(run);
  });

  app.get<{ Params: Params<'id'> }>('/runs/:id/timeline', { schema: { params: runParams } }, async (req, reply) => {
    const events = await starter.timeline(req.params.id);
    if (!events) return reply.code(404).send({ error: `unknown run "${req.params.id}"` });
    return reply.send({ runId: req.params.id, events });
  });

  // The run's trace (LANGUAGE.md §8.7): its id from the journal, and a link when the plan's
  // project config has `telemetry.trace_url`. A sub-plan run is in its root run's trace.
  app.get<{ Params: Params<'id'> }>('/runs/:id/trace', { schema: { params: runParams } }, async (req, reply) => {
    const root = req.params.id.split('/')[0]!;
    const [events, source] = await Promise.all([starter.timeline(root), starter.source(req.params.id)]);
    if (!events) return reply.code(404).send({ error: `unknown run "${req.params.id}"` });
    const created = events.find((e) => e.type === 'plan_created');
    const traceId = typeof created?.trace_id === 'string' ? created.trace_id : null;
    const template = source ? await traceUrlTemplate(source.plan).catch(() => undefined) : undefined;
    return reply.send({ runId: req.params.id, traceId, url: traceLink(template, traceId) });
  });

  app.get<{ Params: Params<'id'> }>('/runs/:id/plan', { schema: { params: runParams } }, async (req, reply) => {
    const source = await starter.source(req.params.id);
    if (!source) return reply.code(404).send({ error: `unknown run "${req.params.id}"` });
    return reply.send({ plan: source.plan, input: source.input });
  });
}

/** What acts on a run: pause, resume, cancel, decisions, upgrade, retry, a step's cancel. */
function registerRunControlRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { starter } = deps;
  for (const verb of ['pause', 'resume', 'cancel'] as const) {
    app.post<{ Params: Params<'id'> }>(`/runs/:id/${verb}`, { schema: { params: runParams } }, async (req, reply) => {
      const id = req.params.id;
      const r = verb === 'pause' ? await starter.pause(id) : verb === 'resume' ? await starter.resume(id) : await starter.cancel(id);
      return control(reply, id, r);
    });
  }

  for (const verb of ['approve', 'reject'] as const) {
    app.post<{ Params: Params<'id' | 'step'>; Body: { comment?: string } }>(
      `/runs/:id/steps/:step/${verb}`,
      {
        schema: { params: stepParams, body: decisionBody },
        preValidation: optionalBody,
        schemaErrorFormatter: messagesFor({ root: 'a decision body must be a JSON object', comment: '"comment" must be a string of at most 2000 characters' }),
      },
      async (req, reply) => {
        // §8.8: the person deciding is checked by the runtime; a refused decision is a 403 and changes nothing.
        const { identity, by } = decider(req, deps.peopleConfigured);
        return control(reply, req.params.id, await starter.decide(req.params.id, req.params.step, verb, { by, comment: req.body.comment ?? null, identity }));
      },
    );
  }

  // LANGUAGE.md §8.6: a run's compatibility with the plan this server loaded (GET), the upgrade (POST).
  for (const method of ['GET', 'POST'] as const) {
    app.route<{ Params: Params<'id'> }>({
      method,
      url: '/runs/:id/upgrade',
      schema: { params: runParams },
      handler: async (req, reply) => {
        if (!starter.upgrade) return reply.code(501).send({ error: 'this server cannot upgrade runs' });
        const r = await starter.upgrade(req.params.id, { dryRun: method === 'GET' });
        if (!r) return reply.code(404).send({ error: `unknown run "${req.params.id}"` });
        return reply.code(method === 'POST' && !r.compatible ? 409 : 200).send(r);
      },
    });
  }

  app.post<{ Params: Params<'id'> }>('/runs/:id/retry', { schema: { params: runParams } }, async (req, reply) => {
    const r = await starter.retry(req.params.id, { ...starterOfRequest(req) });
    if (r.ok) {
      const plan = (await starter.get(r.runId))?.planId;
      if (plan !== undefined) req.auditStarted = [{ runId: r.runId, plan }];
      return reply.code(202).send({ runId: r.runId, retryOf: req.params.id });
    }
    return reply.code(r.reason === 'not_found' ? 404 : 409).send({ error: r.message });
  });

  const stepCancel = deps.stepCancel;
  if (stepCancel) {
    app.post<{ Params: Params<'id' | 'step'> }>('/runs/:id/steps/:step/cancel', { schema: { params: stepParams } }, async (req, reply) =>
      control(reply, req.params.id, await stepCancel(req.params.id, req.params.step)),
    );
  }
}

/** `api` triggers: one POST route per declared path. */
export function registerApiTriggers(app: FastifyInstance, engine: TriggerEngine, triggers: readonly TriggerIR[]): void {
  for (const t of triggers) {
    if (t.source.kind !== 'api') continue;
    app.post<{ Body: Record<string, unknown> }>(
      t.source.path,
      {
        config: { apiTrigger: true },
        schema: { body: objectBody },
        preValidation: async (req) => {
          if (req.body === undefined) req.body = {};
        },
        schemaErrorFormatter: messagesFor({ root: 'the plan input must be a JSON object' }),
      },
      async (req, reply) => {
        // A top-level "consent" list grants scopes to the run (LANGUAGE.md §7.2); it is not plan input.
        const { consent, ...payload } = req.body;
        if (consent !== undefined && !(Array.isArray(consent) && consent.every((c) => typeof c === 'string' && c.length > 0)))
          return reply.code(400).send({ error: '"consent" must be a list of scope names' });
        const traceparent = traceparentOf(req);
        const r = await engine.fire(t, consent === undefined ? req.body : payload, {
          ...(consent !== undefined ? { consent: consent as string[] } : {}),
          ...(traceparent ? { traceparent } : {}),
          ...starterOfRequest(req),
        });
        noteFired(req, engine, [r]);
        return fired(reply, r);
      },
    );
  }
}

/** `{ startedBy }` of the person who made the request (§9.1), to spread into what starts a run. */
function starterOfRequest(req: FastifyRequest): { startedBy?: Starter } {
  const who = requestStarter(req);
  return who ? { startedBy: who } : {};
}

/** The request's W3C `traceparent` header (one value; the runtime ignores a malformed one). */
function traceparentOf(req: FastifyRequest): string | undefined {
  const h = req.headers.traceparent;
  return typeof h === 'string' && h.length <= 512 ? h : undefined;
}

/** For the audit trail: the runs these trigger firings started, and their plans. */
function noteFired(req: FastifyRequest, engine: TriggerEngine, results: readonly FireResult[]): void {
  const started = results.flatMap((r) => (r.outcome === 'started' && r.runId !== undefined ? [{ runId: r.runId, plan: engine.trigger(r.trigger)?.plan ?? '' }] : []));
  if (started.length > 0) req.auditStarted = started;
}

/** A trigger fired on request: 202 with the run, or the reason it did not start. */
function fired(reply: FastifyReply, r: FireResult): FastifyReply {
  switch (r.outcome) {
    case 'started':
      return reply.code(202).send({ runId: r.runId, trigger: r.trigger });
    case 'invalid':
      return reply.code(400).send({ error: r.error ?? 'invalid input' });
    case 'debounced':
      return reply
        .code(429)
        .header('retry-after', String(Math.max(1, Math.ceil((r.retryAfterMs ?? 1000) / 1000))))
        .send({ error: `trigger "${r.trigger}" is inside its debounce window` });
    case 'filtered':
      return reply.code(202).send({ trigger: r.trigger, outcome: 'filtered' });
    case 'error':
      return reply.code(500).send({ error: r.error ?? 'could not start the run' });
  }
}

/** `GET /context`: the known signals' values (v0.3's shape); `GET /context/signals` (§9.4): every signal with its state. */
function registerContextRoutes(app: FastifyInstance, engine: TriggerEngine, secrets: ReadonlySet<string>): void {
  app.get('/context', async () => ({ context: Object.fromEntries(Object.entries(engine.currentContext()).map(([k, v]) => [k, shownSignal(secrets, k, v)])) }));
  app.get('/context/signals', async () => signalsView(engine.store.readAll(), secrets));
}

/** `GET /context/signals`: `{ NAME: { value, set_at, age_ms, source, state } }`, `set_at` as ISO time; a secret signal's value as `***`. */
export function signalsView(all: { readonly [name: string]: SignalState }, secrets: ReadonlySet<string> = new Set()): { [name: string]: unknown } {
  const out: { [name: string]: unknown } = {};
  for (const [name, s] of Object.entries(all))
    out[name] = { value: shownSignal(secrets, name, s.value), set_at: s.set_at === null ? null : new Date(s.set_at).toISOString(), age_ms: s.age_ms, source: s.source, state: s.state };
  return out;
}

/** The first signal the context store would refuse (a derived one), as a `ContextCheck` problem. */
function storeRefusal(store: { refusal(name: string, value: unknown): string | null }, values: Record<string, unknown>): ReturnType<ContextCheck> {
  for (const [signal, value] of Object.entries(values)) {
    const reason = store.refusal(signal, value);
    if (reason) return { signal, message: reason, reason };
  }
  return null;
}
