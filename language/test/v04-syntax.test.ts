/**
 * The v0.4 grammar (LANGUAGE.md §9.2–§9.4): the trees the new syntax builds, the mistakes it
 * reports (E0001 with the words a user needs, E0102 for a repeat, E0203 for a wrong unit), and
 * that both parse paths, the printer and `fmt` agree on it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type * as A from '../ast.js';
import { parse, parseViaCst } from '../index.js';
import { print } from '../printer.js';
import { format } from '../format.js';
import { pieceBounds } from '../format-pieces.js';
import { diagnosticsOf, firstDecl, parseOk, strip } from './helpers.js';
import { stripRanges } from './arbitraries.js';

const FIXTURES = new URL('./fixtures/', import.meta.url);
const V04 = ['v04-tests.test.orch', 'v04-flows-context.orch', 'spec-10.orch', 'spec-11.orch'].map((f) => readFileSync(new URL(f, FIXTURES), 'utf8'));

/** `line:column code message` of each diagnostic. */
function problems(text: string): string[] {
  return diagnosticsOf(text).map((d) => `${d.range.start.line}:${d.range.start.column} ${d.code} ${d.message}`);
}

function testDecl(body: string): A.TestDecl {
  const d = firstDecl(`test "t" {\n${body}\n}`);
  if (d.kind !== 'TestDecl') throw new Error(d.kind);
  return d;
}

