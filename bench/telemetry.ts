/**
 * Tracing's cost (LANGUAGE.md §8.7): the runtime bench's 10,000-step DAG with the SQLite journal,
 * tracing on (every step and attempt a span, exported over OTLP/HTTP JSON to a sink that drains
 * and drops them) against tracing unset, taken in turn in each round. With tracing unset the SDK is
 * never loaded and the scheduler's observer and executor are the ones without tracing, so that run
 * is the untraced runtime as it was. The sink is a process of its own on the same machine (`startSink`):
 * its share of the cores still weighs on the traced rate, which makes the ratio a floor. The export still buffered when the run ends is
 * sent at `Runtime.close` (reported beside it).
 *
 * Both sides are measured warm: the warm-up run of a traced runtime waits for its tracing thread
 * (`Runtime.flushTraces`), whose start — a thread, the SDK and the exporter loaded, once per
 * process: the runtimes of a process share it — is reported apart, as the CPU the first traced
 * warm-up took beyond an untraced one's.
 *
 * The anchor is the bare SDK in the same round: a BasicTracerProvider with the same batch
 * processor and OTLP exporter to the same sink, making the same 20,001 spans (names, attributes,
 * statuses) through its Tracer in this thread, as fast as it can. Its CPU per step is what the
 * SDK costs for a step's two spans the ordinary way; "the untraced run plus that work in the
 * scheduler's thread" is the rate a tracer that only called the SDK would reach, the ratio Orch's
 * own is set against.
 *
 * The box is shared: the load average (1 minute, over the cores) is reported, and every ratio is
 * the median of ratios taken within one round. The CPU figures do not depend on the load as the
 * ratios do: per step, of every thread, of the scheduler's thread, and of the tracing thread (the
 * thread the first traced run left behind; Linux). The rate stops when the run's result is in;
 * the same ratio counted until `Runtime.close` returns (every span exported) is reported too, as
 * tracing's thread may leave work for the close when it yields to the run's (`span-thread.ts`).
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { PlanIR } from '../compiler/index.js';
import { Runtime, WorkerExecutor, type OrchConfig } from '../runtime/index.js';
import { median, smoke, threadCpuUs, type BenchFigure } from './figure.js';
import { layeredPlan } from './runtime.js';

const ROUNDS = smoke(7, 1);
const WIDTH = 100;

interface Measured {
  readonly rate: number;
  /** Steps a second counting `Runtime.close` too: until the run's last span is exported. */
  readonly rateClosed: number;
  readonly closeMs: number;
  /** CPU time of the whole process (every thread) per step, the close (the last export) included. */
  readonly cpuUs: number;
  /** CPU time of the main thread (the scheduler's) per step; NaN where /proc is not there. */
  readonly mainUs: number;
  /** CPU time of the threads tracing started (its span thread) per step; NaN where /proc is not there. */
  readonly tracingUs: number;
  /** CPU time of the warm-up (every thread), in ms: the process's first traced one includes the tracing thread's start. */
  readonly warmMs: number;
}

/** The threads of this process (Linux), else none. */
function threads(): Set<string> {
  return existsSync('/proc/self/task') ? new Set(readdirSync('/proc/self/task')) : new Set();
}

/** The threads tracing started (the span thread): those the first traced run left behind. */
let tracingThreads: readonly string[] = [];
const tracingCpu = (): number => (tracingThreads.length ? tracingThreads.reduce((sum, t) => sum + threadCpuUs(t), 0) : NaN);

const cpuNow = (): number => {
  const c = process.cpuUsage();
  return c.user + c.system;
};

