/**
 * The gate in front of the worker pool (pool-gate.ts): tasks that end at once keep to the cores,
 * tasks that wait let the pool grow up to its bound, and close refuses what it still holds.
 */
import { describe, expect, it } from 'vitest';
import { PoolGate, WAITING_MS } from '../executor/pool-gate.js';

function counter() {
  let now = 0;
  let most = 0;
  return {
    task: <T>(work: () => Promise<T>) => async () => {
      now++;
      most = Math.max(most, now);
      try {
        return await work();
      } finally {
        now--;
      }
    },
    most: () => most,
  };
}

describe('PoolGate', () => {
  it('tasks that end at once never have more than the cores in the pool, and run in order', async () => {
    const gate = new PoolGate(2, 8);
    const c = counter();
    const order: number[] = [];
    await Promise.all(Array.from({ length: 50 }, (_, i) => gate.run(c.task(async () => void order.push(i)))));
    expect(c.most()).toBe(2);
    expect(order).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('tasks that wait stop counting against the cores, up to the bound', async () => {
    const gate = new PoolGate(1, 3);
    const c = counter();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const started: number[] = [];
    const all = Array.from({ length: 5 }, (_, i) => gate.run(c.task(async () => (started.push(i), held))));
    await expect.poll(() => started.length, { timeout: 10 * WAITING_MS }).toBe(3);
    expect(c.most()).toBe(3);
    release();
    await Promise.all(all);
    expect(started).toEqual([0, 1, 2, 3, 4]);
  });

  it('close refuses the tasks it still holds', async () => {
    const gate = new PoolGate(1, 1);
    let release!: () => void;
    const first = gate.run(() => new Promise<void>((r) => (release = r)));
    const second = gate.run(async () => 'never');
    gate.close(new Error('closing'));
    await expect(second).rejects.toThrow('closing');
    release();
    await first;
  });
});
