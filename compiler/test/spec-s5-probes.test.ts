/** Holes found probing LANGUAGE.md §5 (diagnostics): one mistake, one diagnostic, with the right message. */
import { describe, expect, it } from 'vitest';
import { checkText, covered } from './helpers.js';

describe('E0301 for a cycle of sub-plans', () => {
  it('is reported once, naming the whole cycle in order (a second, wrong "p → p" came with it)', () => {
    const text = 'plan p { step s = run q }\nplan q { step t = run r }\nplan r { step u = run p }\n';
    const ds = checkText(text).filter((d) => d.code === 'E0301');
    expect(ds.map((d) => d.message)).toEqual(['sub-plan cycle: p → q → r → p']);
    expect(covered(text, ds[0]!)).toBe('p');
    expect(ds[0]!.range.start.line).toBe(3);
  });

  it('a plan that runs itself is one E0301 too', () => {
    expect(checkText('plan p { step s = run p }\n').map((d) => d.message)).toEqual(['sub-plan cycle: p → p']);
  });
});
