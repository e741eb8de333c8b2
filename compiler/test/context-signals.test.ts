/** LANGUAGE.md §9.4 in the compiler: derived signals typed, E0905 cycles, known()/age(), the IR's context_signals. */
import { describe, expect, it } from 'vitest';
import { checkText, codes, compileText, covered } from './helpers.js';

const CONTEXT = `
context {
  temperature: number  max_age 15m
  motion: bool @personal  max_age 2m
  phone_home: bool @personal  max_age 10m
  occupied: bool = context.motion or context.phone_home  hold 10m
}
capability heat { kind tool  input { t: number }  output { ok: bool } }
`;

describe('context signals (§9.4)', () => {
  it('records max_age, the derived expression and hold of each signal in the IR', () => {
    const out = compileText(`${CONTEXT}\nplan p { step a = heat(t: context.temperature ?? 20) when context.occupied }`);
    expect(codes(out.diagnostics)).toEqual([]);
    const signals = out.plans[0]!.context_signals!;
    expect(signals.temperature).toEqual({ max_age_ms: 900_000, derived: null, hold_ms: null });
    expect(signals.occupied!.hold_ms).toBe(600_000);
    expect(signals.occupied!.derived).toMatchObject({ op: 'or' });
  });

  it('names a cycle among derived signals in order (E0905)', () => {
    const src = `context {\n  m: bool max_age 1m\n  x: bool = context.y\n  y: bool = context.z and context.m\n  z: bool = context.x\n}\n`;
    const d = checkText(src);
    expect(codes(d)).toEqual(['E0905']);
    expect(d[0]!.message).toBe('derived signals form a cycle: x → y → z → x');
    expect(d[0]!.severity).toBe('error');
    expect(covered(src, d[0]!)).toBe('x');
    expect(codes(checkText(`context {\n  a: bool = context.a\n}\n`))).toEqual(['E0905']);
  });

  it('types a derived signal against its declared type', () => {
    const d = checkText(`context {\n  m: bool max_age 1m\n  n: number = context.m\n}\n`);
    expect(codes(d)).toEqual(['E0201']);
  });

  it('reports a max_age or a hold of another unit (E0203)', () => {
    expect(codes(checkText(`context {\n  m: bool max_age 5usd\n}\n`))).toEqual(['E0203']);
    expect(codes(checkText(`context {\n  m: bool max_age 1m\n  h: bool = context.m hold 10%\n}\n`))).toEqual(['E0203']);
  });

  it('types known() as bool and age() as a duration, on context signals only', () => {
    const ok = `${CONTEXT}\nplan p { step a = heat(t: 1) when known(context.motion) and age(context.motion) < 1m }`;
    expect(codes(checkText(ok))).toEqual([]);
    expect(codes(checkText(`${CONTEXT}\nplan p { step a = heat(t: 1) when age(context.motion) < 5usd }`))).toEqual(['E0203']);
    expect(codes(checkText(`${CONTEXT}\nplan p { step a = heat(t: 1) when known(context.motion) == 3 }`))).toEqual(['E0201']);
    const d = checkText(`${CONTEXT}\nplan p {\n  input { n: int }\n  step a = heat(t: 1) when known(input.n)\n}`);
    expect(codes(d)).toEqual(['E0201']);
    expect(d[0]!.message).toContain('known(context.X)');
  });

  it('types `available when` as a bool over context signals and puts it in the resource IR (§9.4)', () => {
    const res = (cond: string) => `${CONTEXT}\nresource stove { kind local_device  provides tool  available when ${cond} }\nplan p { step a = heat(t: 1) }`;
    const out = compileText(res('known(context.motion) and context.temperature < 30'));
    expect(codes(out.diagnostics)).toEqual([]);
    expect(out.plans[0]!.resources.stove!.available).toMatchObject({ op: 'and' });
    const number = checkText(res('context.temperature'));
    expect(codes(number)).toEqual(['E0201']);
    expect(number[0]!.message).toBe('available when expects bool, got number');
    expect(covered(res('context.temperature'), number[0]!)).toBe('context.temperature');
    // Evaluated at dispatch: no input, step or item is in scope there.
    const input = checkText(res('input.on'));
    expect(codes(input)).toEqual(['E0101']);
    expect(input[0]!.range.start.line).toBe(10);
    expect(codes(checkText(res('context.nothing')))).toEqual(['E0201']);
  });

  it('records `simulate context` shares on their signals; an undeclared signal is E0101, a share over 100% E0201', () => {
    const out = compileText(`${CONTEXT}\nsimulate context { motion stale 20%  temperature stale 5% }\nplan p { step a = heat(t: 1) }`);
    expect(codes(out.diagnostics)).toEqual([]);
    expect(out.plans[0]!.context_signals!.motion!.stale).toBe(0.2);
    expect(out.plans[0]!.context_signals!.phone_home!.stale).toBeUndefined();
    const unknown = `${CONTEXT}\nsimulate context { presence stale 20% }\nplan p { step a = heat(t: 1) }`;
    const d = checkText(unknown);
    expect(codes(d)).toEqual(['E0101']);
    expect(covered(unknown, d[0]!)).toBe('presence');
    expect(codes(checkText(`${CONTEXT}\nsimulate context { motion stale 120% }\nplan p { step a = heat(t: 1) }`))).toEqual(['E0201']);
  });

  it('a derived signal in `simulate context` is E0905 at its name: it is unknown when what it reads is, so a share of its own would do nothing', () => {
    const text = `${CONTEXT}\nsimulate context { occupied stale 20% }\nplan p { step a = heat(t: 1) }`;
    const d = checkText(text);
    expect(codes(d)).toEqual(['E0905']);
    expect(covered(text, d[0]!)).toBe('occupied');
    expect(d[0]!.message).toContain('simulate those');
  });
});
