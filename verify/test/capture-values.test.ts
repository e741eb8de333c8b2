/**
 * What `orch test --capture` writes of a run's values (LANGUAGE.md §9.2: "the run's input and
 * context, a `mock` per boundary call …; the captured test is run before it is written and must
 * pass"): money is written with a currency — a bare number is no `money` to the test's checker —
 * in the program's own currency when it has one, else usd (the plan's output has no schema in the
 * IR: `run.output`'s fields are untyped to a test, so its money is written as a number); a cost a
 * call reported is its mock's `cost`; a copy of a personal value is its placeholder; and a run of
 * a plan version its file no longer holds is refused with the names that are gone.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../../compiler/index.js';
import type { RunEvent } from '../../runtime/index.js';
import { tempDir } from '../../runtime/test/helpers.js';
import { captureTest, runPlanTest } from '../index.js';
import { runAndCapture } from './capture-source.js';

/** Runs the test `body` of `plan` (in plans.orch) and captures a test from its journal. */
async function captureOf(plan: string, body: string) {
  const { ran, captured } = await runAndCapture(plan, body);
  expect(ran.passed).toBe(true);
  return captured;
}

const charge = (cost: string) => `
capability charge { kind tool  input { amount: money }  output { fee: money }${cost} }
plan p {
  input { amount: money }
  step b = charge(amount: input.amount)
  output { fee: b.output.fee }
}
`;

describe('capturing values', () => {
  it('a plan whose file names its module (module marketing.campaigns) is imported under an alias that is a name', async () => {
    const plan = 'module marketing.campaigns\ncapability go { kind tool  input { n: int }  output { ok: bool } }\nplan launch {\n  step a = go(n: 1)\n}\n';
    const { ran, captured } = await runAndCapture(plan, '  plan plans.launch\n  mock plans.go returns { ok: true }\n');
    expect(ran.passed).toBe(true);
    expect(captured.text).toContain('import "./plans.orch" as campaigns\n');
    expect(captured.text).toContain('  plan campaigns.launch\n');
    expect(captured.text).toContain('  mock campaigns.go returns { ok: true }');
    expect(captured.result.passed).toBe(true);
  });

  it("a capability of another module the plan imports is mocked under an import of that module's file; the captured test passes", async () => {
    const lib = 'capability fetch { kind tool  input { u: string }  output { v: string } }\ncapability again { kind tool  input { u: string }  output { v: string } }\n';
    const plan = 'import "./lib/tools.orch" as t\nplan m {\n  step f = t.fetch(u: "x")\n  step g = t.again(u: f.output.v)\n  output { v: g.output.v }\n}\n';
    const { ran, captured } = await runAndCapture(plan, '  plan plans.m\n  mock t.fetch returns { v: "a" }\n  mock t.again returns { v: "b" }\n', { 'lib/tools.orch': lib }, 'import "./lib/tools.orch" as t\n');
    expect(ran.passed).toBe(true);
    expect(captured.text).toContain('import "./lib/tools.orch" as tools\n');
    expect(captured.text).toContain('  mock tools.fetch returns { v: "a" }');
    expect(captured.text).toContain('  mock tools.again returns { v: "b" }');
    expect(captured.text).toContain('  expect run.output == { v: "b" }');
    expect(captured.result.passed).toBe(true);
  });

  it('a map whose keys are no names (HTTP headers) is written with string keys, and the captured test passes', async () => {
    const plan = `
capability fetch { kind tool  input { u: string }  output { status: int, headers: map<string> } }
plan h {
  step f = fetch(u: "x")
  output { h: f.output.headers }
}
`;
    const { text, result } = await captureOf(plan, '  plan plans.h\n  mock plans.fetch returns { status: 200, headers: { "content-type": "text/plain", "x-\\${k}": "v" } }\n');
    expect(text).toContain('  mock plans.fetch returns { status: 200, headers: { "content-type": "text/plain", "x-\\${k}": "v" } }');
    expect(text).toContain('  expect run.output == { h: { "content-type": "text/plain", "x-\\${k}": "v" } }');
    expect(result.passed).toBe(true);
  });

  it('money of a program that writes no currency is written in usd, and the captured test passes', async () => {
    const { text, result } = await captureOf(charge(''), '  plan plans.p\n  input { amount: 5usd }\n  mock plans.charge returns { fee: 2usd }\n');
    expect(text).toContain('  input { amount: 5usd }');
    expect(text).toContain('  mock plans.charge returns { fee: 2usd }');
    expect(result.passed).toBe(true);
  });

  it("money of a program whose costs are in eur (without a budget) is written in eur", async () => {
    const { text, result } = await captureOf(charge('  cost 0.01eur'), '  plan plans.p\n  input { amount: 5eur }\n  mock plans.charge returns { fee: 2eur }\n');
    expect(text).toContain('  input { amount: 5eur }');
    expect(text).toContain('  mock plans.charge returns { fee: 2eur }');
    expect(result.passed).toBe(true);
  });
});

