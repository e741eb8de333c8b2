/**
 * A step's `fallback` and `compensate` calls are placed like steps (their own capability's
 * `requires`, the plan policy) and the IR records that binding on the call.
 */
import { describe, expect, it } from 'vitest';
import { validatePlanIR } from '../ir/validate.js';
import { BASE, checkText, compileText, covered } from './helpers.js';

const EXTRA = `
capability undo_fetch { kind tool input { url: string } requires http }
capability render { kind tool input { text: string } output { body: string, size: int } requires gpu }
`;

describe('placement of fallback and compensate calls', () => {
  it('binds the fallback to a resource providing what its own capability requires', () => {
    const text = `${BASE}${EXTRA}
plan p {
  step a = fetch(url: "x") {
    fallback summarize(text: "x")
    compensate undo_fetch(url: "x")
  }
}
`;
    const out = compileText(text);
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const s = out.plans[0]!.steps[0]!;
    // privacy_first: the step goes to the local laptop; only the cloud provides `llm`.
    expect(s.binding.resource).toBe('laptop');
    expect(s.fallback?.binding?.resource).toBe('cloud');
    expect(s.fallback?.binding?.tier).toBe('cloud');
    expect(s.compensate?.binding?.resource).toBe('laptop');
    expect(validatePlanIR(JSON.parse(JSON.stringify(out.plans[0])))).toMatchObject({ ok: true });
  });

  it('rejects an IR whose fallback binding names an undeclared resource, with its path', () => {
    const out = compileText(`${BASE}\nplan p { step a = fetch(url: "x") { fallback summarize(text: "x") } }\n`);
    const ir = JSON.parse(JSON.stringify(out.plans[0])) as { steps: { fallback: { binding: { resource: string } } }[] };
    ir.steps[0]!.fallback.binding.resource = 'nowhere';
    const r = validatePlanIR(ir);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.path)).toContain('/steps/0/fallback/binding/resource');
  });

  it('E0501 when no resource can host the fallback call, at its capability', () => {
    const text = `${BASE}${EXTRA}\nplan p {\n  step a = fetch(url: "x") { fallback render(text: "x") }\n}\n`;
    const ds = checkText(text).filter((d) => d.code === 'E0501');
    expect(ds).toHaveLength(1);
    expect(covered(text, ds[0]!)).toBe('render');
    expect(ds[0]!.message).toContain('fallback call main.render');
    expect(ds[0]!.message).toContain('gpu');
  });

  it('near miss: a feasible fallback reports nothing', () => {
    const text = `${BASE}${EXTRA}\nplan p {\n  step a = fetch(url: "x") { fallback summarize(text: "x") }\n}\n`;
    expect(checkText(text).filter((d) => d.code === 'E0501')).toEqual([]);
  });
});
