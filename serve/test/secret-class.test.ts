/**
 * `orch serve` never shows a value of class `secret` (LANGUAGE.md §3, docs/language.md "Values of
 * class secret are never shown"): `GET /runs/ID`, its `/timeline` and `/plan` (the run's input)
 * and the live events (`/stream`'s source) read `***` for a secret input field, a capability's
 * secret output field, a plan output field bound to one, and copies of those values; the
 * context's routes (`/context`, `/context/signals`, `/context/events`) for a secret signal. The run
 * executes on a real runtime and server; the journal keeps the values.
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, type PlanIR } from '../../compiler/index.js';
import { openBackend } from '../../runtime/index.js';
import { openRuntimeStarter } from '../runtime-starter.js';
import type { RunStarter } from '../run-starter.js';
import { buildServer, type BuiltServer } from '../server.js';
import { tempDir } from './serve-process.js';

const AUTH = 'secret-class-token';
const TOKEN = 'hunter2-TOPSECRET';
const PLANS = `
capability echo { kind tool input { text: string } output { text: string } cost 0usd latency 1ms handler "./echo.js" requires cpu }
capability vault { kind tool input { name: string } output { key: string @secret, label: string } cost 0usd latency 1ms handler "./vault.js" requires cpu }
resource box { kind local_device provides cpu }
context { pin: string @secret, temp: number }

plan p {
  input { token: string @secret, name: string }
  step a = echo(text: input.name)
  step k = vault(name: input.name)
  step e = echo(text: "token \${input.token}")
  output { who: a.output.text, key: k.output.key }
}
`;

let server: BuiltServer;
let starter: RunStarter;
let runId = '';
const live: unknown[] = [];

beforeAll(async () => {
  const dir = tempDir('orch-serve-secret-');
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  writeFileSync(join(dir, 'echo.js'), 'export default function echo({ text }) { return { text }; }\n');
  writeFileSync(join(dir, 'vault.js'), 'export default function vault({ name }) { return { key: `VAULTKEY-${name}`, label: "L" }; }\n');
  writeFileSync(join(dir, 'p.orch'), PLANS);
  const compiled = compile({ entry: join(dir, 'p.orch') });
  expect(compiled.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const plans: PlanIR[] = [...compiled.plans];
  const backend = await openBackend(join(dir, 'runs.db'));
  starter = await openRuntimeStarter({ backend, plans, log: () => {} });
  server = await buildServer({ plans, triggers: [], starter, evaluate: () => null, state: await backend.triggerState(), contextJournal: await backend.contextJournal(), token: AUTH });
  await server.app.ready();
  const signals = await server.app.inject({ method: 'POST', url: '/signals', headers: { authorization: `Bearer ${AUTH}` }, payload: { pin: 'PIN-TOPSECRET', temp: 3 } });
  expect(signals.statusCode, signals.body).toBeLessThan(300);
  const ended = new Promise<void>((done) =>
    starter.onEvent((e) => {
      live.push(e);
      if (e.event.type === 'execution_completed' || e.event.type === 'execution_failed') done();
    }),
  );
  const r = await server.app.inject({ method: 'POST', url: '/runs', headers: { authorization: `Bearer ${AUTH}` }, payload: { plan: 'p', input: { token: TOKEN, name: 'bob' } } });
  expect(r.statusCode, r.body).toBe(202);
  runId = (r.json() as { runId: string }).runId;
  await ended;
}, 60_000);

afterAll(async () => {
  await server?.app.close();
  await server?.people.store.close();
  await starter?.close();
});

const get = async (url: string) => {
  const r = await server.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${AUTH}` } });
  expect(r.statusCode, r.body).toBe(200);
  return r;
};

describe('orch serve shows a secret-class value as ***', () => {
  it('GET /runs/ID: the outputs', async () => {
    const r = await get(`/runs/${runId}`);
    expect(r.body).not.toMatch(/TOPSECRET|VAULTKEY/);
    const view = r.json() as { status: string; output: unknown; steps: { stepId: string; output: unknown }[] };
    expect(view.status).toBe('completed');
    expect(view.output).toEqual({ who: 'bob', key: '***' });
    expect(view.steps.find((s) => s.stepId === 'e')?.output).toEqual({ text: 'token ***' });
  });

  it('GET /runs/ID/timeline and /plan: the events and the input', async () => {
    const timeline = await get(`/runs/${runId}/timeline`);
    expect(timeline.body).not.toMatch(/TOPSECRET|VAULTKEY/);
    const events = (timeline.json() as { events: { type: string; input?: unknown }[] }).events;
    expect(events.find((e) => e.type === 'plan_created')).toMatchObject({ input: { token: '***', name: 'bob' }, context: { pin: '***', temp: 3 } });
    const plan = await get(`/runs/${runId}/plan`);
    expect((plan.json() as { input: unknown }).input).toEqual({ token: '***', name: 'bob' });
  });

  it('GET /context, /context/signals and /context/events: a secret signal\'s value', async () => {
    expect((await get('/context')).json()).toEqual({ context: { pin: '***', temp: 3 } });
    expect((await get('/context/signals')).json()).toMatchObject({ pin: { value: '***' }, temp: { value: 3 } });
    // The context journal's append is asynchronous: read until the update is there.
    let events: { signal: string; value?: unknown }[] = [];
    for (let i = 0; i < 100 && !events.some((e) => e.signal === 'pin'); i++) events = ((await get('/context/events')).json() as { events: typeof events }).events;
    expect(events.find((e) => e.signal === 'pin')?.value).toBe('***');
    expect(events.find((e) => e.signal === 'temp')?.value).toBe(3);
  });

  it('the live events', () => {
    expect(live.length).toBeGreaterThan(3);
    expect(JSON.stringify(live)).not.toMatch(/TOPSECRET|VAULTKEY/);
    expect(JSON.stringify(live)).toContain('"token":"***"');
  });
});
