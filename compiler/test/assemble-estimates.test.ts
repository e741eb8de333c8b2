/**
 * The estimate stages (compiler/assemble/estimates.ts) and the stages around them: each step's
 * cost and duration times its `for each` items (in waves of `parallel`), the DAG (a cycle stops
 * the plan's stages), the plan's best and worst case with races and loops, and the budgets' W0502.
 */
import { describe, expect, it } from 'vitest';
import { planFactsThrough } from './stage-facts.js';

const CAPS = `
capability work { kind tool input { n: int } output { n: int } cost 0.1usd latency 1s }
capability slow { kind tool input { n: int } output { n: int } cost 0.1usd latency 5s }
`;

describe('the step-estimates stage', () => {
  it('multiplies a step in a for each by its items, its duration by the waves parallel allows', () => {
    const text = `${CAPS}
plan p {
  for each x in [1, 2, 3, 4, 5] parallel 2 {
    step w = work(n: x)
  }
  step pause = wait 3s
}
`;
    const { facts } = planFactsThrough(text, 'p', 'step-estimates');
    expect(facts.costs[0]).toBeCloseTo(0.5);
    expect(facts.durations[0]).toBe(3000);
    expect(facts.costs[1]).toBe(0);
    expect(facts.durations[1]).toBe(3000);
    expect(facts.dag).toBeUndefined();
  });

  it('in nested for each blocks, each runs its own items parallel N at a time in every item around it (§7.1)', () => {
    const text = `${CAPS}
plan p {
  for each team in [1, 2, 3] parallel 3 {
    for each member in [1, 2] parallel 1 {
      step greet = work(n: team + member)
    }
  }
  for each a in [1, 2, 3] parallel 2 {
    for each b in [1, 2, 3, 4] {
      step each_pair = work(n: a + b)
    }
  }
}
`;
    const { facts } = planFactsThrough(text, 'p', 'step-estimates');
    expect(facts.costs.map((c) => Math.round(c * 10) / 10)).toEqual([0.6, 1.2]);
    // Three teams at once, each greeting its two members one after the other: two rounds of 1 s,
    // not six. Two of the three at once, each with its four at once: two rounds.
    expect(facts.durations).toEqual([2000, 2000]);
  });
});

describe('the dag stage', () => {
  it('orders the steps by what they read and their after, stage by stage', () => {
    const text = `${CAPS}\nplan p {\n  step b = work(n: a.output.n) { after c }\n  step a = work(n: 1)\n  step c = work(n: 2)\n}\n`;
    const { facts, ran } = planFactsThrough(text, 'p', 'dag');
    expect(ran).toBe(true);
    expect(facts.depsOf[0]).toEqual(['a', 'c']);
    expect(facts.dag.order).toEqual(['a', 'c', 'b']);
  });

  it('stops the plan\'s stages at a cycle, reported as E0301', () => {
    const text = `${CAPS}\nplan p {\n  step a = work(n: b.output.n)\n  step b = work(n: a.output.n)\n}\n`;
    const { ran, reported, facts } = planFactsThrough(text, 'p', 'emit-ir');
    expect(ran).toBe(false);
    expect(reported.map((d) => d.code)).toEqual(['E0301']);
    expect(facts.ir).toBeUndefined();
  });
});

describe('the estimates stage', () => {
  it('takes a race at its fastest branch and a loop once in the best case, max times in the worst', () => {
    const text = `${CAPS}
plan p {
  race r {
    step quick = work(n: 1)
    step late = slow(n: 1)
  }
  repeat again max 3 until step2.output.n > 1 {
    step step2 = work(n: r.output.n)
  }
}
`;
    const { facts } = planFactsThrough(text, 'p', 'estimates');
    expect(facts.cost).toBeCloseTo(0.3);
    expect(facts.duration).toBe(2000);
    expect(facts.costMax).toBeCloseTo(0.5);
    expect(facts.durationMax).toBe(4000);
    expect(facts.maxIterations).toBe(true);
  });

  it('without races, loops or rate limits the DAG gives the estimates', () => {
    const text = `${CAPS}\nplan p {\n  step a = work(n: 1)\n  step b = slow(n: a.output.n)\n}\n`;
    const { facts } = planFactsThrough(text, 'p', 'estimates');
    expect(facts.duration).toBe(6000);
    expect(facts.durationMax).toBe(6000);
    expect(facts.criticalPath).toBeUndefined();
    expect(facts.dag.criticalPath).toEqual(['a', 'b']);
  });
});

describe('the budgets stage', () => {
  it('warns (W0502) when the estimates exceed the policy\'s budgets, and says when only the loops\' max does', () => {
    const text = `${CAPS}
policy tight { budget cost <= 0.15usd  budget duration <= 3s }
policy loose { budget cost <= 0.25usd  budget duration <= 1h }
plan p {
  policy tight
  step a = slow(n: 1)
  repeat again max 3 until b.output.n > 1 {
    step b = work(n: a.output.n)
  }
}
plan q {
  policy loose
  step a = slow(n: 1)
  repeat again max 3 until b.output.n > 1 {
    step b = work(n: a.output.n)
  }
}
`;
    const { reported } = planFactsThrough(text, 'p', 'budgets');
    expect(reported.map((d) => d.code)).toEqual(['W0502', 'W0502']);
    expect(reported[0]!.message).toBe('estimated cost 0.20usd of plan "p" exceeds the budget 0.15usd of policy tight');
    expect(reported[1]!.message).toBe('estimated duration 6s of plan "p" exceeds the budget 3s of policy tight');
    const loops = planFactsThrough(text, 'q', 'budgets').reported;
    expect(loops.map((d) => d.message)).toEqual(['estimated cost 0.40usd of plan "q" when every loop runs its max iterations exceeds the budget 0.25usd of policy loose']);
  });
});