describe('tests of plans (§9.2)', () => {
  it('builds a test with every item, each list in source order', () => {
    const t = testDecl(`
      captured_from "run-1" ir_hash "sha256:ab"
      plan refunds.refund_flow
      started_by "dave"
      input { order_id: "o-1", amount: 800usd }
      context { fraud_score: 0.1 }
      mock refunds.charge fails "card declined" times 2 then returns { ok: true } then { ok: false } latency 2s
      mock classify where input.text == "spam" returns { category: "other" } usage { input_tokens: 9 }
      mock fetch returns 1 cost 0.01usd
      approve sign_off by "alice", "bob"
      reject review by "carol" at 3d
      signal context.fraud_score = 0.9 at 1h
      expect run.status == "completed"
      expect always not ship.started or sign_off.completed`);
    expect(strip(t.origin)).toEqual({ kind: 'TestOrigin', run: { kind: 'StringLit', parts: ['run-1'] }, irHash: { kind: 'StringLit', parts: ['sha256:ab'] } });
    expect(t.plan.parts.map((p) => p.name)).toEqual(['refunds', 'refund_flow']);
    expect(t.startedBy?.parts).toEqual(['dave']);
    expect(t.input?.fields.map((f) => f.key.name)).toEqual(['order_id', 'amount']);
    expect(t.context?.fields.map((f) => f.key.name)).toEqual(['fraud_score']);
    const [charge, classify, fetch] = t.mocks;
    expect(charge!.fails?.parts).toEqual(['card declined']);
    expect(charge!.times?.value).toBe(2);
    expect(charge!.returns.map((r) => r.kind)).toEqual(['RecordLit', 'RecordLit']);
    expect(charge!.latency).toMatchObject({ value: 2, unit: 's' });
    expect(classify!.where?.kind).toBe('BinaryExpr');
    expect(classify!.usage?.fields.map((f) => f.key.name)).toEqual(['input_tokens']);
    expect(fetch!.cost).toMatchObject({ amount: 0.01, currency: 'usd' });
    expect(strip(t.decisions)).toEqual([
      { kind: 'DecisionDecl', decision: 'approve', step: { kind: 'Ident', name: 'sign_off' }, by: [{ kind: 'StringLit', parts: ['alice'] }, { kind: 'StringLit', parts: ['bob'] }] },
      { kind: 'DecisionDecl', decision: 'reject', step: { kind: 'Ident', name: 'review' }, by: [{ kind: 'StringLit', parts: ['carol'] }], at: { kind: 'DurationLit', value: 3, unit: 'd' } },
    ]);
    expect(strip(t.signals)).toEqual([
      { kind: 'SignalDecl', signal: { kind: 'Ident', name: 'fraud_score' }, value: { kind: 'NumberLit', value: 0.9, integer: false }, at: { kind: 'DurationLit', value: 1, unit: 'h' } },
    ]);
    expect(t.expects.map((e) => e.always ?? false)).toEqual([false, true]);
  });

  it('a mock without `times` fails every call and has no answers; `at` may be negative for the checker to report', () => {
    const t = testDecl(`plan p\nmock charge fails "down"\nreject r by "c" at -90m`);
    expect(strip(t.mocks[0])).toEqual({ kind: 'MockDecl', capability: { kind: 'QualifiedName', parts: [{ kind: 'Ident', name: 'charge' }] }, returns: [], fails: { kind: 'StringLit', parts: ['down'] } });
    expect(t.decisions[0]!.at).toMatchObject({ value: -90, unit: 'm', range: { start: { line: 4, column: 20 } } });
  });

  it('reads `always` as the modality, or as a step name where it can only be one', () => {
    const conditions = (src: string) => testDecl(`plan p\n${src}`).expects.map((e) => `${e.always ? 'always ' : ''}${e.condition.kind}`);
    expect(conditions('expect always x\nexpect always (a or b)\nexpect always not x\nexpect always -x')).toEqual(['always NameExpr', 'always ParenExpr', 'always UnaryExpr', 'always UnaryExpr']);
    expect(conditions('expect always.completed\nexpect always and x\nexpect always')).toEqual(['MemberExpr', 'BinaryExpr', 'NameExpr']);
  });

  it('calls(CAP) takes a qualified capability and is indexed and read like any value', () => {
    const e = testDecl('plan p\nexpect calls(email)[0].to == ["a@example.com"] and len(calls(files.read_text_file)) == 1').expects[0]!.condition;
    expect(strip(e)).toMatchObject({
      op: 'and',
      left: { op: '==', left: { kind: 'MemberExpr', property: { name: 'to' }, object: { kind: 'IndexExpr', object: { kind: 'CallExpr', callee: { name: 'calls' }, args: [{ kind: 'NameExpr', name: 'email' }] } } } },
      right: { left: { callee: { name: 'len' }, args: [{ callee: { name: 'calls' }, args: [{ kind: 'MemberExpr', object: { name: 'files' }, property: { name: 'read_text_file' } }] }] } },
    });
  });

  it('keeps a test whose plan or step is named by a v0.4 keyword', () => {
    const t = testDecl('plan source\napprove test by "a"\nmock at returns then then 1');
    expect(t.plan.parts[0]!.name).toBe('source');
    expect(t.decisions[0]!.step.name).toBe('test');
    expect(t.mocks[0]!.capability.parts[0]!.name).toBe('at');
    expect(t.mocks[0]!.returns.map((r) => r.kind)).toEqual(['NameExpr', 'NumberLit']);
  });

  it('reports the usual mistakes in words', () => {
    expect(problems('test "t" {\n  plan p\n  mock charge return { ok: true }\n}')).toEqual([
      `3:15 E0001 expected 'returns VALUE' or 'fails "MESSAGE"' after 'charge', found 'return'`,
    ]);
    expect(problems('test "t" {\n  mock charge returns 1\n}')).toEqual([`1:6 E0001 test "t" needs 'plan P' (the plan it runs)`]);
    expect(problems('test t {\n  plan p\n}')).toEqual(['1:6 E0001 a test is named by a string: test "t" { … }']);
    expect(problems('test "t" {\n  plan p\n  signal fraud_score = 1 at 1h\n}')[0]).toBe("3:10 E0001 expected 'context' after 'signal', found 'fraud_score'");
    expect(problems('test "t" {\n  plan p\n  signal context.x = 1\n}')[0]).toBe("3:23 E0001 expected 'at' after '1', found '}'");
    expect(problems('test "t" {\n  plan p\n  approve a "alice"\n}')[0]).toBe("3:13 E0001 expected 'by' after 'a', found string \"alice\"");
    expect(problems('test "t" {\n  plan p\n  mock x fails "m" times 2 returns 1\n}')[0]).toBe("3:28 E0001 expected 'then' after '2', found 'returns'");
    expect(problems('test "t" {\n  plan p\n  step a = f()\n}')[0]).toMatch(/^3:3 E0001 expected a test item \(plan, started_by, input, context, mock, approve, reject, signal, expect, captured_from\) or '}' to close the test block, found 'step'/);
    expect(problems('test "${x}" {\n  plan p\n}')).toEqual(['1:7 E0001 interpolation ${…} is not allowed here']);
  });

  it('reports a repeated item (E0102), a wrong unit (E0203) and cost with usage', () => {
    expect(problems('test "t" {\n  plan p\n  plan q\n}')).toEqual([`3:3 E0102 'plan' is given twice in test "t" (first on line 2)`]);
    expect(problems('test "t" {\n  plan p\n  mock x returns 1 latency 1s latency 2s\n}')).toEqual([`3:31 E0102 'latency' is given twice in mock 'x' (first on line 3)`]);
    expect(problems('test "t" {\n  plan p\n  mock x returns 1 latency 5usd\n}')).toEqual([`3:28 E0203 'latency' needs a duration (e.g. 30s), found an amount of money '5usd'`]);
    expect(problems('test "t" {\n  plan p\n  reject r by "c" at 5%\n}')).toEqual([`3:22 E0203 'at' needs a duration (e.g. 30s), found a percentage '5%'`]);
    expect(problems('test "t" {\n  plan p\n  mock x returns 1 cost 1usd usage { input_tokens: 1 }\n}')).toEqual([
      `3:36 E0001 a mock gives 'cost' or 'usage', not both (usage is priced as a model call is)`,
    ]);
    expect(problems('test "t" {\n  plan p\n  mock x fails "m" times 1.5 then returns 1\n}')).toEqual([`3:26 E0001 times must be a whole number, found '1.5'`]);
  });

  it('recovers inside a test and a source: one error for a broken item, the items after it kept', () => {
    const text = 'test "t" {\n  plan p\n  mock x return 1\n  expect run.status == "completed"\n}\nsource s {\n  topic "a" sets 5\n  topic "b" sets y\n}\nplan p {}\n';
    const { module, diagnostics } = parse({ file: 't.orch', text });
    expect(diagnostics.map((d) => d.range.start.line)).toEqual([3, 7]);
    const [t, src, plan] = module.declarations;
    expect(t?.kind === 'TestDecl' && t.expects.length).toBe(1);
    expect(src?.kind === 'SourceDecl' && src.topics.map((x) => x.signal.name)).toEqual(['y']);
    expect(plan?.kind).toBe('PlanDecl');
  });

  it('a `context {` inside a test is its context, not a declaration; after the test it is one again', () => {
    const m = parseOk('test "t" {\n  plan p\n  context { x: 1 }\n}\ncontext { x: number }\n');
    expect(m.declarations.map((d) => d.kind)).toEqual(['TestDecl', 'ContextDecl']);
  });
});

