/**
 * `orch test` runs its tests on a pool of threads (LANGUAGE.md §9.2: "in parallel on the
 * available cores"): a real multi-test file run on 2 threads gives exactly the results, in the
 * same order, as the same file run in this thread — failures and coverage included.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTestFiles, testFiles } from '../index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'orch-test-par-'));
writeFileSync(
  path.join(dir, 'shop.orch'),
  `capability charge {
  kind tool
  input { amount: money }
  output { ok: bool }
  retry 3 backoff exponential 1s
}
plan shop {
  input { amount: money, big: bool }
  step pay = charge(amount: input.amount)
  step wait_a_day = wait(1d) when input.big
  output { paid: pay.output.ok }
}
`,
);
const tests = Array.from({ length: 12 }, (_, i) => {
  const big = i % 2 === 0;
  const fails = i % 3 === 0;
  return `test "case ${i}" {
  plan s.shop
  input { amount: ${i + 1}usd, big: ${big} }
  mock s.charge ${fails ? 'fails "declined"' : 'returns { ok: true }'}
  expect run.status == "${fails ? 'failed' : 'completed'}"${i === 7 ? '\n  expect run.elapsed == 5d' : ''}
}
`;
});
writeFileSync(path.join(dir, 'shop.test.orch'), `import "./shop.orch" as s\n\n${tests.join('\n')}`);

describe('orch test on a pool of threads', () => {
  it('gives the same results in the same order as one thread', async () => {
    const one = await runTestFiles([dir], { workers: 1 });
    const pool = await runTestFiles([dir], { workers: 2, minParallel: 2 });
    if (one.kind !== 'results' || pool.kind !== 'results') throw new Error('compile errors');
    expect(one.threads).toBe(1);
    expect(pool.threads).toBe(2);
    expect(pool.results.map((r) => r.name)).toEqual(tests.map((_, i) => `case ${i}`));
    // The same but for the real time each took (JUnit's time), which every result has.
    const timeless = (rs: typeof one.results) => rs.map(({ duration_ms, ...r }) => (expect(duration_ms).toBeGreaterThanOrEqual(0), r));
    expect(timeless(pool.results)).toEqual(timeless(one.results));
    expect(pool.coverage).toEqual(one.coverage);
    // The one failing test fails the same way on either.
    expect(pool.results.filter((r) => !r.passed).map((r) => r.name)).toEqual(['case 7']);
  });

  it('runs each file once however often it is named (a file and its folder, twice)', () => {
    const file = path.join(dir, 'shop.test.orch');
    expect(testFiles([dir, file, `${dir}/./shop.test.orch`])).toEqual([file]);
  });

  it("a handler's module state starts afresh in each test, on one thread or several", async () => {
    const own = mkdtempSync(path.join(tmpdir(), 'orch-test-state-'));
    writeFileSync(path.join(own, 'package.json'), '{"type":"module"}\n');
    writeFileSync(path.join(own, 'count.js'), 'let n = 0;\nexport async function count() { n += 1; return { n }; }\n');
    writeFileSync(path.join(own, 'c.orch'), 'capability count { kind tool  input { k: int }  output { n: int }  handler "./count.js#count" }\nplan once {\n  input { k: int }\n  step c = count(k: input.k)\n}\n');
    const body = [1, 2, 3, 4].map((k) => `test "t${k}" {\n  plan c.once\n  input { k: ${k} }\n  expect c.output.n == 1\n}\n`).join('');
    writeFileSync(path.join(own, 'c.test.orch'), `import "./c.orch" as c\n${body}`);
    for (const opts of [{ workers: 1 }, { workers: 2, minParallel: 2 }]) {
      const run = await runTestFiles([own], opts);
      if (run.kind !== 'results') throw new Error('compile errors');
      expect(run.results.map((r) => [r.name, r.passed]), JSON.stringify(opts)).toEqual([1, 2, 3, 4].map((k) => [`t${k}`, true]));
    }
  });
});
