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

describe('E0101 for a name an import does not find', () => {
  it('is reported once, at the import: its uses are not reported again', () => {
    const text = 'import std.policies { lean }\nplan p {\n  policy lean\n  step s = log(message: "x")\n}\n';
    const ds = checkText(text).filter((d) => d.severity === 'error');
    expect(ds.map((d) => [d.code, d.message, d.range.start.line])).toEqual([['E0101', expect.stringContaining('"lean" is not declared in std.policies'), 1]]);
  });

  it('a name the import does find, used as another kind, is still reported where it is used', () => {
    const text = 'import std.policies { balanced }\nplan p {\n  step s = balanced(message: "x")\n}\n';
    expect(checkText(text).filter((d) => d.severity === 'error').map((d) => [d.code, d.range.start.line])).toEqual([['E0101', 3]]);
  });
});