describe('integrity and confidentiality (§9.3)', () => {
  it('stacks annotations in any order: one data class, one integrity', () => {
    const d = firstDecl('plan p { input { body: string @personal @untrusted, to: string @trusted, raw: any @untrusted @secret } }');
    if (d.kind !== 'PlanDecl') throw new Error(d.kind);
    expect(d.input!.fields.map((f) => [f.dataClass, f.trust])).toEqual([['personal', 'untrusted'], [undefined, 'trusted'], ['secret', 'untrusted']]);
  });

  it('reports an unknown annotation and a second class or integrity', () => {
    expect(problems('type T = { a: string @top_secret }')).toEqual([
      "1:23 E0001 unknown data class 'top_secret' (expected one of: public, internal, personal, sensitive, secret); integrity is @trusted or @untrusted",
    ]);
    expect(problems('type T = { a: string @personal @internal @trusted @untrusted }')).toEqual([
      "1:33 E0102 'data class' is given twice in field 'a' (first on line 1)",
      "1:52 E0102 'integrity' is given twice in field 'a' (first on line 1)",
    ]);
  });

  it('builds trust, endorses and accepts, and checks their words', () => {
    const c = firstDecl('capability v { kind tool trust untrusted endorses true }');
    expect(c).toMatchObject({ trust: 'untrusted', endorses: true });
    const r = firstDecl('resource r { kind cloud_region accepts personal }');
    expect(r).toMatchObject({ accepts: 'personal' });
    expect(problems('capability v { trust maybe }')).toEqual(["1:22 E0001 unknown integrity 'maybe' (expected one of: trusted, untrusted)"]);
    expect(problems('resource r { accepts top }')).toEqual(["1:22 E0001 unknown data class 'top' (expected one of: public, internal, personal, sensitive, secret)"]);
    expect(problems('capability v { trust trusted trust untrusted }')).toEqual(["1:30 E0102 'trust' is given twice in capability 'v' (first on line 1)"]);
  });

  it('a refinement of an MCP tool annotates its parameters and marks its output trusted', () => {
    const c = firstDecl('capability notes from files.read_text_file { input { path: string @untrusted } trust trusted }');
    expect(c).toMatchObject({ from: { parts: [{ name: 'files' }, { name: 'read_text_file' }] }, trust: 'trusted', input: { fields: [{ name: { name: 'path' }, trust: 'untrusted' }] } });
  });

  it('endorse and declassify take named arguments after the value; a class name is a name', () => {
    const d = firstDecl('invariant i { always declassify(x.output.to, to: internal, reason: "own address") == endorse(y, reason: "checked") }');
    if (d.kind !== 'InvariantDecl' || d.condition.kind !== 'BinaryExpr') throw new Error('shape');
    expect(strip(d.condition.left)).toEqual({
      kind: 'CallExpr',
      callee: { kind: 'Ident', name: 'declassify' },
      args: [{ kind: 'MemberExpr', object: { kind: 'MemberExpr', object: { kind: 'NameExpr', name: 'x' }, property: { kind: 'Ident', name: 'output' } }, property: { kind: 'Ident', name: 'to' } }],
      named: [
        { kind: 'Argument', name: { kind: 'Ident', name: 'to' }, value: { kind: 'NameExpr', name: 'internal' } },
        { kind: 'Argument', name: { kind: 'Ident', name: 'reason' }, value: { kind: 'StringLit', parts: ['own address'] } },
      ],
    });
    // A call without named arguments has no `named` key (the tree is as before v0.4).
    expect(Object.keys(strip(d.condition.right))).toEqual(['kind', 'callee', 'args', 'named']);
    expect('named' in strip(firstDecl('invariant i { always len(x) > 0 }') as A.InvariantDecl & { condition: A.BinaryExpr }).condition.left).toBe(false);
  });

  it('reports a positional argument after a named one, and a name given twice', () => {
    expect(problems('invariant i { always f(a: 1, 2) }')).toEqual(['1:30 E0001 a positional argument cannot follow a named one in f(…)']);
    expect(problems('invariant i { always f(x, a: 1, a: 2) }')).toEqual(["1:33 E0102 'a' is given twice in f(…) (first on line 1)"]);
  });
});

