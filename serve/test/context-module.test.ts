/**
 * LANGUAGE.md §9.4's example exactly as written — a module of `context`, a `source` and a
 * resource, and no plan — served by a real `orch serve` with its orch.config "sources" entry
 * against a real broker (mosquitto): the server keeps those signals and subscribes to that source.
 * It used to take a context only from the plans it compiled, so such a module (a project keeping
 * its context and sources in a file of their own) gave an empty `GET /context/signals` and no
 * subscription at all. Waits are on the server's answers, never sleeps.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type TestBroker } from '../../test/support/mosquitto.js';
import { http, waitFor } from './http-helpers.js';
import { loadServeProgram } from '../load.js';
import { startServe, tempDir, TOKEN, type ServeProcess } from './serve-process.js';

// LANGUAGE.md §9.4, verbatim.
const HOME = `context {
  temperature: number  max_age 15m
  motion: bool @personal  max_age 2m
  phone_home: bool @personal  max_age 10m
  heater_online: bool  max_age 5m
  occupied: bool = context.motion or context.phone_home  hold 10m     // derived
}

source home {                                     // connection in orch.config "sources"
  topic "home/living/temperature" sets temperature from payload.value
  topic "home/+/motion" sets motion from payload.state == "ON"
}

resource heater { kind local_device  provides heat  available when context.heater_online }
`;

let broker: TestBroker;
let serve: ServeProcess;
let publisher: mqtt.MqttClient;
const call = (method: string, path: string, body?: unknown) => http(serve.url, method, path, { token: TOKEN, body });

beforeAll(async () => {
  broker = await startMosquitto();
  const dir = tempDir('orch-context-module-');
  writeFileSync(join(dir, 'home.orch'), HOME);
  writeFileSync(join(dir, 'orch.config.json'), JSON.stringify({ sources: { home: { mqtt: broker.securedUrl, username: broker.user, password: 'secret:MQTT_PASSWORD' } } }));
  // The served process reads the secret from its environment, as §8 resolves "secret:NAME".
  process.env.MQTT_PASSWORD = broker.password;
  serve = await startServe([join(dir, 'home.orch')], { db: join(dir, 'runs.db') });
  publisher = await mqtt.connectAsync(broker.url);
}, 60_000);

afterAll(async () => {
  delete process.env.MQTT_PASSWORD;
  await publisher?.endAsync();
  const code = await serve?.stop();
  await broker?.stop();
  expect(code).toBe(0);
});

describe('orch serve on a module of context and sources with no plan (§9.4)', () => {
  it('lists every declared signal, never set', async () => {
    const r = await call('GET', '/context/signals');
    expect(r.status).toBe(200);
    expect(Object.keys(r.json).sort()).toEqual(['heater_online', 'motion', 'occupied', 'phone_home', 'temperature']);
    expect(r.json.temperature).toEqual({ value: null, set_at: null, age_ms: null, source: null, state: 'never_set' });
  });

  it('subscribes to its source: a publish sets the signal, and the derived one follows', async () => {
    // Published until the subscription takes it (a QoS 1 publish before the subscription is not kept for it).
    const set = await waitFor(async () => {
      await publisher.publishAsync('home/living/temperature', JSON.stringify({ value: 21.5 }), { qos: 1 });
      const r = await call('GET', '/context/signals');
      return r.json.temperature.state === 'fresh' ? r.json : undefined;
    }, 30_000, 'the temperature through the broker');
    expect(set.temperature).toMatchObject({ value: 21.5, source: 'home', state: 'fresh' });
    await publisher.publishAsync('home/kitchen/motion', JSON.stringify({ state: 'ON' }), { qos: 1 });
    const moved = await waitFor(async () => {
      const r = await call('GET', '/context/signals');
      return r.json.occupied.state === 'fresh' ? r.json : undefined;
    }, 30_000, 'the derived occupied signal');
    expect(moved.motion).toMatchObject({ value: true, source: 'home', state: 'fresh' });
    expect(moved.occupied).toMatchObject({ value: true, source: 'derived' });
  });

  it('types POST /signals by the module: a declared signal is taken, a wrong type or an undeclared one refused', async () => {
    expect((await call('POST', '/signals', { heater_online: true })).status).toBe(202);
    expect((await call('GET', '/context')).json.context).toMatchObject({ heater_online: true, temperature: 21.5 });
    expect((await call('POST', '/signals', { heater_online: 'yes' })).status).toBe(400);
    expect((await call('POST', '/signals', { humidity: 40 })).status).toBe(400);
  });
});

describe('orch serve on two modules, each with its own context and source (§9.4)', () => {
  let two: ServeProcess;
  const post = (source: string, body: unknown) => http(two.url, 'POST', `/sources/${source}`, { token: 'hook-token', body });
  const signals = async () => (await http(two.url, 'GET', '/context/signals', { token: TOKEN })).json;

  beforeAll(async () => {
    const dir = tempDir('orch-context-modules-');
    writeFileSync(join(dir, 'heat.orch'), 'context { temperature: number  max_age 1h }\nsource thermo { topic "t" sets temperature }\n');
    writeFileSync(join(dir, 'hall.orch'), 'context { motion: bool  max_age 1h }\nsource hall { topic "m" sets motion }\n');
    const hook = { webhook: { token: 'secret:HOOK_TOKEN' } };
    writeFileSync(join(dir, 'orch.config.json'), JSON.stringify({ sources: { thermo: hook, hall: hook } }));
    process.env.HOOK_TOKEN = 'hook-token';
    two = await startServe([join(dir, 'heat.orch'), join(dir, 'hall.orch')], { db: join(dir, 'runs.db') });
  }, 60_000);

  afterAll(async () => {
    delete process.env.HOOK_TOKEN;
    expect(await two?.stop()).toBe(0);
  });

  it("types each source's messages by the signals of its own module: a wrong type is refused, never stored", async () => {
    // The second module's source was typed by the first module's context, which has no `motion`: "yes" was stored for a bool.
    expect((await post('hall', { topic: 'm', payload: 'yes' })).json).toEqual({ set: 0 });
    expect((await signals()).motion.state).toBe('never_set');
    expect((await post('thermo', { topic: 't', payload: 'hot' })).json).toEqual({ set: 0 });
    expect((await post('hall', { topic: 'm', payload: true })).json).toEqual({ set: 1 });
    expect((await post('thermo', { topic: 't', payload: 19 })).json).toEqual({ set: 1 });
    const s = await waitFor(async () => {
      const now = await signals();
      return now.motion.state === 'fresh' && now.temperature.state === 'fresh' ? now : undefined;
    }, 30_000, 'both signals set');
    expect(s.motion).toMatchObject({ value: true, source: 'hall' });
    expect(s.temperature).toMatchObject({ value: 19, source: 'thermo' });
  });
});

describe('a source name across the served modules (§9.4)', () => {
  it('is one block: two modules declaring it are E0102 (one would have been dropped unsaid); a module served and imported is the same block', () => {
    const served = modules({
      'home.orch': 'context { temperature: number }\nsource home { topic "t" sets temperature }\n',
      'away.orch': 'context { motion: bool }\nsource home { topic "m" sets motion }\n',
      'main.orch': 'import "./home.orch" as h\ncapability c { kind tool  input { x: int }  output { ok: bool } }\nplan p { step s = c(x: 1) }\n',
    });
    expect(served('home.orch', 'away.orch').errors).toEqual([expect.stringMatching(/away\.orch:2: error\[E0102\]: source home is declared in two served modules \(first at .*home\.orch:2\)/)]);
    const same = served('main.orch', 'home.orch');
    expect(same.errors).toEqual([]);
    expect(same.contexts.map((c) => Object.keys(c.sources ?? {}))).toEqual([['home'], ['home']]);
  });
});

describe('a context signal across the served modules (§9.4)', () => {
  it('may be declared by several modules alike, never otherwise: the server keeps one context', () => {
    const served = modules({
      'a.orch': 'context { temperature: number  max_age 15m }\n',
      'b.orch': '// a comment moves the line\ncontext { temperature: number  max_age 15m }\n',
      'c.orch': 'context { temperature: string  max_age 15m }\n',
      'd.orch': 'context { temperature: number  max_age 1m }\n',
    });
    expect(served('a.orch', 'b.orch').errors).toEqual([]);
    // A string where a number was: POST /signals took the first module's type, the store the last's.
    expect(served('a.orch', 'c.orch').errors).toEqual([expect.stringMatching(/c\.orch:1: error\[E0102\]: context signal temperature is declared otherwise than at .*a\.orch:1/)]);
    expect(served('a.orch', 'd.orch').errors).toHaveLength(1);
  });
});

/** Writes the modules into a folder of their own; what `orch serve` would load of the ones named. */
function modules(files: Record<string, string>): (...names: string[]) => ReturnType<typeof loadServeProgram> {
  const dir = tempDir('orch-context-modules-');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return (...names) => loadServeProgram(names.map((n) => join(dir, n)));
}
