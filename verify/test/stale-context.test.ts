/**
 * `orch verify` explores signals going stale (LANGUAGE.md §9.4): `simulate context { motion
 * stale 20% }` makes the signal unknown in that share of the explored runs (seeded), and a
 * counterexample says which signals were stale. The plan's invariant holds whenever the motion
 * sensor reports — one of the two branches runs — and breaks only when it falls silent.
 */
import { describe, expect, it } from 'vitest';
import { compile, type PlanIR } from '../../compiler/index.js';
import { formatResult } from '../report.js';
import { runUpgradeCase } from '../upgrade-case.js';
import { verify } from '../verify.js';

const PLAN = (simulate: string) => `
context {
  motion: bool  max_age 2m
  tariff: number  max_age 1h
}
${simulate}
capability heat { kind tool  input { t: number }  output { ok: bool }  latency 1s }
plan warm {
  step home = heat(t: 21) when context.motion
  step away = heat(t: 16) when not context.motion
  invariant "one branch runs" { eventually home.completed or away.completed }
}
`;

function planIR(src: string): PlanIR {
  const host = { readFile: (p: string) => (p === '/v/main.orch' ? src : undefined) };
  const out = compile({ entry: '/v/main.orch', host });
  expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return out.plans[0]!;
}

describe('verify explores stale signals (simulate context)', () => {
  it('without simulate context every signal is fresh: the invariant holds', async () => {
    const result = await verify(planIR(PLAN('')), { seed: 7, runs: 100, failures: false });
    expect(result.invariants.find((i) => i.name === 'one branch runs')?.status).toBe('holds');
  });

  it('a signal stale in 20% of the runs refutes it, and the counterexample names the stale signal', async () => {
    const ir = planIR(PLAN('simulate context { motion stale 20%  tariff stale 50% }'));
    expect(ir.context_signals?.motion?.stale).toBe(0.2);
    const result = await verify(ir, { seed: 7, runs: 100, failures: false });
    const v = result.violations.find((x) => x.invariant === 'one branch runs')!;
    expect(v).toBeDefined();
    // Shrunk to what it needs: motion stale from the start; the tariff's staleness is not needed.
    expect(v.stale).toEqual([{ signal: 'motion', at_ms: 0 }]);
    const skipped = v.trace.filter((e) => e.type === 'step_skipped');
    expect(skipped.map((e) => e.step).sort()).toEqual(['away', 'home']);
    expect(JSON.stringify(skipped)).toContain('context.motion is stale');
    expect(formatResult(result, 'orch verify main.orch')).toContain('stale from 0ms: context.motion');
    // Seeded: the same seed finds the same counterexample.
    const again = await verify(ir, { seed: 7, runs: 100, failures: false });
    expect(again.violations.find((x) => x.invariant === 'one branch runs')?.path).toBe(v.path);
  });

  it('a sensor silent since before the run began is explored: a when read at the first step meets it unknown, whatever the seed', async () => {
    const ir = planIR(PLAN('simulate context { motion stale 10% }'));
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const result = await verify(ir, { seed, runs: 100, failures: false });
      expect(result.violations.find((x) => x.invariant === 'one branch runs')?.stale, `seed ${seed}`).toEqual([{ signal: 'motion', at_ms: 0 }]);
    }
  });

  it('a signal without max_age never goes stale: its silent source is one that never sent it (never set, from the start)', async () => {
    const src = `
context {
  mode: string
}
simulate context { mode stale 50% }
capability heat { kind tool  input { t: number }  output { ok: bool }  latency 1s }
plan warm {
  step home = heat(t: 21) when context.mode == "home"
  step away = heat(t: 16) when context.mode != "home"
  invariant "one branch runs" { eventually home.completed or away.completed }
}
`;
    const result = await verify(planIR(src), { seed: 3, runs: 100, failures: false });
    const v = result.violations.find((x) => x.invariant === 'one branch runs')!;
    expect(v.stale).toEqual([{ signal: 'mode', at_ms: 0 }]);
    expect(JSON.stringify(v.trace.filter((e) => e.type === 'step_skipped'))).toContain('context.mode was never set');
  });

  it('a share of 0% never lets the signal go stale', async () => {
    const result = await verify(planIR(PLAN('simulate context { motion stale 0% }')), { seed: 7, runs: 60, failures: false });
    expect(result.invariants.find((i) => i.name === 'one branch runs')?.status).toBe('holds');
  });

  it('a derived signal is computed from the signals it reads, never drawn on its own: stale when they are', async () => {
    const src = (simulate: string) => `
context {
  motion: bool  max_age 2m
  phone: bool  max_age 10m
  occupied: bool = context.motion or context.phone
}
${simulate}
capability heat { kind tool  input { t: number }  output { ok: bool }  latency 1s }
plan warm {
  step home = heat(t: 21.0) when context.occupied
  step away = heat(t: 16.0) when not (context.motion or context.phone)
  invariant "heats only for someone at home" { always not (home.started and away.started) }
}
`;
    const held = await verify(planIR(src('invariant "occupied is known" { always context.occupied or not context.occupied }')), { seed: 7, runs: 100, failures: false });
    expect(held.invariants.find((i) => i.name === 'heats only for someone at home')?.status).toBe('holds');
    // The invariants read it as the steps do.
    expect(held.invariants.find((i) => i.name === 'occupied is known')?.status).toBe('holds');
    // Both readers silent from the start: occupied is unknown, and home is skipped saying so.
    const silent = await verify(planIR(src('simulate context { motion stale 100%  phone stale 100% }\ninvariant "warm" { eventually home.completed or away.completed }')), { seed: 7, runs: 200, failures: false });
    const v = silent.violations.find((x) => x.invariant === 'warm')!;
    expect(JSON.stringify(v.trace.filter((e) => e.type === 'step_skipped' && e.step === 'home'))).toContain('context.occupied is unknown');
  });
});

