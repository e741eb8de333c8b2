/**
 * Issue 34 item 2 at run time: a handler that cannot be loaded (module missing, export missing)
 * fails its step at once — no retries, no backoff — and the attempt that never ran costs nothing.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../index.js';
import type { RunEvent } from '../scheduler/types.js';
import { tempDir } from './helpers.js';
import { capability, plan, retry, step } from './ir-builder.js';

let rt: Runtime;
let dir: string;
beforeAll(async () => {
  dir = tempDir('orch-unloadable-');
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  writeFileSync(join(dir, 'h.mjs'), 'export function greet() { return {}; }\n');
  writeFileSync(join(dir, 'broken.mjs'), 'import { nothing } from "./h.mjs";\nexport function greet() { return {}; }\n');
  rt = await Runtime.open({ db: join(dir, 'runs.db'), workers: 1 });
});
afterAll(async () => {
  await rt.close();
});

describe('a handler that cannot be loaded', () => {
  for (const [what, handler, error] of [
    ['a missing export', { module: './h.mjs', export: 'gret' }, /does not export a function named "gret"/],
    ['a missing module', { module: './nope.mjs', export: 'greet' }, /not found/],
    ['a module that throws as it loads', { module: './broken.mjs', export: 'greet' }, /broken\.mjs cannot be loaded: .*nothing/],
  ] as const) {
    it(`${what}: one attempt, no retry, no cost, permanent (§9.1)`, async () => {
      const p = plan({
        base_dir: dir,
        capabilities: [capability('greet', { handler, cost: 0.5, retry: retry(3, 60_000) })],
        steps: [step('say', 'greet')],
      });
      const events: RunEvent[] = [];
      const result = await (await rt.start(p, { onEvent: (e) => events.push(e) })).result;
      expect(result.status).toBe('failed');
      const s = result.steps.find((x) => x.stepId === 'say')!;
      expect(s.status).toBe('failed');
      expect(s.attempts).toBe(1);
      expect(s.error).toMatch(error);
      expect(result.metadata.totalCost).toBe(0);
      expect(events.filter((e) => e.type === 'step_failed').map((e) => e.data)).toEqual([expect.objectContaining({ permanent: true })]);
    });
  }
});
