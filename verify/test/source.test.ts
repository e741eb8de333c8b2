/** `.orch` sources through the real compiler, then the verifier (what `orch verify FILE` does). */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadPlansForVerify, type VerifiablePlan } from '../load.js';
import { BUILTIN } from '../monitor.js';
import { verify } from '../verify.js';
import { verifyFile } from '../index.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

function load(name: string): VerifiablePlan {
  const loaded = loadPlansForVerify(fixture(name));
  if (loaded.kind !== 'plans') throw new Error(`${name}: ${JSON.stringify(loaded)}`);
  expect(loaded.plans).toHaveLength(1);
  return loaded.plans[0]!;
}

describe('verifying .orch sources', () => {
  it('explores a plan that requires consent with the scopes it needs granted (no run is refused)', async () => {
    const { plan } = load('consent-required.orch');
    expect(plan.policy?.require_consent).toBe(true);
    const result = await verify(plan, { seed: 1, runs: 20 });
    const v = result.violations.find((x) => x.invariant === 'nothing_sent');
    expect(v).toBeDefined();
    expect(v!.trace.some((e) => e.type === 'consent_denied')).toBe(false);
    expect(v!.trace.some((e) => e.type === 'step_started' && e.step === 'send')).toBe(true);
  });

  it('finds send-before-approve and points at the invariant in the source', async () => {
    const { plan, locate } = load('send-before-approve.orch');
    const result = await verify(plan, { seed: 2, runs: 200, locate });
    const v = result.violations.find((x) => x.invariant === 'never send without approval');
    expect(v).toBeDefined();
    expect(v!.input).toEqual({ review: false, recipients: [''] });
    expect(v!.choices).toEqual([]);
    expect(v!.file).toBe(fixture('send-before-approve.orch'));
    expect(v!.range?.start).toMatchObject({ line: 31, column: 13 });
    const inv = result.invariants.find((i) => i.name === 'never send without approval');
    expect(inv).toMatchObject({ status: 'violated', range: v!.range });
  });

  it('finds the retry storm that breaks the budget, with the simulate model in force', async () => {
    const { plan } = load('retry-storm.orch');
    expect(plan.simulations['retry_storm.charge_card']?.fail).toBeCloseTo(0.3);
    const result = await verify(plan, { seed: 4, runs: 300 });
    const v = result.violations.find((x) => x.invariant === BUILTIN.budget);
    expect(v?.choices).toHaveLength(1);
    // simulate: latency 500ms..2s — every attempt's latency is inside the model's range.
    const done = v!.trace.filter((e) => e.type === 'step_completed');
    for (const e of done) expect(e.at_ms).toBeGreaterThanOrEqual(500);
  });

  it('a one-person legal team holds its limit (reviews queue); the fan-out breaks the budget with three documents', async () => {
    const { plan } = load('parallel-reviews.orch');
    const result = await verify(plan, { seed: 9, runs: 200 });
    expect(result.invariants.find((i) => i.name === BUILTIN.concurrency)?.status).toBe('holds');
    const v = result.violations.find((x) => x.invariant === 'reviews_within_budget');
    expect(v?.input).toEqual({ docs: ['', '', ''] });
  });

  it('accepts the throttled render plan, top-level invariant included', async () => {
    const { plan, locate } = load('throttled-render.orch');
    expect(plan.invariants.map((i) => i.name)).toEqual(['publish after every frame', 'settles', 'publish_waits_for_frames']);
    const result = await verify(plan, { seed: 6, runs: 200, locate });
    expect(result.violations).toEqual([]);
    expect(result.invariants.find((i) => i.name === 'publish_waits_for_frames')?.range?.start.line).toBe(47);
  });

  it('applies a top-level invariant only to plans with its steps, and keeps only the failures it needs', async () => {
    // Three failures in a row must be drawn: at 10 % that is one run in a thousand, so the rate is raised.
    const verified = await verifyFile(fixture('two-plans.orch'), { seed: 10, runs: 300, defaultFailRate: 0.5 });
    if (!verified.ok) throw new Error(JSON.stringify(verified.reason));
    const [intake, archive] = verified.results;
    expect(archive?.plan).toBe('archive');
    expect(archive?.invariants.every((i) => i.builtin)).toBe(true);
    expect(archive?.ok).toBe(true);
    expect(intake?.plan).toBe('intake');
    const v = intake?.violations.find((x) => x.invariant === 'team hears of every saved ticket');
    expect(v).toBeDefined();
    expect(v!.range?.start.line).toBe(23);
    // notify retries twice: all three attempts must fail, and nothing else needs to.
    expect(v!.choices).toEqual([1, 2, 3].map((attempt) => ({ step: 'notify_team', item: null, attempt, outcome: 'fail' })));
  });

  it('generates every kind of input type (aliases, optionals, maps, units, defaults) the plan accepts', async () => {
    const { plan } = load('typed-inputs.orch');
    const a = await verify(plan, { seed: 12, runs: 150 });
    expect(a.violations).toEqual([]);
    expect(a.coverage['score']).toEqual(expect.arrayContaining(['completed']));
    const b = await verify(plan, { seed: 12, runs: 150 });
    expect(b).toEqual(a);
  });

  it('reports compile errors instead of verifying', () => {
    const loaded = loadPlansForVerify(fixture('does-not-compile.orch'));
    expect(loaded.kind).toBe('errors');
    if (loaded.kind === 'errors') expect(loaded.diagnostics.map((d) => d.code)).toContain('E0301');
  });

  it('a file that declares no plan says so (not "no plan named undefined")', () => {
    const host = { readFile: (p: string) => (p === '/virtual/caps.orch' ? 'type Greeting = { text: string }\n' : undefined) };
    const loaded = loadPlansForVerify('/virtual/caps.orch', undefined, host);
    expect(loaded).toEqual({ kind: 'io-error', message: '/virtual/caps.orch declares no plan to verify' });
  });
});
