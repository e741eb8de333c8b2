/**
 * A handler that no mock answers runs for real in `orch test` (LANGUAGE.md §9.2), on the real
 * runtime's budgets: what it reports with `ctx.usage()` is what its attempt cost (§8.1) — tokens
 * of a model the config prices are priced as `orch run` prices them. The test runner took the
 * tokens and kept the estimate: a run over its budget under `orch run` completed under test.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTestFiles } from '../index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'orch-test-usage-'));
writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}\n');
writeFileSync(path.join(dir, 'orch.config.json'), JSON.stringify({ prices: { m1: { input_per_mtok: 1000, output_per_mtok: 2000 } } }));
writeFileSync(
  path.join(dir, 'h.js'),
  `export function tokens(i, ctx) { ctx.usage({ input_tokens: 1000, output_tokens: 100, model: "m1" }); return { a: "ok" }; }
export function unpriced(i, ctx) { ctx.usage({ input_tokens: 1000, output_tokens: 100, model: "nobody-prices-me" }); return { a: "ok" }; }
export function said(i, ctx) { ctx.usage({ cost: 0.25 }); ctx.usage({ cost: 0.5 }); return { a: "ok" }; }
`,
);
writeFileSync(
  path.join(dir, 'spend.orch'),
  `capability ask { kind tool  input { q: string }  output { a: string }  handler "./h.js#tokens"  cost 0.01usd }
capability free { kind tool  input { q: string }  output { a: string }  handler "./h.js#unpriced"  cost 0.01usd }
capability told { kind tool  input { q: string }  output { a: string }  handler "./h.js#said"  cost 0.01usd }
policy capped { budget cost <= 1usd }
plan priced {
  policy capped
  step a = ask(q: "x")
  step b = ask(q: "y") { after a }
}
plan others {
  step f = free(q: "x")
  step t = told(q: "y")
}
test "tokens of a priced model cost their price, against the budget" {
  plan priced
  expect a.cost == 1.2usd and run.cost == 1.2usd
  expect run.status == "failed" and not b.started
}
test "an unpriced model costs the estimate; a cost said is the cost" {
  plan others
  expect f.cost == 0.01usd and t.cost == 0.75usd
}
`,
);

describe('orch test: what a real handler reports it cost', () => {
  it('is priced and counted as orch run counts it', async () => {
    const run = await runTestFiles([dir], { workers: 1 });
    if (run.kind !== 'results') throw new Error(JSON.stringify(run.diagnostics));
    expect(run.results.map((r) => [r.name, r.failures])).toEqual([
      ['tokens of a priced model cost their price, against the budget', []],
      ['an unpriced model costs the estimate; a cost said is the cost', []],
    ]);
  });
});
