/**
 * Seeded randomness for tests that pick random delays or victims: the seed comes from
 * ORCH_TEST_SEED when set (to replay a failure), else it is drawn; a failing test prints it, so
 * the same choices can be made again.
 *
 *   const random = seededRandom();           // inside the test
 *   await sleep(Math.floor(random() * 200));
 */
import { onTestFailed } from 'vitest';

export interface SeededRandom {
  /** The next number in [0, 1). */
  (): number;
  readonly seed: number;
}

/** A deterministic generator (mulberry32) from `seed`. */
export function randomFrom(seed: number): SeededRandom {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Object.assign(next, { seed });
}

/**
 * A generator for the current test, seeded from ORCH_TEST_SEED or at random; the seed is printed
 * when the test fails. Call it inside a test (it registers the failure hook on that test).
 */
export function seededRandom(): SeededRandom {
  const given = Number(process.env.ORCH_TEST_SEED);
  const seed = Number.isInteger(given) && process.env.ORCH_TEST_SEED !== '' ? given : Math.floor(Math.random() * 2 ** 31);
  onTestFailed(() => {
    process.stderr.write(`\nthis test's random choices came from seed ${seed}: ORCH_TEST_SEED=${seed} replays them\n`);
  });
  return randomFrom(seed);
}
