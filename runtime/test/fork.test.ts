/**
 * `orch fork` in the runtime (LANGUAGE.md §9.2): over generated plans and fork points, the forked
 * run calls exactly the handlers of the fork point's downstream closure (0 upstream calls), adopts
 * every other step with its output (`step_adopted`), and ends with the outputs a fresh run has;
 * `--output` stands for the fork point's output, and is refused for an approval.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PlanIR } from '../../compiler/index.js';
import { memoryBackend } from '../backend/index.js';
import { EMPTY_CONFIG } from '../config.js';
import { downstreamClosure, forkRun, Runtime, VirtualClock } from '../index.js';
import type { AttemptRequest, Executor, ExecutionResult } from '../scheduler/types.js';
import { approvalCapability, capability, get, lit, plan, resource, retry, step, stepRef } from './ir-builder.js';
import { compileText } from '../../compiler/test/helpers.js';

/** Answers at once with a value built from what each step read, and counts the calls per step. */
class Counting implements Executor {
  calls: string[] = [];
  start(req: AttemptRequest, done: (o: { ok: true; output: unknown }) => void) {
    this.calls.push(req.stepId);
    const seen = Object.values(req.input).map((v) => (typeof v === 'object' && v !== null ? (v as { v: string }).v : String(v)));
    queueMicrotask(() => done({ ok: true, output: { v: `${req.stepId}(${seen.join(',')})` } }));
    return { abort: () => undefined };
  }
}

const echo = capability('echo', { output: { type: 'object', properties: { v: { type: 'string' } }, required: ['v'] } });

/** A DAG of n steps: step i reads the outputs of the earlier steps `deps[i]` names. */
function dag(deps: readonly (readonly number[])[]): PlanIR {
  return plan({
    capabilities: [echo],
    steps: deps.map((ds, i) => {
      const on = [...new Set(ds.filter((d) => d < i))].map((d) => `s${d}`);
      return step({ id: `s${i}`, capability: 'echo', deps: on, args: Object.fromEntries(on.map((d) => [d, get(stepRef(d), 'output')])) });
    }),
  });
}

/** What reaches `at` by following dependents: the closure, worked out independently of runtime/fork.ts. */
function dependentsOf(p: PlanIR, at: string): Set<string> {
  const out = new Set([at]);
  for (const s of p.steps) if (s.deps.some((d) => out.has(d))) out.add(s.id); // steps are in topological order
  return out;
}

async function open() {
  const exec = new Counting();
  const rt = await Runtime.open({ backend: memoryBackend(), executor: exec });
  return { rt, exec };
}

const outputsOf = (r: ExecutionResult) => Object.fromEntries(r.steps.map((s) => [s.stepId, [s.status, s.output]]));

