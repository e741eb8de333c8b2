import { describe, expect, it } from 'vitest';
import { checkText, codes } from './helpers.js';

// `require S before O` must hold on every path a run can take: the runtime refuses O when no S
// step has completed, so a compile that passes must not leave a path where O starts without one.
const CAPS = `
capability work { kind tool  input { n: int = 1 }  output { ok: bool } }
capability sign { kind human  input { n: int = 1 }  output { ok: bool } }
capability send_email { kind tool  input { n: int = 1 }  output { ok: bool } }
resource box { kind local_device }
guardrail hb {
  severity blocking
  require kind human before capability send_email
}
`;
const plan = (body: string, head = '') => `${CAPS}\nplan p {\n  input { skip: bool, items: list<int> }\n  guardrails hb\n${head}\n${body}\n}\n`;
const e0401 = (body: string, head = '') => codes(checkText(plan(body, head))).filter((c) => c === 'E0401').length;

describe('require … before, proved on every path', () => {
  it('an unconditional ancestor proves it', () => {
    expect(e0401(`step a = sign()\nstep s = send_email() { after a }`)).toBe(0);
  });

  it('an ancestor that its `when` may skip does not (the runtime would refuse the step)', () => {
    expect(e0401(`step a = sign() when input.skip == false\nstep s = send_email() { after a }`)).toBe(1);
  });

  it('the same fixed condition on both: where the subject is skipped the object is too', () => {
    expect(e0401(`step a = sign() when input.skip == false\nstep s = send_email() when input.skip == false { after a }`)).toBe(0);
  });

  it('a skip that reaches the object through a step in between', () => {
    expect(e0401(`step a = sign() when input.skip\nstep m = work(n: 1) { after a }\nstep s = send_email() { after m }`)).toBe(1);
  });

  it('a subject that may fail on: a default join skips the object, `join all_done` starts it', () => {
    expect(e0401(`step a = sign() { on_failure continue }\nstep s = send_email() { after a }`)).toBe(0);
    expect(e0401(`step a = sign() { on_failure continue }\nstep s = send_email() { after a\n join all_done }`)).toBe(1);
    // Failed, then its dependant is skipped, and a skipped dependency counts as satisfied.
    expect(e0401(`step a = sign() { on_failure continue }\nstep m = work() { after a }\nstep s = send_email() { after m }`)).toBe(1);
  });

  it('`join first` starts the object when another dependency completes', () => {
    expect(e0401(`step a = sign()\nstep b = work()\nstep s = send_email() { after a, b\n join first }`)).toBe(1);
    expect(e0401(`step a = sign()\nstep b = work()\nstep s = send_email() { after a, b }`)).toBe(0);
  });

  it('a subject in a `for each` the object is outside of may have no item', () => {
    expect(e0401(`for each i in input.items parallel 2 {\n step a = sign(n: i)\n}\nstep s = send_email() { after a }`)).toBe(1);
    expect(e0401(`for each i in input.items parallel 2 {\n step a = sign(n: i)\n step s = send_email(n: i) { after a }\n}`)).toBe(0);
  });

  it('plan-level `on_failure continue` lets any step fail on', () => {
    expect(e0401(`step a = sign()\nstep s = send_email() { after a\n join all_done }`, 'on_failure continue')).toBe(1);
    expect(e0401(`step a = sign()\nstep s = send_email() { after a\n join all_done }`)).toBe(0);
  });

  it('a fallback or compensate call of the required capability is held to the rule (§7.2)', () => {
    expect(e0401(`step x = work() { fallback send_email() }`)).toBe(1);
    expect(e0401(`step x = work() { compensate send_email() }`)).toBe(1);
    expect(e0401(`step a = sign()\nstep x = work() { after a\n fallback send_email() }`)).toBe(0);
  });

  it('a subject step that may complete by a fallback of another kind proves nothing', () => {
    const d = checkText(plan(`step a = sign() { fallback work() }\nstep s = send_email() { after a }`)).filter((x) => x.code === 'E0401');
    expect(d.map((x) => x.message)).toEqual([expect.stringContaining('"a" may complete by its fallback work')]);
    expect(e0401(`step a = sign() { fallback sign(n: 2) }\nstep s = send_email() { after a }`)).toBe(0);
  });
});

describe('require … after, proved on every path', () => {
  const AFTER = `
capability work { kind tool  input { n: int = 1 }  output { ok: bool } }
capability audit { kind tool  input { n: int = 1 }  output { ok: bool } }
resource box { kind local_device }
guardrail audited {
  severity blocking
  require capability audit after capability work
}
`;
  const errs = (body: string) => codes(checkText(`${AFTER}\nplan p {\n  input { skip: bool, items: list<int> }\n${body}\n}\n`)).filter((c) => c === 'E0401').length;

  it('a following subject that may be skipped, fail on or have no item proves nothing', () => {
    expect(errs(`step w = work()\nstep a = audit() { after w }`)).toBe(0);
    expect(errs(`step w = work()\nstep a = audit() when input.skip { after w }`)).toBe(1);
    expect(errs(`step w = work()\nstep a = audit() { after w\n on_failure continue }`)).toBe(1);
    expect(errs(`step w = work()\nfor each i in input.items parallel 2 {\n step a = audit(n: i) { after w }\n}`)).toBe(1);
  });

  it('a failure under the plan\'s on_failure continue ends the run failed anyway: no verdict on it', () => {
    const text = `${AFTER}\nplan p {\n  on_failure continue\n  step w = work()\n  step a = audit() { after w }\n}\n`;
    expect(codes(checkText(text)).filter((c) => c === 'E0401')).toEqual([]);
  });

  it('the same fixed condition on both holds', () => {
    expect(errs(`step w = work() when input.skip\nstep a = audit() when input.skip { after w }`)).toBe(0);
  });
});

