import { describe, expect, it } from 'vitest';
import { checkText, covered } from './helpers.js';

// A plan's guardrails hold on every path, sub-plans included: a `send_email` a sub-plan (in
// another module) runs needs a human before it, in the sub-plan or on the parent's path into `run`.
const CHILD = `
capability send_email { kind tool  input { to: string }  output { ok: bool }  requires smtp }
capability sign { kind human  input { n: int = 1 }  output { ok: bool } }
resource cloud { kind cloud_region  provides smtp }
plan child {
  input { to: string }
  BODY
}
`;
const PARENT = (body: string, severity = 'blocking', extra = '') => `
import "./child.orch" as kid
capability work { kind tool  input { n: int = 1 }  output { ok: bool } }
capability approve { kind human  input { n: int = 1 }  output { ok: bool } }
resource box { kind local_device }
guardrail human_before_send {
  severity ${severity}
  require kind human before capability send_email
}
${extra}plan parent {
  guardrails human_before_send
  ${body}
}
`;
const STAY_LOCAL = 'guardrail stay_local {\n  severity blocking\n  forbid step where step.placement == "cloud_region"\n}';
const run = (parent: string, childBody: string, extra = '') => {
  const text = PARENT(parent, 'blocking', extra);
  return { text, diags: checkText(text, { 'child.orch': CHILD.replace('BODY', childBody) }).filter((d) => d.code.startsWith('E04') || d.code.startsWith('W04')) };
};

describe("a plan's guardrails judge the steps of the sub-plans it runs", () => {
  it('a send inside the sub-plan with no human before it: E0401 at the `run` step, naming the step and the guardrail', () => {
    const { text, diags } = run('step c = run kid.child(to: "a@b")', 'step s = send_email(to: input.to)');
    expect(diags.map((d) => d.code)).toEqual(['E0401']);
    expect(covered(text, diags[0]!)).toBe('c');
    expect(diags[0]!.message).toContain('guardrail "human_before_send"');
    expect(diags[0]!.message).toContain('sub-plan "child": its step "s"');
  });

  it('a human approval before the `run` step on every path: clean', () => {
    expect(run('step a = approve()\n  step c = run kid.child(to: "a@b") { after a }', 'step s = send_email(to: input.to)').diags).toEqual([]);
    // Not on every path: the approval may be skipped.
    expect(run('input { skip: bool }\n  step a = approve() when input.skip\n  step c = run kid.child(to: "a@b") { after a }', 'step s = send_email(to: input.to)').diags.map((d) => d.code)).toEqual(['E0401']);
    // Not before it: the approval runs alongside.
    expect(run('step a = approve()\n  step c = run kid.child(to: "a@b")', 'step s = send_email(to: input.to)').diags.map((d) => d.code)).toEqual(['E0401']);
  });

  it('a human inside the sub-plan before the send: clean', () => {
    expect(run('step c = run kid.child(to: "a@b")', 'step h = sign()\n  step s = send_email(to: input.to) { after h }').diags).toEqual([]);
  });

  it('transitively: a sub-plan the sub-plan runs', () => {
    const mid = `import "./child.orch" as kid\nplan mid {\n  step k = run kid.child(to: "x")\n}\n`;
    const text = PARENT('step c = run m.mid()').replace('import "./child.orch" as kid', 'import "./child.orch" as kid\nimport "./mid.orch" as m');
    const diags = checkText(text, { 'child.orch': CHILD.replace('BODY', 'step s = send_email(to: input.to)'), 'mid.orch': mid }).filter((d) => d.code === 'E0401');
    expect(diags.map((d) => d.message)).toEqual([expect.stringContaining('its step "k/s"')]);
  });

  it('a warning guardrail warns (W0402) at the `run` step', () => {
    const text = PARENT('step c = run kid.child(to: "a@b")', 'warning');
    const diags = checkText(text, { 'child.orch': CHILD.replace('BODY', 'step s = send_email(to: input.to)') }).filter((d) => d.code.startsWith('E04') || d.code.startsWith('W04'));
    expect(diags.map((d) => d.code)).toEqual(['W0402']);
  });

  it('a `forbid` judges a placement inside the sub-plan', () => {
    const { text, diags } = run('guardrails stay_local\n  step a = approve()\n  step c = run kid.child(to: "a@b") { after a }', 'step s = send_email(to: input.to)', STAY_LOCAL);
    expect(diags.map((d) => d.code)).toEqual(['E0401']);
    expect(covered(text, diags[0]!)).toBe('c');
    expect(diags[0]!.message).toContain('guardrail "stay_local"');
  });

  it('`require … after`: a subject after the `run` step in the parent covers the sub-plan\'s object', () => {
    const AUDIT = 'guardrail audited {\n  severity blocking\n  require capability work after capability send_email\n}';
    const e = (parent: string) => run(`guardrails audited\n  ${parent}`, 'step s = send_email(to: input.to)', AUDIT).diags.filter((d) => d.message.includes('audited'));
    expect(e('step h = approve()\n  step c = run kid.child(to: "a@b") { after h }\n  step w = work() { after c }')).toEqual([]);
    expect(e('step h = approve()\n  step c = run kid.child(to: "a@b") { after h }\n  step w = work()').map((d) => d.code)).toEqual(['E0401']);
  });
});