async function rate(plan: PlanIR, workers: number, db: string, config: OrchConfig): Promise<Measured> {
  const executor = new WorkerExecutor({ workers });
  const rt = await Runtime.open({ db, executor });
  const warm = { ...plan, plan: 'warm', steps: plan.steps.slice(0, WIDTH), stages: [plan.stages[0]!] };
  const w0 = cpuNow();
  await (await rt.start(warm, { config })).result;
  await rt.flushTraces();
  const warmMs = (cpuNow() - w0) / 1000;
  const main0 = threadCpuUs();
  const tracing0 = tracingCpu();
  const cpu0 = cpuNow();
  const t0 = performance.now();
  const result = await (await rt.start(plan, { config })).result;
  const secs = (performance.now() - t0) / 1000;
  if (result.status !== 'completed') throw new Error(`bench run did not complete (${result.status})`);
  const c0 = performance.now();
  await rt.close();
  const closeMs = performance.now() - c0;
  const cpu = cpuNow() - cpu0;
  const main = threadCpuUs() - main0;
  const tracing = tracingCpu() - tracing0;
  await executor.close();
  const n = plan.steps.length;
  return { rate: n / secs, rateClosed: n / (secs + closeMs / 1000), closeMs, cpuUs: cpu / n, mainUs: main / n, tracingUs: tracing / n, warmMs };
}

/**
 * The bare SDK making a traced run's spans for `plan` — a run span, and per step a step span and
 * an attempt span under it with the attributes and statuses Orch gives them — exported to `url`.
 * Yields to the event loop every layer, as a run does, so the exporter's requests go out.
 */
