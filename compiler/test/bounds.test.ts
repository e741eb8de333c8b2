/**
 * Property values the runtime cannot honour (compiler/check/bounds.ts): each is one E0201 at the
 * value, and the same plan with the value in range checks clean — before, `rate_limit x 0 per 1m`
 * passed check and its run hung, and `per 0s` passed check and failed the IR validator.
 */
import { describe, expect, it } from 'vitest';
import { BASE, checkText, compileText, covered } from './helpers.js';

const program = (resource: string, policy: string, plan = '') =>
  `${BASE}\nresource box {\n  kind cloud_region\n  provides http\n  ${resource}\n}\npolicy p {\n  ${policy}\n}\nplan q {\n  policy p\n  ${plan}\n  input { url: string }\n  step a = fetch(url: input.url)\n}\n`;

const errorsAt = (text: string) => checkText(text).filter((d) => d.severity === 'error').map((d) => [d.code, covered(text, d)]);

describe('values out of range', () => {
  it('a value in range checks clean', () => {
    expect(errorsAt(program('concurrency 1\n  reliability 100%', 'rate_limit fetch 1 per 1ms', 'concurrency 1'))).toEqual([]);
  });

  it.each([
    ['resource concurrency 0', program('concurrency 0', 'strategy cost'), '0'],
    ['reliability above 100 %', program('reliability 150%', 'strategy cost'), '150%'],
    ['plan concurrency 0', program('', 'strategy cost', 'concurrency 0'), '0'],
    ['a zero rate-limit window', program('', 'rate_limit fetch 2 per 0s'), '0s'],
  ])('%s is E0201 at the value', (_what, text, at) => {
    expect(errorsAt(text)).toEqual([['E0201', at]]);
  });

  it('for each … parallel 0 is E0201 at the value, at any depth; parallel 1 checks clean', () => {
    const text = (n: number) => `${BASE}\nplan q {\n  input { urls: list<string> }\n  for each u in input.urls parallel ${n} {\n    repeat r max 2 until true {\n      for each v in [u] parallel ${n} { step a = fetch(url: v) }\n    }\n  }\n}\n`;
    expect(errorsAt(text(0))).toEqual([['E0201', '0'], ['E0201', '0']]);
    expect(checkText(text(0)).find((d) => d.code === 'E0201')!.message).toBe('parallel must be at least 1, not 0');
    expect(errorsAt(text(1))).toEqual([]);
  });

  it('a rate limit of 0 calls is E0201 on the rate limit', () => {
    const text = program('', 'rate_limit fetch 0 per 1m');
    expect(errorsAt(text)).toEqual([['E0201', 'rate_limit fetch 0 per 1m']]);
  });

  it('compile reports them as diagnostics, with no IR validation failure', () => {
    const r = compileText(program('', 'rate_limit fetch 2 per 0s'));
    expect(r.diagnostics.map((d) => d.code)).toContain('E0201');
    expect(r.diagnostics.map((d) => d.message).join('\n')).not.toMatch(/schema|internal/);
  });
});
