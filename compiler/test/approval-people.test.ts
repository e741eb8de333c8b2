/**
 * The std `approval` capability's people inputs (LANGUAGE.md §8.8): `approvals: int = 1`,
 * `not_starter: bool = false`, `approver` naming a user or `group:NAME`; the output's
 * `approvers` and `run.started_by` for invariants.
 */
import { describe, expect, it } from 'vitest';
import { BASE, checkText, compileText, covered } from './helpers.js';

const PLAN = (args: string, extra = '') =>
  `${BASE}\nplan p {\n  input { url: string }\n  step ok = approval(approver: "group:finance", summary: "go?"${args})\n  step go = fetch(url: input.url) { after ok }\n${extra}}\n`;
const errors = (text: string) => checkText(text).filter((d) => d.severity === 'error');

describe('approval: approvals and not_starter', () => {
  it('accepts them and puts them in the IR, with the defaults when absent', () => {
    const out = compileText(PLAN(', approvals: 2, not_starter: true'));
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const step = out.plans[0]!.steps.find((s) => s.id === 'ok')!;
    expect(step.args.approvals).toEqual({ op: 'lit', value: 2 });
    expect(step.args.not_starter).toEqual({ op: 'lit', value: true });
    const plain = compileText(PLAN('')).plans[0]!.steps.find((s) => s.id === 'ok')!;
    expect(plain.args.approvals).toEqual({ op: 'lit', value: 1 });
    expect(plain.args.not_starter).toEqual({ op: 'lit', value: false });
  });

  it.each([
    [', approvals: 0', '0', 'at least 1'],
    [', approvals: -2', '-2', 'at least 1'],
    [', approvals: 1.5', '1.5', ''],
    [', approvals: "two"', '"two"', ''],
    [', not_starter: "yes"', '"yes"', ''],
  ])('refuses%s with E0201 at the value', (args, value, says) => {
    const text = PLAN(args);
    const diags = errors(text);
    expect(diags.map((d) => d.code)).toEqual(['E0201']);
    expect(covered(text, diags[0]!)).toBe(value);
    expect(diags[0]!.message).toContain(says);
  });

  it('refuses an approver naming nobody', () => {
    const text = `${BASE}\nplan p { step ok = approval(approver: "group:", summary: "go?") }\n`;
    const [d, ...rest] = errors(text);
    expect(rest).toEqual([]);
    expect(d!.code).toBe('E0201');
    expect(covered(text, d!)).toBe('"group:"');
    expect(d!.message).toContain('group:finance');
  });

  it('refuses more than one approval from a single named user', () => {
    const text = `${BASE}\nplan p { step ok = approval(approver: "alice", summary: "go?", approvals: 2) }\n`;
    const [d, ...rest] = errors(text);
    expect(rest).toEqual([]);
    expect(d!.code).toBe('E0201');
    expect(covered(text, d!)).toBe('2');
    expect(d!.message).toContain('names one user');
  });

  it('holds a refinement of approval to the same rules (it is known by its built-in, not its name)', () => {
    const text = `${BASE}\ncapability sign_off from approval { cost 0usd }\nplan p { step ok = sign_off(approver: "alice", summary: "go?", approvals: 2) }\n`;
    const [d, ...rest] = errors(text);
    expect(rest).toEqual([]);
    expect([d!.code, covered(text, d!)]).toEqual(['E0201', '2']);
  });

  it('near miss: a computed count is checked when the step runs, not here', () => {
    const text = `${BASE}\nplan p {\n  input { n: int }\n  step ok = approval(approver: "alice", summary: "go?", approvals: input.n)\n}\n`;
    expect(errors(text)).toEqual([]);
  });

  it('types the output approvers and run.started_by for invariants', () => {
    const ok = PLAN(', not_starter: true', '  invariant "approved by someone other than the starter" { always go.started implies not contains(ok.output.approvers, run.started_by) }\n');
    expect(errors(ok)).toEqual([]);
    const bad = PLAN('', '  invariant typo { always go.started implies ok.output.approvers == 1 }\n');
    expect(errors(bad).map((d) => d.code)).toEqual(['E0201']);
  });
});
