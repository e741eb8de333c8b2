/**
 * Traces of a cluster run (LANGUAGE.md §8.7), on a throwaway Postgres: the owner (in process)
 * makes the run and step spans, an `orch worker` process makes each attempt's span as a child of
 * the owner's step span — the job payload carries its traceparent — in the owner's trace.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../../test/support/otlp-receiver.js';
import { startPostgres, type TestPostgres } from '../../test/support/postgres.js';
import { loadPlan, Runtime } from '../index.js';
import { migrate } from '../backend/pg/migrations.js';
import { orchAsync, projectDir } from './helpers.js';

let db: TestPostgres;
let receiver: OtlpReceiver;

beforeAll(async () => {
  [db, receiver] = await Promise.all([startPostgres(), startOtlpReceiver()]);
  await migrate(db.url);
}, 120_000);
afterAll(async () => {
  await receiver?.close();
  await db?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('traces on a cluster', () => {
  it("a worker's attempt spans are children of the owner's step spans, in the owner's trace", async () => {
    const dir = projectDir(JSON.stringify({ telemetry: { otlp: receiver.url } }));
    writeFileSync(join(dir, 'h.js'), 'export function work(input, ctx) { return { value: input.value, pid: process.pid, traceparent: ctx.traceparent ?? null }; }\n');
    writeFileSync(
      join(dir, 'c.orch'),
      `capability work {
  kind tool
  input { value: int }
  output { value: int, pid: int, traceparent: string? }
  handler "./h.js#work"
}
plan spread {
  step a = work(value: 1)
  step b = work(value: a.output.value)
}
`,
    );
    const worker = orchAsync(['worker', '--db', db.url, '--project', dir, '--slots', '2', '--no-take-over'], dir, { OTEL_SERVICE_NAME: 'orch-worker' });
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const deadline = Date.now() + 45_000;
      while ((await client.query(`SELECT 1 FROM orch.workers WHERE state = 'alive' AND pid = $1`, [worker.child.pid])).rowCount !== 1) {
        if (Date.now() > deadline) throw new Error(`the worker did not register: ${await Promise.race([worker.done.then((r) => r.stderr), sleep(10).then(() => '')])}`);
        await sleep(50);
      }
    } finally {
      await client.end();
    }
    const loaded = await loadPlan(join(dir, 'c.orch'), 'spread');
    if (loaded.kind !== 'plan') throw new Error(JSON.stringify(loaded));
    const rt = await Runtime.open({ db: db.url, placement: 'workers' });
    const active = await rt.start(loaded.plan, { runId: 'cluster-1' });
    const result = await active.result;
    await rt.close();
    worker.child.kill('SIGTERM');
    const stopped = await worker.done;
    expect(result.status, stopped.stderr).toBe('completed');

    const spans = receiver.spans.filter((s) => s.attributes['orch.run_id'] === 'cluster-1');
    const run = spans.find((s) => s.name === 'orch.run spread')!;
    expect(run.service).toBe('orch');
    for (const id of ['a', 'b']) {
      const step = spans.find((s) => s.name === `orch.step ${id}`)!;
      expect(step.parentSpanId).toBe(run.spanId);
      const attempts = spans.filter((s) => s.name === `orch.attempt ${id}`);
      expect(attempts.length, `attempt spans of ${id}`).toBe(1);
      const attempt = attempts[0]!;
      expect(attempt.service).toBe('orch-worker');
      expect(attempt.traceId).toBe(run.traceId);
      expect(attempt.parentSpanId).toBe(step.spanId);
      expect(String(attempt.attributes['orch.worker'])).toContain(`:${worker.child.pid}:`);
      expect(attempt.status.code).toBe(1);
      const out = result.steps.find((s) => s.stepId === id)!.output as { pid: number; traceparent: string };
      expect(out.pid).not.toBe(process.pid);
      expect(out.traceparent).toBe(`00-${run.traceId}-${attempt.spanId}-01`);
    }
  }, 120_000);
});
