/**
 * A captured value is written as Orch text the parser reads back as the same value: strings and
 * record keys with the escapes the lexer knows (a control character JSON would write as `\u0001`
 * or `\b` is not one of them), `${` never interpolated.
 */
import { describe, expect, it } from 'vitest';
import { parse } from '../../language/index.js';
import { orchValue } from '../plan-tests/orch-value.js';

/** The value of `plan p { output { v: TEXT } }` as the parser reads it, and its diagnostics. */
function readBack(text: string): { parts: unknown; errors: string[] } {
  const out = parse({ file: 'v.orch', text: `plan p {\n  output { v: ${text} }\n}\n` });
  const plan = out.module.declarations[0] as unknown as { output?: { fields: { value: unknown }[] } };
  return { parts: plan.output?.fields[0]?.value, errors: out.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message) };
}

describe('orchValue', () => {
  it('writes a string with quotes, backslashes, tabs, a backspace, a control character and ${ so that it reads back whole', () => {
    const value = 'say "hi"\\ \t\r\n \b \u0001 ${x} $y';
    const { parts, errors } = readBack(orchValue(value, undefined, null));
    expect(errors).toEqual([]);
    expect(parts).toMatchObject({ kind: 'StringLit', parts: [value] });
  });

  it('writes a record key that is no name as a string, escaped alike', () => {
    const text = orchValue({ 'content-type': 'text/plain', 'a\bb': 1, plain: true }, undefined, null);
    expect(text).toBe('{ "content-type": "text/plain", "a\bb": 1, plain: true }');
    expect(readBack(text).errors).toEqual([]);
  });
});
