/**
 * The stage runner (compiler/stages.ts) and the two lists of stages: a stage that returns false
 * stops its list; the timer counts each millisecond once, in the innermost stage running; the
 * lists' names are unique, the compile's are the check's plus what only builds the IR.
 */
import { describe, expect, it } from 'vitest';
import { PLAN_CHECK_STAGES, PLAN_COMPILE_STAGES } from '../assemble/assemble.js';
import { CHECK_STAGES, COMPILE_STAGES } from '../program.js';
import { runStages, StageTimer, type Stage } from '../stages.js';

describe('runStages', () => {
  it('runs the stages in order over one record, and stops after one that returns false', () => {
    const seen: string[] = [];
    const stage = (name: string, go?: boolean): Stage<string[]> => ({ name, run: (f) => { f.push(name); return go; } });
    expect(runStages([stage('a'), stage('b', false), stage('c')], seen)).toBe(false);
    expect(seen).toEqual(['a', 'b']);
    const timed: string[] = [];
    expect(runStages([stage('a'), stage('b', true), stage('c')], timed, new StageTimer())).toBe(true);
    expect(timed).toEqual(['a', 'b', 'c']);
  });

  it('times each stage without the stages run within it, summed over its runs', () => {
    let clock = 0;
    const timer = new StageTimer(() => clock);
    const inner: Stage<null>[] = [{ name: 'inner', run: () => void (clock += 5) }];
    const outer: Stage<null>[] = [
      { name: 'first', run: () => void (clock += 1) },
      { name: 'outer', run: () => { clock += 2; runStages(inner, null, timer); clock += 3; runStages(inner, null, timer); } },
    ];
    runStages(outer, null, timer);
    runStages(outer, null, timer);
    expect(timer.timings()).toEqual([
      { name: 'first', depth: 0, ms: 2, runs: 2 },
      { name: 'outer', depth: 0, ms: 10, runs: 2 },
      { name: 'inner', depth: 1, ms: 20, runs: 4 },
    ]);
  });

  it('keeps timing when a stage throws', () => {
    let clock = 0;
    const timer = new StageTimer(() => clock);
    expect(() => runStages([{ name: 'boom', run: () => { clock += 4; throw new Error('x'); } }], null, timer)).toThrow('x');
    runStages([{ name: 'after', run: () => void (clock += 1) }], null, timer);
    expect(timer.timings()).toEqual([{ name: 'boom', depth: 0, ms: 4, runs: 1 }, { name: 'after', depth: 0, ms: 1, runs: 1 }]);
  });
});

describe('the stage lists', () => {
  const names = (l: readonly { readonly name: string }[]) => l.map((s) => s.name);
  it('name every stage once, program and plan stages apart (the timer sums by name)', () => {
    const all = [...names(COMPILE_STAGES), ...names(PLAN_COMPILE_STAGES)];
    expect(new Set(all).size).toBe(all.length);
    for (const n of all) expect(n).toMatch(/^[a-z]+(-[a-z]+)*$/);
  });

  it('compile runs the check stages, then only what builds the IR', () => {
    expect(names(COMPILE_STAGES)).toEqual([...names(CHECK_STAGES), 'select']);
    expect(names(PLAN_COMPILE_STAGES)).toEqual([...names(PLAN_CHECK_STAGES), 'emit-ir']);
  });
});