describe('never P over an unknown signal (§9.4: never P = always not P, not unknown is unknown)', () => {
  it('is violated, as always P is, and the violation says which signal was unknown (known, the condition is never true)', async () => {
    const src = `
context { motion: bool  max_age 2m }
simulate context { motion stale 50% }
capability heat { kind tool  input { t: number }  output { ok: bool }  latency 1s }
plan warm {
  step home = heat(t: 21)
  invariant "no motion alarm" { never context.motion and not context.motion }
  invariant "kleene" { never context.motion and false }
}
`;
    const result = await verify(planIR(src), { seed: 7, runs: 100, failures: false });
    const v = result.violations.find((x) => x.invariant === 'no motion alarm');
    expect(v).toBeDefined();
    expect(v!.stale.map((s) => s.signal)).toEqual(['motion']);
    expect(v!.message).toContain('context.motion is stale');
    // `unknown and false` is false (Kleene): known to be false, so it holds.
    expect(result.invariants.find((i) => i.name === 'kleene')?.status).toBe('holds');
  });
});

describe('verify reads a held derived signal as orch serve does (hold, §9.4)', () => {
  // `off` runs only while occupied is held true after motion turned false: a stateless read
  // (occupied = motion at each instant) never gets there, the context store does.
  const HELD = (simulate: string) => `
context {
  motion: bool  max_age 2m
  occupied: bool = context.motion  hold 10m
}
${simulate}
capability work { kind tool  input { t: number }  output { ok: bool }  latency 1m }
plan p {
  step first = work(t: 1)
  step off = work(t: 2) when context.occupied and not context.motion {
    after first
  }
  invariant "never only held" { never off.completed }
}
`;

  it('a counterexample that needs the hold is found: motion turned false before the step, occupied still held true', async () => {
    const result = await verify(planIR(HELD('')), { seed: 7, runs: 200, failures: false });
    const v = result.violations.find((x) => x.invariant === 'never only held');
    expect(v).toBeDefined();
    expect(v!.trace.some((e) => e.type === 'step_completed' && e.step === 'off')).toBe(true);
  });

  it('unknown is not false: a held true does not outlast its read going stale, so a counterexample has motion stale only after the step started', async () => {
    const result = await verify(planIR(HELD('simulate context { motion stale 100% }')), { seed: 7, runs: 100, failures: false });
    const v = result.violations.find((x) => x.invariant === 'never only held')!;
    expect(v).toBeDefined();
    const started = v.trace.find((e) => e.type === 'step_started' && e.step === 'off')!;
    expect(v.stale).toHaveLength(1);
    expect(v.stale![0]!.at_ms).toBeGreaterThan(started.at_ms);
  });
});

describe('verify --against: the new version reads the held signal from what came before the upgrade', () => {
  // occupied turns true only by the scenario's change; the upgrade comes after it, before `first` ends.
  const src = `
context {
  motion: bool  max_age 2m
  occupied: bool = context.motion  hold 10m
}
capability work { kind tool  input { t: number }  output { ok: bool }  latency 1m }
plan p {
  step first = work(t: 1)
  step on = work(t: 2) when context.occupied {
    after first
  }
  invariant "never on" { never on.completed }
}
`;

  it("the new version's store is given the scenario's messages before the upgrade: occupied is true there, as the plain read of motion is", async () => {
    const ir = planIR(src);
    const scenario = { input: {}, context: { motion: false }, contextChanges: [{ at_ms: 10_000, signal: 'motion', value: true }], cancels: [], outcomes: {} };
    const ok = (latency_ms: number) => [{ attempts: ['ok' as const], latency_ms, output: { ok: true }, cost: null }];
    const outcomes = { first: ok(60_000), on: ok(1_000) };
    const options = { invariants: ir.invariants, builtins: new Set<string>() };
    let point: number | null = null;
    for (const at of [100, 300, 500, 700, 900]) {
      const r = await runUpgradeCase(ir, ir, { scenario: { ...scenario, outcomes }, old: outcomes, at }, options);
      // After the change, while `first` still runs: `on`'s when is read under the new version.
      if (r.kind !== 'upgraded' || r.point.at_ms < 10_000 || !r.point.running.includes('first')) continue;
      point = r.point.at_ms;
      expect(r.result.violation?.invariant).toBe('never on');
      break;
    }
    expect(point).not.toBeNull();
  });
});