describe('capturing spend', () => {
  it('a call whose handler reported a cost (no tokens) is mocked at that cost: the captured test spends what the run did', async () => {
    const plan = `
capability f { kind tool  input { x: int }  output { y: int }  cost 0.01usd }
policy cap { budget cost <= 1usd }
plan p {
  policy cap
  step a = f(x: 1)
  step b = f(x: 2) { after a }
  output { y: b.output.y }
}
`;
    const { text, result } = await captureOf(plan, '  plan plans.p\n  mock plans.f where input.x == 1 returns { y: 1 } cost 0.4usd\n  mock plans.f returns { y: 2 } cost 0.25usd\n');
    expect(text).toContain('  mock plans.f where input == { x: 1 } returns { y: 1 } cost 0.40usd');
    expect(text).toContain('  mock plans.f where input == { x: 2 } returns { y: 2 } cost 0.25usd');
    expect(result.passed).toBe(true);
  });
});

describe('capturing private values', () => {
  it('a personal value copied into an answer of another class or into an error is written as its placeholder', async () => {
    const plan = `
capability look { kind tool  input { email: string }  output { note: string }  retry 1 }
plan p {
  input { email: string @personal }
  step a = look(email: input.email)
  output { note: a.output.note }
}
`;
    const { text, result } = await captureOf(
      plan,
      '  plan plans.p\n  input { email: "ada@example.com" }\n  mock plans.look fails "no user ada@example.com" times 1 then returns { note: "found ada@example.com" }\n',
    );
    expect(text).not.toContain('ada@example.com');
    expect(text).toContain('input { email: "personal-1" }');
    expect(text).toContain('mock plans.look fails "no user personal-1" times 1 then returns { note: "found personal-1" }');
    expect(text).toContain('expect run.output == { note: "found personal-1" }');
    expect(result.passed).toBe(true);
  });

  it('a personal value of a closed type (a string enum, a literal, in a list, optional) keeps its value: the only ones of its type; the rest are placeholders', async () => {
    const plan = `
type Seen = "x" | "y"
capability look { kind tool  input { id: string }  output { tier: "gold" | "silver" @personal, tags: list<"a" | "b"> @sensitive, seen: Seen? @personal, name: string @personal } }
plan p {
  input { tier: "gold" | "silver" @personal, kind: "vip" @personal, n: int @personal }
  step a = look(id: "1")
  step b = look(id: "2") when a.output.tier == "gold"
  output { t: a.output.tier, k: input.kind }
}
`;
    const { text, result } = await captureOf(
      plan,
      '  plan plans.p\n  input { tier: "silver", kind: "vip", n: 42 }\n  mock plans.look returns { tier: "gold", tags: ["b"], seen: "y", name: "Ada Lovelace" }\n',
    );
    expect(result.failures).toEqual([]);
    expect(text).toContain('input { tier: "silver", kind: "vip", n: 1 }');
    expect(text).toContain('mock plans.look where input == { id: "1" } returns { tier: "gold", tags: ["b"], seen: "y", name: "personal-1" }');
    expect(text).toContain('expect b.completed');
    expect(text).not.toContain('Ada Lovelace');
  });
});

