/**
 * Mutation score of the examples' tests (issue #52): `node dist/bench/mutation/score.js [--smoke]`
 * (not a bench area: it measures the tests, not speed). Compiles every example's `*.test.orch`,
 * applies each operator of mutation/operators.ts at every step of each tested plan, runs that
 * plan's tests against the mutant, and prints the share killed (a test failed) and the survivors.
 * Exit 1 under 90 %. `--smoke` stops after the first plan.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile, type CompiledTest } from '../../compiler/index.js';
import { LazyWorkers, runPlanTest, testFiles } from '../../verify/index.js';
import { mutantsOf } from './operators.js';

const TARGET = 0.9;
const repo = join(fileURLToPath(import.meta.url), '..', '..', '..', '..');
const smokeOnly = process.argv.includes('--smoke');

const byPlan = new Map<string, CompiledTest[]>();
for (const file of testFiles([join(repo, 'examples')])) {
  for (const t of compile({ entry: file, navigation: false, tests: true }).tests) {
    const key = `${t.file}|${t.planName}`;
    byPlan.set(key, [...(byPlan.get(key) ?? []), t]);
  }
}
const real = new LazyWorkers();
let total = 0;
const survivors: string[] = [];
try {
  for (const [key, tests] of byPlan) {
    for (const m of mutantsOf(tests[0]!.planName, tests)) {
      total++;
      let killed = false;
      for (const t of tests) {
        if (!(await runPlanTest(m.apply(t), { real })).passed) {
          killed = true;
          break;
        }
      }
      if (!killed) survivors.push(`${key.split('/examples/')[1] ?? key} ${m.step}: ${m.operator}`);
    }
    if (smokeOnly) break;
  }
} finally {
  await real.close();
}
const score = total === 0 ? 1 : (total - survivors.length) / total;
console.log(`mutation score: ${total - survivors.length} of ${total} mutants killed (${(score * 100).toFixed(1)} %, target ≥ ${TARGET * 100} %)`);
for (const s of survivors) console.log(`  survived: ${s}`);
process.exitCode = score >= TARGET ? 0 : 1;
