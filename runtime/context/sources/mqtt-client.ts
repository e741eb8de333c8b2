/**
 * The MQTT edge of the context sources (LANGUAGE.md §9.4), through the maintained `mqtt` client:
 * MQTT 3.1.1 or 5, `mqtt://` or `mqtts://` (a CA from the config), QoS 1 subscriptions to every
 * filter of the source, renewed at each (re)connection so a broker restart loses none. The
 * library reconnects; the period between tries doubles from 250 ms up to 30 s and starts over
 * once connected. The password (a field's or the URL's) is handed to the client only: every log
 * line is blanked of it, whatever the client's error quotes.
 */
import { createHash } from 'node:crypto';
import type MqttLibrary from 'mqtt';
import { Redactor } from '../../redact.js';
import { secretRefValues } from '../../secret-refs.js';
import { shownUrl, transportReason } from '../../transport-error.js';
import type { SourceConnection } from './config.js';
import type { SourceMessage } from './ingest.js';

export interface SourceClient {
  /** Resolves once subscribed the first time (or rejects with why the first connection failed). */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

export interface MqttSourceOptions {
  readonly name: string;
  readonly connection: Extract<SourceConnection, { kind: 'mqtt' }>;
  readonly filters: readonly string[];
  readonly onMessage: (m: SourceMessage) => void;
  /** One line for the server's log (never a credential). */
  readonly log: (line: string) => void;
  /** Told each time every filter is subscribed (the first time and after each reconnection). */
  readonly onSubscribed?: () => void;
  /**
   * The client id of a persistent session (`sessionClientId`): the broker keeps the QoS 1
   * subscriptions and queues what is published while the connection is down, delivered at the
   * reconnection (or the next server's connection). None: a clean session (nothing kept).
   */
  readonly session?: string;
}

/**
 * How long a broker keeps a session nobody is connected to (MQTT 5's session expiry; an MQTT
 * 3.1.1 broker keeps it as its own configuration says): a server down for longer starts afresh.
 */
export const SESSION_EXPIRY_S = 24 * 60 * 60;

/**
 * A stable client id per server and source: the same across restarts of a server on one journal
 * (`identity`: where it keeps things) — and for every server of a cluster, of which one at a time
 * holds the subscriptions — so the broker hands the session back. 21 characters, within MQTT
 * 3.1.1's 23; a hash, so it shows neither the database nor the source.
 */
export function sessionClientId(identity: string, source: string): string {
  return 'orch-' + createHash('sha256').update(`${identity}\0${source}`).digest('hex').slice(0, 16);
}

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 30_000;

export function startMqttSource(o: MqttSourceOptions): SourceClient {
  // The library (~20 MB resident) is loaded by a server that has an MQTT source, when it starts
  // one: every other process that imports the runtime (orch run, check, workers) never pays for it.
  const started = import('mqtt').then((m) => connectMqtt(m.default, o));
  const ready = started.then((s) => s.ready);
  ready.catch(() => undefined);
  return {
    ready,
    close: () => started.then((s) => s.close(), () => undefined),
  };
}

function connectMqtt(mqtt: typeof MqttLibrary, o: MqttSourceOptions): SourceClient {
  const c = o.connection;
  const credentials = new Redactor();
  for (const v of secretRefValues({ url: c.url, password: c.password }, () => undefined)) credentials.add(v);
  const log = (line: string) => o.log(credentials.text(line));
  const client = mqtt.connect(c.url, {
    protocolVersion: c.protocolVersion,
    reconnectPeriod: FIRST_RETRY_MS,
    connectTimeout: 10_000,
    // Subscriptions are renewed on every `connect` below, not replayed by the library as well.
    resubscribe: false,
    ...(o.session !== undefined
      ? { clientId: o.session, clean: false, ...(c.protocolVersion === 5 ? { properties: { sessionExpiryInterval: SESSION_EXPIRY_S } } : {}) }
      : { clean: true }),
    // A broker that refuses the connection (a restart still loading its password file, "server
    // unavailable", credentials fixed later) is tried again with the same backoff: the library
    // would otherwise stop reconnecting for good after one refused CONNACK.
    reconnectOnConnackError: true,
    ...(c.username !== undefined ? { username: c.username } : {}),
    ...(c.password !== undefined ? { password: c.password } : {}),
    ...(c.ca !== undefined ? { ca: c.ca } : {}),
  });
  let settle: { ok: () => void; fail: (e: Error) => void } | null = null;
  const ready = new Promise<void>((ok, fail) => (settle = { ok, fail }));
  ready.catch(() => undefined);
  let down = false;
  // Whether it was ever connected: before that, a closed attempt lost nothing (its error is logged).
  let connected = false;
  client.on('connect', () => {
    client.options.reconnectPeriod = FIRST_RETRY_MS;
    if (down) log(`source ${o.name}: ${connected ? 'reconnected' : 'connected'} to ${shownUrl(c.url)}`);
    down = false;
    connected = true;
    client.subscribe([...o.filters], { qos: 1 }, (err, granted) => {
      const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
      if (err || refused.length > 0) {
        const why = err ? err.message : `the broker refused ${refused.join(', ')}`;
        log(`source ${o.name}: cannot subscribe: ${why}`);
        settle?.fail(new Error(why));
        return;
      }
      settle?.ok();
      settle = null;
      o.onSubscribed?.();
    });
  });
  client.on('reconnect', () => {
    client.options.reconnectPeriod = Math.min(MAX_RETRY_MS, (client.options.reconnectPeriod ?? FIRST_RETRY_MS) * 2);
  });
  client.on('close', () => {
    if (connected && !down && !client.disconnecting) log(`source ${o.name}: connection to ${shownUrl(c.url)} lost; reconnecting`);
    down = true;
  });
  client.on('error', (err) => {
    log(`source ${o.name}: ${shownUrl(c.url)}: ${transportReason(err)}`);
    // The first start reports why it could not connect (a refused login, a refused connection); the client keeps trying.
    settle?.fail(err);
  });
  client.on('message', (topic, payload, packet) => {
    // Inside the client's packet loop: a throw here would stop the connection or the process.
    try {
      o.onMessage({ topic, payload, retained: packet.retain });
    } catch (e) {
      log(`source ${o.name}: a message on "${topic}" could not be taken: ${(e as Error).message}`);
    }
  });
  return {
    ready,
    close: () => new Promise<void>((done) => client.end(false, {}, () => done())),
  };
}
