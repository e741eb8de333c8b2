/**
 * The records the main thread hands the tracing thread (runtime/telemetry/span-records.ts) name a
 * span by its id's place in the id pools and repeated strings by number. Checked on the wire
 * (OTLP/HTTP JSON, raw) over more spans than a pool holds and more strings than the table keeps:
 * every exported id is the one the main thread gave out (a handler's `traceparent` names its
 * attempt's span), ids are unique and valid, parents and interned strings are the right ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRawOtlpReceiver, type RawOtlpReceiver } from '../../test/support/otlp-receiver.js';
import { waitUntil } from '../../test/support/wait.js';
import { SpanSink } from '../telemetry/span-sink.js';
import { formatTraceparent } from '../telemetry/traceparent.js';

interface WireSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: { key: string; value: { stringValue?: string; intValue?: number | string } }[];
  status: { code?: number };
}
interface WireRequest {
  resourceSpans: { scopeSpans: { spans: WireSpan[] }[] }[];
}

let receiver: RawOtlpReceiver;
let url = '';
/** Every span of every export, as it came. */
const received = (): WireSpan[] => (receiver.json as WireRequest[]).flatMap((body) => body.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)));

beforeAll(async () => {
  // What is under test is the records' ids and strings, not the exporter's deadline: on a loaded
  // 2-core CI lane one 2,048-span JSON export outlasted the exporter's 10 s default and its batch
  // was dropped (6,353 of 8,401 spans arrived). The tracing thread reads these as it starts.
  process.env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT = '120000';
  process.env.OTEL_BSP_EXPORT_TIMEOUT = '120000';
  receiver = await startRawOtlpReceiver();
  url = receiver.tracesUrl;
});

afterAll(async () => {
  await receiver.close();
});

describe('span records across id pools and the string table', () => {
  it('exports every span under the ids the main thread gave out, with its parent and strings', async () => {
    const sink = SpanSink.for({ tracesUrl: url, serviceName: 'orch-records-test', protocol: 'http/json' });
    const t = 1_764_000_000_000;
    // 4,200 steps: 8,401 ids (a pool holds 1,024) and 4,200 capabilities (the table keeps 4,096).
    const steps = 4200;
    const run = sink.start('orch.run big', null, t, { 'orch.run_id': 'r', 'orch.plan': 'big' }, { run: ['r', 'big'] });
    const given = new Map<string, { step: string; attempt: string; traceparent: string }>();
    for (let i = 0; i < steps; i++) {
      const step = sink.step(run, t + i, `s${i}`, i % 7 === 0 ? `s${i}[1]` : null);
      const attempt = sink.attempt(step, t + i, 1, `cap${i}`, i % 5 === 0 ? 'gpu' : null, 0, false);
      given.set(`s${i}`, { step: step.spanId, attempt: attempt.spanId, traceparent: formatTraceparent(attempt) });
      attempt.ok();
      attempt.endAttempt(t + i + 1, 0);
      step.ok();
      step.endStep(t + i + 2, 'call', 0, 1, i % 3 === 0 ? 'completed' : 'done');
    }
    run.ok();
    run.end(t + steps + 3);
    await sink.flush();
    // A flush stops waiting when a connection takes over 700 ms to open (export-health.ts: an
    // endpoint that seems unreachable holds nobody up); on a starved CI lane one of the flush's
    // 2,048-span exports did, and the test read the receiver before that export landed (6,353 of
    // 8,401). The export still lands: wait for it, then check what came.
    await waitUntil(() => received().length >= 2 * steps + 1, `${2 * steps + 1} spans at the receiver`, 60_000);

    const spans = received();
    expect(spans).toHaveLength(2 * steps + 1);
    const ids = spans.map((s) => s.spanId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^(?!0{16})[0-9a-f]{16}$/);
    expect(run.traceId).toMatch(/^(?!0{32})[0-9a-f]{32}$/);
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const attr = (s: WireSpan, key: string) => s.attributes.find((a) => a.key === key)?.value;
    expect(byId.get(run.spanId)?.name).toBe('orch.run big');
    for (let i = 0; i < steps; i++) {
      const g = given.get(`s${i}`)!;
      const [, traceId, spanId] = g.traceparent.split('-');
      const a = byId.get(spanId!)!;
      const s = byId.get(g.step)!;
      expect(a.name).toBe(`orch.attempt s${i}`);
      expect(a.traceId).toBe(traceId);
      expect(a.parentSpanId).toBe(g.step);
      expect(attr(a, 'orch.capability')).toEqual({ stringValue: `cap${i}` });
      expect(attr(a, 'orch.resource')).toEqual(i % 5 === 0 ? { stringValue: 'gpu' } : undefined);
      expect(s.name).toBe(`orch.step s${i}`);
      expect(s.parentSpanId).toBe(run.spanId);
      expect(attr(s, 'orch.step_key')).toEqual(i % 7 === 0 ? { stringValue: `s${i}[1]` } : undefined);
      expect(attr(s, 'orch.status')).toEqual({ stringValue: i % 3 === 0 ? 'completed' : 'done' });
      expect(attr(s, 'orch.kind')).toEqual({ stringValue: 'call' });
    }
  });
});
