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
import { compile, diskHost, preview, renderPreviewText, type PlanIR } from '../../compiler/index.js';
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
  const out = compile({ entry: join(sub, 'main.orch'), host: diskHost });
  expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return out.plans[0]!;
}

async function run(p: PlanIR): Promise<{ result: ExecutionResult; events: RunEvent[]; called: string[] }> {
  const clock = new VirtualClock(0);
  const called: string[] = [];
  const exec = new SimExecutor(clock, (req) => {
    called.push(req.capability.name);
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

  it('an IR compiled without warn has no refusals: its steps run (the compile refused the plan)', async () => {
    const clean = SRC.replace('step p2 = pay(to: r.output.reply_to, memo: "x")', 'step p2 = pay(to: endorse(r.output.reply_to, reason: "a known payee"), memo: "x")');
    const { result, called } = await run(compiled({}, clean));
    expect(result.status).toBe('completed');
    expect(called).toContain('main.pay');
  });

  it('orch preview lists where each class goes and every endorsement and declassification (JSON and text)', () => {
    const p = preview(compiled({ flows: 'warn' }));
    expect(p.flows.classes.map((x) => `${x.class}: ${x.sources.join(', ')} → ${x.step}`).sort()).toEqual(['internal: input.who → d', 'personal: input.who, r → n']);
    expect([...p.flows.relabels].sort((a, b) => a.step.localeCompare(b.step))).toEqual([
      { step: 'd', kind: 'declassify', reason: 'only initials', to: 'internal' },
      { step: 'ok', kind: 'endorse', reason: 'checked by hand' },
    ]);
    const text = renderPreviewText(p, false);
    expect(text).toContain('Where data goes\n');
    for (const line of ['  personal: input.who, r → n\n', '  endorsed in ok: checked by hand\n', '  declassified to internal in d: only initials\n']) expect(text).toContain(line);
  });
});