describe('an always-fresh context (§9.4)', () => {
  it('builds max_age, derived signals with hold, and checks where they may stand', () => {
    const d = firstDecl('context {\n  motion: bool @personal max_age 2m\n  occupied: bool = context.motion hold 10m\n  both: bool = context.motion max_age 1m hold 5s\n}');
    if (d.kind !== 'ContextDecl') throw new Error(d.kind);
    expect(d.fields.map((f) => [f.name.name, f.maxAge?.value, f.hold?.value, f.default?.kind])).toEqual([
      ['motion', 2, undefined, undefined],
      ['occupied', undefined, 10, 'MemberExpr'],
      ['both', 1, 5, 'MemberExpr'],
    ]);
    expect(problems('plan p { input { x: int max_age 5m } }')).toEqual(["1:25 E0001 'max_age' applies only to a field of a context block (a signal)"]);
    expect(problems('context { x: bool hold 5m }')).toEqual(["1:19 E0001 'hold' applies only to a derived signal: x: T = EXPR hold D"]);
    expect(problems('context { x: bool max_age 5 }')).toEqual(["1:27 E0203 'max_age' needs a duration (e.g. 30s), found a number '5'"]);
    expect(problems('context { x: bool max_age 1m max_age 2m }')).toEqual(["1:30 E0102 'max_age' is given twice in field 'x' (first on line 1)"]);
    // A field named like the options is still a field.
    const rec = firstDecl('type T = { a: int hold: bool max_age: duration }');
    expect(rec.kind === 'TypeAliasDecl' && rec.type.kind === 'RecordType' && rec.type.fields.map((f) => f.name.name)).toEqual(['a', 'hold', 'max_age']);
  });

  it('builds sources with their topic mappings, `from` and `at` in either order', () => {
    const d = firstDecl('source home {\n  topic "a/+" sets motion from payload.state == "ON" at payload.ts\n  topic "b/#" sets t at payload.ts from payload.v\n  topic "c" sets x\n}');
    if (d.kind !== 'SourceDecl') throw new Error(d.kind);
    expect(d.topics.map((t) => [t.topic.parts[0], t.signal.name, t.from?.kind, t.at?.kind])).toEqual([
      ['a/+', 'motion', 'BinaryExpr', 'MemberExpr'],
      ['b/#', 't', 'MemberExpr', 'MemberExpr'],
      ['c', 'x', undefined, undefined],
    ]);
    expect(problems('source s {\n  topic "t" sets x from a from b\n}')).toEqual(["2:27 E0102 'from' is given twice in the topic mapping of 'x' (first on line 2)"]);
    expect(problems('source s {\n  topic t sets x\n}')[0]).toBe("2:9 E0001 expected a string after 'topic', found 't'");
    expect(problems('source s {\n  sets x\n}')[0]).toMatch(/^2:3 E0001 expected a topic mapping \(topic "T" sets SIGNAL \[from EXPR\] \[at EXPR\]\) or '}' to close the source block, found 'sets'/);
  });

  it('builds `available when` and the simulated staleness of signals', () => {
    expect(strip(firstDecl('resource r { kind local_device available when context.online }'))).toMatchObject({
      availableWhen: { kind: 'MemberExpr', property: { name: 'online' } },
    });
    const s = firstDecl('/// Stale sensors.\nsimulate context {\n  motion stale 20%\n  phone stale 2.5%\n}');
    expect(strip(s)).toEqual({
      kind: 'SimulateContextDecl',
      signals: [
        { kind: 'StaleSignal', signal: { kind: 'Ident', name: 'motion' }, share: { kind: 'PercentLit', value: 20 } },
        { kind: 'StaleSignal', signal: { kind: 'Ident', name: 'phone' }, share: { kind: 'PercentLit', value: 2.5 } },
      ],
      doc: 'Stale sensors.',
    });
    expect(problems('simulate context { motion stale 20s }')).toEqual(["1:33 E0203 'stale' needs a percentage (e.g. 80%), found a duration '20s'"]);
    expect(problems('simulate context { motion stale 2% motion stale 3% }')).toEqual(["1:36 E0102 'motion' is given twice in simulate context (first on line 1)"]);
    expect(problems('resource r { available context.x }')[0]).toBe("1:24 E0001 expected 'when' after 'available', found 'context'");
    // `simulate` of a capability is as before.
    expect(firstDecl('simulate charge { fail 10% }').kind).toBe('SimulateDecl');
  });

  it('known() and age() are plain calls', () => {
    const d = firstDecl('invariant i { always known(context.motion) and age(context.motion) < 2m }');
    expect(d.kind === 'InvariantDecl' && d.condition.kind === 'BinaryExpr' && [d.condition.left.kind, d.condition.right.kind]).toEqual(['CallExpr', 'BinaryExpr']);
  });
});

