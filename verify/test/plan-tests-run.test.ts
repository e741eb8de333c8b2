/**
 * `orch test`'s runner (LANGUAGE.md §9.2) in this process: compiled test blocks run on the real
 * scheduler with every boundary mocked (no handler code runs) on a virtual clock — a 30-day wait,
 * backoff and decisions days later take no real time — with its journal in memory.
 */
import { describe, expect, it } from 'vitest';
import { compile, diskHost, type CompiledTest } from '../../compiler/index.js';
import { junitReport, runPlanTest, textReport, type TestResult } from '../index.js';
import { xmlChar } from '../plan-tests/report.js';

const DIR = '/virtual/tests';

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
  retry 5 backoff exponential 1s max 1h
}
capability summarize {
  kind llm
  input { text: string }
  output { title: string }
  handler "./h.js#summarize"
}
context {
  fraud_score: number
}
plan refund_flow {
  input { order_id: string, amount: money, note: string = "none" }
  step order = lookup(order_id: input.order_id)
  step sign_off = approval(approver: "group:finance", summary: "refund?", approvals: 2) { timeout 7d }
  step cool = wait(30d)
  step refund = charge(amount: input.amount) { after sign_off, cool }
  step sum = summarize(text: input.note) { after refund }
  output { refunded: input.amount, title: sum.output.title }
}
plan calls {
  step a = lookup(order_id: "1")
  step b = lookup(order_id: "2") { after a }
  step c = lookup(order_id: "3") { after b }
  step d = lookup(order_id: "50") { after c }
  output { ids: [a.output.id, b.output.id, c.output.id, d.output.id] }
}
policy hourly { rate_limit lookup 1 per 1h }
plan limited {
  policy hourly
  step a = lookup(order_id: "1")
  step b = lookup(order_id: "2")
  step c = lookup(order_id: "3")
  step slow = lookup(order_id: "4") { after a, b, c  timeout 30m }
}
plan late {
  deadline 1h
  step w = wait(5h)
}
plan gate_one {
  step ok = approval(approver: "lead", summary: "go?", not_starter: true)
}
plan gate_to {
  input { team: string = "group:finance" }
  step ok = approval(approver: input.team, summary: "go?", approvals: 2)
  step go = lookup(order_id: "o-1") { after ok }
}
plan gate {
  step ok = approval(approver: "group:finance", summary: "go?", approvals: 2, not_starter: true)
  step go = lookup(order_id: "o-1") { after ok }
}
plan scored {
  step a = lookup(order_id: "\${context.fraud_score}")
  step b = lookup(order_id: "\${context.fraud_score}") { after a }
}
plan raced {
  race r {
    step a = lookup(order_id: "1")
    step w = wait(1h)
  }
}
plan gate_child {
  step ok = approval(approver: "lead", summary: "go?")
}
plan gate_parent {
  step sub = run gate_child()
}
plan looked {
  input { id: string }
  step a = lookup(order_id: input.id)
}
plan looks {
  step sub = run looked(id: "o-7")
  for each id in ["o-8", "o-9"] {
    step each_sub = run looked(id: id)
  }
}
capability ask {
  kind llm
  input { q: string }
  output { a: string }
  prompt "\${input.q}"
  model "cheap"
  endpoint "e"
  requires big_llm
}
resource big { kind cloud_region  provides big_llm  endpoint "e"  model "dear" }
plan asks {
  step a = ask(q: "x")
}
plan shaped {
  for each id in ["o-1", "o-2", "o-3"] {
    step a = lookup(order_id: id) when id != "o-1"
    step b = lookup(order_id: a.output.id) { after a }
  }
  repeat loop max 3 until l.output.total >= 3usd {
    step l = lookup(order_id: "again")
  }
}
plan tell {
  step a = notify(channel: "#a", text: "one")
  step b = notify(channel: "#b", text: "two") { after a }
}
invariant cheap { always run.cost <= 1usd }
`;

function compileTests(body: string): CompiledTest[] {
  const files: Record<string, string> = { [`${DIR}/plans.orch`]: PLANS, [`${DIR}/h.js`]: 'export async function summarize() {}', [`${DIR}/main.test.orch`]: `import "./plans.orch" as r\n${body}` };
  const out = compile({ entry: `${DIR}/main.test.orch`, host: { readFile: (p) => files[p] ?? (p.startsWith(DIR) ? undefined : diskHost.readFile(p)) }, tests: true, navigation: false });
  const errors = out.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((d) => `${d.code} ${d.range.start.line}: ${d.message}`).join('\n'));
  return out.tests;
}

async function runOne(body: string, prices = {}): Promise<TestResult> {
  const [t] = compileTests(body);
  return runPlanTest(t!, { real: null, prices });
}

const HEAD = `
  plan r.refund_flow
  input { order_id: "o-1", amount: 800usd }
  mock r.lookup returns { id: "o-1", total: 800usd }
  mock r.summarize returns { title: "refunded" }`;

describe('running a test block', () => {
  it('runs a 30-day wait, two approvals and five retries with backoff on the virtual clock, and passes', async () => {
    const r = await runOne(`test "happy" {${HEAD}
  mock r.charge fails "declined" times 5 then returns { ok: true }
  approve sign_off by "alice", "bob" at 2d
  expect run.status == "completed" and refund.attempts == 6
  expect run.elapsed >= 30d and sign_off.completed
  expect run.output.refunded == 800usd and run.output.title == "refunded"
  expect len(calls(r.charge)) == 6 and calls(r.charge)[0].amount == 800usd and refund.input.amount == 800usd
  expect always not refund.started or sign_off.completed and cool.completed
}`);
    expect(r.failures).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.run_status).toBe('completed');
    // 30 days, then 1+2+4+8+16 s of backoff: virtual, so the test takes no real time for it.
    expect(r.elapsed_ms).toBe(30 * 86_400_000 + 31_000);
    const decided = r.timeline.filter((e) => e.type === 'approval_decided');
    expect(decided.map((e) => e.at_ms)).toEqual([2 * 86_400_000, 2 * 86_400_000]);
  });

  it('an always broken on the way shows the values it read then, not what they became by the end', async () => {
    const always = await runOne(`test "then" {${HEAD}
  mock r.charge returns { ok: true }
  approve sign_off by "alice", "bob"
  expect always calls(r.charge)[0].amount == 800usd
}`);
    // Broken before any call: the list it read was empty then, whatever it held at the end.
    expect(always.failures).toEqual([expect.objectContaining({ kind: 'expect', message: expect.stringContaining('became false at 0 ms'), values: { 'calls(r.charge)': [] } })]);
  });

  it('fails a false expect with the values it read, and an always broken on the way', async () => {
    const r = await runOne(`test "wrong" {${HEAD}
  mock r.charge returns { ok: true }
  approve sign_off by "alice", "bob"
  expect refund.attempts == 2
  expect always not refund.started
  expect len(calls(r.charge)) == 2
}`);
    expect(r.passed).toBe(false);
    expect(r.run_status).toBe('completed');
    const [always, final, calls] = r.failures;
    expect(always).toMatchObject({ kind: 'expect', line: 10, message: expect.stringContaining('expect always not refund.started became false at 2592000000 ms') });
    expect(final).toMatchObject({ kind: 'expect', line: 9, text: 'refund.attempts == 2', values: { 'refund.attempts': 1 } });
    // The calls it read, named as the test names the capability.
    expect(calls).toMatchObject({ kind: 'expect', line: 11, values: { 'calls(r.charge)': [{ amount: 800 }] } });
  });

  it('a run left waiting on an approval nobody decides fails, naming what waits', async () => {
    const r = await runOne(`test "stuck" {${HEAD}
  mock r.charge returns { ok: true }
  approve sign_off by "alice"
  expect run.status == "completed"
}`);
    expect(r.passed).toBe(false);
    // The approval times out after 7 virtual days: the run fails, nothing waits for ever.
    expect(r.run_status).toBe('failed');
    expect(r.failures[0]).toMatchObject({ kind: 'expect', values: { 'run.status': 'failed' } });
  });

  it('a rejection at a virtual time, a signal, where-mocks and answers in order', async () => {
    const r = await runOne(`test "rejected" {${HEAD}
  mock r.charge where input.amount > 1000usd returns { ok: false }
  mock r.charge returns { ok: true }
  reject sign_off by "carol" at 3d
  signal context.fraud_score = 0.9 at 1h
  expect sign_off.failed and not refund.started and run.status == "failed"
  expect context.fraud_score == 0.9 and len(calls(r.charge)) == 0
}`);
    expect(r.failures).toEqual([]);
    expect(r.timeline.find((e) => e.type === 'context_updated')?.at_ms).toBe(3_600_000);
  });

  it('prices a mock usage at the config price, counts it against the run, and checks the plan invariants', async () => {
    const r = await runOne(
      `test "usage" {
  plan r.refund_flow
  input { order_id: "o-1", amount: 800usd }
  mock r.lookup returns { id: "o-1", total: 800usd }
  mock r.charge returns { ok: true }
  mock r.summarize returns { title: "t" } usage { input_tokens: 1000000, output_tokens: 0, model: "m" }
  approve sign_off by "alice", "bob"
  expect run.cost >= 2usd
}`,
      { m: { input_per_mtok: 2, output_per_mtok: 10 } },
    );
    // The expect holds; the plan's own invariant does not.
    expect(r.passed).toBe(false);
    expect(r.failures).toEqual([expect.objectContaining({ kind: 'invariant', message: expect.stringMatching(/^always invariant "cheap" became false at \d+ ms \(virtual\)$/) })]);
  });

  it('a stale captured test is failed without running', async () => {
    const files = compileTests(`test "old" {
  captured_from "run-1" ir_hash "sha256:00"${HEAD}
  mock r.charge returns { ok: true }
  mock r.gone where input.x == 1 returns { ok: true }
  mock r.gone returns { ok: false }
  expect ship.completed
}`);
    const r = await runPlanTest(files[0]!, { real: null });
    expect(r.passed).toBe(false);
    expect(r.failures).toEqual([expect.objectContaining({ kind: 'stale', message: expect.stringContaining('ship') })]);
    // A name the test uses twice is listed once.
    expect(r.failures[0]!.message).toMatch(/no longer has (ship, r\.gone|r\.gone, ship)\n/);
    expect(r.timeline).toEqual([]);
  });

  it('a call is answered by the first where-mock that holds, else the plain mock, whose answers go in order and whose last repeats; a mock cost is charged per call', async () => {
    const r = await runOne(`test "answers" {
  plan r.calls
  mock r.lookup where input.order_id == "50" returns { id: "first where", total: 1usd }
  mock r.lookup where len(input.order_id) == 2 returns { id: "second where", total: 1usd }
  mock r.lookup returns { id: "one", total: 1usd } then { id: "two", total: 1usd } cost 0.25usd
  expect run.output.ids == ["one", "two", "two", "first where"]
  expect run.cost == 0.75usd and len(calls(r.lookup)) == 4
}`);
    expect(r.failures).toEqual([]);
  });

  it('rate-limit windows, timeouts and deadlines are virtual time too', async () => {
    const limited = await runOne(`test "limited" {
  plan r.limited
  mock r.lookup where input.order_id == "4" returns { id: "4", total: 1usd } latency 2h
  mock r.lookup returns { id: "x", total: 1usd }
  expect slow.failed and run.status == "failed"
}`);
    expect(limited.failures).toEqual([]);
    // One call an hour: the fourth starts at 3h, and its 30-minute timeout cuts its 2-hour answer.
    expect(limited.elapsed_ms).toBe(3.5 * 3_600_000);
    const late = await runOne(`test "late" {
  plan r.late
  expect run.status == "timeout" and run.elapsed == 1h
}`);
    expect(late.failures).toEqual([]);
  });

  // §9.2: with no auth block any name is a person, and §8.8's rules apply to the test's deciders.
  const GATE = `
  plan r.gate
  mock r.lookup returns { id: "o-1", total: 1usd } latency 3h`;

  it('an approver computed from the input is decided by members of the group it names, as a literal one is', async () => {
    const body = (by: string) => `test "t" {\n  plan r.gate_to\n  mock r.lookup returns { id: "o-1", total: 1usd }\n  approve ok by ${by}\n  expect go.completed\n}`;
    const two = await runOne(body('"alice", "bob"'));
    expect(two.failures).toEqual([]);
    // One person twice is still one person: the second approval is refused, the step waits.
    expect((await runOne(body('"alice", "alice"'))).run_status).toBe('stuck');
  });

  it('not_starter refuses the person started_by names; the others decide; a mock latency of hours is virtual', async () => {
    const r = await runOne(`test "gate" {${GATE}
  started_by "dave"
  approve ok by "dave", "erin", "frank"
  expect run.status == "completed" and run.started_by == "dave"
  expect ok.output.approvers == ["erin", "frank"]
}`);
    expect(r.failures).toEqual([]);
    expect(r.elapsed_ms).toBe(3 * 3_600_000);
  });

  it('an approver that names no decider is a label (the first decision decides), but never for the starter of a not_starter approval', async () => {
    const body = (by: string) => `test "t" {\n  plan r.gate_one\n  started_by "dave"\n  approve ok by ${by}\n  expect ok.completed\n}`;
    expect((await runOne(body('"erin"'))).passed).toBe(true);
    const r = await runOne(body('"dave"'));
    expect(r.run_status).toBe('stuck');
    expect(r.failures[0]!.message).toContain('approve ok by "dave" (line 5) was refused: dave started this run and may not decide its approval (not_starter)');
  });

  it('the starter is "test" by default; a person approves once: an approval nobody else decides leaves the run stuck, naming what waits', async () => {
    const why = { '"test", "erin"': 'approve ok by "test" (line 5) was refused: test started this run and may not decide its approval (not_starter)', '"alice", "alice"': 'approve ok by "alice" (line 5) was refused: alice has already approved; 2 distinct people must approve' };
    for (const [deciders, refused] of Object.entries(why)) {
      const r = await runOne(`test "one short" {${GATE}
  approve ok by ${deciders}
  expect run.started_by == "test"
}`);
      expect(r.passed, deciders).toBe(false);
      expect(r.failures, deciders).toEqual([{ kind: 'stuck', message: `the run is stuck: nothing can happen any more while ok waits (no timeout)\n${refused}` }]);
      expect(r.timeline.filter((e) => e.type === 'approval_decided'), deciders).toHaveLength(1);
    }
  });

  it('JUnit XML stays well-formed when a name or a failure carries control characters (a colour code pasted into it)', async () => {
    const r = await runOne(`test "tab\x01 <&>" {${HEAD}
  mock r.charge returns { ok: true }
  approve sign_off by "alice", "bob"
  expect run.output.title == "\x1b[31mdeclined\x1b[0m"
}`);
    expect(r.passed).toBe(false);
    const xml = junitReport([r], DIR);
    // XML 1.0 allows no C0 control but tab, newline and carriage return, not even as &#1;.
    expect([...xml].every((ch) => xmlChar(ch.codePointAt(0)!))).toBe(true);
    expect(xml).toContain('name="tab\\u0001 &lt;&amp;&gt;"');
    expect(xml).toContain('\\u001b[31mdeclined');
  });

  it('a call no where-mock takes, with no plain mock: a channel never reached, its attempt fails', async () => {
    const r = await runOne(`test "t" {
  plan r.tell
  mock notify where input.channel == "#a" returns { delivered: true, channel: "#a" }
  expect a.completed and b.failed and run.status == "failed"
}`);
    expect(r.failures).toEqual([]);
    // Said as the test names it, and why its mocks did not answer.
    expect(r.timeline.find((e) => e.type === 'step_failed')?.detail).toBe('notify reaches a channel: no where of its mocks holds for this call');
  });

  it('a signal at 0s is in the context the run starts with: its first steps read it', async () => {
    const r = await runOne(`test "t" {
  plan r.scored
  context { fraud_score: 0.1 }
  mock r.lookup returns { id: "x", total: 1usd }
  signal context.fraud_score = 0.9 at 0s
  expect a.input.order_id == "0.9" and b.input.order_id == "0.9"
}`);
    expect(r.failures).toEqual([]);
  });

  it("a failed expect shows the blocks it read (a race's winner) among its values", async () => {
    const r = await runOne(`test "t" {
  plan r.raced
  mock r.lookup returns { id: "x", total: 1usd }
  expect r.winner == "w"
}`);
    expect(r.failures).toEqual([expect.objectContaining({ kind: 'expect', values: { 'r.winner': 'a' } })]);
  });

  it("a run stuck on a sub-plan's approval names it, as orch approve would address it", async () => {
    const r = await runOne('test "t" {\n  plan r.gate_parent\n}');
    expect(r.failures).toEqual([{ kind: 'stuck', message: 'the run is stuck: nothing can happen any more while sub waits for the approval sub/ok (no timeout)' }]);
  });

  it('the text report shows run.elapsed it read in ms and as the duration an expect writes', async () => {
    const r = await runOne(`test "t" {${HEAD}
  mock r.charge returns { ok: true }
  approve sign_off by "alice", "bob"
  expect run.elapsed < 1d
}`);
    expect(textReport([r], DIR)).toContain('run.elapsed = 2592000000 (30d)');
  });

  it('the text report shows what the run spent with its currency, as money is written (run.cost = 0.002usd)', async () => {
    const r = await runOne(`test "t" {${HEAD}
  mock r.charge returns { ok: true } cost 0.002usd
  approve sign_off by "alice", "bob"
  expect run.cost > 1usd and refund.cost > 1usd
}`);
    const text = textReport([r], DIR);
    expect(text).toContain('run.cost = 0.002usd');
    expect(text).toContain('refund.cost = 0.002usd');
  });

  it('JUnit XML gives each testcase and testsuite its time (real seconds) and counts errors apart from failures', () => {
    const base = { file: `${DIR}/a.test.orch`, line: 1, plan: 'p', run_status: 'completed', elapsed_ms: 86_400_000, timeline: [], covered: [] };
    const results: TestResult[] = [
      { ...base, name: 'ok', passed: true, failures: [], duration_ms: 1500 },
      { ...base, name: 'wrong', passed: false, failures: [{ kind: 'expect', message: 'expect x does not hold' }], duration_ms: 250 },
      { ...base, name: 'broke', passed: false, run_status: 'not run', failures: [{ kind: 'error', message: 'handler crashed' }], duration_ms: 4 },
    ];
    const xml = junitReport(results, DIR);
    expect(xml).toContain('<testsuites name="orch test" tests="3" failures="1" errors="1" time="1.754">');
    expect(xml).toContain('<testsuite name="a.test.orch" tests="3" failures="1" errors="1" time="1.754">');
    expect(xml).toContain('<testcase name="ok" classname="p" file="a.test.orch" line="1" time="1.500"/>');
    expect(xml).toContain('<failure message="expect x does not hold">');
    expect(xml).toContain('<error message="handler crashed">handler crashed</error>');
  });

  it("a mock usage without a model is priced at the model the call uses: the bound resource's, else the capability's (§8.1)", async () => {
    const r = await runOne('test "t" {\n  plan r.asks\n  mock r.ask returns { a: "y" } usage { input_tokens: 1000000, output_tokens: 0 }\n  expect run.cost == 0.5usd\n}', {
      cheap: { input_per_mtok: 0.1, output_per_mtok: 0 },
      dear: { input_per_mtok: 0.5, output_per_mtok: 0 },
    });
    expect(r.failures).toEqual([]);
  });

  it("a sub-plan step's input is the input its run got (inside for each, one per item)", async () => {
    const r = await runOne(`test "t" {
  plan r.looks
  mock r.lookup returns { id: "x", total: 1usd }
  expect sub.input.id == "o-7" and each_sub.input == [{ id: "o-8" }, { id: "o-9" }]
  expect len(calls(r.lookup)) == 3
}`);
    expect(r.failures).toEqual([]);
  });

  it('STEP.input is shaped as STEP.output: by item inside for each (null where none started), the last iteration in a loop', async () => {
    const r = await runOne(`test "t" {
  plan r.shaped
  mock r.lookup where input.order_id == "o-2" returns { id: "o-2", total: 1usd } latency 1h
  mock r.lookup where input.order_id == "again" returns { id: "l", total: 1usd } then { id: "l", total: 2usd } then { id: "l", total: 3usd }
  mock r.lookup returns { id: input.order_id, total: 1usd } latency 1m
  expect a.input == [null, { order_id: "o-2" }, { order_id: "o-3" }]
  expect b.input == [null, { order_id: "o-2" }, { order_id: "o-3" }]
  expect l.input == { order_id: "again" } and l.output.total == 3usd
}`);
    expect(r.failures).toEqual([]);
  });

  it("an approval step's input is what it evaluated when it started waiting", async () => {
    const r = await runOne(`test "t" {${HEAD}
  mock r.charge returns { ok: true }
  approve sign_off by "alice", "bob"
  expect sign_off.input.summary == "refund?" and sign_off.input.approver == "group:finance" and sign_off.input.approvals == 2
}`);
    expect(r.failures).toEqual([]);
  });
});
