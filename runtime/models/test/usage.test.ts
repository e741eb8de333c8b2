/**
 * `ctx.usage()` for every handler (LANGUAGE.md §8.1), through real worker threads: several calls
 * add up, the step's cost is what was reported (else tokens × the config's price for the model,
 * else the estimate), and the usage is journaled with the attempt's end event.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../../compiler/index.js';
import { parseModelsConfig, Runtime } from '../../index.js';
import type { RunEventOf } from '../../scheduler/types.js';

let dir: string;
let rt: Runtime;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'orch-usage-'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  writeFileSync(
    join(dir, 'h.js'),
    `export function costs(input, ctx) { ctx.usage({ cost: 0.01, input_tokens: 5 }); ctx.usage({ cost: 0.02, output_tokens: 7, model: 'm' }); return { ok: true }; }
export function tokens(input, ctx) { ctx.usage({ input_tokens: 1000000, output_tokens: 500000, model: 'priced' }); return { ok: true }; }
export function silent() { return { ok: true }; }
export function unpriced(input, ctx) { ctx.usage({ input_tokens: 10, output_tokens: 20, model: 'free-text' }); return { ok: true }; }
export async function slow(input, ctx) { ctx.usage({ cost: 0.5 }); await new Promise((r) => setTimeout(r, 5000)); return { ok: true }; }
export function junk(input, ctx) { ctx.usage({ cost: -5, input_tokens: 'many', model: 42, extra: 'x' }); ctx.usage(null); return { ok: true }; }`,
  );
  writeFileSync(
    join(dir, 'main.orch'),
    `capability costs { input {} output { ok: bool } handler "./h.js#costs" cost 1usd }
capability tokens { input {} output { ok: bool } handler "./h.js#tokens" cost 1usd }
capability silent { input {} output { ok: bool } handler "./h.js#silent" cost 0.5usd }
capability junk { input {} output { ok: bool } handler "./h.js#junk" cost 0.25usd }
capability unpriced { input {} output { ok: bool } handler "./h.js#unpriced" cost 0.125usd }
plan p { step a = costs()  step b = tokens()  step c = silent()  step d = junk()  step e = unpriced() }`,
  );
  rt = await Runtime.open({ db: join(dir, 'runs.db'), workers: 1 });
});
afterAll(async () => {
  await rt?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ctx.usage', () => {
  it('adds up, prices tokens of a priced model, and is journaled; a silent handler, or tokens of an unpriced model, cost the estimate', async () => {
    const out = compile({ entry: join(dir, 'main.orch') });
    const models = parseModelsConfig({ prices: { priced: { input_per_mtok: 1, output_per_mtok: 2 } } }, 'orch.config.json');
    const active = await rt.start(out.plans[0]!, { config: { file: null, hooks: {}, secrets: {}, models } });
    const result = await active.result;
    expect(result.status).toBe('completed');
    const by = Object.fromEntries(result.steps.map((s) => [s.stepId, s]));
    expect(by.a!.cost).toBeCloseTo(0.03, 9);
    expect(by.a!.usage).toEqual({ input_tokens: 5, output_tokens: 7, model: 'm', endpoint: null });
    expect(by.b!.cost).toBeCloseTo(2, 9);
    expect(by.c!.cost).toBeCloseTo(0.5, 9);
    expect(by.c!.usage).toBeUndefined();
    // Nonsense fields are dropped; nothing reported that counts, so the estimate stands.
    expect(by.d!.cost).toBeCloseTo(0.25, 9);
    expect(by.d!.usage).toBeUndefined();
    // Tokens of a model the config has no price for: the capability's cost, the usage still recorded.
    expect(by.e!.cost).toBeCloseTo(0.125, 9);
    expect(by.e!.usage).toMatchObject({ input_tokens: 10, output_tokens: 20, model: 'free-text' });
    expect(result.metadata.totalCost).toBeCloseTo(0.03 + 2 + 0.5 + 0.25 + 0.125, 9);
    const events = rt.journal!.load(active.runId);
    const a = events.find((e): e is RunEventOf<'step_completed'> => e.type === 'step_completed' && e.stepId === 'a')!;
    expect(a.data.usage).toEqual({ input_tokens: 5, output_tokens: 7, cost: 0.03, model: 'm' });
  });

  it('what a handler reported before its attempt timed out counts: its retry does not start past the budget, and the overrun is journaled', async () => {
    const file = join(dir, 'slow.orch');
    writeFileSync(file, `capability slow { input {} output { ok: bool } handler "./h.js#slow" cost 0.1usd timeout 300ms retry 2 backoff fixed 1ms }
policy tight { budget cost <= 0.3usd }
plan p { policy tight  step a = slow() }`);
    const out = compile({ entry: file });
    const active = await rt.start(out.plans[0]!);
    const result = await active.result;
    const events = rt.journal!.load(active.runId);
    // One attempt only: it spent 0.5 (reported), past the budget, so no retry starts.
    expect(events.filter((e) => e.type === 'step_started')).toHaveLength(1);
    expect(result.steps[0]!.cost).toBe(0.5);
    expect(result.metadata.totalCost).toBe(0.5);
    expect(events.find((e) => e.type === 'budget_overrun')?.data).toMatchObject({ reserved: 0.1, actual: 0.5 });
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/^budget exceeded/);
  });
});

