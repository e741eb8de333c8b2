/**
 * `orch test --capture` of a forked run (LANGUAGE.md §9.2): the steps the fork adopted
 * (`step_adopted`) never called a handler in it, yet the test runs the whole plan — each adopted
 * step's call is answered with the output it carried, a race its adopted winner decided mocks the
 * loser to answer later, and the captured test passes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../../compiler/index.js';
import { EMPTY_CONFIG, forkRun, memoryBackend, Runtime, type AttemptRequest, type Executor } from '../../runtime/index.js';
import { tempDir } from '../../runtime/test/helpers.js';
import { captureTest } from '../index.js';

const PLAN = `
capability f { kind tool  input { x: int }  output { y: int }  handler "./h.mjs#f" }
plan p {
  step a = f(x: 1)
  step b = f(x: a.output.y + 1)
  race pick {
    step q1 = f(x: 10)
    step q2 = f(x: 20)
  }
  output { y: b.output.y, w: pick.winner }
}
`;

/** Answers `{ y: x }` at once. */
const answering: Executor = {
  start(req: AttemptRequest, done) {
    queueMicrotask(() => done({ ok: true, output: { y: (req.input as { x: number }).x } }));
    return { abort: () => undefined };
  },
};

describe('capturing a forked run', () => {
  it('adopted steps are answered with their outputs; the captured test passes', async () => {
    const dir = tempDir('orch-capture-fork-');
    writeFileSync(join(dir, 'plans.orch'), PLAN);
    writeFileSync(join(dir, 'h.mjs'), 'export function f(i) { return { y: i.x }; }\n');
    const out = compile({ entry: join(dir, 'plans.orch'), navigation: false });
    const plan = out.plans[0]!;
    const rt = await Runtime.open({ backend: memoryBackend(), executor: answering });
    try {
      const first = await (await rt.start(plan, { config: EMPTY_CONFIG })).result;
      expect(first.status).toBe('completed');
      const fork = await forkRun(rt, first.runId, { at: 'b', config: EMPTY_CONFIG });
      expect((await fork.result).status).toBe('completed');
      const events = await rt.store!.load(fork.runId);
      expect(events.filter((e) => e.type === 'step_adopted').map((e) => e.stepId)).toContain('a');
      const { text, result } = await captureTest({ runId: fork.runId, plan, events }, { file: join(dir, 'fork.test.orch') });
      expect(result.failures).toEqual([]);
      expect(text).toContain('  mock plans.f where input == { x: 1 } returns { y: 1 }');
      expect(text).toContain('  expect a.completed');
      expect(text).not.toContain('the journal has no answer');
    } finally {
      await rt.close();
    }
  });
});
