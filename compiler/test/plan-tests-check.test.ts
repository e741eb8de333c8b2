/**
 * `test` blocks in the compiler (LANGUAGE.md §9.2): `orch check` checks them from files alone —
 * names as the test's file sees them (E0901, W0907 in a captured test), values against the plan's
 * and capabilities' types (E0201), mocks for every boundary (E0906) — and `compile({ tests })`
 * lowers them for the runner; a compile for `compile`, `run` or `serve` leaves them alone.
 */
import { describe, expect, it } from 'vitest';
import { compile, check, explanationFor } from '../index.js';
import { DIR, memoryHost } from './helpers.js';
import type { Diagnostic } from '../../language/index.js';

const PLANS = `
capability lookup {
  kind tool
  input { order_id: string }
  output { id: string, total: money }
}
capability charge {
  kind tool
  input { amount: money }
  output { ok: bool }
  retry 3 backoff exponential 1s max 30s
}
context {
  fraud_score: number
  region: string  max_age 1h
  risky: bool = context.fraud_score > 0.5
}
plan refund_flow {
  input { order_id: string, amount: money }
  step order = lookup(order_id: input.order_id)
  step sign_off = approval(approver: "group:finance", summary: "refund?", approvals: 2)
  step refund = charge(amount: input.amount) { after sign_off }
  step tell = notify(channel: "#ops", text: "refunded") { after refund }
  output { refunded: input.amount }
}
`;

const GOOD = `
import "./plans.orch" as refunds

test "a refund needs two people" {
  plan refunds.refund_flow
  input { order_id: "o-1", amount: 800usd }
  context { fraud_score: 0.1 }
  mock refunds.charge fails "card declined" times 2 then returns { ok: true } latency 2s
  mock refunds.lookup where input.order_id == "o-1" returns { id: "o-1", total: 800usd }
  mock notify returns { delivered: true, channel: "#ops" }
  approve sign_off by "alice", "bob" at 1h
  signal context.fraud_score = 0.9 at 30m
  expect run.status == "completed" and refund.attempts == 3
  expect refund.input.amount == 800usd and len(calls(refunds.charge)) == 3
  expect always not refund.started or sign_off.completed
}
`;

function files(test: string): Record<string, string> {
  return { [`${DIR}/plans.orch`]: PLANS, [`${DIR}/main.test.orch`]: test };
}

function checkTest(test: string): Diagnostic[] {
  return check({ entry: `${DIR}/main.test.orch`, host: memoryHost(files(test)) });
}

function compileTests(test: string, tests = true) {
  return compile({ entry: `${DIR}/main.test.orch`, host: memoryHost(files(test)), tests });
}

const problems = (ds: readonly Diagnostic[]) => ds.filter((d) => d.severity !== 'info' && d.code !== 'W0601').map((d) => `${d.code} ${d.file.split('/').pop()}:${d.range.start.line} ${d.message}`);

/** A test body around the plan header, input and the mocks every test of it needs. */
const wrap = (lines: string, head = '') => `
import "./plans.orch" as refunds
test "t" {
  ${head}
  plan refunds.refund_flow
  input { order_id: "o-1", amount: 800usd }
  mock notify returns { delivered: true, channel: "#ops" }
  ${lines}
}
`;

