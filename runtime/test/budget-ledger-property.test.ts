/**
 * The budget ledger of LANGUAGE.md §8.2, as a property over random plans on a virtual clock:
 * parallel `kind llm` steps with random prompts, `max_tokens`, prices, retries, failures and
 * token usage. Whatever happens, the run's actual spend passes its `budget cost` only by the
 * overruns journaled as `budget_overrun` (none when every call has max_tokens and a price), and
 * the journal's costs add up to the run's cost.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CapabilityIR } from '../../compiler/index.js';
import { priceOf, promptTokenBound, renderPrompt } from '../models/index.js';
import { Run, VirtualClock, type JournalSink, type RunEvent } from '../scheduler/index.js';
import type { AttemptOutcome, AttemptRequest, Executor, RunEventOf } from '../scheduler/types.js';
import { capability, lit, plan, policy, retry, step } from './ir-builder.js';

const PRICES = { priced: { input_per_mtok: 3, output_per_mtok: 15 } };

interface CapSpec {
  readonly estimate: number;
  readonly maxTokens: number | null;
  readonly priced: boolean;
}
interface StepSpec {
  readonly cap: number;
  readonly text: string;
  readonly retries: number;
}

const capArb = fc.record({
  estimate: fc.constantFrom(0, 0.0001, 0.001, 0.01),
  maxTokens: fc.option(fc.integer({ min: 1, max: 2000 }), { nil: null }),
  priced: fc.boolean(),
});
const stepArb = (caps: number) => fc.record({ cap: fc.nat(caps - 1), text: fc.string({ maxLength: 400 }), retries: fc.nat(2) });

function llmCap(i: number, c: CapSpec): CapabilityIR {
  return capability(`llm${i}`, {
    kind: 'llm',
    handler: null,
    cost: c.estimate,
    input: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
    output: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
    llm: {
      prompt: { op: 'concat', parts: [lit('Summarize: '), { op: 'get', object: { op: 'var', name: 'input' }, key: 'text' }] },
      system: null,
      model: c.priced ? 'priced' : 'unpriced',
      temperature: null,
      max_tokens: c.maxTokens,
    },
  });
}

/**
 * A model on a virtual clock: it reads at most the prompt's bound and writes at most max_tokens
 * (a real API cannot do more); without max_tokens or a price it may cost anything, up to 20× the
 * estimate. It fails at random, sometimes after billing the tokens.
 */
function modelExecutor(clock: VirtualClock, rnd: () => number, reported: number[], aborted: string[]): Executor {
  return {
    start(req: AttemptRequest, done: (o: AttemptOutcome) => void) {
      const cap = req.capability as CapabilityIR & { llm: NonNullable<CapabilityIR['llm']> };
      const bound = promptTokenBound(renderPrompt(cap, req.input, req.previousError));
      const price = cap.llm.model === 'priced' ? PRICES.priced : undefined;
      let cost: number;
      if (price && cap.llm.max_tokens !== null) cost = priceOf(price, Math.floor(rnd() * (bound + 1)), Math.floor(rnd() * (cap.llm.max_tokens + 1)));
      else if (price) cost = priceOf(price, Math.floor(rnd() * (bound + 1)), Math.floor(rnd() * 5000));
      else cost = cap.cost * rnd() * 20;
      const r = rnd();
      const outcome: AttemptOutcome =
        r < 0.15
          ? { ok: false, error: 'HTTP 500', cost: 0 }
          : r < 0.3
            ? { ok: false, error: 'model answer does not match the output type: /text: is required', cost }
            : { ok: true, output: { text: 'ok' }, cost };
      const t = clock.setTimer(1 + Math.floor(rnd() * 50), () => {
        reported.push(outcome.cost ?? 0);
        done(outcome);
      });
      return { abort: () => (clock.cancelTimer(t), aborted.push(req.stepId)) };
    },
  };
}