describe('the v0.4 fixtures', () => {
  it('parse without diagnostics, the same on both paths', () => {
    for (const text of V04) {
      const direct = parse({ file: 'v04.orch', text });
      expect(direct.diagnostics).toEqual([]);
      expect(JSON.stringify(parseViaCst({ file: 'v04.orch', text }))).toBe(JSON.stringify(direct));
    }
  });

  it('print to text that parses back to the same tree, and fmt is idempotent keeping every comment', () => {
    for (const text of V04) {
      const m = parseOk(text);
      const printed = print(m, { source: text });
      expect(stripRanges({ ...parseOk(printed), comments: [] })).toEqual(stripRanges({ ...m, comments: [] }));
      const once = format('v04.orch', text);
      expect(once.refused).toBeUndefined();
      expect(format('v04.orch', once.text)).toMatchObject({ changed: false });
      const comments = (t: string) => parseOk(t).comments.map((c) => c.text).sort();
      expect(comments(once.text)).toEqual(comments(text));
    }
  });

  it('a large file is formatted a piece at a time, cut before tests and sources too', () => {
    const text = 'test "a" {\n  plan p\n}\n\ntest "b" {\n  plan p\n}\n\nsource s {\n  topic "t" sets x\n}\n';
    expect(pieceBounds(text, 1)).toEqual([0, text.indexOf('}\n\ntest "b"') + 1, text.indexOf('}\n\nsource') + 1, text.length]);
  });

  it('breaks a long mock into one clause a line', () => {
    const text = `test "t" {\n  plan p\n  mock refunds.classify returns { category: "refund", reason: "a long enough reason" } then { category: "other" } latency 2s\n}\n`;
    expect(format('t.orch', text).text).toBe(
      'test "t" {\n  plan p\n  mock refunds.classify\n    returns { category: "refund", reason: "a long enough reason" }\n    then { category: "other" }\n    latency 2s\n}\n',
    );
  });
});
