/**
 * The tracing thread's spans as the exporter sends them (runtime/telemetry/span-thread.ts): it
 * makes the SDK's finished spans itself instead of replaying them through a `Tracer`, so what a
 * tracer did on the way is checked here on the wire (OTLP/HTTP JSON, raw): parent and remote-parent
 * flags, links, unsampled spans left out, attributes checked as a span checks them (null and
 * invalid values dropped), an end before the start, the SDK's limit of 128 events, statuses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRawOtlpReceiver, type RawOtlpReceiver } from '../../test/support/otlp-receiver.js';
import { SpanSink, type Attrs } from '../telemetry/span-sink.js';

interface WireValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values: WireValue[] };
}
interface WireSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  flags: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: { key: string; value: WireValue }[];
  events: { name: string; timeUnixNano: string; attributes: { key: string; value: WireValue }[] }[];
  droppedEventsCount: number;
  links: { traceId: string; spanId: string; flags: number }[];
  status: { code?: number; message?: string };
}
interface WireRequest {
  resourceSpans: { resource: { attributes: { key: string; value: WireValue }[] }; scopeSpans: { scope: { name: string }; spans: WireSpan[] }[] }[];
}

const attrs = (list: { key: string; value: WireValue }[]) => Object.fromEntries(list.map((a) => [a.key, a.value]));

let receiver: RawOtlpReceiver;
let url = '';
let requests: WireRequest[] = [];
/** Export bodies sent as protobuf (`OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf`). */
let protobufBodies: Buffer[] = [];
const spans = () => requests.flatMap((r) => r.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)));
const span = (name: string) => {
  const s = spans().find((x) => x.name === name);
  if (!s) throw new Error(`no span ${name} among ${spans().map((x) => x.name).join(', ')}`);
  return s;
};

beforeAll(async () => {
  receiver = await startRawOtlpReceiver();
  url = receiver.tracesUrl;
  requests = receiver.json as WireRequest[];
  protobufBodies = receiver.protobuf;
});

afterAll(async () => {
  await receiver.close();
});