describe('orch fork', () => {
  it('calls exactly the fork point\'s downstream closure, adopts the rest, and ends as a fresh run does (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.nat(6), { maxLength: 3 }), { minLength: 1, maxLength: 7 }).chain((deps) => fc.tuple(fc.constant(deps), fc.nat(deps.length - 1))),
        async ([deps, k]) => {
          const p = dag(deps);
          const at = `s${k}`;
          const { rt, exec } = await open();
          try {
            const first = await (await rt.start(p, { config: EMPTY_CONFIG })).result;
            expect(first.status).toBe('completed');
            exec.calls = [];
            const fork = await forkRun(rt, first.runId, { at, config: EMPTY_CONFIG });
            const forked = await fork.result;
            const closure = dependentsOf(p, at);
            expect(downstreamClosure(p, at)).toEqual(closure);
            expect(new Set(exec.calls)).toEqual(closure);
            expect(exec.calls).toHaveLength(closure.size);
            expect(outputsOf(forked)).toEqual(outputsOf(first));
            const events = await rt.store!.load(fork.runId);
            expect(events[0]!.data).toMatchObject({ forked_from: { run: first.runId, step: at } });
            const adopted = events.filter((e) => e.type === 'step_adopted').map((e) => e.stepId);
            expect(new Set(adopted)).toEqual(new Set(p.steps.map((s) => s.id).filter((id) => !closure.has(id))));
            for (const e of events) if (e.type === 'step_adopted') expect(e.data.from_run).toBe(first.runId);
          } finally {
            await rt.close();
          }
        },
      ),
      // The issue's acceptance: 100 generated plans and fork points.
      { numRuns: 100 },
    );
  });

  it('--output stands for the fork point (its handler is not called) and reaches what reads it; it is checked against the type', async () => {
    const p = dag([[], [0], [1], [0]]);
    const { rt, exec } = await open();
    try {
      const first = await (await rt.start(p, { config: EMPTY_CONFIG })).result;
      exec.calls = [];
      const fork = await forkRun(rt, first.runId, { at: 's1', output: { value: { v: 'given' } }, config: EMPTY_CONFIG });
      const r = await fork.result;
      expect(exec.calls).toEqual(['s2']);
      expect(r.steps.find((s) => s.stepId === 's2')!.output).toEqual({ v: 's2(given)' });
      const given = (await rt.store!.load(fork.runId)).find((e) => e.type === 'step_adopted' && e.stepId === 's1')!;
      expect(given.data).toEqual({ from_run: first.runId, output: { v: 'given' }, given: true });
      await expect(forkRun(rt, first.runId, { at: 's1', output: { value: { v: 1 } }, config: EMPTY_CONFIG })).rejects.toThrow(/--output does not match the output type of echo/);
      await expect(forkRun(rt, first.runId, { at: 'nope', config: EMPTY_CONFIG })).rejects.toThrow(/has no step nope/);
    } finally {
      await rt.close();
    }
  });

  it('refuses --output for an approval step: a decision is never forged', async () => {
    const p = plan({
      capabilities: [echo, approvalCapability],
      steps: [step({ id: 'a', capability: 'echo' }), step({ id: 'ok', capability: approvalCapability.name, kind: 'human', deps: ['a'], args: { summary: lit('go?') } })],
    });
    const { rt } = await open();
    try {
      const first = await (await rt.start(p, { config: EMPTY_CONFIG, suspendOnApproval: true })).result;
      await expect(forkRun(rt, first.runId, { at: 'ok', output: { value: { approved: true } }, config: EMPTY_CONFIG })).rejects.toThrow(
        /step ok is an approval \(kind human\): its output is a person's decision, so --output cannot give it/,
      );
    } finally {
      await rt.close();
    }
  });
  it('a repeat loop whose until reads the fork point is downstream of it: its iterations run again, and what waits for the loop', async () => {
    const out = compileText(`
capability echo {
  kind tool
  input { v: string }
  output { v: string }
  handler "./h.js#echo"
  data public
}
plan rep {
  step o = echo(v: "go")
  repeat r max 3 until o.output.v == "stop" or r.index >= 1 {
    step i = echo(v: "iter")
  }
  step after_loop = echo(v: "done") { after r }
  step apart = echo(v: "apart")
}`);
    const p = out.plans[0]!;
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(downstreamClosure(p, 'o')).toEqual(new Set(['o', 'i', 'after_loop']));
    const { rt, exec } = await open();
    try {
      const first = await (await rt.start(p, { config: EMPTY_CONFIG })).result;
      expect(first.status).toBe('completed');
      exec.calls = [];
      const fork = await forkRun(rt, first.runId, { at: 'o', config: EMPTY_CONFIG });
      expect((await fork.result).status).toBe('completed');
      expect(exec.calls.sort()).toEqual(['after_loop', 'i#0', 'i#1', 'o']);
      const adopted = (await rt.store!.load(fork.runId)).filter((e) => e.type === 'step_adopted').map((e) => e.stepId);
      expect(adopted).toEqual(['apart']);
    } finally {
      await rt.close();
    }
  });

  it('the fork runs with RUN’s context as old as it is (§9.4): a value past its max_age since reads stale at the fork point', async () => {
    const out = compileText(`
context { motion: bool max_age 2m }
capability echo {
  kind tool
  input { v: string }
  output { v: string }
  handler "./h.js#echo"
  data public
}
plan moving {
  step a = echo(v: "a") when context.motion
  step b = echo(v: "b") { after a }
}`);
    const p = out.plans[0]!;
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const clock = new VirtualClock(1_000_000);
    const rt = await Runtime.open({ backend: memoryBackend(), executor: new Counting(), clock });
    try {
      const first = await (await rt.start(p, { config: EMPTY_CONFIG, context: { motion: true } })).result;
      expect(first.steps.find((x) => x.stepId === 'a')?.status).toBe('completed');
      // Ten minutes later (virtual), the value RUN was given is past its 2m.
      clock.setTimer(600_000, () => undefined);
      clock.step();
      const fork = await forkRun(rt, first.runId, { at: 'a', config: EMPTY_CONFIG });
      expect((await fork.result).steps.find((x) => x.stepId === 'a')?.status).toBe('skipped');
      const skipped = (await rt.store!.load(fork.runId)).find((e) => e.type === 'step_skipped' && e.stepId === 'a');
      expect((skipped?.data as { reason?: string }).reason).toBe('context.motion is stale: 10m > 2m');
    } finally {
      await rt.close();
    }
  });

  it('a step whose compensation ran in RUN is not adopted (its effect was undone): it runs again, and is compensated once per run', async () => {
    const out = compileText(`
capability echo {
  kind tool
  input { v: string }
  output { v: string }
  handler "./h.js#echo"
  data public
}
capability boom {
  kind tool
  input { v: string }
  output { v: string }
  handler "./h.js#boom"
  data public
}
plan saga {
  on_failure rollback
  step booked = echo(v: "booked") {
    compensate echo(v: "unbooked")
  }
  step broken = boom(v: "x") { after booked }
}`);
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const calls: string[] = [];
    const exec: Executor = {
      start(req: AttemptRequest, done) {
        calls.push(`${req.stepId}:${(req.input as { v: string }).v}`);
        queueMicrotask(() => done(req.stepId === 'broken' ? { ok: false, error: 'boom', final: 'config' } : { ok: true, output: { v: 'ok' } }));
        return { abort: () => undefined };
      },
    };
    const rt = await Runtime.open({ backend: memoryBackend(), executor: exec });
    try {
      const first = await (await rt.start(out.plans[0]!, { config: EMPTY_CONFIG })).result;
      expect(first.status).toBe('failed');
      expect(calls).toEqual(['booked:booked', 'broken:x', 'booked:unbooked']);
      calls.length = 0;
      const fork = await forkRun(rt, first.runId, { at: 'broken', config: EMPTY_CONFIG });
      expect((await fork.result).status).toBe('failed');
      expect((await rt.store!.load(fork.runId)).filter((e) => e.type === 'step_adopted')).toEqual([]);
      expect(calls).toEqual(['booked:booked', 'broken:x', 'booked:unbooked']);
    } finally {
      await rt.close();
    }
  });

  it('an adopted step shows the attempts and resource it had in RUN, not 0 and null', async () => {
    const p = plan({
      capabilities: [echo],
      resources: [resource('gpu')],
      steps: [step({ id: 'a', capability: 'echo', resource: 'gpu', retry: retry(2, 0) }), step({ id: 'b', capability: 'echo', deps: ['a'] })],
    });
    let failed = false;
    const flaky: Executor = {
      start(req, done) {
        const fail = req.stepId === 'a' && !failed;
        failed ||= fail;
        queueMicrotask(() => done(fail ? { ok: false, error: 'flaky' } : { ok: true, output: { v: req.stepId } }));
        return { abort: () => undefined };
      },
    };
    const rt = await Runtime.open({ backend: memoryBackend(), executor: flaky });
    try {
      const first = await (await rt.start(p, { config: EMPTY_CONFIG })).result;
      const was = first.steps.find((s) => s.stepId === 'a')!;
      expect([was.status, was.attempts, was.resource]).toEqual(['completed', 2, 'gpu']);
      const fork = await forkRun(rt, first.runId, { at: 'b', config: EMPTY_CONFIG });
      const adopted = (await fork.result).steps.find((s) => s.stepId === 'a')!;
      expect([adopted.status, adopted.attempts, adopted.resource]).toEqual(['completed', 2, 'gpu']);
      // What a reader of the fork's journal alone (timeline, GET /runs/ID) folds the same way.
      const e = (await rt.store!.load(fork.runId)).find((x) => x.type === 'step_adopted')!;
      expect(e.data).toMatchObject({ attempts: 2, resource: 'gpu' });
    } finally {
      await rt.close();
    }
  });
});
