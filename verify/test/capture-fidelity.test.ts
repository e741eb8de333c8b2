/**
 * Capture fidelity over generated plans (issue #52's acceptance, LANGUAGE.md §9.2): plans with a
 * `for each … parallel K` (K > 1), retried steps whose attempts fail, and a `when` that reads a
 * `@personal` input, run on the runtime with handlers that answer in a shuffled order, captured
 * with `orch test --capture`'s code (personal values as placeholders) and re-run as tests: each
 * captured test passes, never writes the personal value, and gives every step instance the same
 * sequence of events as the original run. (The crash-and-resume case is plan-tests-capture.test.ts.)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { compile, type PlanIR } from '../../compiler/index.js';
import { EMPTY_CONFIG, memoryBackend, Runtime, type AttemptHandle, type AttemptOutcome, type AttemptRequest, type Executor, type RunEvent } from '../../runtime/index.js';
import { captureTest } from '../index.js';
import { instanceLabel } from '../trace.js';
import { sequences } from './step-sequences.js';

const root = mkdtempSync(join(tmpdir(), 'orch-capture-fidelity-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Shape {
  readonly parallel: number;
  readonly items: readonly number[];
  readonly steps: number;
  /** Per plain step: which earlier step it reads (or none), and its `when` on the personal input. */
  readonly reads: readonly (number | null)[];
  readonly when: readonly ('none' | 'given' | 'blank')[];
  readonly email: string;
  /** Attempts that fail: `step#attempt` (1-based), the rest answer. */
  readonly failing: readonly string[];
  /** How many microtasks each answer waits: parallel calls end in a generated order. */
  readonly delays: readonly number[];
}

const shape: fc.Arbitrary<Shape> = fc.record({
  parallel: fc.integer({ min: 2, max: 3 }),
  items: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 4 }),
  steps: fc.integer({ min: 1, max: 4 }),
  reads: fc.array(fc.option(fc.nat(), { nil: null }), { minLength: 4, maxLength: 4 }),
  when: fc.array(fc.constantFrom('none' as const, 'given' as const, 'blank' as const), { minLength: 4, maxLength: 4 }),
  email: fc.constantFrom('ada@example.com', ''),
  failing: fc.uniqueArray(fc.constantFrom('w[0]#1', 'w[1]#1', 'w[2]#1', 's1#1', 's1#2', 's2#1', 's3#1', 's4#1', 's4#2'), { maxLength: 4 }),
  delays: fc.array(fc.nat(6), { minLength: 32, maxLength: 32 }),
});

/** The plan's source: the fan-out, then a chain of plain steps, some reading an earlier one, some guarded by the email. */
function source(s: Shape): string {
  const caps = ['w', ...Array.from({ length: s.steps }, (_, i) => `s${i + 1}`)].map(
    (c) => `capability c_${c} { kind tool  input { v: int }  output { v: int }  handler "./h.js#f"  idempotent true  retry 2 backoff fixed 1ms }`,
  );
  const steps = Array.from({ length: s.steps }, (_, i) => {
    const read = s.reads[i];
    const arg = read === null || read === undefined || i === 0 ? 'len(w.output)' : `s${(read % i) + 1}.output.v`;
    const when = s.when[i] === 'given' ? ' when input.email != ""' : s.when[i] === 'blank' ? ' when input.email == ""' : '';
    return `  step s${i + 1} = c_s${i + 1}(v: ${arg})${when} { on_failure continue }`;
  });
  return `${caps.join('\n')}
plan p {
  input { items: list<int>, email: string @personal }
  for each x in input.items parallel ${s.parallel} {
    step w = c_w(v: x) { on_failure continue }
  }
${steps.join('\n')}
}
`;
}

/** Answers each call after a generated number of microtasks: `v * 10 + attempt`, or fails as the shape says. */
class Shuffled implements Executor {
  private n = 0;
  constructor(private readonly s: Shape) {}
  start(req: AttemptRequest, done: (o: AttemptOutcome) => void): AttemptHandle {
    let live = true;
    const fails = this.s.failing.includes(`${req.stepId}#${req.attempt}`);
    const v = (req.input as { v: number }).v;
    let wait = this.s.delays[this.n++ % this.s.delays.length]!;
    const tick = (): void => {
      if (!live) return;
      if (wait-- > 0) return queueMicrotask(tick);
      done(fails ? { ok: false, error: `attempt ${req.attempt} of ${req.stepId} failed` } : { ok: true, output: { v: v * 10 + req.attempt } });
    };
    queueMicrotask(tick);
    return { abort: () => void (live = false) };
  }
}

const keyed = (events: readonly { stepId: string | null; type: string }[]) => events.filter((e) => e.stepId !== null).map((e) => ({ key: e.stepId!, type: e.type }));

describe('orch test --capture over generated plans', () => {
  it('a run with parallel calls, failed attempts and a personal value in a when, captured and re-run, gives every step the same events (property)', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(shape, async (s) => {
        const dir = join(root, `case-${n++}`);
        const planFile = join(dir, 'p.orch');
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'h.js'), 'export function f(i) { return { v: i.v }; }\n');
        writeFileSync(planFile, source(s));
        const out = compile({ entry: planFile, navigation: false });
        expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
        const plan = out.plans.find((p) => p.plan === 'p') as PlanIR;
        const rt = await Runtime.open({ backend: memoryBackend(), executor: new Shuffled(s) });
        let events: RunEvent[];
        let runId: string;
        try {
          const r = await (await rt.start(plan, { config: EMPTY_CONFIG, input: { items: s.items, email: s.email } })).result;
          runId = r.runId;
          events = await rt.store!.load(runId);
        } finally {
          await rt.close();
        }
        const { text, result } = await captureTest({ runId, plan, events }, { file: join(dir, 'p.test.orch') });
        expect(result.failures).toEqual([]);
        if (s.email !== '') expect(text).not.toContain(s.email);
        const original = sequences(keyed(events));
        const replayed = sequences(result.timeline.filter((e) => e.step !== null).map((e) => ({ key: instanceLabel(e.step!, e.item), type: e.type })));
        expect(replayed).toEqual(original);
      }),
      { numRuns: 15, seed: 52 },
    );
  }, 60_000);
});
