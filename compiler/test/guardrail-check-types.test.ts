/**
 * `check S where C` conditions read `output`: in a plan that uses the guardrail, C is typed
 * against the output of the step S names (or of every step calling the capability S names), so
 * a misspelt field or a comparison of the wrong type is E0201 at the condition — once, however
 * many plans use the guardrail.
 */
import { describe, expect, it } from 'vitest';
import { checkText, covered } from './helpers.js';

const program = (condition: string, plans = 1) => `
capability generate { kind llm  handler "./handlers.js#generate" input { p: string } output { body: string, word_count: int } }
guardrail short_copy {
  severity blocking
  check ${condition}
}
${Array.from({ length: plans }, (_, i) => `plan p${i} { step generate = generate(p: "a") }`).join('\n')}
`;

const errorsAt = (text: string) => checkText(text).filter((d) => d.severity === 'error').map((d) => [d.code, covered(text, d)]);

describe('check conditions typed against the step they check', () => {
  it('a field of the output, compared with its own type, checks clean', () => {
    expect(errorsAt(program('generate where output.word_count <= 500 and len(output.body) > 0'))).toEqual([]);
  });

  it('a field the output lacks is E0201 at the field, once for two plans', () => {
    const text = program('generate where output.wordcount <= 500', 2);
    expect(errorsAt(text)).toEqual([['E0201', 'wordcount']]);
    expect(checkText(text).find((d) => d.code === 'E0201')!.message).toContain('did you mean "word_count"?');
  });

  it('a capability selector types output as that capability\'s', () => {
    expect(errorsAt(program('capability generate where output.word_count <= "x"'))).toEqual([['E0201', 'output.word_count <= "x"']]);
  });
});
