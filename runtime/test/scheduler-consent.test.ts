/**
 * Consent of a sub-plan's own policy (LANGUAGE.md §7.2): a plan run as a sub-plan keeps its
 * `require_consent true`. Its scopes are checked when the top-level run starts, before any step,
 * whether or not the parent's policy requires consent itself.
 */
import { describe, expect, it } from 'vitest';
import { compile } from '../../compiler/index.js';
import { Run, VirtualClock, type JournalSink, type RunEvent } from '../scheduler/index.js';
import { SimExecutor } from './sim-executor.js';

const SOURCE = `
capability log_visit { kind tool  input {}  output {}  consent "analytics" }
capability record { kind tool  input {}  output {}  consent "health_data" }
policy careful { require_consent true }
plan vitals { policy careful
  step r = record() }
plan visit {
  step l = log_visit()
  step v = run vitals() { after l } }
plan outer { step s = run visit() }
`;
const ENTRY = '/virtual/consent/sub.orch';
const out = compile({ entry: ENTRY, host: { readFile: (f) => (f === ENTRY ? SOURCE : undefined) } });
const plans = new Map(out.plans.map((p) => [p.plan, p]));

async function run(name: string, consent: readonly string[]) {
  const clock = new VirtualClock(0);
  const exec = new SimExecutor(clock);
  const events: RunEvent[] = [];
  const journal: JournalSink = { commit: (_s, evs) => void events.push(...evs), load: () => [] };
  const r = new Run(plans.get(name)!, { clock, executor: exec, journal }, { runId: name, consent });
  const done = r.start();
  clock.runAll();
  return { result: await done, events, calls: exec.starts.length };
}

describe("a sub-plan's require_consent", () => {
  it('fails the top-level run before any step when its scopes are not granted, at any depth', async () => {
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    for (const name of ['visit', 'outer']) {
      const { result, events, calls } = await run(name, []);
      expect(result.status).toBe('failed');
      expect(result.error).toContain('consent not granted: health_data');
      expect(calls).toBe(0);
      // Only the scopes the consenting plan needs: the parent's own call needs none.
      expect(events.find((e) => e.type === 'consent_denied')?.data).toMatchObject({ missing: ['health_data'], needed: ['health_data'] });
    }
  });

  it('lets the run start once they are granted', async () => {
    const { result, calls } = await run('outer', ['health_data']);
    expect(result.status).toBe('completed');
    expect(calls).toBe(2);
  });
});