async function bareSdk(plan: PlanIR, url: string): Promise<{ cpuUs: number; secs: number }> {
  const provider = new BasicTracerProvider({
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${url}/v1/traces` }), { maxQueueSize: 65_536, maxExportBatchSize: 2048 })],
  });
  const tracer = provider.getTracer('bare');
  const runId = 'bench-bare';
  const cpu0 = cpuNow();
  const t0 = performance.now();
  const run = tracer.startSpan(`orch.run ${plan.plan}`, { attributes: { 'orch.run_id': runId, 'orch.plan': plan.plan } });
  const inRun = trace.setSpan(ROOT_CONTEXT, run);
  let n = 0;
  for (const s of plan.steps) {
    const step = tracer.startSpan(`orch.step ${s.id}`, { attributes: { 'orch.run_id': runId, 'orch.plan': plan.plan, 'orch.step': s.id } }, inRun);
    const attempt = tracer.startSpan(
      `orch.attempt ${s.id}`,
      { attributes: { 'orch.run_id': runId, 'orch.plan': plan.plan, 'orch.step': s.id, 'orch.attempt': 1, 'orch.capability': 'noop' } },
      trace.setSpan(ROOT_CONTEXT, step),
    );
    attempt.setAttribute('orch.cost', 0);
    attempt.setStatus({ code: 1 });
    attempt.end();
    step.setAttributes({ 'orch.kind': 'call', 'orch.cost': 0, 'orch.attempt': 1, 'orch.status': 'completed' });
    step.setStatus({ code: 1 });
    step.end();
    if (++n % WIDTH === 0) await new Promise((r) => setImmediate(r));
  }
  run.setAttributes({ 'orch.status': 'completed', 'orch.cost': 0 });
  run.setStatus({ code: 1 });
  run.end();
  const secs = (performance.now() - t0) / 1000;
  await provider.shutdown();
  return { cpuUs: (cpuNow() - cpu0) / plan.steps.length, secs };
}

/** `run` with `OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf` (the runtime reads it when it opens). */
async function protobuf<T>(run: () => Promise<T>): Promise<T> {
  const was = process.env.OTEL_EXPORTER_OTLP_PROTOCOL;
  process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/protobuf';
  try {
    return await run();
  } finally {
    if (was === undefined) delete process.env.OTEL_EXPORTER_OTLP_PROTOCOL;
    else process.env.OTEL_EXPORTER_OTLP_PROTOCOL = was;
  }
}

/**
 * The receiver the spans are exported to: an OTLP/HTTP endpoint that reads each request whole and
 * drops it, in a process of its own as a collector is (in this process, its reading of every
 * request would run on the scheduler's thread and be counted as tracing's cost there). It shares
 * the machine's cores with the run, so its CPU still weighs on the traced rate.
 */
async function startSink(): Promise<{ url: string; requests: () => Promise<number>; stop: () => void }> {
  const code = `
    let requests = 0;
    const server = require('node:http').createServer((req, res) => {
      let bytes = 0;
      req.on('data', (c) => (bytes += c.length));
      req.on('end', () => {
        if (req.url === '/requests') return res.end(String(requests));
        requests += bytes > 0 ? 1 : 0;
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
    process.stdin.on('end', () => process.exit(0)).resume();`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.once('exit', (code) => reject(new Error(`the OTLP sink exited (${code})`)));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    requests: async () => Number(await (await fetch(`${url}/requests`)).text()),
    stop: () => child.stdin.end(),
  };
}

export async function bench(): Promise<readonly BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'orch-bench-otel-'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  writeFileSync(join(dir, 'noop.js'), 'export function noop() { return null; }\n');
  const sink = await startSink();
  const url = sink.url;
  const plan = layeredPlan(dir, smoke(100, 2));
  const cores = availableParallelism();
  const workers = cores;
  const off: OrchConfig = { file: null, hooks: {}, secrets: {} };
  const on: OrchConfig = { ...off, telemetry: { otlp: url } };
  try {
    await bareSdk(plan, url); // its modules loaded and its code warm before the first round
    // The untraced runtime loaded and warm, then the first traced warm-up: the tracing thread starts.
    await rate(layeredPlan(dir, 2), workers, join(dir, 'pre-off.db'), off);
    const firstOff = await rate(layeredPlan(dir, 2), workers, join(dir, 'pre-off-2.db'), off);
    const before = threads();
    const firstOn = await rate(layeredPlan(dir, 2), workers, join(dir, 'pre-on.db'), on);
    tracingThreads = [...threads()].filter((t) => !before.has(t));
    const startMs = firstOn.warmMs - firstOff.warmMs;
    // Protobuf's own tracing thread (settings differ by protocol), started before the rounds.
    await protobuf(() => rate(layeredPlan(dir, 2), workers, join(dir, 'pre-proto.db'), on));
    const ratios: number[] = [];
    const protoRatios: number[] = [];
    const closedRatios: number[] = [];
    const anchorRatios: number[] = [];
    const vsAnchor: number[] = [];
    const best = { off: 0, on: 0 };
    const closeMs: number[] = [];
    const loads: number[] = [];
    const cpu = { off: [] as number[], on: [] as number[], sdk: [] as number[], main: { off: [] as number[], on: [] as number[] }, tracing: [] as number[] };
    const shareOfSdk: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      loads.push(loadavg()[0]!);
      const order = round % 2 === 0 ? (['off', 'on', 'proto', 'sdk'] as const) : (['sdk', 'proto', 'on', 'off'] as const);
      const got: Partial<Record<'off' | 'on' | 'proto', Measured>> = {};
      let sdk = { cpuUs: 0, secs: 0 };
      for (const k of order) {
        if (k === 'sdk') sdk = await bareSdk(plan, url);
        else if (k === 'proto') got.proto = await protobuf(() => rate(plan, workers, join(dir, `proto-${round}.db`), on));
        else got[k] = await rate(plan, workers, join(dir, `${k}-${round}.db`), k === 'on' ? on : off);
      }
      const o = got.off!;
      const t = got.on!;
      ratios.push((t.rate / o.rate) * 100);
      protoRatios.push((got.proto!.rate / o.rate) * 100);
      closedRatios.push((t.rateClosed / o.rateClosed) * 100);
      // The untraced run with the bare SDK's work for its spans done in the scheduler's thread.
      const anchorRate = plan.steps.length / (plan.steps.length / o.rate + sdk.secs);
      anchorRatios.push((anchorRate / o.rate) * 100);
      vsAnchor.push((t.rate / anchorRate) * 100);
      best.off = Math.max(best.off, o.rate);
      best.on = Math.max(best.on, t.rate);
      closeMs.push(t.closeMs);
      cpu.off.push(o.cpuUs);
      cpu.on.push(t.cpuUs);
      cpu.sdk.push(sdk.cpuUs);
      cpu.main.off.push(o.mainUs);
      cpu.main.on.push(t.mainUs);
      cpu.tracing.push(t.tracingUs);
      shareOfSdk.push(((t.cpuUs - o.cpuUs) / sdk.cpuUs) * 100);
      loads.push(loadavg()[0]!);
    }
    const ratio = median(ratios);
    const withMain = cpu.main.on.every(Number.isFinite);
    const withTracing = cpu.tracing.every(Number.isFinite);
    return [
      { name: `machine load while measuring (1-minute load average, median; ${cores} cores)`, value: median(loads), unit: '', target: '', met: true },
      { name: 'journal on, tracing unset (10,000-step DAG), best round', value: best.off, unit: 'steps/s', target: '', met: true },
      { name: 'journal on, tracing on (OTLP/HTTP JSON to a local sink), best round', value: best.on, unit: 'steps/s', target: '', met: true },
      { name: 'tracing on vs tracing unset (median of the rounds, each pair taken in turn)', value: ratio, unit: '%', target: '≥ 85 %', met: ratio >= 85 },
      { name: 'the same with OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf (median of the rounds)', value: median(protoRatios), unit: '%', target: '', met: true },
      { name: 'tracing on vs tracing unset, best round of each (the least disturbed by other tenants)', value: (best.on / best.off) * 100, unit: '%', target: '', met: true },
      {
        name: 'tracing on vs tracing unset, each counted until Runtime.close returns (its spans exported; median)',
        value: median(closedRatios),
        unit: '%',
        target: '',
        met: true,
      },
      { name: 'anchor: unset + the bare SDK making the same spans in its thread, vs unset (median)', value: median(anchorRatios), unit: '%', target: '', met: true },
      { name: 'tracing on vs that anchor (median of the rounds)', value: median(vsAnchor), unit: '%', target: '', met: true },
      { name: 'CPU per step, every thread, tracing unset (median)', value: median(cpu.off), unit: 'µs', target: '', met: true },
      { name: 'CPU per step, every thread, tracing on (median; 2 spans a step)', value: median(cpu.on), unit: 'µs', target: '', met: true },
      { name: 'CPU per step of the bare SDK for the same 2 spans through its Tracer (median)', value: median(cpu.sdk), unit: 'µs', target: '', met: true },
      { name: "tracing's added CPU (on − unset) as a share of the bare SDK's (median)", value: median(shareOfSdk), unit: '%', target: '', met: true },
      ...(withMain
        ? [
            { name: "CPU per step, the scheduler's thread, tracing unset (median)", value: median(cpu.main.off), unit: 'µs', target: '', met: true },
            { name: "CPU per step, the scheduler's thread, tracing on (median)", value: median(cpu.main.on), unit: 'µs', target: '', met: true },
          ]
        : []),
      ...(withTracing
        ? [{ name: `CPU per step, the tracing thread (median; ${tracingThreads.length} thread(s) the first traced run started)`, value: median(cpu.tracing), unit: 'µs', target: '', met: true }]
        : []),
      { name: 'tracing start-up, once per process: thread, SDK and exporter (CPU)', value: startMs, unit: 'ms', target: '', met: true },
      { name: 'tracing on: Runtime.close flushing the last spans (median)', value: median(closeMs), unit: 'ms', target: '', met: true },
      { name: 'export requests received by the sink (all rounds, the anchor included)', value: await sink.requests(), unit: '', target: '', met: true },
    ];
  } finally {
    sink.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
