/**
 * LANGUAGE.md §9.3 at run time: `step_started.data.labels` from the labels the compiler put in the
 * IR, `endorsed`/`declassified` journaled when an attempt runs them, and an attempt whose arguments
 * break a rule that a `"flows": "warn"` compile let through refused before its handler, as a
 * permanent error naming the sink and the source.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile, diskHost, preview, renderPreviewText, validatePlanIR, type PlanIR } from '../../compiler/index.js';
import { loadPlan, portablePlan } from '../load-plan.js';
import { Runtime } from '../index.js';
import { Run, VirtualClock } from '../scheduler/index.js';
import type { ExecutionResult, RunEvent } from '../scheduler/types.js';
import { SimExecutor } from './sim-executor.js';

const SRC = `
capability read_mail { kind tool  input { box: string }  output { reply_to: string, body: string }  trust untrusted }
capability pay { kind tool  input { to: string @trusted, memo: string }  output { ok: bool } }
capability note { kind tool  input { text: string }  output { ok: bool } }
plan p {
  input { box: string, who: string @personal }
  step r = read_mail(box: input.box)
  step n = note(text: "\${r.output.body} \${input.who}")
  step ok = note(text: endorse(r.output.reply_to, reason: "checked by hand"))
  step d = note(text: declassify(input.who, to: internal, reason: "only initials"))
  step p2 = pay(to: r.output.reply_to, memo: "x")
}
`;

const dir = mkdtempSync(join(tmpdir(), 'orch-flow-rt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function compiled(config: object, src = SRC): PlanIR {
  const sub = mkdtempSync(join(dir, 'p-'));
  writeFileSync(join(sub, 'orch.config.json'), JSON.stringify(config));
  writeFileSync(join(sub, 'main.orch'), src);
  writeFileSync(join(sub, 'h.js'), 'export const h = () => ({});\n');
  const out = compile({ entry: join(sub, 'main.orch'), host: diskHost });
  expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return out.plans[0]!;
}

async function run(p: PlanIR, fails?: string): Promise<{ result: ExecutionResult; events: RunEvent[]; called: string[] }> {
  const clock = new VirtualClock(0);
  const called: string[] = [];
  const exec = new SimExecutor(clock, (req) => {
    called.push(req.capability.name);
    if (req.capability.name === fails) return { latency: 5, outcome: { ok: false, error: 'down' } };
    return { latency: 5, outcome: { ok: true, output: req.capability.name === 'main.read_mail' ? { reply_to: 'x@evil.test', body: 'pay x' } : { ok: true } } };
  });
  const events: RunEvent[] = [];
  const done = new Run(p, { clock, executor: exec, observe: (e) => events.push(e) }, { runId: 'flows', input: { box: 'in', who: 'Ann' } }).start();
  let finished = false;
  void done.finally(() => (finished = true));
  for (let i = 0; i < 1000 && !finished; i++) {
    clock.runAll();
    await new Promise((r) => setImmediate(r));
  }
  return { result: await done, events, called };
}

const of = (events: RunEvent[], type: string, step?: string) =>
  events.filter((e) => e.type === type && (step === undefined || e.stepId === step)).map((e) => e.data as Record<string, unknown>);

describe('§9.3 at run time', () => {
  it('journals each step’s labels, every endorse and declassify, and refuses the warned sink before its handler', async () => {
    const { result, events, called } = await run(compiled({ flows: 'warn' }));
    expect(of(events, 'step_started', 'n')[0]!.labels).toEqual({ class: 'personal', trusted: false, sources: ['input.who', 'r'] });
    expect(of(events, 'step_started', 'ok')[0]!.labels).toEqual({ class: 'public', trusted: true, sources: ['r'] });
    expect(of(events, 'step_started', 'd')[0]!.labels).toEqual({ class: 'internal', trusted: true, sources: ['input.who'] });
    expect(of(events, 'step_started', 'r')[0]!.labels).toEqual({ class: 'public', trusted: true, sources: [] });
    expect(of(events, 'endorsed', 'ok')).toEqual([{ reason: 'checked by hand', attempt: 1 }]);
    expect(of(events, 'declassified', 'd')).toEqual([{ reason: 'only initials', to: 'internal', attempt: 1 }]);
    const failed = of(events, 'step_failed', 'p2');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ permanent: true });
    expect(failed[0]!.error).toMatch(/^E0902: refused before the handler: pay\.to ← … ← r\.output\.reply_to/);
    expect(called.filter((c) => c === 'main.pay')).toEqual([]);
    expect(of(events, 'step_retried', 'p2')).toEqual([]);
    expect(result.status).toBe('failed');
  });

  it('refuses only the call whose arguments break the rule: a fallback’s or a compensation’s never stops the step’s own call', async () => {
    const src = `
capability read_mail { kind tool  input { box: string }  output { reply_to: string, body: string }  trust untrusted }
capability pay { kind tool  input { to: string @trusted, memo: string }  output { ok: bool } }
capability note { kind tool  input { text: string }  output { ok: bool } }
capability flaky { kind tool  input { text: string }  output { ok: bool } }
plan p {
  input { box: string, who: string }
  on_failure rollback
  step r = read_mail(box: input.box)
  step k = note(text: "fine") {
    compensate pay(to: r.output.reply_to, memo: "undo")
  }
  step f = note(text: "fine") {
    fallback pay(to: r.output.reply_to, memo: "x")
  }
  step e = note(text: "fine") {
    fallback note(text: endorse(r.output.body, reason: "fallback text"))
    compensate note(text: endorse(r.output.body, reason: "undo text"))
  }
  step g = flaky(text: "x") {
    after k, f, e
    fallback pay(to: r.output.reply_to, memo: "x")
  }
}
`;
    const ir = compiled({ flows: 'warn' }, src);
    expect(ir.steps.find((x) => x.id === 'k')!.flow_refusals?.map((x) => x.call)).toEqual(['compensate']);
    // Before, the step's own call was refused for what its fallback or compensation would pass.
    const { result, events, called } = await run(ir, 'main.flaky');
    expect(of(events, 'step_completed').length).toBe(4);
    // A fallback's endorse is journaled only when the fallback runs (it did not), a compensation's when it runs.
    expect(of(events, 'endorsed', 'e')).toEqual([{ reason: 'undo text', attempt: 1 }]);
    expect(events.findIndex((x) => x.type === 'endorsed' && x.stepId === 'e')).toBeGreaterThan(events.findIndex((x) => x.type === 'step_failed' && x.stepId === 'g'));
    expect(of(events, 'step_failed', 'g')[0]).toMatchObject({ permanent: true });
    expect(of(events, 'step_failed', 'g')[0]!.error).toMatch(/^E0902: refused before the handler: pay\.to ← … ← r\.output\.reply_to/);
    expect(called.filter((c) => c === 'main.flaky')).toHaveLength(1);
    // The rollback does not call the compensation whose arguments break the rule; it says why.
    expect(of(events, 'step_compensated', 'k')).toEqual([{ ok: false, error: expect.stringMatching(/^not run: E0902: refused before the handler: pay\.to ← … ← r\.output\.reply_to/) }]);
    expect(called.filter((c) => c === 'main.pay')).toEqual([]);
    expect(result.status).toBe('failed');
  });

  it('an IR compiled without warn has no refusals: its steps run (the compile refused the plan)', async () => {
    const clean = SRC.replace('step p2 = pay(to: r.output.reply_to, memo: "x")', 'step p2 = pay(to: endorse(r.output.reply_to, reason: "a known payee"), memo: "x")');
    const { result, called } = await run(compiled({}, clean));
    expect(result.status).toBe('completed');
    expect(called).toContain('main.pay');
  });

  it('a sub-plan step’s labels name what its arguments read, as a call’s do (its sources were empty)', async () => {
    const src = `
capability read_mail { kind tool  input { box: string }  output { reply_to: string, body: string }  trust untrusted }
capability note { kind tool  input { text: string }  output { ok: bool } }
plan p {
  input { box: string, who: string @personal }
  step r = read_mail(box: input.box)
  step s = run inner(t: "\${input.who} \${r.output.body}")
}
plan inner {
  input { t: string @personal }
  step k = note(text: input.t)
}
`;
    const ir = compiled({}, src);
    expect(ir.plan).toBe('p');
    expect(ir.steps.find((x) => x.id === 's')!.labels).toEqual({ class: 'personal', trusted: false, sources: ['input.who', 'r'] });
    const { events } = await run(ir);
    expect(of(events, 'step_started', 's')[0]!.labels).toEqual({ class: 'personal', trusted: false, sources: ['input.who', 'r'] });
    // The preview names the sources of the class alone: r's answer is untrusted, not personal.
    expect(preview(ir).flows.classes.find((x) => x.step === 's')).toMatchObject({ sources: ['input.who'] });
  });

  it('a step reading a repeat’s previous iteration names that step and its sources, though the step comes after it (its sources were empty)', () => {
    const src = `
capability read_mail { kind tool  input { box: string }  output { reply_to: string, body: string }  trust untrusted }
capability note { kind tool  input { text: string }  output { ok: bool, text: string } }
plan p {
  input { box: string, who: string @personal }
  repeat loop max 3 until k.output.ok {
    step j = note(text: loop.previous.k.output.text ?? "")
    step k = note(text: "\${input.who} \${m.output.body}")
    step m = read_mail(box: input.box)
  }
  step after = note(text: j.output.text)
}
`;
    const ir = compiled({}, src);
    const labels = (id: string) => ir.steps.find((x) => x.id === id)!.labels;
    expect(labels('j')).toEqual({ class: 'personal', trusted: false, sources: ['input.who', 'k', 'm'] });
    expect(labels('after')).toEqual({ class: 'personal', trusted: false, sources: ['input.who', 'j', 'k', 'm'] });
  });

  it('an endorse or declassify in the plan’s output is journaled when the run completes and listed by orch preview (it was neither)', async () => {
    const src = SRC.replace('  step p2 = pay(to: r.output.reply_to, memo: "x")\n', '  output { to: endorse(r.output.reply_to, reason: "a known payee"), who: declassify(input.who, reason: "initials only") }\n');
    const ir = compiled({}, src);
    expect(ir.output_relabels).toEqual([{ kind: 'endorse', reason: 'a known payee' }, { kind: 'declassify', reason: 'initials only', to: 'internal' }]);
    const { result, events } = await run(ir);
    expect(result.status).toBe('completed');
    const types = events.map((e) => e.type);
    const runLevel = events.filter((e) => (e.type === 'endorsed' || e.type === 'declassified') && e.stepId == null);
    expect(runLevel.map((e) => [e.type, e.data])).toEqual([
      ['endorsed', { reason: 'a known payee', attempt: 0 }],
      ['declassified', { reason: 'initials only', to: 'internal', attempt: 0 }],
    ]);
    expect(types.indexOf('execution_completed')).toBeGreaterThan(events.indexOf(runLevel[1]!));
    const p = preview(ir);
    expect(p.flows.relabels.filter((r) => r.step === null)).toEqual([
      { step: null, kind: 'endorse', reason: 'a known payee' },
      { step: null, kind: 'declassify', reason: 'initials only', to: 'internal' },
    ]);
    expect(renderPreviewText(p, false)).toContain("  endorsed in the plan's output: a known payee\n  declassified to internal in the plan's output: initials only\n");
  });

  it('an endorse in the when of a step that is not destructive is journaled when it starts and listed by orch preview (it was neither: only a sink’s when was walked)', async () => {
    const src = SRC.replace('  step p2 = pay(to: r.output.reply_to, memo: "x")\n', '  step g = note(text: "go") when endorse(r.output.body, reason: "a person wrote the command") == "pay x"\n');
    const ir = compiled({}, src);
    expect(ir.steps.find((s) => s.id === 'g')!.relabels).toEqual([{ kind: 'endorse', reason: 'a person wrote the command' }]);
    const { events } = await run(ir);
    expect(of(events, 'endorsed', 'g')).toEqual([{ reason: 'a person wrote the command', attempt: 1 }]);
    expect(renderPreviewText(preview(ir), false)).toContain('  endorsed in g: a person wrote the command\n');
  });

  it('an endorse or declassify in a loop’s until is journaled each time the until is evaluated and listed by orch preview (it was neither)', async () => {
    const loop = '  repeat again max 3 until endorse(r2.output.reply_to, reason: "the payee decides") == "done" and declassify(input.who, reason: "a name") != "" {\n    step r2 = read_mail(box: "x")\n  }\n';
    const ir = compiled({}, SRC.replace('  step p2 = pay(to: r.output.reply_to, memo: "x")\n', loop));
    const block = ir.blocks?.find((b) => b.type === 'repeat');
    expect(block).toMatchObject({ id: 'again', until_relabels: [{ kind: 'endorse', reason: 'the payee decides' }, { kind: 'declassify', reason: 'a name', to: 'internal' }] });
    // No step's: the steps' own relabels are as before.
    expect(ir.steps.find((s) => s.id === 'r2')!.relabels).toBeUndefined();
    expect(ir.output_relabels).toBeUndefined();
    // The published schema takes it.
    expect(validatePlanIR(JSON.parse(JSON.stringify(ir)))).toMatchObject({ ok: true });
    const { events } = await run(ir);
    // read_mail never answers "done": three iterations, the until evaluated after each.
    expect(of(events, 'loop_iteration', 'again')).toHaveLength(3);
    expect(of(events, 'endorsed', 'again')).toEqual([1, 2, 3].map(() => ({ reason: 'the payee decides', attempt: 0 })));
    expect(of(events, 'declassified', 'again')).toEqual([1, 2, 3].map(() => ({ reason: 'a name', to: 'internal', attempt: 0 })));
    const p = preview(ir);
    expect(p.flows.relabels.filter((r) => r.loop !== undefined)).toEqual([
      { step: null, loop: 'again', kind: 'endorse', reason: 'the payee decides' },
      { step: null, loop: 'again', kind: 'declassify', reason: 'a name', to: 'internal' },
    ]);
    expect(renderPreviewText(p, false)).toContain('  endorsed in the until of loop again: the payee decides\n  declassified to internal in the until of loop again: a name\n');
  });

  it('a sub-plan run journals its steps’ labels as the call’s arguments give them, not as its inputs are declared (they read public and trusted)', async () => {
    const src = `
capability note { kind tool  input { text: string }  output { text: string }  handler "./h.js#h" }
plan p {
  input { body: string @untrusted @personal }
  step r = run inner(t: input.body, u: "plain")
}
plan inner {
  input { t: string, u: string }
  step k = note(text: input.t)
  step m = note(text: input.u)
}
`;
    const sub = mkdtempSync(join(dir, 'p-'));
    writeFileSync(join(sub, 'orch.config.json'), '{}');
    writeFileSync(join(sub, 'main.orch'), src);
    writeFileSync(join(sub, 'h.js'), 'export const h = (i) => ({ text: i.text });\n');
    const ir = compile({ entry: join(sub, 'main.orch'), host: diskHost }).plans.find((x) => x.plan === 'p')!;
    expect(ir.steps[0]!.subplan_labels).toEqual({ k: { class: 'personal', trusted: false, sources: ['input.t'] } });
    expect(ir.subplans.inner!.steps.find((x) => x.id === 'k')!.labels).toEqual({ class: 'public', trusted: true, sources: [] });
    const rt = await Runtime.open({ db: join(sub, 'runs.db'), workers: 1 });
    try {
      const active = await rt.start(ir, { input: { body: 'x' }, config: { file: null, hooks: {}, secrets: {} } });
      expect((await active.result).status).toBe('completed');
      const child = rt.journal!.load(`${active.runId}/r`);
      expect(of(child, 'step_started', 'k')[0]!.labels).toEqual({ class: 'personal', trusted: false, sources: ['input.t'] });
      expect(of(child, 'step_started', 'm')[0]!.labels).toEqual({ class: 'public', trusted: true, sources: [] });
    } finally {
      await rt.close();
    }
  });

  it('orch preview lists where each class goes and every endorsement and declassification (JSON and text)', () => {
    const p = preview(compiled({ flows: 'warn' }));
    expect(p.flows.classes.map((x) => `${x.class}: ${x.sources.join(', ')} → ${x.step}`).sort()).toEqual(['internal: input.who → d', 'personal: input.who → n']);
    expect([...p.flows.relabels].sort((a, b) => (a.step ?? '').localeCompare(b.step ?? ''))).toEqual([
      { step: 'd', kind: 'declassify', reason: 'only initials', to: 'internal' },
      { step: 'ok', kind: 'endorse', reason: 'checked by hand' },
    ]);
    const text = renderPreviewText(p, false);
    expect(text).toContain('Where data goes\n');
    for (const line of ['  personal: input.who → n\n', '  endorsed in ok: checked by hand\n', '  declassified to internal in d: only initials\n']) expect(text).toContain(line);
  });

  describe('a v2 IR compiled before §9.3 (no labels) is re-checked at load', () => {
    // What a compiler before §9.3 wrote: no labels, relabels or refusals; sources and sinks it could say (llm, destructive, email).
    const OLD = `
capability classify { kind llm  input { text: string }  output { reply_to: string }  handler "./h.js#h" }
capability wipe { kind tool  input { path: string }  output { ok: bool }  destructive true }
capability tidy { kind tool  input { text: string }  output { text: string } }
resource cloud { kind cloud_region  provides net }
capability share { kind tool  input { text: string }  output { ok: bool }  requires net }
plan p {
  input { body: string, who: string @personal }
  step c = classify(text: input.body)
  step t = tidy(text: c.output.reply_to)
  step w = wipe(path: PATH)
  step s = share(text: SHARED)
}
`;
    const unlabelled = (ir: PlanIR): PlanIR => ({
      ...(JSON.parse(JSON.stringify(ir), (k, v: unknown) => (['labels', 'relabels', 'flow_refusals', 'subplan_labels', 'output_relabels'].includes(k) ? undefined : v)) as PlanIR),
      version: 'orch.plan/v2',
    });
    const irFile = (config: object, path: string, shared: string, edit?: (ir: PlanIR) => PlanIR): string => {
      const ir = compiled({ flows: 'warn' }, OLD.replace('PATH', path).replace('SHARED', shared));
      const sub = mkdtempSync(join(dir, 'ir-'));
      writeFileSync(join(sub, 'orch.config.json'), JSON.stringify(config));
      const file = join(sub, 'plan.json');
      // As `orch compile` writes it (paths relative to its project): it runs from any copy.
      writeFileSync(file, JSON.stringify(portablePlan((edit ?? ((x) => x))(unlabelled(ir)))));
      return file;
    };

    it('refuses one whose flows break the rules, naming each finding and its witness path', async () => {
      const loaded = await loadPlan(irFile({}, 't.output.text', 'input.who'));
      if (loaded.kind !== 'usage') throw new Error(loaded.kind);
      expect(loaded.kind).toBe('usage');
      const message = (loaded as { message: string }).message;
      expect(message).toContain('was compiled before LANGUAGE.md §9.3 (its IR carries no flow labels) and, re-checked at load, breaks its rules:');
      expect(message).toContain('E0902 in step w: untrusted value reaches wipe.path, which needs a trusted one: wipe.path ← t.output (reads untrusted, untrusted) ← c.output (llm, untrusted)');
      expect(message).toContain('E0903 in step s: personal data reaches resource cloud (cloud) in step s: share.text ← input.who @personal');
    });

    it('a class on a nested field of an input counts for the whole field, as at compile time', async () => {
      const ir = compiled({ flows: 'warn' }, OLD.replace('who: string @personal', 'who: { mail: string @personal }').replace('PATH', 'input.body').replace('SHARED', 'input.who.mail'));
      const sub = mkdtempSync(join(dir, 'ir-'));
      writeFileSync(join(sub, 'orch.config.json'), '{}');
      writeFileSync(join(sub, 'plan.json'), JSON.stringify(portablePlan(unlabelled(ir))));
      const loaded = await loadPlan(join(sub, 'plan.json'));
      expect((loaded as { message?: string }).message).toContain('E0903 in step s: personal data reaches resource cloud (cloud) in step s: share.text ← input.who @personal');
    });

    it('follows a repeat’s previous iteration, as the compiler does', async () => {
      const loop = OLD.replace('  step w = wipe(path: PATH)\n', '  repeat l max 2 until c2.output.reply_to == "" {\n    step w = wipe(path: l.previous.c2.output.reply_to ?? "")\n    step c2 = classify(text: "x")\n  }\n');
      const ir = compiled({ flows: 'warn' }, loop.replace('SHARED', 'input.body'));
      const sub = mkdtempSync(join(dir, 'ir-'));
      writeFileSync(join(sub, 'orch.config.json'), '{}');
      writeFileSync(join(sub, 'plan.json'), JSON.stringify(portablePlan(unlabelled(ir))));
      const loaded = await loadPlan(join(sub, 'plan.json'));
      expect((loaded as { message?: string }).message).toContain('E0902 in step w: untrusted value reaches wipe.path, which needs a trusted one: wipe.path ← c2.output (llm, untrusted)');
    });

    it('reads a loop’s iterations as a count, with its steps’ distrust but not their class, as the compiler does', async () => {
      // Before, `ran ${l.iterations}` carried the personal class of the loop's steps: refused for the cloud resource.
      const loop = OLD.replace('plan p {', 'capability lookup { kind tool  input { id: string }  output { name: string @personal } }\nplan p {')
        .replace('  step w = wipe(path: PATH)\n', '  repeat l max 2 until c2.output.reply_to == "" {\n    step c2 = classify(text: "x")\n    step t2 = lookup(id: "x")\n  }\n  step w = wipe(path: "n ${l.iterations}")\n');
      const ir = compiled({ flows: 'warn' }, loop.replace('SHARED', '"ran ${l.iterations}"'));
      const sub = mkdtempSync(join(dir, 'ir-'));
      writeFileSync(join(sub, 'orch.config.json'), '{}');
      writeFileSync(join(sub, 'plan.json'), JSON.stringify(portablePlan(unlabelled(ir))));
      const message = ((await loadPlan(join(sub, 'plan.json'))) as { message?: string }).message ?? '';
      expect(message).not.toContain('E0903');
      expect(message).toContain('E0902 in step w: untrusted value reaches wipe.path, which needs a trusted one: wipe.path ← c2.output (llm, untrusted)');
    });

    it('runs one whose flows keep the rules, and an IR with labels as it is', async () => {
      const clean = await loadPlan(irFile({}, 'input.body', 'input.body'));
      expect(clean.kind).toBe('plan');
      const labelled = compiled({ flows: 'warn' }, OLD.replace('PATH', 't.output.text').replace('SHARED', 'input.body'));
      const sub = mkdtempSync(join(dir, 'ir-'));
      writeFileSync(join(sub, 'orch.config.json'), '{}');
      writeFileSync(join(sub, 'plan.json'), JSON.stringify(portablePlan(labelled)));
      const kept = await loadPlan(join(sub, 'plan.json'));
      expect(kept.kind).toBe('plan');
      expect((kept as { plan: PlanIR }).plan.steps.find((s) => s.id === 'w')!.flow_refusals).toHaveLength(1);
    });

    it('judges a model step by the endpoint its resource names (all a v0.3 IR says of it) at the tier the config gives it now', async () => {
      const src = `
capability sum { kind llm  input { text: string }  output { s: string }  prompt "S \${input.text}"  model "m"  requires llm }
resource box { kind local_device  provides llm  endpoint "ep" }
plan p {
  input { email: string @personal }
  step s = sum(text: input.email)
  output { s: s.output.s }
}
`;
      const local = { endpoints: { ep: { api: 'openai', base_url: 'http://127.0.0.1:11434/v1' } } };
      // A v0.3 compiler wrote the resource's endpoint, not the step's (nor any tier).
      const v03 = (ir: PlanIR): PlanIR => ({
        ...ir,
        resources: Object.fromEntries(Object.entries(ir.resources).map(([k, r]) => [k, { ...r, endpoint_tier: undefined }])),
        steps: ir.steps.map((x) => ({ ...x, binding: { ...x.binding, endpoint: undefined, endpoint_tier: undefined } })),
      });
      const ir = v03(unlabelled(compiled(local, src)));
      const at = (config: object): string => {
        const sub = mkdtempSync(join(dir, 'ir-'));
        writeFileSync(join(sub, 'orch.config.json'), JSON.stringify(config));
        writeFileSync(join(sub, 'plan.json'), JSON.stringify(portablePlan(ir)));
        return join(sub, 'plan.json');
      };
      expect((await loadPlan(at(local))).kind).toBe('plan');
      // The same endpoint now a cloud one: the personal prompt may not go there.
      const moved = await loadPlan(at({ endpoints: { ep: { api: 'openai', base_url: 'https://api.example.com/v1' } } }));
      expect((moved as { message?: string }).message).toContain('E0903 in step s: personal data reaches model endpoint ep (cloud) in step s: sum.text ← input.email @personal');
    });

    it('refuses one edited so that a model’s answer reaches a destructive step', async () => {
      const edited = (ir: PlanIR): PlanIR => ({ ...ir, steps: ir.steps.map((s) => (s.id === 'w' ? { ...s, args: { path: { op: 'get', object: { op: 'get', object: { op: 'step', id: 'c' }, key: 'output' }, key: 'reply_to' } } } : s)) });
      const loaded = await loadPlan(irFile({}, 'input.body', 'input.body', edited));
      expect((loaded as { message: string }).message).toContain('E0902 in step w: untrusted value reaches wipe.path, which needs a trusted one: wipe.path ← c.output (llm, untrusted)');
    });

    it('in a project on "flows": "warn", loads it with the findings as run-time refusals', async () => {
      const loaded = await loadPlan(irFile({ flows: 'warn' }, 't.output.text', 'input.body'));
      expect(loaded.kind).toBe('plan');
      const w = (loaded as { plan: PlanIR }).plan.steps.find((s) => s.id === 'w')!;
      expect(w.flow_refusals).toEqual([{ code: 'E0902', sink: 'wipe.path', source: 'c.output (llm, untrusted)', message: expect.stringContaining('wipe.path ← t.output') }]);
      const { result, called } = await run((loaded as { plan: PlanIR }).plan);
      expect(called).not.toContain('main.wipe');
      expect(result.status).toBe('failed');
    });

    it('checks a fallback and a compensate call, a fallback’s source and the when over them, as the compiler does', async () => {
      // Each line a rule the compile-time analysis keeps (compiled here on "flows": "warn", so it emits).
      const SRC2 = `
capability classify { kind llm  input { text: string }  output { reply_to: string }  handler "./h.js#h" }
capability wipe { kind tool  input { path: string }  output { ok: bool }  destructive true }
capability tidy { kind tool  input { text: string }  output { text: string } }
capability rewrite { kind llm  input { text: string }  output { text: string }  handler "./h.js#h" }
plan p {
  input { body: string }
  step c = classify(text: input.body)
  step f = tidy(text: "x") { fallback wipe(path: c.output.reply_to) }
  step k = tidy(text: "x") { compensate wipe(path: c.output.reply_to) }
  step g = tidy(text: "x") { fallback rewrite(text: input.body) }
  step w = wipe(path: g.output.text)
  step h = tidy(text: "x") {
    fallback wipe(path: "/tmp")
    when c.output.reply_to == "yes"
  }
}
`;
      const ir = compiled({ flows: 'warn' }, SRC2);
      const atCompile = ir.steps.flatMap((s) => (s.flow_refusals ?? []).map((r) => `${s.id}: ${r.sink}`));
      expect(atCompile).toEqual(['f: wipe.path', 'k: wipe.path', 'w: wipe.path', 'h: h.when']);
      const sub = mkdtempSync(join(dir, 'ir-'));
      writeFileSync(join(sub, 'orch.config.json'), '{}');
      writeFileSync(join(sub, 'plan.json'), JSON.stringify(portablePlan(unlabelled(ir))));
      const loaded = await loadPlan(join(sub, 'plan.json'));
      const message = (loaded as { message?: string }).message ?? '';
      for (const line of ['E0902 in step f: untrusted value reaches wipe.path', 'E0902 in step k: untrusted value reaches wipe.path', 'E0902 in step w: untrusted value reaches wipe.path', 'E0902 in step h: untrusted value reaches h.when'])
        expect(message).toContain(line);
    });

    it('follows a sub-plan’s arguments into its sinks, and its output back, as the compiler does', async () => {
      const SRC3 = `
capability classify { kind llm  input { text: string }  output { reply_to: string }  handler "./h.js#h" }
capability wipe { kind tool  input { path: string }  output { ok: bool }  destructive true }
capability tidy { kind tool  input { text: string }  output { text: string } }
plan p {
  input { body: string }
  step c = classify(text: input.body)
  step s = run inner(p: c.output.reply_to)
  step a = run asks(q: "x")
  step w2 = wipe(path: a.output.said)
}
plan inner {
  input { p: string }
  step w = wipe(path: input.p)
  output { echo: input.p }
}
plan asks {
  input { q: string }
  step c = classify(text: input.q)
  output { said: c.output.reply_to }
}
`;
      const ir = compiled({ flows: 'warn' }, SRC3);
      expect(ir.steps.flatMap((s) => (s.flow_refusals ?? []).map((r) => `${s.id}: ${r.sink}`))).toEqual(['s: wipe.path', 'w2: wipe.path']);
      const sub = mkdtempSync(join(dir, 'ir-'));
      writeFileSync(join(sub, 'orch.config.json'), '{}');
      const old = unlabelled(ir);
      const v2 = { ...old, subplans: Object.fromEntries(Object.entries(old.subplans ?? {}).map(([k, sp]) => [k, { ...sp, version: 'orch.plan/v2' }])) } as PlanIR;
      writeFileSync(join(sub, 'plan.json'), JSON.stringify(portablePlan(v2)));
      const message = ((await loadPlan(join(sub, 'plan.json'))) as { message?: string }).message ?? '';
      expect(message).toContain('E0902 in step s: in sub-plan inner (run by step s): untrusted value reaches wipe.path, which needs a trusted one: wipe.path ← input.p ← c.output (llm, untrusted)');
      expect(message).toContain('E0902 in step w2: untrusted value reaches wipe.path, which needs a trusted one: wipe.path ← a.output (sub-plan, untrusted) ← c.output (llm, untrusted)');
      // On "flows": "warn" the run step is refused (before its sub-plan starts), not the sub-plan's own step.
      writeFileSync(join(sub, 'orch.config.json'), JSON.stringify({ flows: 'warn' }));
      const warned = (await loadPlan(join(sub, 'plan.json'))) as { plan: PlanIR };
      expect(warned.plan.steps.filter((s) => s.flow_refusals).map((s) => s.id)).toEqual(['s', 'w2']);
      expect(warned.plan.subplans.inner!.steps.some((s) => s.flow_refusals)).toBe(false);
    });

    it('judges what notify sends by its channel, and an approval’s subject up to personal, as the compiler does', async () => {
      const NOTE = `plan p {\n  input { who: string @personal }\n  step n = notify(channel: "ops", text: input.who)\n  step ok = approval(approver: "ops", summary: "ok?", subject: input.who)\n}\n`;
      const load = async (internal: boolean) => {
        const channels = { ops: { slack: 'https://hooks.slack.com/services/x', ...(internal ? { internal: true } : {}) } };
        const ir = compiled({ flows: 'warn', channels }, NOTE);
        const sub = mkdtempSync(join(dir, 'ir-'));
        writeFileSync(join(sub, 'orch.config.json'), JSON.stringify({ channels }));
        writeFileSync(join(sub, 'plan.json'), JSON.stringify(portablePlan(unlabelled(ir))));
        return loadPlan(join(sub, 'plan.json'));
      };
      expect((await load(true)).kind).toBe('plan');
      const external = await load(false);
      expect((external as { message: string }).message).toContain('E0903 in step n: personal data reaches external channel "ops" in step n: notify.text ← input.who @personal');
      expect((external as { message: string }).message).not.toContain('step ok');
    });
  });
});
