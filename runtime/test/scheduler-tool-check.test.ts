/**
 * LANGUAGE.md §8.3 on the scheduler core (virtual clock): before a run's first step calling an MCP
 * tool starts, the executor is asked whether the live tool is the locked one; a changed tool
 * fails the run before that step starts (no `step_started`, attempts 0), naming the tool.
 */
import { describe, expect, it } from 'vitest';
import type { PlanIR } from '../../compiler/index.js';
import { Run, VirtualClock, type PolicyHooks, type RunEvent } from '../scheduler/index.js';
import type { Executor, ToolCheck } from '../scheduler/types.js';
import { capability, plan, step } from './ir-builder.js';
import { SimExecutor } from './sim-executor.js';

const sum = capability('mcp.everything.get_sum', { handler: { mcp: 'everything', tool: 'get-sum', hash: 'sha256:aa' } });
const echo = capability('mcp.everything.echo', { handler: { mcp: 'everything', tool: 'echo', hash: 'sha256:bb' } });

/** `first` (no tool), then `s` and `t` calling get-sum one after the other, then `e` calling echo. */
const tools = plan({
  capabilities: [capability('log'), sum, echo],
  steps: [step('first', 'log'), step('s', sum.name, { deps: ['first'] }), step('t', sum.name, { deps: ['s'] }), step('e', echo.name, { deps: ['t'] })],
});

/** `check`: the executor's answer per tool (`undefined`: the executor cannot check at all). */
function run(p: PlanIR, check?: (c: ToolCheck) => Promise<string | null>, hooks?: PolicyHooks) {
  const clock = new VirtualClock(0);
  const sim = new SimExecutor(clock);
  const asked: string[] = [];
  const executor: Executor = check
    ? { start: (req, done) => sim.start(req, done), checkTool: (c) => (asked.push((c.capability.handler as { tool: string }).tool), check(c)) }
    : sim;
  const events: RunEvent[] = [];
  const r = new Run(p, { clock, executor, hooks, journal: { commit: (_s, evs) => void events.push(...evs) } }, { runId: 'tc' });
  return { done: settle(clock, r.start()), events, sim, asked };
}

async function settle<T>(clock: VirtualClock, done: Promise<T>): Promise<T> {
  let finished = false;
  void done.finally(() => (finished = true));
  for (let i = 0; i < 1000 && !finished; i++) {
    clock.runAll();
    await new Promise((r) => setImmediate(r));
  }
  if (!finished) throw new Error('the run never finished');
  return done;
}

const ofStep = (events: readonly RunEvent[], id: string) => events.filter((e) => e.stepId === id).map((e) => e.type);

describe('checking MCP tools before their steps start', () => {
  it('fails the run before the step of a changed tool starts: no step_started, attempts 0, the tool named', async () => {
    const problem = 'MCP tool "get-sum" of server "everything" changed since orch.lock.json was written';
    const h = run(tools, async (c) => ((c.capability.handler as { tool: string }).tool === 'get-sum' ? problem : null));
    const result = await h.done;
    expect(result.status).toBe('failed');
    expect(result.error).toBe(problem);
    const s = result.steps.find((x) => x.stepId === 's')!;
    expect([s.status, s.attempts, s.error]).toEqual(['failed', 0, problem]);
    expect(ofStep(h.events, 's')).not.toContain('step_started');
    expect(h.events.find((e) => e.type === 'step_failed' && e.stepId === 's')?.data).toMatchObject({ error: problem, blocked: true });
    // The step before it ran; nothing after it did, and the executor never saw a call of the tool.
    expect(result.steps.find((x) => x.stepId === 'first')!.status).toBe('completed');
    expect(h.sim.starts.map((r) => r.stepId)).toEqual(['first']);
    expect(h.asked).toEqual(['get-sum']);
  });

  it('asks once per tool and run, then the policy hook, and the steps run', async () => {
    const policy: string[] = [];
    const h = run(tools, async () => null, { preExecution: (s) => (policy.push(s.stepId), { allow: true }) });
    const result = await h.done;
    expect(result.status).toBe('completed');
    expect(h.asked).toEqual(['get-sum', 'echo']);
    expect(h.sim.starts.map((r) => r.stepId)).toEqual(['first', 's', 't', 'e']);
    expect(policy).toEqual(['first', 's', 't', 'e']);
  });

  it('a check that cannot answer lets the step start (its attempt finds out)', async () => {
    const h = run(tools, () => Promise.reject(new Error('server did not start')));
    expect((await h.done).status).toBe('completed');
    expect(h.sim.starts).toHaveLength(4);
  });

  it('asks nothing for a plan without MCP tools, and an executor that cannot check (a simulation) starts the steps', async () => {
    const plain = plan({ capabilities: [capability('c')], steps: [step('a', 'c'), step('b', 'c', { deps: ['a'] })] });
    const h = run(plain, async () => 'never');
    expect((await h.done).status).toBe('completed');
    expect(h.asked).toEqual([]);
    const sim = run(tools);
    expect((await sim.done).status).toBe('completed');
    expect(sim.sim.starts.map((r) => r.stepId)).toEqual(['first', 's', 't', 'e']);
  });
});