describe('checking test blocks', () => {
  it('accepts a well-formed test and compiles it for the runner', () => {
    expect(problems(checkTest(GOOD))).toEqual([]);
    const out = compileTests(GOOD);
    expect(problems(out.diagnostics)).toEqual([]);
    const [t] = out.tests;
    expect(t!.name).toBe('a refund needs two people');
    expect(t!.planName).toBe('refunds.refund_flow');
    expect(t!.plan.plan).toBe('refund_flow');
    const charge = t!.mocks.find((m) => m.written === 'refunds.charge')!;
    expect(charge.answers.map((a) => a.ok)).toEqual([false, false, true]);
    expect(charge.latency_ms).toBe(2000);
    expect(t!.mocks.find((m) => m.written === 'refunds.lookup')!.where).not.toBeNull();
    expect(t!.decisions).toEqual([expect.objectContaining({ decision: 'approve', step: 'sign_off', at_ms: 3_600_000 })]);
    expect(t!.decisions[0]!.by.map((p) => p.written)).toEqual(['alice', 'bob']);
    expect(t!.signals).toEqual([expect.objectContaining({ signal: 'fraud_score', at_ms: 1_800_000 })]);
    expect(t!.expects.map((e) => e.always)).toEqual([false, false, true]);
  });

  it('leaves tests alone when compiling for compile, run and serve', () => {
    const broken = wrap('expect nothing_here.completed');
    const out = compileTests(broken, false);
    expect(out.tests).toEqual([]);
    expect(problems(out.diagnostics)).toEqual([]);
  });

  it('E0901: an unknown plan, step, capability or signal, a non-approval decided, a negative time', () => {
    expect(problems(checkTest(`test "t" {\n  plan refund_flw\n}\n`))).toEqual([expect.stringMatching(/^E0901 main.test.orch:2 test "t" names unknown plan "refund_flw"/)]);
    const got = problems(
      checkTest(
        wrap(`mock refunds.nothing returns {}
  mock transform returns { value: 1 }
  approve order by "alice"
  reject sign_off by "carol" at -1h
  signal context.fraud = 1.0 at 1h
  expect refnd.completed`),
      ),
    );
    expect(got).toEqual([
      expect.stringMatching(/^E0901 main.test.orch:8 unknown capability "refunds.nothing"/),
      expect.stringMatching(/^E0901 main.test.orch:9 plan refund_flow never calls capability "transform"/),
      expect.stringMatching(/^E0901 main.test.orch:10 step order is not an approval/),
      expect.stringMatching(/^E0901 main.test.orch:11 a virtual time cannot be negative/),
      expect.stringMatching(/^E0901 main.test.orch:12 unknown signal "context.fraud"/),
      expect.stringMatching(/^E0901 main.test.orch:13 plan refund_flow has no step "refnd"; did you mean "refund"\?/),
    ]);
  });

  it('E0201: a mock answer, an input or a context of the wrong type, and an expect that is no bool', () => {
    const got = problems(
      checkTest(`
import "./plans.orch" as refunds
test "t" {
  plan refunds.refund_flow
  input { order_id: 3, amont: 1usd }
  context { fraud_score: "high" }
  mock notify returns { delivered: true, channel: "#ops" }
  mock refunds.charge returns { ok: 1 }
  mock refunds.lookup returns { id: "o-1", totl: 1usd }
  expect run.cost
}
`),
    );
    expect(got.every((g) => g.startsWith('E0201'))).toBe(true);
    expect(got.some((g) => g.includes(':5') && g.includes('"amont"'))).toBe(true);
    expect(got.some((g) => g.includes(':5') && g.includes('at order_id') && g.includes('expects string'))).toBe(true);
    expect(got.some((g) => g.includes(':6'))).toBe(true);
    expect(got.some((g) => g.includes(':8') && g.includes('the answer of mock refunds.charge'))).toBe(true);
    expect(got.some((g) => g.includes(':9') && g.includes('"totl"'))).toBe(true);
    expect(got.some((g) => g.includes(':10') && g.includes('expect needs a bool'))).toBe(true);
  });

  it('E0201: a mock answering a field of an empty output names the type as {}', () => {
    const text = 'capability ping {\n  kind tool\n  input { }\n  output { }\n}\nplan p {\n  step a = ping()\n}\ntest "t" {\n  plan p\n  mock ping returns { amount: 1 }\n}\n';
    const ds = check({ entry: `${DIR}/empty.test.orch`, host: memoryHost({ [`${DIR}/empty.test.orch`]: text }) });
    expect(problems(ds)).toEqual(['E0201 empty.test.orch:11 the answer of mock ping has no field "amount" ({})']);
  });

  it("E0201: a field the plan's output does not have, read from run.output (null before the run ends)", () => {
    expect(problems(checkTest(wrap('expect run.output.refunded == 800usd and run.output == { refunded: 800usd }\n  expect always run.output == null or run.output.refunded > 0usd')))).toEqual([]);
    expect(problems(checkTest(wrap('expect run.output.refundd == 800usd')))).toEqual([expect.stringMatching(/^E0201 main.test.orch:8 .*has no field "refundd"; did you mean "refunded"\?/)]);
    // run.* is what the run's actuals hold: no `steps`, which read null at run time.
    expect(problems(checkTest(wrap('expect run.steps == 4')))).toEqual([expect.stringMatching(/^E0201 main.test.orch:8 .*has no field "steps"/)]);
  });

  it('E0201: a test with no input line, of a plan whose input has required fields, at its plan line', () => {
    expect(problems(checkTest('import "./plans.orch" as refunds\ntest "t" {\n  plan refunds.refund_flow\n  mock notify returns { delivered: true, channel: "#ops" }\n}\n'))).toEqual([
      expect.stringMatching(/^E0201 main.test.orch:3 the input of plan refunds.refund_flow misses the required fields "order_id", "amount"/),
    ]);
  });

  it("E0203: a mock's cost in another currency than the program's costs and budgets; compile, which ignores tests, says nothing", () => {
    const plans = PLANS.replace('  retry 3 backoff exponential 1s max 30s', '  retry 3 backoff exponential 1s max 30s\n  cost 0.01usd');
    const test = wrap('mock refunds.charge returns { ok: true } cost 1eur\n  mock refunds.lookup returns { id: "o-1", total: 1usd } cost 2usd');
    const host = memoryHost({ [`${DIR}/plans.orch`]: plans, [`${DIR}/main.test.orch`]: test });
    expect(problems(check({ entry: `${DIR}/main.test.orch`, host }))).toEqual([expect.stringMatching(/^E0203 main.test.orch:8 costs and budgets must use one currency: this is eur, others are usd/)]);
    expect(problems(compile({ entry: `${DIR}/main.test.orch`, host }).diagnostics)).toEqual([]);
  });

  it('E0102: two tests of one file with one name (the editor and --filter tell tests by name)', () => {
    const one = wrap('expect refund.completed').replace('test "t"', 'test "same"');
    const got = problems(checkTest(one + one.replace('import "./plans.orch" as refunds\n', '')));
    expect(got).toEqual([expect.stringMatching(/^E0102 main.test.orch:11 test "same" is declared twice in this file \(first on line 3\)/)]);
  });

  it('E0102: a second mock of one capability without where, which would never answer', () => {
    const got = problems(checkTest(wrap('mock refunds.charge returns { ok: true }\n  mock refunds.charge where input.amount > 1usd returns { ok: false }\n  mock refunds.charge returns { ok: false }')));
    expect(got).toEqual([expect.stringMatching(/^E0102 main.test.orch:10 mock refunds.charge without where is given twice \(first on line 8\): only the first would answer/)]);
  });

  it('a blank test name is E0201, a blank person or group E0901: nobody would stand for them', () => {
    expect(problems(checkTest(wrap('expect refund.completed').replace('test "t"', 'test " "')))).toEqual([expect.stringMatching(/^E0201 main.test.orch:3 a test needs a name/)]);
    const got = problems(checkTest(wrap('approve sign_off by "", "group:"', 'started_by " "')));
    expect(got).toEqual([
      expect.stringMatching(/^E0901 main.test.orch:4 unknown person " ": a person needs a name/),
      expect.stringMatching(/^E0901 main.test.orch:8 unknown person "": a person needs a name/),
      expect.stringMatching(/^E0901 main.test.orch:8 unknown person "group:": group:G needs the group's name/),
    ]);
  });

  it('E0901 at a started_by that names a group: a run is started by one person, not by whichever member comes first', () => {
    const got = problems(checkTest(wrap('expect refund.completed', 'started_by "group:finance"')));
    expect(got).toEqual([expect.stringMatching(/^E0901 main.test.orch:4 started_by names the person who started the run, not a group \("group:finance"\)/)]);
    // A group still decides approvals, and a person still starts the run.
    expect(problems(checkTest(wrap('approve sign_off by "group:finance"', 'started_by "dave"')))).toEqual([]);
  });

  it("E0901 at a decision of a sub-plan's approval says where it stands and to test the sub-plan", () => {
    const plans = `
plan inner {
  step ok = approval(approver: "bob", summary: "s")
}
plan middle {
  step m = run inner()
}
plan outer {
  step s = run middle()
}
`;
    const test = 'import "./plans.orch" as p\ntest "t" {\n  plan p.outer\n  approve ok by "bob"\n}\n';
    const host = memoryHost({ [`${DIR}/plans.orch`]: plans, [`${DIR}/main.test.orch`]: test });
    expect(problems(check({ entry: `${DIR}/main.test.orch`, host }))).toEqual([
      expect.stringMatching(/^E0901 main.test.orch:4 plan outer has no step "ok": s\/m\/ok is an approval of a sub-plan, decided in that sub-plan's own run — test the sub-plan itself/),
    ]);
  });

  it('a context may set some signals only; setting a derived signal is E0905, as for a source', () => {
    expect(problems(checkTest(wrap('', 'context { fraud_score: 0.2 }')))).toEqual([]);
    expect(problems(checkTest(wrap('', 'context { region: "eu" }')))).toEqual([]);
    // Still checked field by field: the wrong type and a field the context lacks.
    expect(problems(checkTest(wrap('', 'context { region: 3 }')))).toEqual([expect.stringMatching(/^E0201 main.test.orch:4 .*at region/)]);
    expect(problems(checkTest(wrap('', 'context { regoin: "eu" }')))).toEqual([expect.stringMatching(/^E0201 main.test.orch:4 .*"regoin"/)]);
    expect(problems(checkTest(wrap('signal context.risky = true at 1m', 'context { risky: false }')))).toEqual([
      expect.stringMatching(/^E0905 main.test.orch:4 "risky" is a derived signal: it is computed, not set by a test/),
      expect.stringMatching(/^E0905 main.test.orch:8 "risky" is a derived signal: it is computed, not set by a test/),
    ]);
  });

  it('a program without a context block: a signal of any name and type may be set, as `context { … }` may', () => {
    const plans = `
capability lookup {
  kind tool
  input { n: int }
  output { n: int }
}
plan p {
  input { n: int }
  step w = wait until context.ready == true timeout 1d
  step l = lookup(n: context.level) { after w }
}
`;
    const test = `
import "./plans.orch" as x
test "t" {
  plan x.p
  input { n: 1 }
  context { level: 4 }
  signal context.ready = true at 1h
  signal context.level = 5 at 2h
}
`;
    const ds = check({ entry: `${DIR}/main.test.orch`, host: memoryHost({ [`${DIR}/plans.orch`]: plans, [`${DIR}/main.test.orch`]: test }) });
    expect(problems(ds)).toEqual([]);
  });

  it('E0906 at the plan step that would reach a channel with no mock, gone once mocked', () => {
    const bare = `
import "./plans.orch" as refunds
test "t" {
  plan refunds.refund_flow
  input { order_id: "o-1", amount: 800usd }
}
`;
    const got = checkTest(bare).filter((d) => d.code === 'E0906');
    expect(got).toHaveLength(1);
    expect(got[0]!.file).toBe(`${DIR}/plans.orch`);
    expect(got[0]!.message).toContain('step tell can call notify, which reaches a channel');
    expect(got[0]!.related?.[0]?.file).toBe(`${DIR}/main.test.orch`);
    expect(checkTest(wrap('')).filter((d) => d.code === 'E0906')).toEqual([]);
  });

  it('E0906 for a capability of a module the test does not import says to import it: its compiled name is no name there', () => {
    const child = `
capability ask {
  kind llm
  input { q: string }
  output { a: string }
  prompt "q \${input.q}"
  endpoint "local"
  model "m"
}
plan child {
  input { q: string }
  step c = ask(q: input.q)
  output { a: c.output.a }
}
`;
    const parent = `import "./lib/child.orch" as kid\nplan parent {\n  step s = run kid.child(q: "x")\n}\n`;
    const test = (extra: string) => `import "./parent.orch" as p\n${extra}test "t" {\n  plan p.parent\n}\n`;
    const at = (t: string) => check({ entry: `${DIR}/main.test.orch`, host: memoryHost({ [`${DIR}/lib/child.orch`]: child, [`${DIR}/parent.orch`]: parent, [`${DIR}/main.test.orch`]: t }) });
    const [e] = at(test('')).filter((d) => d.code === 'E0906');
    const hint = /add `import "([^"]+)" as (\w+)` to main\.test\.orch and `mock (\S+) returns …` to the test/.exec(e!.message);
    expect(hint, e!.message).not.toBeNull();
    // Following the hint makes the test whole.
    const [, path, alias, mocked] = hint!;
    expect([path, alias, mocked]).toEqual(['./lib/child.orch', 'child', 'child.ask']);
    // Mocked by its compiled name, it is unknown there, and E0901 says the same.
    expect(problems(at(test('').replace('plan p.parent', 'plan p.parent\n  mock child.ask returns { a: "y" }'))).find((d) => d.startsWith('E0901'))).toContain('add `import "./lib/child.orch" as child`');
    const fixed = at(test(`import "${path}" as ${alias}\n`).replace('plan p.parent', `plan p.parent\n  mock ${mocked} returns { a: "y" }`));
    expect(problems(fixed.filter((d) => d.severity === 'error'))).toEqual([]);
  });

  it('W0907: a captured test naming a step its plan no longer has is stale, not an error', () => {
    const captured = wrap('expect wave.completed', 'captured_from "run-1" ir_hash "sha256:0b1c"');
    expect(problems(checkTest(captured))).toEqual([expect.stringMatching(/^W0907 main.test.orch:8 plan refund_flow has no step "wave".*stale/)]);
    const [t] = compileTests(captured).tests;
    expect(t!.stale).toEqual(['wave']);
    expect(t!.origin).toEqual({ run: 'run-1', ir_hash: 'sha256:0b1c' });
  });

  it('W0907 alone: a stale captured test is not E0906 for a boundary its plan gained (it does not run; --update asks for the mock)', () => {
    // The captured mock names a capability the plan renamed; the plan's notify has no mock.
    const captured = `
import "./plans.orch" as refunds
test "t" {
  captured_from "run-1" ir_hash "sha256:0b1c"
  plan refunds.refund_flow
  input { order_id: "o-1", amount: 800usd }
  mock refunds.tell_ops returns { delivered: true }
}
`;
    expect(problems(checkTest(captured))).toEqual([expect.stringMatching(/^W0907 main.test.orch:7 unknown capability "refunds.tell_ops".*stale/)]);
    expect(compileTests(captured).tests[0]!.stale).toEqual(['refunds.tell_ops']);
    // Not captured, the same test is E0901 and E0906, as ever.
    expect(problems(checkTest(captured.replace(/ {2}captured_from[^\n]*\n/, ''))).map((p) => p.slice(0, 5)).sort()).toEqual(['E0901', 'E0906']);
  });

  it('every test code has an explanation', () => {
    for (const code of ['E0901', 'E0906', 'W0907']) expect(explanationFor(code)?.code).toBe(code);
  });
});
