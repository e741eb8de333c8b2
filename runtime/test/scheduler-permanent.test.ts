/**
 * LANGUAGE.md §9.1 "Errors that cannot heal are not retried", on the scheduler: a permanent
 * failure (`AttemptOutcome.final`) is never retried on its resource, its end event says
 * `permanent: true`, it costs that attempt only; the step's `fallback` call still runs; another
 * resource is tried only when the failure is the resource's own. A tool's error answer (the
 * call's own) is retried by the step's policy but never moved to another resource.
 */
import { describe, expect, it } from 'vitest';
import { Run, VirtualClock } from '../scheduler/index.js';
import type { AttemptOutcome, ExecutionResult, RunEvent } from '../scheduler/types.js';
import { capability, plan, resource, retry, step } from './ir-builder.js';
import { SimExecutor } from './sim-executor.js';

async function run(outcome: AttemptOutcome, o: { fallbackCall?: boolean; secretArg?: boolean } = {}): Promise<{ starts: string[]; result: ExecutionResult; events: RunEvent[] }> {
  const clock = new VirtualClock(0);
  // The primary fails as told on every resource; the fallback call succeeds.
  const exec = new SimExecutor(clock, (req) => ({ latency: 10, outcome: req.capability.name === 'backup' ? { ok: true, output: {} } : outcome }));
  const events: RunEvent[] = [];
  const p = plan({
    capabilities: [capability('c', { cost: 0.25 }), capability('backup')],
    resources: [resource('r1'), resource('r2')],
    steps: [
      step({
        id: 'a',
        capability: 'c',
        retry: retry(2, 5),
        binding: { resource: 'r1', tier: 'local', rationale: 'test', fallbacks: ['r2'] },
        ...(o.secretArg ? { args: { key: { op: 'secret', name: 'ORCH_TEST_UNSET_SECRET_9' } } } : {}),
        ...(o.fallbackCall ? { fallback: { capability: 'backup', args: {} } } : {}),
      }),
    ],
  });
  const done = new Run(p, { clock, executor: exec, observe: (e) => events.push(e) }, { runId: 'perm' }).start();
  let finished = false;
  void done.finally(() => (finished = true));
  for (let i = 0; i < 1000 && !finished; i++) {
    clock.runAll();
    await new Promise((r) => setImmediate(r));
  }
  const result = await done;
  return { starts: exec.starts.map((s) => `${s.capability.name}@${s.resource?.name ?? '-'}`), result, events };
}

const data = (events: RunEvent[], type: string) => events.filter((e) => e.type === type).map((e) => e.data as Record<string, unknown>);

describe('a permanent failure (§9.1)', () => {
  it('is not retried, is not moved to another resource, says permanent, and costs its one attempt', async () => {
    const { starts, result, events } = await run({ ok: false, error: 'HTTP 400: bad request', final: 'refused', owner: 'call' });
    expect(result.status).toBe('failed');
    expect(starts).toEqual(['c@r1']);
    expect(data(events, 'step_failed')[0]).toMatchObject({ permanent: true, error: 'HTTP 400: bad request' });
    expect(data(events, 'step_retried')).toEqual([]);
    expect(result.metadata.totalCost).toBe(0.25);
  });

  it('of unknown ownership is not moved to another resource either', async () => {
    const { starts } = await run({ ok: false, error: 'channel "ops" is not configured', final: 'config', cost: 0 });
    expect(starts).toEqual(['c@r1']);
  });

  it("of the resource (its endpoint's key, its 401/403) moves to the next resource with a fresh budget, still without retries", async () => {
    const { starts, events } = await run({ ok: false, error: 'HTTP 401', final: 'refused', owner: 'resource' });
    expect(starts).toEqual(['c@r1', 'c@r2']);
    expect(data(events, 'step_retried')[0]).toMatchObject({ rebind: 'r2', reset: true, permanent: true });
    expect(data(events, 'step_failed')[0]).toMatchObject({ permanent: true });
  });

  it("still runs the step's fallback call, which completes the step", async () => {
    const { starts, result, events } = await run({ ok: false, error: 'secret "K" is not set', final: 'config', cost: 0 }, { fallbackCall: true });
    expect(result.status).toBe('completed');
    expect(starts).toEqual(['c@r1', 'backup@r1']);
    expect(data(events, 'step_retried')[0]).toMatchObject({ phase: 'fallback', permanent: true });
  });

  it('an unset secret in the arguments: permanent before any attempt, the fallback call still runs', async () => {
    const failed = await run({ ok: true, output: {} }, { secretArg: true });
    expect(failed.starts).toEqual([]);
    expect(data(failed.events, 'step_failed')[0]).toMatchObject({ permanent: true });
    expect(String(data(failed.events, 'step_failed')[0]!.error)).toMatch(/ORCH_TEST_UNSET_SECRET_9/);
    const rescued = await run({ ok: true, output: {} }, { secretArg: true, fallbackCall: true });
    expect(rescued.result.status).toBe('completed');
    expect(rescued.starts).toEqual(['backup@r1']);
  });
});

describe('a failure that is the call\'s own but may heal (an MCP tool\'s error answer)', () => {
  it('is retried by the step\'s policy on its resource, never moved to another one', async () => {
    const { starts, events } = await run({ ok: false, error: 'MCP tool "read_text_file" failed: ENOENT', owner: 'call' });
    expect(starts).toEqual(['c@r1', 'c@r1', 'c@r1']);
    expect(data(events, 'step_retried').some((d) => d.rebind !== undefined)).toBe(false);
    expect(data(events, 'step_failed')[0]!.permanent).toBeUndefined();
  });

  it('a failure nobody owns (a timeout, a crash) still moves on to the next resource (§7.2)', async () => {
    const { starts } = await run({ ok: false, error: 'down' });
    expect(starts).toEqual(['c@r1', 'c@r1', 'c@r1', 'c@r2', 'c@r2', 'c@r2']);
  });
});
