/**
 * `orch test --capture` fidelity (LANGUAGE.md §9.2): a run of a plan with a `for each … parallel
 * 2` and a `@personal` input read by a `when`, killed (SIGKILL) while a step runs and finished by
 * `orch resume`, is captured; the captured test passes, keys the parallel calls by their input,
 * never writes the personal value, and re-run as a test gives every step instance the same
 * sequence of events as the original run (timestamps, interleaving and the attempt the crash
 * lost aside). Once its plan changes the test is stale — failed, listing the plan's changes since
 * the capture (from the test's names, or with --db as `orch diff` does against the captured run's
 * plan) — and `--update` rewrites it to pass.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PlanIR } from '../../compiler/index.js';
import { openBackend, type RunEvent } from '../../runtime/index.js';
import { orch, orchAsync, projectDir } from '../../runtime/test/helpers.js';
import { captureTest, LazyWorkers, runTestFiles, updateCapturedTests } from '../index.js';
import { instanceLabel } from '../trace.js';
import { sequences } from './step-sequences.js';

const HANDLERS = `
import { existsSync, writeFileSync } from 'node:fs';
export function work(i) { return { v: i.v * 10 }; }
export async function hold(i) {
  if (!existsSync(i.dir + '/release')) {
    writeFileSync(i.dir + '/started', '');
    await new Promise(() => {});
  }
  return { n: i.n };
}
export function greet(i) { return { sent: i.to.length > 0 }; }
`;

const PLAN = `
capability work { kind tool  input { v: int }  output { v: int }  handler "./h.js#work"  idempotent true }
capability hold { kind tool  input { n: int, dir: string }  output { n: int }  handler "./h.js#hold"  idempotent true }
capability greet { kind tool  input { to: string }  output { sent: bool }  handler "./h.js#greet"  idempotent true }
plan p {
  input { items: list<int>, email: string @personal, dir: string }
  for each x in input.items parallel 2 {
    step w = work(v: x)
  }
  step h = hold(n: 1, dir: input.dir)
  step g = greet(to: input.email) when input.email != ""
  output { n: h.output.n, sent: g.output.sent }
}
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('orch test --capture', () => {
  it('captures a crashed-and-resumed run with parallel calls and a personal value; the test passes with the same events per step', async () => {
    const dir = projectDir('{}');
    writeFileSync(join(dir, 'h.js'), HANDLERS);
    writeFileSync(join(dir, 'p.orch'), PLAN);
    const db = join(dir, 'runs.db');
    const input = JSON.stringify({ items: [1, 2, 3], email: 'ada@example.com', dir });
    const first = orchAsync(['run', 'p.orch', '--input', input, '--db', db, '--run-id', 'cap-1', '--quiet'], dir);
    for (let i = 0; i < 600 && !existsSync(join(dir, 'started')); i++) await sleep(50);
    expect(existsSync(join(dir, 'started'))).toBe(true);
    first.child.kill('SIGKILL');
    await first.done;
    writeFileSync(join(dir, 'release'), '');
    const resumed = orch(['resume', 'cap-1', '--db', db, '--quiet'], dir);
    expect(resumed.code, resumed.stderr).toBe(0);

    const backend = await openBackend(db);
    const journal = (await backend.journal()).store;
    const row = (await journal.getRun('cap-1'))!;
    const events = await journal.load('cap-1');
    await backend.close();
    const plan = JSON.parse(row.ir!) as PlanIR;
    const file = join(dir, 'p.test.orch');
    const { text, result } = await captureTest({ runId: 'cap-1', plan, events: events as RunEvent[] }, { file });
    expect(result.passed).toBe(true);
    expect(text).not.toContain('ada@example.com');
    expect(text).toContain('input { items: [1, 2, 3], email: "personal-1"');
    for (const v of [1, 2, 3]) expect(text).toContain(`mock p.work where input == { v: ${v} } returns { v: ${v * 10} }`);
    expect(text).toContain('captured_from "cap-1" ir_hash "');

    const original = sequences(events.filter((e) => e.stepId !== null).map((e) => ({ key: e.stepId!, type: e.type })));
    const replayed = sequences(result.timeline.filter((e) => e.step !== null).map((e) => ({ key: instanceLabel(e.step!, e.item), type: e.type })));
    expect(Object.keys(original).sort()).toEqual(['g', 'h', 'w[0]', 'w[1]', 'w[2]']);
    expect(replayed).toEqual(original);
    // The original had the lost attempt: the comparison above is not trivially equal.
    expect(events.filter((e) => e.type === 'step_started' && e.stepId === 'h')).toHaveLength(2);

    // Written and run as a test by the CLI, it passes there too (and the file checks).
    writeFileSync(file, text);
    const r = orch(['test', 'p.test.orch'], dir);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(text);

    // The plan changes (g renamed): the captured test is stale, and --update rewrites it so it passes again.
    writeFileSync(join(dir, 'p.orch'), PLAN.replace('step g = greet', 'step greeted = greet').replace('g.output.sent', 'greeted.output.sent'));
    const stale = await runTestFiles([file]);
    const failure = stale.kind === 'results' ? stale.results[0]!.failures[0]! : null;
    expect(failure?.kind).toBe('stale');
    // Without the journal: the changes the test's own names show.
    expect(failure?.message).toMatch(/it no longer has g\n {2}changes \(from the names the test uses[^\n]*\n {4}- step g\n {4}\+ step greeted\n {2}recapture it with orch test --update /);
    // With it (--db): orch diff's list against the plan the captured run executed.
    const listed = orch(['test', 'p.test.orch', '--db', db], dir);
    expect(listed.code, listed.stdout + listed.stderr).toBe(1);
    expect(listed.stdout).toContain('changes (the plan now against the captured run’s):');
    expect(listed.stdout).toMatch(/^ {8}- step g$/m);
    expect(listed.stdout).toMatch(/^ {8}\+ step greeted$/m);
    const real = new LazyWorkers();
    const { text: updated, updated: changes } = await updateCapturedTests(file, { real }).finally(() => real.close());
    expect(changes).toEqual([
      {
        name: 'captured from run cap-1',
        removed: [expect.stringMatching(/^captured_from "cap-1" ir_hash/), 'expect g.completed'],
        added: [expect.stringMatching(/^captured_from "cap-1" ir_hash/), 'expect greeted.completed'],
      },
    ]);
    expect(updated).not.toContain('ada@example.com');
    writeFileSync(file, updated);
    const again = await runTestFiles([file]);
    expect(again.kind === 'results' && again.results.map((x) => x.passed)).toEqual([true]);
  }, 120_000);
});
