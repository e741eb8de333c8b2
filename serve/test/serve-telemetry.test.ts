/**
 * Traces through `orch serve` (LANGUAGE.md §8.7), in process: a `traceparent` sent to `POST /runs`
 * or an `api` trigger makes the caller's span the run span's parent; `GET /runs/ID/trace` gives
 * the trace id the journal keeps and the link `telemetry.trace_url` makes of it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../../test/support/otlp-receiver.js';
import { loadServeProgram } from '../load.js';
import { openRuntimeStarter } from '../runtime-starter.js';
import { startServer, type RunningServer } from '../server.js';
import { openBackend } from '../../runtime/index.js';
import { http, waitFor } from './http-helpers.js';
import { tempDir } from './serve-process.js';

const TOKEN = 'telemetry-token-0123456789';
const SOURCE = `
capability work {
  kind tool
  input { value: int }
  output { value: int }
  handler "./h.js#work"
}
plan traced {
  input { value: int }
  step one = work(value: input.value)
  output { value: one.output.value }
}
trigger hook { api "/hook" run traced }
`;

let receiver: OtlpReceiver;
let server: RunningServer;
let closed = false;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  const dir = tempDir();
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  writeFileSync(join(dir, 'orch.config.json'), JSON.stringify({ telemetry: { otlp: receiver.url, trace_url: 'https://tempo.example/trace/{trace_id}' } }));
  writeFileSync(join(dir, 'h.js'), 'export function work(input) { return { value: input.value }; }\n');
  writeFileSync(join(dir, 'traced.orch'), SOURCE);
  const program = loadServeProgram([join(dir, 'traced.orch')]);
  expect(program.errors).toEqual([]);
  const starter = await openRuntimeStarter({ backend: await openBackend(join(dir, 'runs.db')), plans: program.plans, log: () => undefined });
  server = await startServer({
    plans: program.plans,
    triggers: program.triggers,
    starter,
    evaluate: () => null,
    state: await (await openBackend(join(dir, 'state.db'))).triggerState(),
    token: TOKEN,
    host: '127.0.0.1',
    port: 0,
    catchUp: false,
  });
}, 60_000);
afterAll(async () => {
  if (!closed) await server?.close();
  await receiver?.close();
});

const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => http(server.url, method, path, { token: TOKEN, body, headers });

describe('orch serve: traces', () => {
  it('a traceparent sent to POST /runs and to an api trigger is the run span parent; GET /runs/ID/trace links the trace', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const started: string[] = [];
    for (const [path, body, spanId] of [
      ['/runs', { plan: 'traced', input: { value: 1 } }, '00f067aa0ba902b7'],
      ['/hook', { value: 2 }, '00f067aa0ba902b8'],
    ] as const) {
      const r = await call('POST', path, body, { traceparent: `00-${traceId}-${spanId}-01` });
      expect(r.status, r.text).toBe(202);
      started.push(r.json.runId);
    }
    for (const id of started) await waitFor(async () => ((await call('GET', `/runs/${id}`)).json.status === 'completed' ? true : undefined), 20_000, `${id} completed`);
    const trace = await call('GET', `/runs/${started[0]}/trace`);
    expect(trace.json).toEqual({ runId: started[0], traceId, url: `https://tempo.example/trace/${traceId}` });
    // Closing the server closes the runtime, which flushes the spans it buffered.
    await server.close();
    closed = true;
    const runSpans = receiver.spans.filter((s) => s.name === 'orch.run traced');
    expect(runSpans.map((s) => [s.attributes['orch.run_id'], s.traceId, s.parentSpanId]).sort()).toEqual(
      [
        [started[0], traceId, '00f067aa0ba902b7'],
        [started[1], traceId, '00f067aa0ba902b8'],
      ].sort(),
    );
    const step = receiver.spans.find((s) => s.name === 'orch.step one' && s.attributes['orch.run_id'] === started[0]);
    expect(step?.parentSpanId).toBe(runSpans.find((s) => s.attributes['orch.run_id'] === started[0])!.spanId);
  });
});
