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

describe('durations where time must pass forward', () => {
  const plan = (body: string, extra = '') => `${BASE}\n${extra}plan q {\n  ${body}\n}\n`;

  it('a negative literal wait is E0201 at the duration, at any depth; wait 0s and a computed wait check clean', () => {
    const text = plan('input { n: int }\n  step w = wait -5s\n  race r {\n    step a = wait -(1m)\n    step b = wait 0s\n  }\n  step c = wait 1s * input.n');
    expect(errorsAt(text)).toEqual([['E0201', '-5s'], ['E0201', '-(1m)']]);
    expect(checkText(text).find((d) => d.code === 'E0201')!.message).toMatch(/a wait lasts 0s or longer/);
  });

  it('a negative timeout, backoff, max_age, hold or debounce is a syntax error at the sign', () => {
    const texts = [
      plan('step a = fetch(url: "x") { timeout -1s }'),
      plan('step a = fetch(url: "x") { retry 3 backoff fixed -1s }'),
      plan('step a = fetch(url: "x")', 'context {\n  t: number max_age -1m\n  o: bool = context.t > 1 hold -1m\n}\n'),
      `${plan('step a = fetch(url: "x")')}trigger tr { event "x" run q debounce -1s }\n`,
    ];
    for (const t of texts) expect(errorsAt(t).map(([c, at]) => [c, at])).toContainEqual(['E0001', '-']);
  });

  it('a timeout or deadline of 0 is E0201 at the value, in a race too; wait until … timeout 0s checks clean', () => {
    const cap = `capability slow {\n  kind tool\n  input { }\n  output { }\n  timeout 0ms\n}\n`;
    const text = plan('deadline 0s\n  step a = fetch(url: "x") { timeout 0s }\n  race r {\n    step b = fetch(url: "y") { timeout 0m }\n    step c = wait until true timeout 0s\n  }\n  step d = slow()', cap);
    expect(errorsAt(text)).toEqual([['E0201', '0ms'], ['E0201', '0s'], ['E0201', '0s'], ['E0201', '0m']]);
    expect(checkText(text).find((d) => d.code === 'E0201')!.message).toBe('a timeout must be longer than 0, not 0ms: nothing could complete before it');
    expect(errorsAt(text.replace(/timeout 0(ms|s|m) \}|timeout 0ms\n|deadline 0s/g, (m) => m.replace('0', '1')))).toEqual([]);
  });

  it("a wait step's options: a timeout among them is a wait until's own (twice is E0102); timeout on a wait D, retry and fallback are E0201", () => {
    const at = (steps: string) => errorsAt(plan(steps));
    expect(at('step a = wait until true { timeout 5s }')).toEqual([]);
    expect(compileText(plan('step a = wait until true { timeout 5s }')).plans[0]!.steps[0]!.timeout_ms).toBe(5000);
    expect(at('step a = wait until true timeout 1s { timeout 5s }')).toEqual([['E0102', '5s']]);
    expect(at('step a = wait 2s { timeout 5s }')).toEqual([['E0201', '5s']]);
    expect(at('step a = wait 2s { retry 2 }')).toEqual([['E0201', 'retry 2']]);
    expect(at('step a = wait until true timeout 1s { fallback fetch(url: "x") }')).toEqual([['E0201', 'fetch(url: "x")']]);
  });

  it('a duration budget of 0 and a max_age of 0 are E0201 at the value; hold 0s checks clean', () => {
    const extra = (d: string) => `policy p {\n  budget duration <= ${d}\n}\ncontext {\n  t: number max_age ${d}\n  o: bool = context.t > 1 hold 0s\n}\n`;
    const text = plan('policy p\n  step a = fetch(url: "x")', extra('0s'));
    expect(errorsAt(text)).toEqual([['E0201', '0s'], ['E0201', '0s']]);
    expect(checkText(text).filter((d) => d.code === 'E0201').map((d) => d.message)).toEqual([
      'a duration budget must be longer than 0, not 0s: nothing could complete before it',
      'a max_age must be longer than 0, not 0s: the signal would be stale as soon as it is set',
    ]);
    expect(errorsAt(plan('policy p\n  step a = fetch(url: "x")', extra('1s')))).toEqual([]);
  });
});
