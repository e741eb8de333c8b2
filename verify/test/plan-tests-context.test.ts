/**
 * A test's context is §9.4's always-fresh context on the virtual clock (LANGUAGE.md §9.2, §9.4):
 * the test's `context` and `signal` lines set signals, which go stale when their age passes
 * `max_age`, and derived signals (with `hold`) are computed from them — as `orch serve` does.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, type CompiledTest } from '../../compiler/index.js';
import type { RunEvent } from '../../runtime/index.js';
import { tempDir } from '../../runtime/test/helpers.js';
import { captureTest, runPlanTest } from '../index.js';

const PLANS = `
capability heat { kind tool  input { t: number }  output { ok: bool }  requires warmth }
resource boiler { kind local_device  provides warmth }
capability shift { kind tool  input { t: number }  output { ok: bool }  requires appliances }
resource hub { kind edge_gateway  provides appliances  available when context.hub_online }
context {
  hub_online: bool  max_age 5m
  motion: bool  max_age 2m
  phone: bool  max_age 10m
  occupied: bool = context.motion or context.phone  hold 10m
}
plan warm {
  step home = heat(t: 21.0) when context.occupied
}
plan later {
  step pause = wait 20m
  step home = heat(t: 21.0) when context.motion { after pause }
}
plan on_hub {
  step pause = wait 10m
  step s = shift(t: 1.0) { after pause }
}
plan warm_later {
  step pause = wait 5m
  step home = heat(t: 21.0) when context.occupied { after pause }
}
plan quiet {
  step q = wait until age(context.phone) > 3m timeout 1h
}
plan waits {
  step pause = wait 5m
  step w = wait until context.motion timeout 1h { after pause }
}
`;

function compileTest(body: string): CompiledTest {
  const files: Record<string, string> = { '/v/plans.orch': PLANS, '/v/main.test.orch': `import "./plans.orch" as p\n${body}` };
  const out = compile({ entry: '/v/main.test.orch', host: { readFile: (f) => files[f] }, tests: true, navigation: false });
  const errors = out.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((d) => `${d.code} ${d.range.start.line}: ${d.message}`).join('\n'));
  return out.tests[0]!;
}

async function failures(body: string): Promise<string[]> {
  const r = await runPlanTest(compileTest(`test "t" {\n${body}\n}`), { real: null });
  return r.failures.map((f) => f.message);
}

describe('the context of a test', () => {
  it('a signal whose age passes max_age in virtual time is unknown: the when skips its step', async () => {
    const body = '  plan p.later\n  context { motion: true, phone: false }\n  mock p.heat returns { ok: true }';
    expect(await failures(`${body}\n  expect home.skipped`)).toEqual([]);
    // Set again a little before the step: fresh, so it runs.
    expect(await failures(`${body}\n  signal context.motion = true at 19m\n  expect home.completed`)).toEqual([]);
  });

  it('a derived signal is computed from the test context and holds its true', async () => {
    expect(await failures('  plan p.warm\n  context { motion: true, phone: false }\n  mock p.heat returns { ok: true }\n  expect home.completed')).toEqual([]);
    expect(await failures('  plan p.warm\n  context { motion: false, phone: false }\n  mock p.heat returns { ok: true }\n  expect home.skipped')).toEqual([]);
  });

  it('a wait until keeps waiting on a stale signal and goes on when a signal line sets it', async () => {
    // True when the run starts, stale by the time the wait begins: it keeps waiting until set again.
    expect(await failures('  plan p.waits\n  context { motion: true, phone: false }\n  signal context.motion = true at 30m\n  expect run.status == "completed" and run.elapsed == 30m')).toEqual([]);
    expect(await failures('  plan p.waits\n  context { motion: true, phone: false }\n  expect w.status == "timeout"')).toEqual([]);
  });

  it('a wait until over age() goes on the moment the age passes, on the virtual clock, with no signal line', async () => {
    expect(await failures('  plan p.quiet\n  context { phone: true }\n  expect q.status == "completed" and run.elapsed == 180001ms')).toEqual([]);
  });

  it('an expect over an unknown signal fails as unknown (Kleene), naming the signal that is not known', async () => {
    const got = await failures('  plan p.waits\n  context { phone: false }\n  signal context.motion = true at 10m\n  expect always context.motion or not context.motion');
    expect(got).toEqual(['expect always context.motion or not context.motion is unknown: context.motion was never set at 0 ms (virtual)']);
    const stale = await failures('  plan p.later\n  context { motion: true }\n  mock p.heat returns { ok: true }\n  expect context.motion');
    expect(stale).toEqual(['expect context.motion is unknown: context.motion is stale: 20m > 2m']);
  });

  it('a step that waits for a resource no signal will bring back ends the test as stuck, naming the step and why', async () => {
    expect(await failures('  plan p.on_hub\n  context { hub_online: true }\n  mock p.shift returns { ok: true }')).toEqual([
      'the run is stuck: nothing can happen any more while s waits for a resource (hub is not available: context.hub_online is stale: 10m > 5m)',
    ]);
  });

  it('a capture writes the signals that were set, not a derived one nor a signal going stale (those follow from max_age)', async () => {
    const dir = tempDir('orch-test-context-');
    writeFileSync(join(dir, 'plans.orch'), PLANS);
    const file = join(dir, 'main.test.orch');
    writeFileSync(file, 'import "./plans.orch" as p\ntest "t" {\n  plan p.warm_later\n  context { motion: true, phone: false }\n  signal context.phone = true at 3m\n  mock p.heat returns { ok: true }\n}\n');
    const out = compile({ entry: file, navigation: false, tests: true });
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    let journal: readonly RunEvent[] = [];
    expect((await runPlanTest(out.tests[0]!, { real: null, onJournal: (events) => (journal = events) })).passed).toBe(true);
    const { text, result } = await captureTest({ runId: 't-1', plan: out.tests[0]!.plan, events: journal }, { file: join(dir, 'captured.test.orch') });
    expect(result.passed).toBe(true);
    expect(text.split('\n').filter((l) => l.startsWith('  signal') || l.startsWith('  context'))).toEqual(['  context { motion: true, phone: false }', '  signal context.phone = true at 180000ms']);
    expect(text).toContain('expect home.completed');
  });
});
