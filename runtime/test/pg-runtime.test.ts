/**
 * The same plans through `Runtime` on a SQLite journal and on a Postgres one (a throwaway
 * cluster, never skipped) give the same results: run status and output, each step's status,
 * output and attempts, and each step's sequence of journal event types. Only timing may differ,
 * so events are compared per step, not interleaved.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlanIR } from '../../compiler/index.js';
import { Runtime } from '../index.js';
import { migrate } from '../backend/pg/migrations.js';
import type { ExecutionResult, RunEvent } from '../scheduler/types.js';
import { startPostgres, type TestPostgres } from '../../test/support/postgres.js';
import { fx, tempDir } from './helpers.js';
import { bin, input, lit, out, plan, policy, resource, retry, step } from './ir-builder.js';

const NO_CONFIG = { file: null, hooks: {}, secrets: {} };

const PLANS: Record<string, { plan: PlanIR; input: unknown }> = {
  chain: {
    plan: plan({
      name: 'chain',
      capabilities: [fx('work', 'work'), fx('double', 'double')],
      steps: [
        step({ id: 'a', capability: 'work', args: { value: input('n'), ms: lit(5) } }),
        step({ id: 'b', capability: 'double', deps: ['a'], args: { value: out('a', 'value') } }),
        step({ id: 'c', capability: 'double', deps: ['b'], args: { value: out('b', 'value') } }),
      ],
      over: { output: { op: 'record', fields: [{ key: 'final', value: out('c', 'value') }] } },
    }),
    input: { n: 5 },
  },
  joins: {
    plan: plan({
      name: 'joins',
      capabilities: [fx('throws', 'throws'), fx('echo', 'echo'), fx('work', 'work')],
      steps: [
        step({ id: 'gate', capability: 'work', when: bin('==', input('go'), lit(true)) }),
        step({ id: 'reader', capability: 'echo', deps: ['gate'], skip_if_skipped: ['gate'], args: { v: out('gate', 'value') } }),
        step({ id: 'bad', capability: 'throws', on_failure: 'continue' }),
        step({ id: 'ok', capability: 'echo', args: { v: lit(1) } }),
        step({ id: 'default_join', capability: 'echo', deps: ['bad'] }),
        step({ id: 'all_done', capability: 'echo', deps: ['bad'], join: 'all_done' }),
        step({ id: 'any', capability: 'echo', deps: ['bad', 'ok'], join: 'any_success' }),
      ],
    }),
    input: { go: false },
  },
  retries: {
    plan: plan({
      name: 'retries',
      capabilities: [fx('flaky', 'flaky'), fx('throws', 'throws')],
      resources: [resource('box', { concurrency: 1 })],
      steps: [
        step({ id: 'f', capability: 'flaky', resource: 'box', retry: retry(3, 10), args: { succeedOn: lit(3) } }),
        step({ id: 'g', capability: 'flaky', resource: 'box', deps: ['f'], retry: retry(2, 10), args: { succeedOn: lit(1) } }),
        step({ id: 'h', capability: 'throws', deps: ['g'], retry: retry(1, 10) }),
      ],
    }),
    input: {},
  },
  // §7.2 on a cluster as on one machine: each compensation waits for its capability's rate window.
  rollback: {
    plan: plan({
      name: 'rollback',
      capabilities: [fx('work', 'work'), fx('undo', 'work'), fx('throws', 'throws')],
      steps: [
        step({ id: 'a', capability: 'work', compensate: { capability: 'undo', args: { value: lit(1) } } }),
        step({ id: 'b', capability: 'work', compensate: { capability: 'undo', args: { value: lit(2) } } }),
        step({ id: 'c', capability: 'throws', deps: ['a', 'b'] }),
      ],
      over: { on_failure: 'rollback', policy: policy({ name: 'paced', rate_limits: [{ capability: 'undo', count: 1, per_ms: 200 }] }) },
    }),
    input: {},
  },
};

interface Outcome {
  readonly result: ExecutionResult;
  readonly events: RunEvent[];
}

let pg: TestPostgres;
let onSqlite: Runtime;
let onPostgres: Runtime;

beforeAll(async () => {
  pg = await startPostgres();
  await migrate(pg.url);
  onSqlite = await Runtime.open({ db: join(tempDir(), 'runs.db'), workers: 2, controlPollMs: 50 });
  onPostgres = await Runtime.open({ db: pg.url, workers: 2, controlPollMs: 50 });
}, 120_000);
afterAll(async () => {
  await onSqlite?.close();
  await onPostgres?.close();
  await pg?.stop();
});

async function runOn(rt: Runtime, name: string): Promise<Outcome> {
  const { plan: p, input: given } = PLANS[name]!;
  const active = await rt.start(p, { input: given, config: NO_CONFIG, runId: `${name}-${rt === onSqlite ? 'sqlite' : 'pg'}` });
  const result = await active.result;
  return { result, events: await rt.store!.load(active.runId) };
}

/** What must not depend on the journal: everything but times, ids and durations. */
function shape({ result, events }: Outcome) {
  const byStep: Record<string, string[]> = {};
  for (const e of events) (byStep[e.stepId ?? '(run)'] ??= []).push(e.type);
  return {
    status: result.status,
    output: result.output,
    error: result.error,
    steps: result.steps.map((s) => ({ id: s.stepId, status: s.status, output: s.output, error: s.error, attempts: s.attempts, resource: s.resource })),
    byStep,
    seqs: events.map((e) => e.seq),
  };
}

describe('one plan, two journals', () => {
  for (const name of Object.keys(PLANS))
    it(`${name}: the same statuses, outputs and events per step on SQLite and Postgres`, async () => {
      const onEach = [await runOn(onSqlite, name), await runOn(onPostgres, name)];
      if (name === 'rollback')
        for (const { events } of onEach) {
          const starts = events.filter((e) => e.type === 'compensation_started').map((e) => e.ts);
          expect(starts).toHaveLength(2);
          expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(200);
        }
      const [sqlite, postgres] = onEach.map(shape);
      expect(postgres).toEqual(sqlite);
      // the journal has no gaps on either
      expect(postgres.seqs).toEqual(postgres.seqs.map((_, i) => i + 1));
      expect(sqlite.byStep['(run)']!.at(-1)).toMatch(/^execution_/);
    });

  it('the run rows agree: status, cost, plan, input; Postgres keeps no owner once a run is done', async () => {
    for (const name of Object.keys(PLANS)) {
      const a = (await onSqlite.store!.getRun(`${name}-sqlite`))!;
      const b = (await onPostgres.store!.getRun(`${name}-pg`))!;
      expect({ status: b.status, cost: b.cost, plan: b.plan, input: b.input, ir: b.ir }).toEqual({
        status: a.status,
        cost: a.cost,
        plan: a.plan,
        input: a.input,
        ir: a.ir,
      });
      expect(b.owner_pid).toBeNull();
      expect(await onPostgres.store!.ownedElsewhere(`${name}-pg`)).toBe(false);
    }
  });

  it('a Postgres database that was never migrated is refused with the command that fixes it', async () => {
    const fresh = await startPostgres();
    try {
      await expect(Runtime.open({ db: fresh.url })).rejects.toThrow(/orch db migrate/);
    } finally {
      await fresh.stop();
    }
  });
});