function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function runLedger(caps: readonly CapSpec[], steps: readonly StepSpec[], budget: number, seed: number) {
  const clock = new VirtualClock(0);
  const reported: number[] = [];
  const aborted: string[] = [];
  const events: RunEvent[] = [];
  const journal: JournalSink = { commit: (_s, evs) => void events.push(...evs), load: () => [] };
  const p = plan({
    capabilities: caps.map((c, i) => llmCap(i, c)),
    steps: steps.map((s, i) => step({ id: `s${i}`, capability: `llm${s.cap}`, args: { text: lit(s.text) }, retry: retry(s.retries, 1), kind: 'llm', on_failure: 'continue' })),
    policy: policy({ budgets: { cost: budget, duration_ms: null } }),
  });
  const run = new Run(p, { clock, executor: modelExecutor(clock, mulberry(seed), reported, aborted), journal, modelPrices: PRICES }, { runId: 'r' });
  const done = run.start();
  clock.runAll();
  const result = await done;
  // An attempt stopped with its run (before or after the executor saw it) never reports: its
  // reservation stands as its cost, conservatively.
  const lifecycle = new Set(['step_started', 'step_retried', 'step_completed', 'step_failed', 'step_cancelled']);
  const cancelled = events.filter((e, i) => e.type === 'step_cancelled' && events.slice(0, i).filter((x) => x.stepId === e.stepId && lifecycle.has(x.type)).at(-1)?.type === 'step_started');
  const held = cancelled.map((c) => events.filter((e): e is RunEventOf<'step_started'> => e.type === 'step_started' && e.stepId === c.stepId && e.seq < c.seq).at(-1)!.data.cost);
  return { result, events, reported: [...reported, ...held], attempts: reported.length + cancelled.length, aborted };
}

describe('budget ledger (§8.2)', () => {
  it('spend passes the budget only by journaled overruns, and the journal adds up to the run cost', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(capArb, { minLength: 1, maxLength: 4 }).chain((caps) =>
          fc.tuple(fc.constant(caps), fc.array(stepArb(caps.length), { minLength: 1, maxLength: 50 }), fc.double({ min: 0.0005, max: 0.1, noNaN: true }), fc.nat()),
        ),
        async ([caps, steps, budget, seed]) => {
          const { result, events, reported, attempts } = await runLedger(caps, steps, budget, seed);
          const spend = reported.reduce((a, b) => a + b, 0);
          const overruns = events.filter((e) => e.type === 'budget_overrun').map((e) => Number(e.data.over));
          // Actual spend: exactly what the attempts reported (and the reservations of those stopped with the run).
          expect(result.metadata.totalCost).toBeCloseTo(spend, 6);
          // The journal's costs add up: reservations charged at start, settled by cost_delta.
          const costDelta = (e: RunEvent): number => ('cost_delta' in e.data && typeof e.data.cost_delta === 'number' ? e.data.cost_delta : 0);
          const journaled = events.reduce((a, e) => a + (e.type === 'step_started' ? e.data.cost : 0) + costDelta(e), 0);
          expect(journaled).toBeCloseTo(result.metadata.totalCost, 6);
          const usageCosts = events.filter((e) => e.type === 'step_started').length;
          expect(usageCosts).toBe(attempts);
          // Spend within the budget, but for the recorded overruns (journaled to the millionth, as
          // every cost is: each may read up to half a millionth low).
          expect(spend).toBeLessThanOrEqual(budget + overruns.reduce((a, b) => a + b, 0) + overruns.length * 5e-7 + 1e-9);
          const bounded = caps.every((c) => c.maxTokens !== null && c.priced);
          if (bounded) {
            expect(overruns).toEqual([]);
            expect(spend).toBeLessThanOrEqual(budget + 1e-9);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a step that cannot reserve its worst case does not start, even with 50 in parallel', async () => {
    // 50 parallel calls, each reserving (prompt bound × 3 + 1000 × 15) / 1e6 ≈ 0.0152: 0.1 holds six.
    const caps = [{ estimate: 0, maxTokens: 1000, priced: true }];
    const steps = Array.from({ length: 50 }, () => ({ cap: 0, text: 'x', retries: 0 }));
    const { events, result } = await runLedger(caps, steps, 0.1, 1);
    const started = events.filter((e) => e.type === 'step_started');
    expect(started.length).toBeLessThanOrEqual(6);
    expect(Number(started[0]!.data.cost)).toBeGreaterThan(0.015);
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/budget exceeded/);
  });
});
