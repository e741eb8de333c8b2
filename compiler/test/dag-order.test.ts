import { describe, expect, it } from 'vitest';
import { buildDag } from '../dag.js';

/** A random DAG of `n` steps (edges only to earlier steps) declared in a shuffled order. */
function randomSteps(n: number, seed: number): { id: string; deps: string[]; duration: number }[] {
  let x = seed;
  const next = (): number => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
  const ids = Array.from({ length: n }, (_, i) => `s${i}`);
  const steps = ids.map((id, i) => ({ id, deps: ids.slice(0, i).filter(() => next() < 3 / (i + 1)), duration: 1 }));
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [steps[i], steps[j]] = [steps[j]!, steps[i]!];
  }
  return steps;
}

describe('the DAG order as step indexes', () => {
  it('is the named order, step for step: stage by stage, declaration order within a stage', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const steps = randomSteps(60, seed);
      const dag = buildDag(steps);
      expect(dag.cycles).toEqual([]);
      // `order` is made from the indexes: both are checked against the stages themselves.
      expect([...dag.orderIndexes].map((i) => steps[i]!.id)).toEqual(dag.stages.flat());
      expect(dag.order).toEqual(dag.stages.flat());
    }
  });

  it('walks every step once, each after its dependencies, in declaration order where they allow', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const steps = randomSteps(60, seed);
      const dag = buildDag(steps);
      const walk = [...dag.walkIndexes];
      expect([...walk].sort((a, b) => a - b)).toEqual(steps.map((_, i) => i));
      const placed = new Set<string>();
      for (const i of walk) {
        for (const d of steps[i]!.deps) expect(placed.has(d)).toBe(true);
        placed.add(steps[i]!.id);
      }
    }
    // Dependencies only on earlier steps: the declaration order itself.
    const chain = Array.from({ length: 200 }, (_, i) => ({ id: `s${i}`, deps: i % 50 === 0 ? [] : [`s${i - 1}`, ...(i >= 50 && i % 10 === 9 ? [`s${i - 50}`] : [])], duration: 1 }));
    expect([...buildDag(chain).walkIndexes]).toEqual(chain.map((_, i) => i));
    // A forward reference: the step read is walked first.
    expect([...buildDag([{ id: 'a', deps: ['c'], duration: 1 }, { id: 'b', deps: [], duration: 1 }, { id: 'c', deps: [], duration: 1 }]).walkIndexes]).toEqual([2, 0, 1]);
  });

  it("finds a step's dependency by name among its own, as the table of every step does", () => {
    for (let seed = 1; seed <= 10; seed++) {
      const steps = randomSteps(60, seed);
      const dag = buildDag(steps);
      steps.forEach((s, i) => {
        for (const d of s.deps) expect(dag.depIndex(i, d)).toBe(dag.indexOf(d));
        for (const t of steps) if (!s.deps.includes(t.id)) expect(dag.depIndex(i, t.id)).toBe(-1);
      });
    }
  });

  it('has every step of a plan without dependencies, in declaration order', () => {
    const dag = buildDag([{ id: 'a', deps: [], duration: 1 }, { id: 'b', deps: [], duration: 2 }]);
    expect([...dag.orderIndexes]).toEqual([0, 1]);
    expect(dag.order).toEqual(['a', 'b']);
  });

  it('is empty when the plan has a cycle, like the named order', () => {
    const dag = buildDag([{ id: 'a', deps: ['b'], duration: 1 }, { id: 'b', deps: ['a'], duration: 1 }]);
    expect(dag.cycles.length).toBe(1);
    expect([...dag.orderIndexes]).toEqual([]);
    expect([...dag.walkIndexes]).toEqual([]);
    expect(dag.order).toEqual([]);
  });
});