describe('capturing a run of an earlier plan', () => {
  it('says the run ran another version of the plan, instead of advising to --update a file it did not write', async () => {
    const dir = tempDir('orch-capture-values-');
    const plan = (step: string) => `capability f { kind tool  input { x: int }  output { y: int } }\nplan p {\n  step ${step} = f(x: 1)\n}\n`;
    writeFileSync(join(dir, 'plans.orch'), plan('a'));
    const file = join(dir, 'source.test.orch');
    writeFileSync(file, 'import "./plans.orch" as plans\ntest "source" {\n  plan plans.p\n  mock plans.f returns { y: 1 }\n}\n');
    const out = compile({ entry: file, navigation: false, tests: true });
    let journal: readonly RunEvent[] = [];
    await runPlanTest(out.tests[0]!, { real: null, onJournal: (events) => (journal = events) });
    writeFileSync(join(dir, 'plans.orch'), plan('renamed').replace('f(x: 1)', 'f(x: 1)\n  step g = f(x: 2)'));
    await expect(captureTest({ runId: 'old-1', plan: out.tests[0]!.plan, events: journal }, { file: join(dir, 'captured.test.orch') })).rejects.toThrow(
      /^run old-1 ran an earlier version of plan plans.p, which no longer has a: capture a run of the plan as it is now$/,
    );
  });

  it('calls keyed by input, one of which its type cannot say (a null read through any), are mocked with that one unkeyed; two such are refused saying why', async () => {
    // The capture wrote `where input == { v: null }` for a `v: string`, and refused its own text (E0201).
    const plan = 'capability g { kind tool  input { v: string }  output { y: int } }\nplan p {\n  input { n: any, m: any }\n  step b = g(v: input.n)\n  step c = g(v: "w")\n  step d = g(v: input.m)\n}\n';
    const body = (m: string) => `  plan plans.p\n  input { n: null, m: ${m} }\n  mock plans.g where input.v == "w" returns { y: 2 }\n  mock plans.g returns { y: 1 }\n`;
    const { text, result } = await captureOf(plan, body('"w"'));
    expect(text.split('\n').filter((l) => l.startsWith('  mock'))).toEqual(['  mock plans.g where input == { v: "w" } returns { y: 2 } then { y: 2 }', '  mock plans.g returns { y: 1 }']);
    expect(result.passed).toBe(true);
    await expect(captureOf(plan, body('7'))).rejects.toThrow('capability plans.g was called with 2 inputs its input type cannot say ({"v":null}, {"v":7}), which no mock\'s where can tell apart');
  });

  it('a number JavaScript writes with an exponent (1.5e-7) is written without one, and the captured test passes', async () => {
    // The capture wrote `1.5e-7`, which Orch reads as 1.5 with a unit `e` (E0001), and refused its own text.
    const plan = 'capability f { kind tool  input { x: number }  output { p: number, fee: money }  cost 0.0000001usd }\nplan p {\n  step a = f(x: 0.0000002)\n  output { p: a.output.p }\n}\n';
    const { text, result } = await captureOf(plan, '  plan plans.p\n  mock plans.f returns { p: 0.00000015, fee: 0.0000003usd }\n');
    expect(text).toContain('  mock plans.f returns { p: 0.00000015, fee: 0.0000003usd }');
    expect(text).toContain('  expect run.output == { p: 0.00000015 }');
    expect(result.passed).toBe(true);
  });

  it('an answer with fields its output type lacks (a handler may give more; the runtime keeps them) is mocked without them, and the captured test passes', async () => {
    // The capture wrote them, and refused its own text: `the answer of mock plans.f has no field "extra"` (E0201).
    const dir = tempDir('orch-capture-values-');
    writeFileSync(join(dir, 'plans.orch'), 'capability f { kind tool  input { x: int }  output { y: int, r: { z: int }? } }\nplan p {\n  step a = f(x: 1)\n  output { y: a.output.y }\n}\n');
    const file = join(dir, 'source.test.orch');
    writeFileSync(file, 'import "./plans.orch" as plans\ntest "source" {\n  plan plans.p\n  mock plans.f returns { y: 1, r: { z: 2 } }\n}\n');
    const out = compile({ entry: file, navigation: false, tests: true });
    let journal: readonly RunEvent[] = [];
    await runPlanTest(out.tests[0]!, { real: null, onJournal: (events) => (journal = events) });
    // As a handler's answer reaches the journal: with fields the type does not name, at two depths.
    const answered = journal.map((e) => (e.type === 'step_completed' && e.stepId === 'a' ? { ...e, data: { ...e.data, output: { y: 1, r: { z: 2, w: 3 }, extra: 'e' } } } : e));
    const { text, result } = await captureTest({ runId: 'p-1', plan: out.tests[0]!.plan, events: answered }, { file: join(dir, 'captured.test.orch') });
    expect(text).toContain('  mock plans.f returns { y: 1, r: { z: 2 } }');
    expect(result.passed).toBe(true);
  });
});
