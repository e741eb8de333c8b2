/**
 * Fallbacks are proved (LANGUAGE.md §7.2): a rebinding candidate a blocking guardrail forbids is
 * dropped from the binding with its reason (shown by the preview), the static verdict holds, and
 * E0401 is reported only when no allowed resource remains — including for a step's `fallback`
 * call that only a forbidden resource can host.
 */
import { describe, expect, it } from 'vitest';
import { preview, renderPreviewText } from '../index.js';
import { checkText, compileText, covered } from './helpers.js';

const COMMON = `
resource laptop { kind local_device provides llm cost 0.01usd }
resource gateway { kind edge_gateway provides llm cost 0.005usd }
resource big_cloud { kind cloud_region provides llm, gpu cost 0.001usd }
capability summarize {
  kind llm  handler "./handlers.js#summarize"
  input { text: string }
  output { summary: string }
  requires llm
  data personal
}
capability summarize_big {
  kind llm  handler "./handlers.js#summarize_big"
  input { text: string }
  output { summary: string }
  requires gpu
  data personal
}
policy cheap {
  strategy cost
  max_fallbacks 3
}
guardrail no_personal_data_in_cloud {
  severity blocking
  forbid step where step.data >= personal and step.placement == cloud_region
  message "Personal data must stay on local or edge resources"
}
`;

const plan = (body: string) => `${COMMON}
plan notes {
  input { text: string @personal }
  policy cheap
  guardrails no_personal_data_in_cloud
${body}
}
`;

