/**
 * LANGUAGE.md §9.3 (issue 51): the `flows` stage — every untrusted source, every sink that needs
 * trust, every kind of hop, the confidentiality rules — each finding at its sink with its witness
 * path and every hop as related information, and the honest ways to silence one.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../language/index.js';
import { check, preview, renderPreviewText } from '../index.js';
import { diskHost } from '../load.js';
import { checkText, compileText, covered } from './helpers.js';

const CAPS = `
capability read_mail { kind tool  input { box: string }  output { reply_to: string, body: string }  trust untrusted }
capability classify { kind llm  input { text: string }  output { reply_to: string, label: string }  handler "./h.js#classify" }
capability validate { kind tool  input { text: string }  output { text: string }  endorses true }
capability clean { kind tool  input { text: string }  output { text: string } }
capability wipe { kind tool  input { path: string, note: string @untrusted }  output { n: int }  destructive true }
capability pay { kind tool  input { to: string @trusted, memo: string }  output { ok: bool } }
capability keep { kind tool  input { text: string }  output { ok: bool }  data internal }
`;

function flows(src: string): Diagnostic[] {
  return checkText(CAPS + src).filter((d) => d.code === 'E0902' || d.code === 'E0903');
}
function one(src: string, code: 'E0902' | 'E0903'): Diagnostic {
  const ds = flows(src);
  expect(ds.map((d) => d.code)).toEqual([code]);
  return ds[0]!;
}

describe('untrusted sources reach sinks that need trust: E0902 at the sink', () => {
  it('a kind llm output chooses an email recipient: the witness path names every hop, each with its position', () => {
    const src = `
plan p {
  input { body: string @untrusted }
  step c = classify(text: input.body)
  step e = email(to: [c.output.reply_to], subject: "re", text: "hi")
}`;
    const d = one(src, 'E0902');
    // As §9.3 writes it: the path runs on through the model to the input it read.
    expect(d.message).toBe('untrusted value reaches email.to, which needs a trusted one: email.to ← c.output.reply_to (llm, untrusted) ← input.body @untrusted');
    expect(covered(CAPS + src, d)).toBe('[c.output.reply_to]');
    expect(d.related?.map((r) => r.message)).toEqual(['c.output.reply_to (llm, untrusted)', 'input.body @untrusted']);
    expect(d.related![0]!.range.start.line).toBe(d.range.start.line);
    // The source's hop points where the input is declared with its marks, not where it is read (§9.3).
    expect(covered(CAPS + src, { ...d, range: d.related![1]!.range })).toBe('body');
    expect(d.related![1]!.range.start.line).toBe(d.range.start.line - 2);
  });

  it('a step that reads an untrusted input passes it on; the path goes back to input.X @untrusted', () => {
    const src = `
plan p {
  input { body: string @untrusted }
  step k = clean(text: input.body)
  step w = wipe(path: k.output.text, note: "x")
}`;
    const d = one(src, 'E0902');
    expect(d.message).toContain('wipe.path ← k.output.text (reads untrusted, untrusted) ← input.body @untrusted');
    expect(d.related!.map((r) => r.message)).toEqual(['k.output.text (reads untrusted, untrusted)', 'input.body @untrusted']);
    expect(d.related![1]!.range.start.line).toBeLessThan(d.range.start.line);
  });

  it('trust untrusted, http_request and @trusted parameters', () => {
    expect(one(`plan p { step m = read_mail(box: "in")  step x = pay(to: m.output.reply_to, memo: "m") }`, 'E0902').message).toContain('pay.to ← m.output.reply_to (trust untrusted, untrusted)');
    expect(one(`plan p { step h = http_request(url: "http://x")  step w = wipe(path: "\${h.output.body}", note: "") }`, 'E0902').message).toContain('(http_request, untrusted)');
  });

  it('an @untrusted parameter of a destructive capability takes anything; other parameters of non-destructive ones too', () => {
    expect(flows(`plan p { step m = read_mail(box: "in")  step w = wipe(path: "/tmp", note: m.output.body)  step x = pay(to: "me", memo: m.output.body) }`)).toEqual([]);
  });

  it('the channel of notify and email, and the when of a destructive step', () => {
    const ds = flows(`plan p {
  step m = read_mail(box: "in")
  step n = notify(channel: m.output.reply_to, text: "x")
  step e = email(to: ["a@b"], subject: "s", text: "t", channel: m.output.body)
  step w = wipe(path: "/tmp", note: "") when m.output.body == "yes"
  step k = keep(text: "x") when m.output.body == "yes"
}`);
    expect(ds.map((d) => d.message.split(':')[0])).toEqual([
      'untrusted value reaches notify.channel, which needs a trusted one',
      'untrusted value reaches email.channel, which needs a trusted one',
      'untrusted value reaches w.when, which needs a trusted one',
    ]);
  });

  it('the when of a step whose fallback or compensate call is destructive: the condition decides whether that call can happen', () => {
    const ds = flows(`plan p {
  step m = read_mail(box: "in")
  step f = keep(text: "x") {
    fallback wipe(path: "/tmp", note: "")
    when m.output.body == "yes"
  }
  step c = keep(text: "x") {
    compensate wipe(path: "/tmp", note: "")
    when m.output.body == "yes"
  }
  step k = keep(text: "x") {
    fallback keep(text: "y")
    when m.output.body == "yes"
  }
}`);
    expect(ds.map((d) => d.message)).toEqual([
      'untrusted value reaches f.when, which needs a trusted one: f.when ← m.output.body (trust untrusted, untrusted)',
      'untrusted value reaches c.when, which needs a trusted one: c.when ← m.output.body (trust untrusted, untrusted)',
    ]);
  });

  it('@untrusted context fields are sources', () => {
    const ctx = `context { note: string @untrusted @sensitive }\nplan p { step w = wipe(path: context.note, note: "") }`;
    const d = one(ctx, 'E0902');
    expect(d.message).toContain('wipe.path ← context.note @untrusted');
    // The source's hop points where the signal is declared with its marks, as a plan input's does — it pointed at the read.
    expect(d.related!.map((r) => [r.message, covered(CAPS + ctx, { ...d, range: r.range }), r.range.start.line])).toEqual([['context.note @untrusted', 'note', CAPS.split('\n').length]]);
    // A field marked one level down (a record, a named type, a list of them) makes the whole field a source, as its class does.
    expect(one(`plan p {\n  input { m: { body: string @untrusted } }\n  step w = wipe(path: input.m.body, note: "")\n}`, 'E0902').message).toContain('wipe.path ← input.m @untrusted');
    expect(one(`type Msg = { body: string @untrusted }\ncontext { last: list<Msg> }\nplan p { step w = wipe(path: context.last[0].body ?? "", note: "") }`, 'E0902').message).toContain('context.last @untrusted');
  });

  it('a derived context signal carries the labels of the signals it reads, through other derived ones', () => {
    // Before, `context.cmd_or` read as a plain trusted public signal: a derived signal laundered both rules.
    const ctx = `context {\n  cmd: string @untrusted\n  who: string @personal\n  cmd_or: string = context.cmd ?? "none"\n  again: string = context.cmd_or ?? ""\n  greet: string = "hi \${context.who ?? ""}"\n  plain: int\n  twice: int = (context.plain ?? 0) * 2\n}\n`;
    const d = one(`${ctx}plan p { step w = wipe(path: context.again, note: "") }`, 'E0902');
    expect(d.message).toBe('untrusted value reaches wipe.path, which needs a trusted one: wipe.path ← context.again ← context.cmd_or ← context.cmd @untrusted');
    expect(d.related?.map((r) => r.message)).toEqual(['context.again', 'context.cmd_or', 'context.cmd @untrusted']);
    expect(one(`${ctx}plan p { step k = keep(text: context.greet) }`, 'E0903').message).toBe('personal data reaches capability keep (data internal) in step k: keep.text ← context.greet ← context.who @personal');
    expect(flows(`${ctx}plan p { step w = wipe(path: "\${context.twice ?? 0}", note: "") }`)).toEqual([]);
  });
});

describe('hops: the labels follow every way a value can go', () => {
  const bad = (expr: string, before = '') => `plan p {\n  input { body: string @untrusted, xs: list<string> @untrusted }\n${before}  step w = wipe(path: ${expr}, note: "")\n}`;
  it.each([
    ['interpolation', '"/tmp/${input.body}"', ''],
    ['a list', 'input.xs[0]', ''],
    ['??', 'input.body ?? "x"', ''],
    ['a record field', 'r.output.text', '  step r = clean(text: "${{ a: input.body }}")\n'],
  ])('%s', (_name, expr, before) => {
    expect(flows(bad(expr, before)).map((d) => d.code)).toEqual(['E0902']);
  });

  it('the witness is the first source in the text, whatever the operator: `a + b`, `a ?? b ?? c`, as an interpolation or a list', () => {
    const path = (expr: string) => one(`plan p {\n  input { a: string @untrusted, b: string @untrusted, c: string @untrusted }\n  step w = wipe(path: ${expr}, note: "")\n}`, 'E0902').message.split(': ')[1];
    expect(path('input.a + input.b')).toBe('wipe.path ← input.a @untrusted');
    expect(path('input.a ?? input.b ?? input.c')).toBe('wipe.path ← input.a @untrusted');
    expect(path('"x" + input.b + input.c')).toBe('wipe.path ← input.b @untrusted');
    expect(path('"${input.a}${input.b}"')).toBe('wipe.path ← input.a @untrusted');
  });

  it('a for each item carries its list’s labels', () => {
    const d = one(`plan p {\n  input { xs: list<string> @untrusted }\n  for each x in input.xs {\n    step w = wipe(path: x, note: "")\n  }\n}`, 'E0902');
    expect(d.message).toContain('wipe.path ← x ← input.xs @untrusted');
  });

  it('a race’s name stands for its branches; a fallback’s output joins the step’s', () => {
    expect(flows(`plan p {\n  race r {\n    step a = read_mail(box: "a")\n    step b = clean(text: "b")\n  }\n  step w = wipe(path: "\${r}", note: "")\n}`).map((d) => d.code)).toEqual(['E0902']);
    expect(flows(`plan p {\n  step a = clean(text: "x") {\n    fallback read_mail(box: "b")\n  }\n  step w = wipe(path: a.output.text, note: "")\n}`).map((d) => d.code)).toEqual(['E0902']);
  });

  it('a race’s winner and a loop’s iterations and index are a step name and counts: they carry their steps’ distrust, not their class', () => {
    // Before, `won: ${r.winner}` was personal data (E0903) because a branch read a personal input.
    const src = (reads: string) => `plan p {
  input { who: string @personal }
  race r {
    step a = clean(text: input.who)
    step b = read_mail(box: "x")
  }
  repeat loop max 3 until c.output.text == "ok" {
    step c = clean(text: input.who)
    step k0 = keep(text: "n \${loop.index}")
  }
  step k = keep(text: ${reads})
}`;
    expect(flows(src('"won: ${r.winner}"'))).toEqual([]);
    expect(flows(src('"ran: ${loop.iterations}"'))).toEqual([]);
    // Their outputs still carry both.
    expect(flows(src('r.output.text ?? ""')).map((d) => d.message.split(':')[0])).toEqual(['personal data reaches capability keep (data internal) in step k']);
    expect(flows(src('c.output.text')).map((d) => d.message.split(':')[0])).toEqual(['personal data reaches capability keep (data internal) in step k']);
    // And the winner still carries the distrust of what decided the race.
    expect(flows(src('"x"').replace('step k = keep(text: "x")', 'step w = wipe(path: "/x", note: "") when r.winner == "b"')).map((d) => d.message)).toEqual([
      'untrusted value reaches w.when, which needs a trusted one: w.when ← r.winner ← b.output (trust untrusted, untrusted)',
    ]);
  });

  it('a repeat’s `previous` reads a step of the last iteration, even one written after the reader: its labels come round the loop', () => {
    // Before, a step read through `loop.previous` before it was walked read as trusted and public.
    const loop = (first: string, second: string) => `plan p {\n  repeat loop max 3 until b.output.ok {\n${first}${second}  }\n}`;
    const reader = '    step w = wipe(path: loop.previous.r.output.reply_to ?? "", note: "")\n';
    const d = one(loop(reader, '    step r = classify(text: "x")\n    step b = pay(to: "me", memo: "m")\n'), 'E0902');
    expect(d.message).toBe('untrusted value reaches wipe.path, which needs a trusted one: wipe.path ← loop.previous.r.output.reply_to ← r.output (llm, untrusted)');
    expect(d.related!.map((r) => r.range.start.line)).toEqual([d.range.start.line, d.range.start.line + 1]);
    // Round the loop through a step that passes it on, and the class as well as the trust.
    const pass = '    step w = keep(text: loop.previous.k.output.text ?? "")\n    step k = clean(text: "${loop.previous.m.output.body ?? ""}")\n    step m = read_mail(box: "in")\n';
    expect(flows(loop(pass, '    step b = pay(to: "me", memo: "m")\n'))).toEqual([]);
    const twice = '    step w = wipe(path: loop.previous.k.output.text ?? "", note: "")\n    step k = clean(text: loop.previous.m.output.body ?? "")\n    step m = read_mail(box: "in")\n';
    expect(one(loop(twice, '    step b = pay(to: "me", memo: "m")\n'), 'E0902').message).toContain('wipe.path ← loop.previous.k.output.text ← k.output (reads untrusted, untrusted) ← loop.previous.m.output.body ← m.output (trust untrusted, untrusted)');
    expect(one(`plan p {\n  input { who: string @personal }\n  repeat loop max 3 until b.output.ok {\n    step w = keep(text: loop.previous.c.output.text ?? "")\n    step c = clean(text: input.who)\n    step b = pay(to: "me", memo: "m")\n  }\n}`, 'E0903').message).toContain('keep.text ← loop.previous.c.output.text ← c.output (personal) ← input.who @personal');
  });

  it('a sub-plan input marked @trusted is a parameter that needs trust: E0902 at the run step’s argument', () => {
    const src = `plan inner {\n  input { path: string @trusted, note: string }\n  step k = keep(text: input.path)\n}\nplan outer {\n  step m = read_mail(box: "a")\n  step r = run inner(path: m.output.body, note: m.output.body)\n}`;
    const d = one(src, 'E0902');
    expect(d.message).toBe('untrusted value reaches inner.path, which needs a trusted one: inner.path ← m.output.body (trust untrusted, untrusted)');
    expect(d.range.start.line).toBe(7 + CAPS.split('\n').length - 1);
    // A trigger's `with` alike.
    const t = one(`context { cmd: string @untrusted }\nplan inner {\n  input { path: string @trusted }\n  step k = keep(text: input.path)\n}\ntrigger go { schedule "0 2 * * *" run inner with { path: context.cmd } }`, 'E0902');
    expect(t.message).toBe('untrusted value reaches inner.path, which needs a trusted one: inner.path ← context.cmd @untrusted');
  });

  it('the when of a run step whose sub-plan can make a destructive call (at any depth) is a sink; of one that cannot, not', () => {
    const src = (inner: string) => `plan leaf {\n  ${inner}\n}\nplan mid {\n  step l = run leaf()\n}\nplan p {\n  step m = read_mail(box: "a")\n  step r = run mid() when m.output.body == "go"\n}`;
    const d = one(src('step w = wipe(path: "/tmp", note: "")'), 'E0902');
    expect(d.message).toBe('untrusted value reaches r.when, which needs a trusted one: r.when ← m.output.body (trust untrusted, untrusted)');
    expect(flows(src('step k = keep(text: "x")'))).toEqual([]);
  });

  it('a wait until step ends when its condition holds: its completion (and a race it wins) carries the condition’s distrust into a destructive step’s when', () => {
    const src = (when: string) => `context { cmd: string @untrusted  zone: string @personal }\nplan p {\n  race r {\n    step a = wait until context.cmd == "go" timeout 1h\n    step b = wait until context.zone == "x" timeout 2h\n  }\n  step w = wipe(path: "/x", note: "") when ${when}\n}`;
    expect(one(src('a.completed'), 'E0902').message).toBe('untrusted value reaches w.when, which needs a trusted one: w.when ← a.completed (waits on untrusted, untrusted) ← context.cmd @untrusted');
    expect(one(src('r.winner == "a"'), 'E0902').message).toContain('w.when ← r.winner ← a.output (waits on untrusted, untrusted) ← context.cmd @untrusted');
    // Its class is not passed on (implicit flows are not tracked): a trusted personal signal waited on is no finding.
    expect(flows(src('b.completed'))).toEqual([]);
  });

  it('a compensation’s arguments are sinks too', () => {
    expect(one(`plan p {\n  step m = read_mail(box: "a")\n  step k = keep(text: "x") {\n    compensate wipe(path: m.output.body, note: "")\n  }\n}`, 'E0902').message).toContain('wipe.path');
  });

  it('a sub-plan: an untrusted argument reaching a sink inside it is reported at the run step', () => {
    const d = one(`plan inner {\n  input { path: string }\n  step w = wipe(path: input.path, note: "")\n}\nplan outer {\n  step m = read_mail(box: "a")\n  step r = run inner(path: m.output.body)\n}`, 'E0902');
    expect(d.message).toContain('in sub-plan inner (run by step r)');
    expect(d.message).toContain('wipe.path ← input.path ← m.output.body (trust untrusted, untrusted)');
  });
});

describe('§9.1 paths in: a trigger’s `with` gives the plan input what it reads', () => {
  const PLAN = `
context { reply_to: string @untrusted  owner: string @personal  zone: string }
capability cloud_model { kind tool  input { text: string }  output { ok: bool }  requires gpu }
resource gpu_cloud { kind cloud_region  provides gpu }
plan mailer {
  input { to: string, path: string = "p", text: string = "" }
  step e = email(to: [input.to], subject: "re", text: "hi")
  step w = wipe(path: input.path, note: "")
  step m = cloud_model(text: input.text)
}
`;
  it('an untrusted context signal a trigger passes in reaches a sink: E0902 at the trigger’s value, the sink first on the witness path', () => {
    const src = `${PLAN}trigger t1 { when context.zone == "x" run mailer with { to: context.reply_to } }
`;
    const d = one(src, 'E0902');
    expect(d.message).toBe('in plan mailer (started by trigger t1): untrusted value reaches email.to, which needs a trusted one: email.to ← input.to ← context.reply_to @untrusted');
    expect(covered(CAPS + src, d)).toBe('context.reply_to');
    expect(d.related?.map((r) => r.message)).toEqual(['email.to', 'input.to', 'context.reply_to @untrusted']);
    expect(covered(CAPS + src, { ...d, range: d.related![0]!.range })).toBe('[input.to]');
    expect(covered(CAPS + src, { ...d, range: d.related![1]!.range })).toBe('input.to');
  });

  it('every trigger kind with a `with`, and a class (E0903), not only trust', () => {
    const src = `${PLAN}trigger s { schedule "0 2 * * *" run mailer with { to: "a@b.c", path: context.reply_to } }
trigger c { after mailer completed run mailer2 with { to: "a@b.c", text: context.owner } }
plan mailer2 {
  input { to: string, text: string }
  step m = cloud_model(text: input.text)
}
`;
    const ds = flows(src);
    expect(ds.map((d) => [d.code, d.message.slice(0, d.message.indexOf(':'))])).toEqual([
      ['E0902', 'in plan mailer (started by trigger s)'],
      ['E0903', 'in plan mailer2 (started by trigger c)'],
    ]);
    expect(ds[1]!.message).toContain('cloud_model.text ← input.text ← context.owner @personal');
  });

  it('a trigger starting a plan whose sub-plan (or its sub-plan) has the sink: one hop per step of the witness path, the sink once', () => {
    const src = `${PLAN}plan inner {\n  input { path: string }\n  step w = wipe(path: input.path, note: "")\n}
plan mid {\n  input { q: string }\n  step r = run inner(path: input.q)\n}
plan outer {\n  input { p: string }\n  step r = run mid(q: input.p)\n}
trigger t { when context.zone == "x" run outer with { p: context.reply_to } }\n`;
    const d = one(src, 'E0902');
    expect(d.message).toBe('in plan outer (started by trigger t): in sub-plan mid (run by step r): in sub-plan inner (run by step r): untrusted value reaches wipe.path, which needs a trusted one: wipe.path ← input.path ← input.q ← input.p ← context.reply_to @untrusted');
    expect(covered(CAPS + src, d)).toBe('context.reply_to');
    expect(d.related?.map((r) => r.message)).toEqual(['wipe.path', 'input.path', 'input.q', 'input.p', 'context.reply_to @untrusted']);
    expect(covered(CAPS + src, { ...d, range: d.related![0]!.range })).toBe('input.path');
  });

  it('a when trigger’s condition decides whether a plan that can make a destructive call runs: it needs trust as that step’s own when does', () => {
    const src = `${PLAN}trigger go { when context.reply_to == "wipe" run mailer with { to: "a@b.c" } }\nplan mild { step k = keep(text: "x") }\ntrigger calm { when context.reply_to == "x" run mild }\n`;
    const d = one(src, 'E0902');
    expect(d.message).toBe('untrusted value reaches go.when, which needs a trusted one (it starts plan mailer, which can make a destructive call): go.when ← context.reply_to @untrusted');
    expect(covered(CAPS + src, d)).toBe('context.reply_to == "wipe"');
  });

  it('an after trigger passes the watched run’s output on as event.output: its labels go with it, the witness running back into the watched plan', () => {
    const src = `${PLAN}plan triage {\n  input { body: string @untrusted }\n  step c = classify(text: input.body)\n  output { reply_to: c.output.reply_to, n: 1 }\n}\ntrigger next { after triage completed run mailer with { to: event.output.reply_to } }\n`;
    const d = one(src, 'E0902');
    expect(d.message).toBe('in plan mailer (started by trigger next): untrusted value reaches email.to, which needs a trusted one: email.to ← input.to ← event.output.reply_to ← c.output.reply_to (llm, untrusted) ← input.body @untrusted');
    expect(covered(CAPS + src, d)).toBe('event.output.reply_to');
    // A watched plan whose output carries no label passes none.
    expect(flows(`${PLAN}plan calm { step k = keep(text: "x")\n  output { to: "a@b.c" } }\ntrigger next { after calm completed run mailer with { to: event.output.to } }\n`)).toEqual([]);
  });

  it('a trusted or public value passed in, and event data (the request’s, labelled as the plan declares its input), are no finding', () => {
    expect(flows(`${PLAN}trigger t { when context.zone == "x" run mailer with { to: context.zone, text: context.zone } }
trigger e { event "mail" run mailer with { to: event.to, path: event.path, text: event.text } }
`)).toEqual([]);
  });
});

describe('endorsement: the honest ways to silence E0902', () => {
  it('endorse(V, reason:), a validator (endorses true) and an approval’s subject', () => {
    expect(flows(`plan p {
  step m = read_mail(box: "a")
  step w = wipe(path: endorse(m.output.body, reason: "our own inbox"), note: "")
  step v = validate(text: m.output.body)
  step w2 = wipe(path: v.output.text, note: "")
  step ok = approval(approver: "ops", summary: "wipe?", subject: m.output.body)
  step w3 = wipe(path: "\${ok.output.subject}", note: "")
}`)).toEqual([]);
  });

  it('the four-eyes rule is no model’s to pick: an approval’s approver, approvals and not_starter need trusted values (its subject and summary do not)', () => {
    const ds = flows(`plan p {
  step m = read_mail(box: "a")
  step ok = approval(approver: m.output.reply_to, summary: m.output.body, approvals: len(m.output.body), not_starter: m.output.body == "no", subject: m.output.body)
}`);
    expect(ds.map((d) => d.message.slice(0, d.message.indexOf(','))).sort()).toEqual([
      'untrusted value reaches approval.approvals',
      'untrusted value reaches approval.approver',
      'untrusted value reaches approval.not_starter',
    ]);
  });

  it('an approval’s subject may hold data up to personal, not above (E0903 at the subject)', () => {
    const src = (cls: string) => `plan p {\n  input { v: string @${cls} }\n  step ok = approval(approver: "ops", summary: "ok?", subject: input.v)\n}`;
    expect(flows(src('personal'))).toEqual([]);
    const d = one(src('sensitive'), 'E0903');
    expect(d.message).toContain('sensitive data reaches capability approval (data personal) in step ok: approval.subject ← input.v @sensitive');
    expect(covered(CAPS + src('sensitive'), d)).toBe('input.v');
  });

  it('endorse needs a reason', () => {
    expect(checkText(`${CAPS}plan p { step m = read_mail(box: "a")  step w = wipe(path: endorse(m.output.body), note: "") }`).map((d) => d.message)).toContain('endorse() needs a reason: endorse(value, reason: "…")');
  });

  it('a reason is the author’s own words: a blank one, or one computed by interpolation (journaled as what was left of it), is E0201', () => {
    const reasons = (expr: string) =>
      checkText(`${CAPS}plan p {\n  input { who: string @personal }\n  step m = read_mail(box: "a")\n  step w = wipe(path: ${expr}, note: "")\n}`).filter((d) => d.message.includes('needs a reason'));
    expect(reasons('endorse(m.output.body, reason: "")')).toHaveLength(1);
    expect(reasons('endorse(m.output.body, reason: "   ")')).toHaveLength(1);
    expect(reasons('endorse(m.output.body, reason: "${m.output.body}")')).toHaveLength(1);
    expect(reasons('declassify(input.who, to: internal, reason: " ")')).toHaveLength(1);
    expect(reasons('endorse(m.output.body, reason: "checked by the on-call")')).toEqual([]);
  });
});

describe('confidentiality: E0903', () => {
  it('a class declared on a nested field of a plan input (a record, a named type, a list of them) counts for the whole input field', () => {
    const nested = one(`
type Person = { name: string, mail: string @personal }
plan p {
  input { r: { a: string @personal }, who: Person, all: list<Person> }
  step k = keep(text: input.r.a)
}`, 'E0903');
    expect(nested.message).toContain('keep.text ← input.r @personal');
    expect(one(`context { home: { owner: string @personal } }\nplan p { step k = keep(text: context.home.owner) }`, 'E0903').message).toContain('keep.text ← context.home @personal');
    expect(flows(`
type Person = { name: string, mail: string @personal }
plan p {
  input { who: Person, all: list<Person> }
  step k = keep(text: input.who.name)
  for each x in input.all { step j = keep(text: x.mail) }
}`).map((d) => d.message.split(':')[0])).toEqual(['personal data reaches capability keep (data internal) in step k', 'personal data reaches capability keep (data internal) in step j']);
  });

  it('a capability declaring a lower data class; declassify lowers the value', () => {
    const d = one(`plan p {\n  input { email: string @personal }\n  step k = keep(text: input.email)\n}`, 'E0903');
    expect(d.message).toContain('personal data reaches capability keep (data internal) in step k: keep.text ← input.email @personal');
    expect(flows(`plan p {\n  input { email: string @personal }\n  step k = keep(text: declassify(input.email, reason: "hashed by the caller"))\n}`)).toEqual([]);
    // Lowered only part of the way: the witness path names the declassify and what it lowered.
    const part = one(`plan p {\n  input { key: string @secret }\n  step k = keep(text: declassify(input.key, to: personal, reason: "masked"))\n}`, 'E0903');
    expect(part.message).toContain('personal data reaches capability keep (data internal) in step k: keep.text ← declassify(…, to: personal) ← input.key @secret');
    expect(part.related?.map((r) => r.message)).toEqual(['declassify(…, to: personal)', 'input.key @secret']);
    // The step's data class the guardrails read is lowered to `to` as well, not always to internal.
    const guarded = (to: string) =>
      checkText(`${CAPS}guardrail g { severity blocking  forbid step where step.data >= personal }\nplan p {\n  guardrails g\n  input { key: string @secret }\n  step k = clean(text: declassify(input.key, ${to}reason: "masked"))\n}`).map((d) => d.code);
    expect(guarded('to: personal, ')).toContain('E0401');
    expect(guarded('to: internal, ')).not.toContain('E0401');
    expect(guarded('')).not.toContain('E0401');
    // `to:` takes a class word; anything else was read as internal in silence.
    const bad = checkText(`${CAPS}plan p {\n  input { key: string @secret }\n  step k = clean(text: declassify(input.key, to: "public", reason: "masked"))\n}`).filter((d) => d.code === 'E0201');
    expect(bad.map((d) => d.message)).toEqual(['declassify() takes a class word after to: (public, internal, personal, sensitive or secret), not an expression']);
  });

  it('the step.data guardrails read is the step’s output class: its output fields’ classes, the steps it reads, round a loop, lowered by declassify', () => {
    const violators = (body: string, caps = '') =>
      checkText(`${CAPS}${caps}guardrail g { severity warning  forbid step where step.data >= personal }\nplan p {\n  guardrails g\n${body}}`)
        .filter((d) => d.code === 'W0402')
        .map((d) => /step "(\w+)"/.exec(d.message)![1]);
    const pers = 'capability pers { kind tool  input { text: string }  output { text: string @personal } }\n';
    // Before, a step whose capability declares a personal output field, and the steps reading it, read as public.
    expect(violators('  step c = pers(text: "x")\n  step d = clean(text: c.output.text)\n  step e = clean(text: "x")\n', pers)).toEqual(['c', 'd']);
    expect(violators('  repeat l max 2 until b.output.ok {\n    step j = clean(text: l.previous.c.output.text ?? "")\n    step c = pers(text: "x")\n    step b = pay(to: "me", memo: "m")\n  }\n', pers)).toEqual(['j', 'c']);
    // Before, declassify lowered an input's class but not a read of a step's output.
    const personal = 'capability fetch { kind tool  input { id: string }  output { text: string }  data personal }\n';
    expect(violators('  step c = fetch(id: "x")\n  step e = clean(text: declassify(c.output.text, reason: "initials only"))\n', personal)).toEqual(['c']);
  });

  it('a step’s output class is its capability’s data: it reaches a cloud resource only up to internal; accepts says otherwise', () => {
    const src = (accepts: string) => `
capability fetch { kind tool  input { id: string }  output { text: string }  data personal  requires disk }
capability share { kind tool  input { text: string }  output { ok: bool }  requires net }
resource box { kind local_device  provides disk }
resource cloud { kind cloud_region  provides net ${accepts} }
plan p {
  step f = fetch(id: "1")
  step s = share(text: f.output.text)
}`;
    expect(one(src(''), 'E0903').message).toContain('personal data reaches resource cloud (cloud) in step s: share.text ← f.output.text (data personal)');
    expect(flows(src('accepts personal'))).toEqual([]);
  });

  it('an output field’s own class is a source: a plan whose only label is one is still analysed by check', () => {
    const src = `
capability lookup { kind tool  input { id: string }  output { email: string @personal }  requires disk }
capability share { kind tool  input { text: string }  output { ok: bool }  requires net }
resource box { kind local_device  provides disk }
resource cloud { kind cloud_region  provides net }
plan p {
  step l = lookup(id: "1")
  step s = share(text: l.output.email)
}`;
    expect(one(src, 'E0903').message).toContain('personal data reaches resource cloud (cloud) in step s: share.text ← l.output.email (output @personal)');
  });

  const PLACED = (pin: string, only = false) => `
capability work { kind tool  input { text: string }  output { ok: bool }  requires gpu }
resource cheap_cloud { kind cloud_region  provides gpu  cost 0.01usd }
resource edge_box { kind edge_cluster  provides gpu  cost 0.5usd }
${only ? '' : 'resource dear_local { kind local_device  provides gpu  cost 1usd }'}
policy cheap { strategy cost }
plan p {
  policy cheap
  input { who: string @personal, secret_note: string @sensitive }
  step w = work(text: input.who) ${pin}
  step v = work(text: input.secret_note)
}`;

  it('placement moves a step off a resource its class may not reach, to the best one that takes it, and keeps only such run-time alternatives', () => {
    const out = compileText(CAPS + PLACED(''));
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const steps = new Map(out.plans[0]!.steps.map((s) => [s.id, s]));
    // By cost the cloud resource wins; personal data goes no further than edge, sensitive stays local.
    expect(steps.get('w')!.binding).toMatchObject({ resource: 'edge_box', tier: 'edge', fallbacks: ['dear_local'] });
    expect(steps.get('w')!.binding!.rationale).toContain('its arguments carry personal data, which only these resources take (§9.3)');
    expect(steps.get('v')!.binding).toMatchObject({ resource: 'dear_local', tier: 'local', fallbacks: [] });
    expect(steps.get('w')!.estimates.cost).toBe(0.5);
  });

  it("a step moved where its class may go is estimated there: the plan's duration and the budget verdict too (§4 estimates)", () => {
    const src = `
capability send { kind tool  input { to: string }  output { ok: bool }  requires mail }
resource local_mail { kind local_device  provides mail  cost 0.01usd  latency 1s }
resource cloud_mail { kind cloud_region  provides mail  cost 0.001usd  latency 10ms }
policy cheap { strategy cost  budget duration <= 500ms }
plan p {
  policy cheap
  input { email: string @personal }
  step s = send(to: input.email)
}`;
    const ir = compileText(src).plans[0]!;
    expect(ir.steps[0]!.binding.resource).toBe('local_mail');
    // local_mail's 1 s, not cloud_mail's 10 ms, which the plan was first estimated on.
    expect(ir.estimates).toMatchObject({ cost: 0.01, duration_ms: 1000, duration_ms_max: 1000 });
    expect(checkText(src).filter((d) => d.code === 'W0502').map((d) => d.message)).toEqual(['estimated duration 1s of plan "p" exceeds the budget 500ms of policy cheap']);
  });

  it("the guardrails judge a step moved where its class may go on its new resource: plan.cost and plan.local_ratio (§4 guardrails)", () => {
    const src = `
capability send { kind tool  input { to: string }  output { ok: bool }  requires mail }
resource local_mail { kind local_device  provides mail  cost 0.01usd }
resource cloud_mail { kind cloud_region  provides mail  cost 0.001usd }
policy cheap { strategy cost }
guardrail spend { severity warning  assert plan.cost <= 0.005usd }
guardrail mostly_cloud { severity warning  assert plan.local_ratio <= 50% }
plan p {
  policy cheap
  guardrails spend, mostly_cloud
  input { email: string @personal }
  step s = send(to: input.email)
}`;
    const ir = compileText(src).plans[0]!;
    expect(ir.guardrails.map((g) => [g.name, g.static_verdict])).toEqual([['spend', 'violated'], ['mostly_cloud', 'violated']]);
    expect(checkText(src).filter((d) => d.code === 'W0402').map((d) => d.message.split(' (')[0])).toEqual(['guardrail "spend"', 'guardrail "mostly_cloud"']);
  });

  it('where no resource that can host the step takes its class it is E0903 (not E0501) with the witness path; a pinned step is not moved', () => {
    const ds = checkText(CAPS + PLACED('', true));
    expect(ds.filter((d) => d.code === 'E0501')).toEqual([]);
    const d = ds.find((x) => x.code === 'E0903')!;
    expect(d.message).toBe('sensitive data reaches resource cheap_cloud (cloud) in step v: work.text ← input.secret_note @sensitive; no resource that can host the step takes sensitive data');
    expect(ds.filter((x) => x.code === 'E0903')).toHaveLength(1);
    const pinned = one(PLACED('{ on cheap_cloud }'), 'E0903');
    expect(pinned.message).toBe('personal data reaches resource cheap_cloud (cloud) in step w: work.text ← input.who @personal; the step is pinned to it');
  });
});

describe('a refinement keeps the rules of what it refines (capability x from base)', () => {
  // Before, the sinks of std's email and notify were known by name only, and trust, `endorses`,
  // `data` and parameter marks were read from the refinement's own declaration: a refinement
  // laundered every one of them.
  it("refinements of email and notify keep their sinks, a refinement of approval its endorsement", () => {
    const src = `
capability mail from email { cost 0.01usd }
capability ping from notify { cost 0usd }
capability ok from approval { cost 0usd }
plan p {
  input { body: string @untrusted }
  step c = classify(text: input.body)
  step m = mail(to: [c.output.reply_to], subject: "re", text: "hi")
  step n = ping(channel: c.output.label, text: "hi")
  step a = ok(approver: "lead", summary: "wipe it?", subject: c.output.reply_to)
  step w = wipe(path: a.output.subject, note: "")
}`;
    expect(flows(src).map((d) => [d.code, d.message.split(':')[0]])).toEqual([
      ['E0902', 'untrusted value reaches mail.to, which needs a trusted one'],
      ['E0902', 'untrusted value reaches ping.channel, which needs a trusted one'],
    ]);
  });

  it("no mark of a refinement opens email's recipients or a message's channel", () => {
    const src = `
capability mail from email { input { to: list<string> @untrusted, channel: string @untrusted } }
plan p {
  input { body: string @untrusted }
  step c = classify(text: input.body)
  step m = mail(to: [c.output.reply_to], subject: "re", text: "hi", channel: c.output.label)
}`;
    expect(flows(src).map((d) => d.message.split(':')[0])).toEqual([
      'untrusted value reaches mail.to, which needs a trusted one',
      'untrusted value reaches mail.channel, which needs a trusted one',
    ]);
  });

  it('refinements of a trust untrusted tool, a @trusted parameter and a data internal capability keep them', () => {
    const src = `
capability read2 from read_mail { cost 0usd }
capability pay2 from pay { cost 0usd }
capability keep2 from keep { cost 0usd }
plan p {
  input { who: string @personal }
  step r = read2(box: "in")
  step q = pay2(to: r.output.reply_to, memo: "")
  step k = keep2(text: input.who)
}`;
    expect(flows(src).map((d) => [d.code, d.message])).toEqual([
      ['E0902', 'untrusted value reaches pay2.to, which needs a trusted one: pay2.to ← r.output.reply_to (trust untrusted, untrusted)'],
      ['E0903', 'personal data reaches capability keep2 (data internal) in step k: keep2.text ← input.who @personal'],
    ]);
  });

  it('what a refinement declares itself still wins: trust trusted, @untrusted on a parameter, another data class', () => {
    const src = `
capability read3 from read_mail { trust trusted }
capability wipe3 from wipe { input { path: string @untrusted } }
capability keep3 from keep { data personal }
plan p {
  input { who: string @personal }
  step r = read3(box: "in")
  step q = pay(to: r.output.reply_to, memo: "")
  step x = classify(text: "t")
  step w = wipe3(path: x.output.label, note: "")
  step k = keep3(text: input.who)
}`;
    expect(flows(src)).toEqual([]);
  });
});

describe('trust trusted cannot vouch for a model or http_request (§9.3 names their answers untrusted)', () => {
  it('is E0201 on a kind llm capability, a refinement of one and a refinement of http_request, and the answer stays a source', () => {
    const src = `
capability sure { kind llm  input { text: string }  output { reply_to: string }  handler "./h.js#classify"  trust trusted }
capability sure2 from classify { trust trusted }
capability fetch2 from http_request { trust trusted }
plan p {
  step a = sure(text: "t")
  step b = sure2(text: "t")
  step w = wipe(path: a.output.reply_to, note: "")
  step v = wipe(path: b.output.label, note: "")
}`;
    const ds = checkText(CAPS + src);
    expect(ds.filter((d) => d.code === 'E0201').map((d) => d.message)).toEqual([
      'capability sure is a kind llm capability: its answers are untrusted whatever it declares (§9.3); "trust trusted" is for a refinement of an MCP tool — vouch for a value with endorse(V, reason: "…") or a validator (endorses true)',
      'capability sure2 is a kind llm capability: its answers are untrusted whatever it declares (§9.3); "trust trusted" is for a refinement of an MCP tool — vouch for a value with endorse(V, reason: "…") or a validator (endorses true)',
      'capability fetch2 is a http_request capability: its answers are untrusted whatever it declares (§9.3); "trust trusted" is for a refinement of an MCP tool — vouch for a value with endorse(V, reason: "…") or a validator (endorses true)',
    ]);
    expect(ds.filter((d) => d.code === 'E0902').map((d) => d.message.split(':')[0])).toEqual([
      'untrusted value reaches wipe.path, which needs a trusted one',
      'untrusted value reaches wipe.path, which needs a trusted one',
    ]);
  });
});

describe('config: external channels, the email’s own recipients, "flows": "warn"', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orch-flows-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = (config: object, src: string): Diagnostic[] => {
    const sub = mkdtempSync(join(dir, 'p-'));
    writeFileSync(join(sub, 'orch.config.json'), JSON.stringify(config));
    writeFileSync(join(sub, 'main.orch'), CAPS + src);
    return check({ entry: join(sub, 'main.orch'), host: diskHost }).filter((d) => d.code === 'E0902' || d.code === 'E0903');
  };
  const SRC = `plan p {\n  input { who: list<string> @personal, note: string @personal }\n  step e = email(to: input.who, subject: "s", text: input.note)\n}`;

  it('personal text to an external email channel is E0903; the recipients themselves are not', () => {
    const ds = run({ channels: { email: { email: { smtp: 'smtp://127.0.0.1:25' } } } }, SRC);
    expect(ds.map((d) => d.message.split(':')[0])).toEqual(['personal data reaches external channel "email" in step e']);
  });

  it('notify: personal text to an external Slack or webhook channel is E0903; to one marked "internal": true it is not', () => {
    const NOTE = `plan p {\n  input { who: string @personal }\n  step n = notify(channel: "ops", text: input.who)\n}`;
    for (const transport of [{ slack: 'https://hooks.slack.com/services/x' }, { webhook: { url: 'https://hooks.example.com/x' } }]) {
      const ds = run({ channels: { ops: transport } }, NOTE);
      expect(ds.map((d) => d.message)).toEqual(['personal data reaches external channel "ops" in step n: notify.text ← input.who @personal']);
      expect(run({ channels: { ops: { ...transport, internal: true } } }, NOTE)).toEqual([]);
    }
  });

  it('a refinement of email is held to the channel too', () => {
    const ds = run({ channels: { email: { email: { smtp: 'smtp://127.0.0.1:25' } } } }, `capability mail from email { cost 0.01usd }\n${SRC.replace('email(', 'mail(')}`);
    expect(ds.map((d) => d.message)).toEqual(['personal data reaches external channel "email" in step e: mail.text ← input.note @personal']);
  });

  it('"internal": true on the channel allows it', () => {
    expect(run({ channels: { email: { email: { smtp: 'smtp://127.0.0.1:25' }, internal: true } } }, SRC)).toEqual([]);
  });

  it('"flows": "warn" turns the findings into warnings', () => {
    const ds = run({ flows: 'warn', channels: { email: { email: { smtp: 'smtp://127.0.0.1:25' } } } }, SRC);
    expect(ds.map((d) => [d.code, d.severity])).toEqual([['E0903', 'warning']]);
  });

  it('both codes are errors without it, and both warnings with it (nothing else changes)', () => {
    const both = `plan p {\n  input { note: string @personal @untrusted }\n  step w = wipe(path: input.note, note: "")\n  step k = keep(text: input.note)\n}`;
    expect(run({}, both).map((d) => [d.code, d.severity])).toEqual([['E0902', 'error'], ['E0903', 'error']]);
    const warned = run({ flows: 'warn' }, both);
    expect(warned.map((d) => [d.code, d.severity])).toEqual([['E0902', 'warning'], ['E0903', 'warning']]);
    expect(warned.map((d) => d.message)).toEqual(run({}, both).map((d) => d.message));
  });

  it('any other "flows" value is W0803 at the key, and the findings stay errors', () => {
    const sub = mkdtempSync(join(dir, 'p-'));
    writeFileSync(join(sub, 'orch.config.json'), '{\n  "flows": "warning"\n}\n');
    writeFileSync(join(sub, 'main.orch'), CAPS + `plan p {\n  input { note: string @personal @untrusted }\n  step w = wipe(path: input.note, note: "")\n}`);
    const ds = check({ entry: join(sub, 'main.orch'), host: diskHost });
    expect(ds.filter((d) => d.code === 'E0902').map((d) => d.severity)).toEqual(['error']);
    const w = ds.filter((d) => d.code === 'W0803');
    expect(w.map((d) => [d.severity, d.message, d.file, d.range.start.line, d.range.start.column])).toEqual([
      ['warning', '"flows": "warning" is not read (only "warn" is): E0902 and E0903 stay errors', join(sub, 'orch.config.json'), 2, 3],
    ]);
  });
});

describe('orch preview: where each class goes (§9.3)', () => {
  it('names the class, its sources, the step, its resource and tier, as the spec writes it', () => {
    const src = `
capability fetch_order { kind tool  input { id: string }  output { text: string }  data personal  requires disk }
capability classify { kind tool  input { text: string }  output { label: string }  requires gpu }
resource local_model { kind local_device  provides disk, gpu }
plan p {
  step fetch_order = fetch_order(id: "1")
  step classify = classify(text: fetch_order.output.text)
}`;
    const out = compileText(src);
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const p = preview(out.plans[0]!);
    expect(p.flows.classes).toEqual([{ class: 'personal', step: 'classify', sources: ['fetch_order'], resource: 'local_model', tier: 'local' }]);
    expect(renderPreviewText(p, false)).toContain('Where data goes\n  personal: fetch_order → classify (local_model, local)\n');
  });

  it('names only the sources that brought the class: an untrusted public input or step the step also reads is none of them', () => {
    // Before: `personal: fetch_order, input.ref, note → classify` — the class came from fetch_order alone.
    const src = `
capability fetch_order { kind tool  input { id: string }  output { text: string }  data personal  requires disk }
capability note_of { kind tool  input { id: string }  output { text: string }  trust untrusted }
capability classify { kind tool  input { text: string, hint: string, more: string }  output { label: string }  requires gpu }
resource local_model { kind local_device  provides disk, gpu }
plan p {
  input { ref: string @untrusted, who: string @personal }
  step fetch_order = fetch_order(id: "1")
  step note = note_of(id: "2")
  step classify = classify(text: fetch_order.output.text, hint: "\${input.ref} \${note.output.text}", more: input.who)
}`;
    const p = preview(compileText(src).plans[0]!);
    expect(p.flows.classes).toEqual([{ class: 'personal', step: 'classify', sources: ['fetch_order', 'input.who'], resource: 'local_model', tier: 'local' }]);
    // The run time's labels still name every source, of the class and of the distrust (§9.3's step_started.data.labels).
    expect(compileText(src).plans[0]!.steps.find((s) => s.id === 'classify')!.labels!.sources).toEqual(['fetch_order', 'input.ref', 'input.who', 'note']);
  });

  it("lists an endorse or declassify in the with of a trigger that starts the plan (it was not: no step holds it)", () => {
    const src = `context { note: string @untrusted }
plan p {
  input { note: string @trusted }
  step k = keep(text: input.note)
}
trigger t { manual run p with { note: endorse(context.note ?? "", reason: "the operator wrote it") } }`;
    const out = compileText(CAPS + src);
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const p = preview(out.plans[0]!, out.model);
    expect(p.flows.relabels).toEqual([{ step: null, trigger: 't', kind: 'endorse', reason: 'the operator wrote it' }]);
    expect(renderPreviewText(p, false)).toContain('  endorsed in the with of trigger t: the operator wrote it\n');
  });
});
