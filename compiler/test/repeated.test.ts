/**
 * A name given twice where each may be given once (compiler/check/repeated.ts): a guardrail listed
 * twice in a plan, two success criteria of one label, two rate limits of one capability in a
 * policy, a step named twice in one `after`. Each is one E0102 at the repeat with the first as related information; before, each was
 * accepted silently (the run's result had two criteria it could not tell apart, and two rate
 * limits of one capability shared one counter).
 */
import { describe, expect, it } from 'vitest';
import { BASE, checkText, covered } from './helpers.js';

const GUARD = `guardrail cap {\n  severity warning\n  assert plan.cost <= 1usd\n}\n`;
const program = (policy: string, plan: string) =>
  `module lib\n${BASE}\n${GUARD}policy p {\n  strategy cost\n  ${policy}\n}\nplan q {\n  policy p\n  ${plan}\n  step a = fetch(url: "x")\n}\n`;

const lineOf = (text: string, part: string) => text.slice(0, text.indexOf(part)).split('\n').length;
const repeats = (text: string) =>
  checkText(text).filter((d) => d.code === 'E0102').map((d) => ({ message: d.message, at: covered(text, d), first: d.related?.map((r) => covered(text, r as never)) }));

describe('a name given twice', () => {
  it('distinct names, labels and capabilities check clean', () => {
    const text = program('rate_limit fetch 2 per 1m\n  rate_limit summarize 1 per 1s', 'guardrails cap\n  success "some": a.output.size > 0\n  success "few": a.output.size < 10\n  success true\n  success true');
    expect(checkText(text).filter((d) => d.severity === 'error')).toEqual([]);
  });

  it('a guardrail listed twice in a plan is E0102 at the second, also when spelled through its module', () => {
    const text = program('', 'guardrails cap, lib.cap');
    expect(repeats(text)).toEqual([{ message: `guardrail "cap" is listed twice in plan q (first on line ${lineOf(text, 'guardrails')})`, at: 'lib.cap', first: ['cap'] }]);
  });

  it('two success criteria of one label are E0102 at the second label', () => {
    const text = program('', 'success "ok": a.output.size > 0\n  success "ok": a.output.size < 10');
    expect(repeats(text)).toEqual([{ message: `duplicate success label "ok" (first on line ${lineOf(text, 'success')})`, at: '"ok"', first: ['"ok"'] }]);
  });

  it('two rate limits of one capability in a policy are E0102, even over other windows', () => {
    const text = program('rate_limit fetch 2 per 1m\n  rate_limit fetch 5 per 1h', '');
    expect(repeats(text)).toEqual([{
      message: `duplicate rate_limit of capability "fetch" in policy p (first on line ${lineOf(text, 'rate_limit')}): a policy has one limit per capability`,
      at: 'rate_limit fetch 5 per 1h', first: ['rate_limit fetch 2 per 1m'],
    }]);
  });

  it('a step named twice in one after is E0102 at the second; two steps in one after check clean', () => {
    const text = (after: string) => `${BASE}\nplan q {\n  step a = fetch(url: "x")\n  step b = fetch(url: "y")\n  step c = fetch(url: "z") { after ${after} }\n}\n`;
    const twice = text('a, b, a');
    expect(repeats(twice)).toEqual([{ message: `"a" is listed twice in after (first on line ${lineOf(twice, 'after')})`, at: 'a', first: ['a'] }]);
    expect(checkText(text('a, b')).filter((d) => d.severity === 'error')).toEqual([]);
  });
});
