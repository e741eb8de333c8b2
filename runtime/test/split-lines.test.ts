/** `split` and `lines` (issue 47 item 12): typed by the compiler, evaluated by the runtime alike. */
import { describe, expect, it } from 'vitest';
import { BASE, checkText } from '../../compiler/test/helpers.js';
import { evaluate } from '../index.js';

const plan = (expr: string) => `${BASE}\nplan p {\n  input { text: string }\n  step a = fetch(url: input.text)\n  step b = fetch(url: format("{}", ${expr}))\n}\n`;
const errors = (expr: string) => checkText(plan(expr)).filter((d) => d.severity === 'error');

describe('split and lines', () => {
  it('type as list<string> and refuse non-strings', () => {
    expect(errors('len(split(input.text, ","))')).toEqual([]);
    expect(errors('lines(a.output.body)[0]')).toEqual([]);
    const bad = errors('split(3, ",")');
    expect(bad.map((d) => d.code)).toEqual(['E0201']);
    expect(bad[0]!.message).toMatch(/split\(\) needs a string/);
    expect(errors('lines(input.text, input.text)').some((d) => d.code === 'E0201' && /takes 1 argument/.test(d.message))).toBe(true);
    expect(errors('upper(split(input.text, ","))').map((d) => d.code)).toEqual(['E0201']);
  });

  it('evaluate: split at a separator, lines without a trailing empty line', () => {
    const call = (fn: string, ...args: unknown[]) => evaluate({ op: 'call', fn, args: args.map((value) => ({ op: 'lit', value })) } as never, { vars: {} });
    expect(call('split', 'a,b,,c', ',')).toEqual(['a', 'b', '', 'c']);
    expect(call('lines', 'one\r\ntwo\nthree\n')).toEqual(['one', 'two', 'three']);
    expect(call('lines', '')).toEqual([]);
    expect(() => call('split', 'a', 1)).toThrow(/separator/);
  });
});
