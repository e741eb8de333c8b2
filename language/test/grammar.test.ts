/**
 * The grammar passes Chevrotain's own validations (ambiguity, left recursion, duplicate DSL
 * indices). Production start-up skips them for speed, so they are checked here.
 */
import { describe, expect, it } from 'vitest';

describe('grammar', () => {
  it('passes Chevrotain grammar and lexer validation', async () => {
    process.env.ORCH_VALIDATE_GRAMMAR = '1';
    const { orchParser } = await import('../parser.js');
    const { lex } = await import('../lexer.js');
    expect(() => orchParser()).not.toThrow();
    expect(lex('plan p { step a = f(x: 1) }').problems).toEqual([]);
  });
});
