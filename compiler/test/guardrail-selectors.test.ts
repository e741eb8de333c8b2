import { describe, expect, it } from 'vitest';
import { checkText, covered } from './helpers.js';

// A bare selector is a step name (LANGUAGE.md §4). Naming the capability a plan's steps call
// instead selected nothing: the check never ran, silently.
const src = (selector: string) => `
capability work { kind tool  input { n: int = 1 }  output { word_count: int } }
resource box { kind local_device }
guardrail short {
  severity blocking
  check ${selector} where output.word_count <= 500
}
plan p {
  guardrails short
  step x = work()
}
`;

describe('guardrail selectors', () => {
  it('a bare selector naming the capability a step calls, and no step, is E0101 with the fix', () => {
    const text = src('work');
    const d = checkText(text).filter((x) => x.code === 'E0101');
    expect(d).toHaveLength(1);
    expect(covered(text, d[0]!)).toBe('work');
    expect(d[0]!.message).toContain('write `capability work`');
    expect(d[0]!.fixes?.[0]?.edits[0]?.newText).toBe('capability ');
  });

  it('a step name, `capability C` and a name no step calls stay clean', () => {
    expect(checkText(src('x')).filter((x) => x.severity === 'error')).toEqual([]);
    expect(checkText(src('capability work')).filter((x) => x.severity === 'error')).toEqual([]);
    expect(checkText(src('work').replace('step x = work()', 'step x = log(message: "hi")')).filter((x) => x.code === 'E0101')).toEqual([]);
  });
});