describe('fallbacks proved', () => {
  it("a step moved off a forbidden resource is estimated on the one it runs on: its cost, the plan's, the local ratio and the budget verdict (§4 estimates)", () => {
    const text = `${COMMON}
policy tight { strategy cost  budget cost <= 0.008usd }
plan notes {
  input { text: string @personal }
  policy tight
  guardrails no_personal_data_in_cloud
  step s = summarize(text: input.text)
  step t = summarize(text: input.text)
}
`;
    const out = compileText(text);
    const ir = out.plans[0]!;
    const s = ir.steps.find((x) => x.id === 's')!;
    expect(s.binding.resource).toBe('gateway');
    // gateway's 0.005usd, not big_cloud's 0.001usd, which the step was first estimated on.
    expect(s.estimates.cost).toBe(0.005);
    expect(ir.estimates).toMatchObject({ cost: 0.01, cost_max: 0.01, local_ratio: 1 });
    expect(checkText(text).filter((d) => d.code === 'W0502').map((d) => d.message)).toEqual([
      'estimated cost 0.01usd of plan "notes" exceeds the budget 0.008usd of policy tight',
    ]);
  });

  it('drops a forbidden rebinding candidate, promotes the next allowed one, and the guardrail holds', () => {
    const out = compileText(plan('  step s = summarize(text: input.text)'));
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const ir = out.plans[0]!;
    const s = ir.steps.find((x) => x.id === 's')!;
    // cost strategy ranks big_cloud first; it is forbidden for personal data, so gateway leads.
    expect(s.binding.resource).toBe('gateway');
    expect(s.binding.fallbacks).toEqual(['laptop']);
    expect(s.binding.dropped).toEqual([{ resource: 'big_cloud', reason: 'forbidden by guardrail "no_personal_data_in_cloud"' }]);
    expect(ir.guardrails[0]!.static_verdict).toBe('holds');
    const p = preview(ir);
    expect(p.steps[0]!.dropped).toEqual(s.binding.dropped);
    expect(renderPreviewText(p, false)).toContain('dropped big_cloud: forbidden by guardrail "no_personal_data_in_cloud"');
  });

  it('a fallback call placeable only where forbidden is E0401 at the call', () => {
    const text = plan('  step s = summarize(text: input.text) {\n    fallback summarize_big(text: input.text)\n  }');
    const e = checkText(text).filter((d) => d.code === 'E0401');
    expect(e).toHaveLength(1);
    expect(e[0]!.message).toContain('fallback call');
    expect(covered(text, e[0]!)).toBe('summarize_big');
  });

  it('E0401 when no allowed resource remains for the step itself', () => {
    const text = plan('  step s = summarize_big(text: input.text)');
    expect(checkText(text).filter((d) => d.code === 'E0401')).toHaveLength(1);
  });

  it('near miss: an allowed fallback call is bound to an allowed resource', () => {
    const text = plan('  step s = summarize(text: input.text) {\n    fallback summarize(text: input.text)\n  }');
    const out = compileText(text);
    expect(out.diagnostics.filter((d) => d.code === 'E0401')).toEqual([]);
    const fb = out.plans[0]!.steps[0]!.fallback!;
    expect(fb.binding!.resource).toBe('gateway');
    expect(fb.binding!.dropped?.map((d) => d.resource)).toEqual(['big_cloud']);
  });

  it('a fallback or compensate call on no resource that a blocking forbid rule matches is E0401 at the call', () => {
    const text = `
capability book { kind tool }
capability wipe { kind tool }
guardrail no_wipe {
  severity blocking
  forbid step where step.kind == tool and step.capability == "main.wipe"
}
plan trip {
  guardrails no_wipe
  on_failure rollback
  step a = book() {
    fallback wipe()
    compensate wipe()
  }
  step b = wipe()
}
`;
    const e = checkText(text).filter((d) => d.code === 'E0401');
    expect(e.map((d) => d.message)).toEqual([
      'the fallback call main.wipe of step "a" is forbidden by guardrail "no_wipe"',
      'the compensate call main.wipe of step "a" is forbidden by guardrail "no_wipe"',
      'guardrail "no_wipe" (blocking) violated by step "b"',
    ]);
    expect(e.slice(0, 2).map((d) => covered(text, d))).toEqual(['wipe', 'wipe']);
    // Near miss: the same calls with the rule on another capability are allowed.
    expect(checkText(text.replace('"main.wipe"', '"main.other"')).filter((d) => d.code === 'E0401')).toEqual([]);
  });

  it('step.capability compared with a capability as its module names it ("wipe", wipe) matches the qualified main.wipe', () => {
    const text = (rule: string) => `
capability wipe { kind tool }
capability book { kind tool }
guardrail no_wipe {
  severity blocking
  forbid step where ${rule}
}
plan p {
  guardrails no_wipe
  step a = wipe()
  step b = book()
}
`;
    const violated = (rule: string) =>
      checkText(text(rule))
        .filter((d) => d.code === 'E0401')
        .map((d) => d.message);
    const onA = ['guardrail "no_wipe" (blocking) violated by step "a"'];
    expect(violated('step.capability == "wipe"')).toEqual(onA);
    expect(violated('step.capability == wipe')).toEqual(onA);
    expect(violated('"wipe" == step.capability')).toEqual(onA);
    expect(violated('step.capability == "main.wipe"')).toEqual(onA);
    expect(violated('step.capability != "wipe"')).toEqual(['guardrail "no_wipe" (blocking) violated by step "b"']);
    // A string that names no capability compares as written: nothing matches it.
    expect(violated('step.capability == "erase"')).toEqual([]);
  });

  it('consent: the scopes a run needs include its fallback and compensate calls and its sub-plans, in the IR and the preview', () => {
    const out = compileText(
      `
capability a { kind tool  input { x: string }  output { ok: bool }  consent "scope.a" }
capability fb { kind tool  input { x: string }  output { ok: bool }  consent "scope.fb" }
capability comp { kind tool  input { x: string }  output { ok: bool }  consent "scope.comp" }
capability inner { kind tool  input { x: string }  output { ok: bool }  consent "scope.sub" }
policy strict { require_consent true }
plan sub { step i = inner(x: "1") }
plan main {
  policy strict
  on_failure rollback
  step s = a(x: "1") { fallback fb(x: "2")  compensate comp(x: "3") }
  step r = run sub()
}
`,
      {},
      'main',
    );
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const ir = out.plans.find((p) => p.plan === 'main')!;
    const scopes = ['scope.a', 'scope.comp', 'scope.fb', 'scope.sub'];
    expect([...(ir.consent ?? [])].sort()).toEqual(scopes);
    const p = preview(ir);
    expect([...p.consent].sort()).toEqual(scopes);
    expect(renderPreviewText(p, false)).toContain('Consent needed: scope.a, scope.comp, scope.fb, scope.sub');
  });

  it('consent "a, b" names two scopes, as consent "a", "b" does (each grantable with --consent a,b); an empty scope is E0201', () => {
    const out = compileText(
      `
capability a { kind tool  input { x: string }  output { ok: bool }  consent "scope.a, scope.b", "scope.c" }
plan main { step s = a(x: "1") }
trigger t { manual run main consent "scope.a ,scope.b" }
`,
      {},
      'main',
    );
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(out.plans[0]!.consent).toEqual(['scope.a', 'scope.b', 'scope.c']);
    const bad = compileText(`capability a { kind tool  input { x: string }  output { ok: bool }  consent "scope.a,", "" }\nplan main { step s = a(x: "1") }`);
    expect(bad.diagnostics.filter((d) => d.code === 'E0201').map((d) => d.range.start.line)).toEqual([1, 1]);
  });
});
