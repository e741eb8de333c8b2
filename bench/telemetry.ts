/**
 * Tracing's cost (LANGUAGE.md §8.7): the runtime bench's 10,000-step DAG with the SQLite journal,
 * tracing on (every step and attempt a span, exported over OTLP/HTTP JSON to a sink that drains
 * and drops them) against tracing unset, taken in turn in each round. With tracing unset the SDK is
 * never loaded and the scheduler's observer and executor are the ones without tracing, so that run
 * is the untraced runtime as it was. The sink runs in this process: its share of the CPU counts
 * against tracing, which makes the ratio a floor. The export still buffered when the run ends is
 * sent at `Runtime.close` (reported beside it).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PlanIR } from '../compiler/index.js';
import { Runtime, WorkerExecutor, type OrchConfig } from '../runtime/index.js';
import { median, type BenchFigure } from './figure.js';
import { layeredPlan } from './runtime.js';

const ROUNDS = 7;
const WIDTH = 100;

interface Measured {
  readonly rate: number;
  readonly closeMs: number;
  /** CPU time of the whole process (every thread) per step, the close (the last export) included. */
  readonly cpuUs: number;
}

async function rate(plan: PlanIR, workers: number, db: string, config: OrchConfig): Promise<Measured> {
  const executor = new WorkerExecutor({ workers });
  const rt = await Runtime.open({ db, executor });
  const warm = { ...plan, plan: 'warm', steps: plan.steps.slice(0, WIDTH), stages: [plan.stages[0]!] };
  await (await rt.start(warm, { config })).result;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await (await rt.start(plan, { config })).result;
  const secs = (performance.now() - t0) / 1000;
  if (result.status !== 'completed') throw new Error(`bench run did not complete (${result.status})`);
  const c0 = performance.now();
  await rt.close();
  const closeMs = performance.now() - c0;
  const cpu = process.cpuUsage(cpu0);
  await executor.close();
  return { rate: plan.steps.length / secs, closeMs, cpuUs: (cpu.user + cpu.system) / plan.steps.length };
}

export async function bench(): Promise<readonly BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'orch-bench-otel-'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  writeFileSync(join(dir, 'noop.js'), 'export function noop() { return null; }\n');
  let spans = 0;
  const sink = createServer((req, res) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      spans += bytes > 0 ? 1 : 0;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(sink.address() as { port: number }).port}`;
  const plan = layeredPlan(dir);
  const workers = availableParallelism();
  const off: OrchConfig = { file: null, hooks: {}, secrets: {} };
  const on: OrchConfig = { ...off, telemetry: { otlp: url } };
  try {
    const ratios: number[] = [];
    const best = { off: 0, on: 0 };
    const closeMs: number[] = [];
    const cpu = { off: [] as number[], on: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const);
      const got: Partial<Record<'off' | 'on', Measured>> = {};
      for (const k of order) got[k] = await rate(plan, workers, join(dir, `${k}-${round}.db`), k === 'on' ? on : off);
      ratios.push((got.on!.rate / got.off!.rate) * 100);
      best.off = Math.max(best.off, got.off!.rate);
      best.on = Math.max(best.on, got.on!.rate);
      closeMs.push(got.on!.closeMs);
      cpu.off.push(got.off!.cpuUs);
      cpu.on.push(got.on!.cpuUs);
    }
    const ratio = median(ratios);
    return [
      { name: 'journal on, tracing unset (10,000-step DAG)', value: best.off, unit: 'steps/s', target: '', met: true },
      { name: 'journal on, tracing on (OTLP/HTTP JSON to a local sink)', value: best.on, unit: 'steps/s', target: '', met: true },
      { name: 'tracing on vs tracing unset (median of the rounds, each pair taken in turn)', value: ratio, unit: '%', target: '≥ 85 %', met: ratio >= 85 },
      { name: 'tracing on vs tracing unset, best round of each (the least disturbed by other tenants)', value: (best.on / best.off) * 100, unit: '%', target: '', met: true },
      { name: 'tracing on: Runtime.close flushing the last spans (median)', value: median(closeMs), unit: 'ms', target: '', met: true },
      { name: 'CPU per step, every thread, tracing unset (median)', value: median(cpu.off), unit: 'µs', target: '', met: true },
      { name: 'CPU per step, every thread, tracing on (median; 2 spans a step)', value: median(cpu.on), unit: 'µs', target: '', met: true },
      { name: 'export requests received by the sink (all rounds)', value: spans, unit: '', target: '', met: true },
    ];
  } finally {
    await new Promise((r) => sink.close(r));
    rmSync(dir, { recursive: true, force: true });
  }
}
