/**
 * The compiler before the v0.4 checkers land (LANGUAGE.md §9.2–§9.4): `test`, `source` and
 * `simulate context` declarations and the new properties and annotations are parsed and left
 * alone — a program using them checks and compiles as it did without them — and named arguments
 * of built-ins are checked as expressions.
 */
import { describe, expect, it } from 'vitest';
import { BASE, checkText, codes, compileText, covered } from './helpers.js';

const PLAN = `
plan digest {
  input { url: string @untrusted }
  step get = fetch(url: input.url)
  step sum = summarize(text: get.output.body)
}
`;

const V04 = `
capability validate {
  kind tool
  input { text: string @personal @untrusted, to: string @trusted }
  output { ok: bool }
  handler "./handlers.js#validate"
  trust trusted
  endorses true
}
resource office {
  kind edge_cluster
  provides llm, http
  accepts personal
  available when context.office_online
}
context {
  office_online: bool max_age 5m
  motion: bool @personal @untrusted max_age 2m
  occupied: bool = context.motion hold 10m
}
source home {
  topic "home/+/motion" sets motion from payload.state == "ON" at payload.ts
}
simulate context { motion stale 20% }
test "digest summarises" {
  plan digest
  input { url: "https://example.com" }
  mock fetch returns { body: "hi", size: 2 }
  mock summarize where input.text == "hi" returns { summary: "h", label: "good" } latency 1s
  expect run.status == "completed" and len(calls(fetch)) == 1
  expect always sum.attempts <= 1
}
`;

describe('v0.4 syntax in the compiler', () => {
  it('checks and compiles a program with tests, sources and the new properties as it does without them', () => {
    const without = checkText(BASE + PLAN);
    const withV04 = checkText(BASE + PLAN + V04);
    // The only additions: the new declarations' own unused warnings (the validator, the resource).
    const fresh = withV04.filter((d) => !without.some((w) => w.code === d.code && w.message === d.message));
    expect(fresh.map((d) => [d.code, d.message])).toEqual([['W0601', 'capability "validate" is never used']]);
    const out = compileText(BASE + PLAN + V04, {}, 'digest');
    expect(codes(out.diagnostics.filter((d) => d.severity === 'error'))).toEqual([]);
    expect(out.plans[0]?.steps.map((s) => s.id)).toEqual(['get', 'sum']);
  });

  it('checks the values of named arguments; the §4 built-ins take none; a class is a word after declassify(…, to:)', () => {
    const text = `${BASE}
plan p {
  input { s: string }
  step a = fetch(url: lower(input.s, reason: nowhere))
  step b = fetch(url: declassify(input.s, to: internal, reason: "own"))
}
`;
    const errors = checkText(text).filter((d) => d.severity === 'error').map((d) => [d.code, covered(text, d)]);
    expect(errors).toEqual([
      ['E0201', 'reason: nowhere'],
      ['E0101', 'nowhere'],
    ]);
  });
});