describe("the tracing thread's finished spans", () => {
  it('go as protobuf when the protocol says so: the same span, its ids and attributes in the bytes', async () => {
    const sink = SpanSink.for({ tracesUrl: url, serviceName: 'orch-proto-test', protocol: 'http/protobuf' });
    const before = requests.length;
    const run = sink.start('orch.run proto_plan', null, 1_764_000_000_000, { 'orch.run_id': 'proto-run-1', 'orch.plan': 'proto_plan' }, { run: ['proto-run-1', 'proto_plan'] });
    run.end(1_764_000_000_010);
    await sink.flush();
    const body = Buffer.concat(protobufBodies);
    // A length-delimited protobuf message, not JSON; its strings and the span's id as raw bytes.
    expect(body.length).toBeGreaterThan(0);
    expect(body[0]).not.toBe('{'.charCodeAt(0));
    for (const text of ['orch.run proto_plan', 'proto-run-1', 'orch.plan', 'orch-proto-test']) expect(body.includes(Buffer.from(text))).toBe(true);
    expect(body.includes(Buffer.from(run.spanId, 'hex'))).toBe(true);
    expect(requests.length).toBe(before);
  });

  it('parents, flags, links, sampling, attributes, events, statuses and times as the SDK exports them', async () => {
    const sink = SpanSink.for({ tracesUrl: url, serviceName: 'orch-spans-test', protocol: 'http/json' });
    const t = 1_764_000_000_123;
    const caller = { traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), sampled: true };

    // A run under a caller's (remote) span, with a link; attributes a span would drop.
    const run = sink.start('orch.run p', caller, t, { 'orch.run_id': 'r1', 'orch.plan': 'p', nope: null, bad: { x: 1 } } as unknown as Attrs, {
      remote: true,
      links: [{ traceId: 'ef'.repeat(16), spanId: '12'.repeat(8), sampled: true }],
      run: ['r1', 'p'],
    });
    // A step and its failed attempt; a retry event on the step.
    const step = sink.step(run, t + 1, 'send', 'send[2]');
    const attempt = sink.attempt(step, t + 2, 1, 'llm', 'gpu', 12, true);
    attempt.setAll({ 'gen_ai.request.model': 'm', 'gen_ai.usage.input_tokens': 3 });
    attempt.error('boom');
    attempt.endAttempt(t + 4, 0.5);
    step.event('retry', { 'orch.attempt': 1, 'orch.error': 'boom', 'orch.waiting': ['a', 'b'] }, t + 5);
    for (let i = 0; i < 130; i++) step.event(`e${i}`, {}, t + 6);
    step.error('failed hard');
    step.endStep(t + 7, 'call', 1.5, 2, 'failed');
    // Ended before it started: no length.
    const early = sink.start('early', run, t + 10, {});
    early.end(t + 3);
    // Under an unsampled caller: not exported.
    const dropped = sink.start('unsampled', { ...caller, sampled: false }, t, {}, { remote: true });
    dropped.end(t + 1);
    run.set('orch.status', 'failed');
    run.ok();
    run.end(t + 20);
    await sink.flush();

    expect(spans().some((s) => s.name === 'unsampled')).toBe(false);
    const r = span('orch.run p');
    const s = span('orch.step send');
    const a = span('orch.attempt send');
    const e = span('early');
    // Ids and parents: the main thread's; the trace is the caller's.
    for (const x of [r, s, a, e]) expect(x.traceId).toBe(caller.traceId);
    expect(r.spanId).toBe(run.spanId);
    expect(r.parentSpanId).toBe(caller.spanId);
    expect(s.parentSpanId).toBe(run.spanId);
    expect(a.parentSpanId).toBe(step.spanId);
    expect(e.parentSpanId).toBe(run.spanId);
    // Flags: sampled, "has is-remote", and is-remote for the caller's parent only.
    expect(r.flags).toBe(0x301);
    expect([s.flags, a.flags, e.flags]).toEqual([0x101, 0x101, 0x101]);
    expect(r.links).toEqual([expect.objectContaining({ traceId: 'ef'.repeat(16), spanId: '12'.repeat(8), flags: 0x301 })]);
    expect(r.kind).toBe(1); // INTERNAL
    // Attributes: a null and an object value dropped, as a span's setAttribute drops them.
    expect(attrs(r.attributes)).toEqual({ 'orch.run_id': { stringValue: 'r1' }, 'orch.plan': { stringValue: 'p' }, 'orch.status': { stringValue: 'failed' } });
    expect(attrs(a.attributes)).toMatchObject({
      'orch.run_id': { stringValue: 'r1' },
      'orch.step': { stringValue: 'send' },
      'orch.capability': { stringValue: 'llm' },
      'orch.resource': { stringValue: 'gpu' },
      'orch.queued_ms': { intValue: 12 },
      'orch.fallback': { boolValue: true },
      'orch.cost': { doubleValue: 0.5 },
      'gen_ai.request.model': { stringValue: 'm' },
    });
    expect(attrs(s.attributes)).toMatchObject({ 'orch.step_key': { stringValue: 'send[2]' }, 'orch.status': { stringValue: 'failed' }, 'orch.attempt': { intValue: 2 } });
    // Statuses.
    expect(r.status.code).toBe(1);
    expect(a.status).toMatchObject({ code: 2, message: 'boom' });
    expect(s.status).toMatchObject({ code: 2, message: 'failed hard' });
    expect(e.status.code ?? 0).toBe(0);
    // Times: the main thread's, in ns; an end before the start is the start.
    expect(BigInt(a.startTimeUnixNano)).toBe(BigInt(t + 2) * 1_000_000n);
    expect(BigInt(a.endTimeUnixNano)).toBe(BigInt(t + 4) * 1_000_000n);
    expect(e.endTimeUnixNano).toBe(e.startTimeUnixNano);
    // Events: the SDK's limit of 128 keeps the last ones and counts the rest.
    expect(s.events).toHaveLength(128);
    expect(s.droppedEventsCount).toBe(3);
    expect(s.events[0]!.name).toBe('e2');
    expect(s.events.at(-1)!.name).toBe('e129');
    // The resource and scope a tracer provider gave.
    const rs = requests.flatMap((q) => q.resourceSpans)[0]!;
    expect(attrs(rs.resource.attributes)['service.name']).toEqual({ stringValue: 'orch-spans-test' });
    expect(rs.scopeSpans[0]!.scope.name).toBe('orch');
  });

  it('are all exported by a flush however small the export batches: more batches at once than the exporter sends by default', async () => {
    // The batch processor's flush exports every batch at once; the exporter refuses more than
    // 30 requests in flight unless told otherwise — 60 batches of 25 here.
    process.env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE = '25';
    try {
      const sink = SpanSink.for({ tracesUrl: url, serviceName: 'orch-small-batches-test', protocol: 'http/json' });
      const run = sink.start('orch.run many', null, 1_764_000_000_000, { 'orch.run_id': 'many-1', 'orch.plan': 'many' }, { run: ['many-1', 'many'] });
      for (let i = 0; i < 1_499; i++) sink.step(run, 1_764_000_000_001, `s${i}`, null).end(1_764_000_000_002);
      run.end(1_764_000_000_003);
      await sink.flush();
      const mine = spans().filter((x) => x.name === 'orch.run many' || (x.traceId === run.traceId && x.name.startsWith('orch.step ')));
      expect(mine.length).toBe(1_500);
    } finally {
      delete process.env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE;
    }
  });
});
