/**
 * The HTTP API of `orch serve` on node:http. Every response is JSON (except `/metrics`); every
 * route but `/health` requires the bearer token; bodies are size-limited and validated, and a
 * bad request gets `{"error": "…"}` with 400 / 401 / 404 / 405 / 409 / 413 / 415.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ContextCheck } from '../input-validator.js';
import type { ServeMetrics } from '../metrics.js';
import type { ControlResult, RunStarter } from '../run-starter.js';
import type { TriggerEngine } from '../trigger-engine.js';
import { bearerCheck } from './auth.js';
import { DEFAULT_BODY_LIMIT, isPlainObject, readJsonBody } from './body.js';

export interface ApiDeps {
  readonly engine: TriggerEngine;
  readonly starter: RunStarter;
  readonly metrics: ServeMetrics;
  readonly checkContext: ContextCheck;
  readonly token: string;
  readonly bodyLimit?: number;
  readonly log?: (line: string) => void;
}

type Handler = (req: IncomingMessage, res: ServerResponse, params: readonly string[]) => Promise<void>;
interface Route {
  readonly pattern: RegExp;
  readonly methods: { readonly [method: string]: Handler };
  readonly public?: boolean;
}

const MAX_EVENT_TYPE = 200;

export function createApiHandler(deps: ApiDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { engine, starter, metrics } = deps;
  const limit = deps.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const authorized = bearerCheck(deps.token);

  /** Reads the body; on failure answers the request and resolves to `undefined`. */
  const body = async (req: IncomingMessage, res: ServerResponse): Promise<{ value: unknown } | undefined> => {
    const r = await readJsonBody(req, limit);
    if (!r.ok) {
      send(res, r.status, { error: r.error });
      return undefined;
    }
    return { value: r.value };
  };
  const objectBody = async (req: IncomingMessage, res: ServerResponse, what: string, optional = false) => {
    const b = await body(req, res);
    if (!b) return undefined;
    if (b.value === undefined && optional) return {};
    if (!isPlainObject(b.value)) {
      send(res, 400, { error: `${what} must be a JSON object` });
      return undefined;
    }
    return b.value;
  };
  const control = (res: ServerResponse, runId: string, r: ControlResult) => {
    if (r.ok) send(res, 202, { runId, status: r.status });
    else send(res, r.reason === 'not_found' ? 404 : 409, { error: r.message });
  };

  const routes: Route[] = [
    {
      pattern: /^\/health$/,
      public: true,
      methods: { GET: async (_q, res) => send(res, 200, { status: 'ok' }) },
    },
    {
      pattern: /^\/metrics$/,
      methods: {
        GET: async (_q, res) => {
          const text = await metrics.render();
          res.writeHead(200, { 'content-type': metrics.contentType });
          res.end(text);
        },
      },
    },
    {
      pattern: /^\/events$/,
      methods: {
        POST: async (req, res) => {
          const ev = await objectBody(req, res, 'an event');
          if (!ev) return;
          if (typeof ev.type !== 'string' || ev.type.length === 0 || ev.type.length > MAX_EVENT_TYPE) {
            return send(res, 400, { error: `an event needs a "type": a non-empty string of at most ${MAX_EVENT_TYPE} characters` });
          }
          const receipt = await engine.ingestEvent(ev as { type: string });
          metrics.event(receipt.results.length > 0);
          send(res, 202, receipt);
        },
      },
    },
    {
      pattern: /^\/signals$/,
      methods: {
        POST: async (req, res) => {
          const values = await objectBody(req, res, 'signals');
          if (!values) return;
          if (Object.keys(values).length === 0) return send(res, 400, { error: 'signals must set at least one context field' });
          const problem = deps.checkContext(values);
          if (problem) return send(res, 400, { error: problem });
          const fired = await engine.signal(values);
          send(res, 202, { context: engine.currentContext(), results: fired });
        },
      },
    },
    {
      pattern: /^\/context$/,
      methods: { GET: async (_q, res) => send(res, 200, { context: engine.currentContext() }) },
    },
    {
      pattern: /^\/triggers$/,
      methods: {
        GET: async (_q, res) => {
          const stats = engine.stats();
          const next = new Map(engine.nextRuns().map((n) => [n.trigger, n.next?.toISOString() ?? null] as const));
          send(res, 200, {
            events: stats.events,
            triggers: stats.triggers.map((s) => ({
              ...s,
              source: engine.trigger(s.name)?.source,
              ...(next.has(s.name) ? { next: next.get(s.name) } : {}),
            })),
          });
        },
      },
    },
    {
      pattern: /^\/triggers\/([^/]+)\/fire$/,
      methods: {
        POST: async (req, res, [name]) => {
          const t = engine.trigger(name!);
          if (!t) return send(res, 404, { error: `unknown trigger "${name}"` });
          if (t.source.kind !== 'manual') {
            return send(res, 409, { error: `trigger "${name}" is a ${t.source.kind} trigger; only manual triggers are fired by hand` });
          }
          const input = await objectBody(req, res, 'the plan input', true);
          if (!input) return;
          fired(res, await engine.fire(t, input));
        },
      },
    },
    {
      pattern: /^\/runs$/,
      methods: {
        GET: async (req, res) => {
          const q = new URL(req.url ?? '/', 'http://localhost').searchParams;
          const limitText = q.get('limit');
          const limit = limitText === null ? Infinity : Number(limitText);
          if (!(limit === Infinity || (Number.isInteger(limit) && limit > 0))) {
            return send(res, 400, { error: '"limit" must be a positive integer' });
          }
          const status = q.get('status');
          const plan = q.get('plan');
          const runs = (await starter.list())
            .filter((r) => (status === null || r.status === status) && (plan === null || r.planId === plan))
            .slice(0, limit);
          send(res, 200, { runs });
        },
        POST: async (req, res) => {
          const b = await objectBody(req, res, 'a run request');
          if (!b) return;
          if (typeof b.plan !== 'string' || b.plan === '') {
            return send(res, 400, { error: `a run request needs "plan": one of ${engine.planNames().join(', ') || '(none loaded)'}` });
          }
          if (b.input !== undefined && !isPlainObject(b.input)) return send(res, 400, { error: '"input" must be a JSON object' });
          const r = await engine.startPlan(b.plan, b.input ?? {});
          if (r.ok) send(res, 202, { runId: r.runId });
          else send(res, r.status === 404 ? 400 : r.status, { error: r.error });
        },
      },
    },
    {
      pattern: /^\/runs\/([^/]+)$/,
      methods: {
        GET: async (_q, res, [id]) => {
          const run = await starter.get(id!);
          if (!run) return send(res, 404, { error: `unknown run "${id}"` });
          send(res, 200, run);
        },
      },
    },
    {
      pattern: /^\/runs\/([^/]+)\/timeline$/,
      methods: {
        GET: async (_q, res, [id]) => {
          const events = await starter.timeline(id!);
          if (!events) return send(res, 404, { error: `unknown run "${id}"` });
          send(res, 200, { runId: id, events });
        },
      },
    },
    {
      pattern: /^\/runs\/([^/]+)\/(pause|resume|cancel)$/,
      methods: {
        POST: async (req, res, [id, verb]) => {
          if (!(await body(req, res))) return;
          const r = verb === 'pause' ? await starter.pause(id!) : verb === 'resume' ? await starter.resume(id!) : await starter.cancel(id!);
          control(res, id!, r);
        },
      },
    },
    {
      pattern: /^\/runs\/([^/]+)\/steps\/([^/]+)\/(approve|reject)$/,
      methods: {
        POST: async (req, res, [id, step, verb]) => {
          if (!(await body(req, res))) return;
          control(res, id!, await starter.decide(id!, step!, verb as 'approve' | 'reject'));
        },
      },
    },
  ];

  const apiRoute = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> => {
    const t = engine.apiTrigger(path);
    if (!t) return false;
    if (req.method !== 'POST') {
      send(res, 405, { error: `method ${req.method} not allowed on ${path}; use POST` }, { allow: 'POST' });
      return true;
    }
    const input = await objectBody(req, res, 'the plan input', true);
    if (!input) return true;
    fired(res, await engine.fire(t, input));
    return true;
  };

  return (req, res) => {
    void (async () => {
      let path: string;
      try {
        path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
      } catch {
        return send(res, 400, { error: 'malformed request path' });
      }
      const route = routes.find((r) => r.pattern.test(path));
      if (!route?.public && !authorized(req)) {
        req.resume();
        return send(res, 401, { error: 'missing or invalid bearer token' }, { 'www-authenticate': 'Bearer' });
      }
      if (!route) {
        if (await apiRoute(req, res, path)) return;
        req.resume();
        return send(res, 404, { error: `no route for ${req.method} ${path}` });
      }
      const handler = route.methods[req.method ?? 'GET'];
      if (!handler) {
        req.resume();
        const allow = Object.keys(route.methods).join(', ');
        return send(res, 405, { error: `method ${req.method} not allowed on ${path}; use ${allow}` }, { allow });
      }
      const params = route.pattern.exec(path)!.slice(1);
      await handler(req, res, params);
    })().catch((err: unknown) => {
      deps.log?.(`internal error on ${req.method} ${req.url}: ${(err as Error)?.message ?? String(err)}`);
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
      else res.end();
    });
  };
}

/** A trigger fired on request: 202 with the run, or the reason it did not start. */
function fired(res: ServerResponse, r: import('../trigger-engine.js').FireResult): void {
  switch (r.outcome) {
    case 'started':
      return send(res, 202, { runId: r.runId, trigger: r.trigger });
    case 'invalid':
      return send(res, 400, { error: r.error ?? 'invalid input' });
    case 'debounced':
      return send(
        res,
        429,
        { error: `trigger "${r.trigger}" is inside its debounce window` },
        { 'retry-after': String(Math.max(1, Math.ceil((r.retryAfterMs ?? 1000) / 1000))) },
      );
    case 'filtered':
      return send(res, 202, { trigger: r.trigger, outcome: 'filtered' });
    case 'error':
      return send(res, 500, { error: r.error ?? 'could not start the run' });
  }
}

export function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}
