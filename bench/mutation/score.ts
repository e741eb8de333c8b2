/**
 * Mutation score of the examples' tests (issue #52): `node dist/bench/mutation/score.js [--smoke]`
 * (not a bench area: it measures the tests, not speed). Compiles every example's `*.test.orch`,
 * applies each operator of mutation/operators.ts at every step of each tested plan, runs that
 * plan's tests against the mutant, and prints the share killed (a test failed) and the survivors.
 * The equivalent mutants of equivalent.ts are left out of the share and printed with their reason;
 * one of them killed, or an entry that names no mutant, is an error. Exit 1 under 90 % or on such
 * an error. `--smoke` stops after the first plan.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile, type CompiledTest } from '../../compiler/index.js';
import { LazyWorkers, runPlanTest, testFiles } from '../../verify/index.js';
import { EQUIVALENT, equivalentOf, type EquivalentMutant } from './equivalent.js';
import { mutantsOf, type Mutant } from './operators.js';

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
const killedBy = async (m: Mutant, tests: readonly CompiledTest[]): Promise<boolean> => {
  for (const t of tests) if (!(await runPlanTest(m.apply(t), { real })).passed) return true;
  return false;
};
let total = 0;
const survivors: string[] = [];
const equivalent: string[] = [];
const errors: string[] = [];
const seen = new Set<EquivalentMutant>();
try {
  for (const [key, tests] of byPlan) {
    const where = key.split('/examples/')[1] ?? key;
    for (const m of mutantsOf(tests[0]!.planName, tests)) {
      const eq = equivalentOf(tests[0]!.plan.plan, m.step, m.operator);
      const killed = await killedBy(m, tests);
      if (eq) {
        seen.add(eq);
        equivalent.push(`${where} ${m.step}: ${m.operator} — ${eq.reason}`);
        if (killed) errors.push(`${where} ${m.step}: ${m.operator} is listed as equivalent (equivalent.ts) but a test kills it`);
        continue;
      }
      total++;
      if (!killed) survivors.push(`${where} ${m.step}: ${m.operator}`);
    }
    if (smokeOnly) break;
  }
} finally {
  await real.close();
}
if (!smokeOnly) for (const e of EQUIVALENT.filter((x) => !seen.has(x))) errors.push(`equivalent.ts names ${e.plan} ${e.step}: ${e.operator}, which is no mutant of the examples`);
const score = total === 0 ? 1 : (total - survivors.length) / total;
console.log(`mutation score: ${total - survivors.length} of ${total} mutants killed (${(score * 100).toFixed(1)} %, target ≥ ${TARGET * 100} %); ${equivalent.length} equivalent left out`);
for (const s of survivors) console.log(`  survived: ${s}`);
for (const s of equivalent) console.log(`  equivalent: ${s}`);
for (const s of errors) console.log(`  error: ${s}`);
process.exitCode = score >= TARGET && errors.length === 0 ? 0 : 1;
