/**
 * A step's `fallback` call answers in the step's place: what reads the step's output reads the
 * fallback's answer when it ran. Its output type must be one the step's output can be (E0201 at
 * the fallback's capability otherwise), as an argument must fit its parameter.
 */
import { describe, expect, it } from 'vitest';
import { BASE, codes, compileText, checkText } from './helpers.js';

const program = (fallbackOutput: string, reader = '  step sum = summarize(text: page.output.body)') => `${BASE}
capability fetch_cached {
  kind tool
  input { url: string }
  output ${fallbackOutput}
  cost 0usd
  latency 1s
  requires http
}
plan p {
  step page = fetch(url: "https://example.com") {
    fallback fetch_cached(url: "https://example.com")
  }
${reader}
}
`;

describe('a fallback answers with the step’s output type', () => {
  it('accepts a fallback whose output has every field of the step’s (more is fine)', () => {
    expect(codes(compileText(program('{ body: string, size: int, stale: bool }')).diagnostics)).not.toContain('E0201');
    expect(codes(compileText(program('{ body: string, size: int }')).diagnostics)).not.toContain('E0201');
  });

  it('leaves alone a fallback of another shape on a step whose output nobody reads (a fallback that reports the failure)', () => {
    expect(codes(compileText(program('{ ok: bool }', '')).diagnostics)).not.toContain('E0201');
    const byOutput = compileText(program('{ ok: bool }', '  output { text: page.output.body }')).diagnostics;
    expect(byOutput.filter((d) => d.code === 'E0201').map((d) => d.message)).toEqual([expect.stringMatching(/^fallback fetch_cached answers/)]);
  });

  it('refuses a fallback whose output lacks a field or has another type, at the fallback', () => {
    for (const out of ['{ body: string }', '{ body: int, size: int }']) {
      const text = program(out);
      const d = compileText(text).diagnostics.filter((x) => x.code === 'E0201');
      expect(d, out).toHaveLength(1);
      expect(d[0]!.message).toMatch(/fallback fetch_cached answers .* step "page"/);
      expect(text.slice(d[0]!.range.start.offset, d[0]!.range.end.offset)).toBe('fetch_cached');
      expect(codes(checkText(text))).toContain('E0201');
    }
  });
});
