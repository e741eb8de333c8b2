/**
 * The `source` blocks of the served modules, live (LANGUAGE.md §9.4): each MQTT source subscribed
 * through the MQTT edge, each webhook source answering `POST /sources/NAME` with its own token,
 * both feeding the one context store through `SourceIngest` (typed per message; a refused one is
 * the store's `context_rejected`). A source block whose connection the config lacks is logged and
 * left out; a source named in the config that no block declares is ignored.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ContextIR, JsonSchema, SourceIR } from '../compiler/index.js';
import { sessionClientId, SourceIngest, startMqttSource, type ContextSink, type SourceClient, type SourceConnection } from '../runtime/index.js';

export interface WebhookSource {
  readonly ingest: SourceIngest;
  /** Whether the presented bearer token is the source's own. */
  authorized(presented: string | undefined): boolean;
}

export interface ContextSources {
  readonly webhooks: ReadonlyMap<string, WebhookSource>;
  /** Connects the MQTT sources; resolves once each is subscribed (or has failed, logged). */
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface ContextSourcesOptions {
  /** The served plans and modules' contexts (serve/load.ts): where the `source` blocks are. */
  readonly declared: readonly ContextIR[];
  readonly connections: ReadonlyMap<string, SourceConnection>;
  /** The engine's context: a value set through it is kept durably and evaluates the `when` triggers. */
  readonly store: ContextSink;
  readonly log: (line: string) => void;
  /**
   * Where this server keeps things (its journal), when that outlives it: each MQTT source then
   * uses a persistent session named after it and the source (`sessionClientId`), so what was
   * published while the connection was down is delivered after it. None: clean sessions.
   */
  readonly sessionIdentity?: string;
}

export function contextSources(o: ContextSourcesOptions): ContextSources {
  // Each source with the context of the program that declares it: its messages are typed by the
  // signals it was checked against (another served module's context may not declare them).
  const declared = new Map<string, { readonly ir: SourceIR; readonly context: JsonSchema }>();
  for (const p of o.declared) for (const [name, ir] of Object.entries(p.sources ?? {})) if (!declared.has(name)) declared.set(name, { ir, context: p.context });
  const webhooks = new Map<string, WebhookSource>();
  const mqtt: { ingest: SourceIngest; connection: Extract<SourceConnection, { kind: 'mqtt' }> }[] = [];
  for (const [name, { ir, context }] of declared) {
    const connection = o.connections.get(name);
    const ingest = new SourceIngest(name, ir, o.store, context);
    if (!connection) o.log(`source ${name}: no connection in orch.config "sources"; its topics set nothing`);
    else if (connection.kind === 'webhook') webhooks.set(name, { ingest, authorized: sameToken(connection.token) });
    else mqtt.push({ ingest, connection });
  }
  const clients: SourceClient[] = [];
  return {
    webhooks,
    async start() {
      for (const m of mqtt)
        clients.push(
          startMqttSource({
            name: m.ingest.name,
            connection: m.connection,
            filters: m.ingest.filters(),
            onMessage: (msg) => m.ingest.accept(msg),
            log: o.log,
            ...(o.sessionIdentity !== undefined ? { session: sessionClientId(o.sessionIdentity, m.ingest.name) } : {}),
          }),
        );
      await Promise.all(clients.map((c) => c.ready.catch(() => undefined)));
    },
    async close() {
      await Promise.all(clients.splice(0).map((c) => c.close()));
    },
  };
}

function sameToken(token: string): (presented: string | undefined) => boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  const expected = digest(token);
  return (presented) => typeof presented === 'string' && timingSafeEqual(digest(presented), expected);
}
