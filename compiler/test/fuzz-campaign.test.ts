/** Garbling the full campaign example never crashes the compiler, and whatever IR comes out is valid. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validatePlanIR } from '../ir/validate.js';
import { compileText } from './helpers.js';

const TEXT = readFileSync(fileURLToPath(new URL('./fixtures/campaign.orch', import.meta.url)), 'utf8');
const RUNS = Number(process.env.ORCH_PROPERTY_RUNS ?? 120);
const TOKENS = ['{', '}', '(', ')', ',', '.', '"', 'step ', 'when ', '??', 'for each x in ', 'after ', ' 3s', ' 2usd', 'input', 'generate', '@personal', '\n'];

function checkUnknownFunction(text: string): boolean {
  return compileText(text).diagnostics.some((d) => d.code === 'E0101' && d.message.startsWith('unknown function'));
}

/** Plans of `text` whose IR fails the schema, as `plan/json/path: message`. */
function invalidIR(text: string): string[] {
  return compileText(text).plans.flatMap((p) => {
    const v = validatePlanIR(JSON.parse(JSON.stringify(p)));
    return v.ok ? [] : v.errors.map((e) => `${p.plan}${e.path}: ${e.message}`);
  });
}

describe('garbled campaign example', () => {
  // Regression (found by the property below): `{` inserted at offset 0 and `(` inside
  // `assert plan.cost`, so the guardrail reads `assert p(lan.cost …`. The unknown function was
  // reported (E0101) but lowered as a `call` of "p", and the plans using the guardrail were
  // still emitted: their IR failed the schema.
  it('a guardrail calling an unknown function is a diagnostic and yields no invalid IR', () => {
    const at = TEXT.indexOf('assert plan.cost') + 'assert p'.length;
    const text = `{${TEXT.slice(0, at)}(${TEXT.slice(at)}`;
    expect(text).toContain('assert p(lan.cost <= 0.20usd\n}');
    const out = compileText(text);
    expect(out.diagnostics.filter((d) => d.message.startsWith('internal compiler error'))).toEqual([]);
    expect(out.diagnostics.filter((d) => d.code === 'E0101').map((d) => d.message)).toContain('unknown function "p"');
    expect(invalidIR(text)).toEqual([]);
    // The plan that embeds the broken guardrail is not compiled; the file has errors anyway.
    expect(out.plans.map((p) => p.plan)).not.toContain('campaign_launch');
  });

  // Regression (found by the property below, seed -1128265650): `A` inserted after `retry 3` makes
  // `3A`, a number with an unknown unit (E0001); its count was NaN, which the IR wrote as a null
  // `retry.max` in the capability and every step using it.
  it('a retry count the parser could not read is an error and lowers to no retries, valid IR', () => {
    const text = TEXT.replace('retry 3 backoff', 'retry 3A backoff');
    expect(text).not.toBe(TEXT);
    const out = compileText(text);
    expect(out.diagnostics.filter((d) => d.code === 'E0001').map((d) => d.message)).toContain("unknown unit 'A' in '3A' (durations use ms, s, m, h, d; money a 3-letter currency such as usd; percentages %)");
    expect(invalidIR(text)).toEqual([]);
  });

  // The same for every number of the repository's .orch files followed by a letter (938 places,
  // 30 of them gave invalid IR: a policy's weights, max_fallbacks and rate limits, a loop's max and
  // the estimates it bounds), and for a number too large to hold (max_tokens).
  it('a number with an unknown unit, or too large, anywhere it is read, is an error and yields valid IR', () => {
    const plan = (n: (v: string) => string) => `policy p {
  strategy cost
  weights { cost: ${n('0.4')}, latency: 0.6 }
  max_fallbacks ${n('2')}
  rate_limit log ${n('5')} per 1m
}
capability ask {
  kind llm
  input { q: string }
  output { a: string }
  prompt "Answer \${input.q}"
  endpoint "gw"
  model "m"
  max_tokens ${n('300')}
  temperature ${n('0.5')}
}
plan r {
  policy p
  repeat again max ${n('3')} until again.index == 1 {
    step s = ask(q: "x") { retry ${n('2')} }
  }
}
`;
    expect(compileText(plan((v) => v)).plans.map((p) => p.plan)).toEqual(['r']);
    expect(invalidIR(plan((v) => v))).toEqual([]);
    for (const garble of [(v: string) => `${v}A`, () => '9'.repeat(400)]) {
      const text = plan(garble);
      const out = compileText(text);
      expect(out.diagnostics.some((d) => d.severity === 'error'), text).toBe(true);
      // Its plan is still emitted (an editor's preview reads it): its IR is what must hold.
      expect(out.plans.map((p) => p.plan)).toEqual(['r']);
      expect(invalidIR(text), text).toEqual([]);
    }
  });

  it('an unknown function anywhere a plan embeds (guardrail rule, capability default, sub-plan) never yields invalid IR', () => {
    const edits: [string, string][] = [
      ['check generate where output.word_count <= 500', 'check generate where p(output.word_count) <= 500'],
      ['guardrail spend_cap {', 'guardrail g2 {\n  severity blocking\n  forbid step where q(step.cost)\n}\nguardrail spend_cap {'],
      ['"promotional" | "newsletter" = "promotional"', '"promotional" | "newsletter" = p("promotional")'],
      ['log(message: "week ${input.week}")', 'log(message: p(input.week))'],
    ];
    for (const [from, to] of edits) {
      expect(TEXT).toContain(from);
      const text = TEXT.replace(from, to);
      expect(checkUnknownFunction(text), to).toBe(true);
      expect(invalidIR(text), to).toEqual([]);
    }
  });

  // Regression (found by garbling every .orch file of the repository): both errors are reported
  // outside the plan's own check — at the import, by the parser — and the plan's IR was emitted
  // without a capability / with a race of one branch, failing the schema.
  it('a call of a tool whose import failed, or a race of one branch, yields no IR for its plan', () => {
    const texts = [
      'import mcp "files" as files\nplan p {\n  step a = files.read(path: "x")\n}\n',
      'plan p {\n  race r {\n    step a = wait 1d\n  }\n}\n',
    ];
    for (const text of texts) {
      const out = compileText(text);
      expect(out.diagnostics.some((d) => d.severity === 'error'), text).toBe(true);
      expect(out.plans, text).toEqual([]);
    }
  });

  it('yields diagnostics, never an internal error, and only schema-valid IR', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(TEXT.length), fc.nat(20), fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 4 }))), { minLength: 1, maxLength: 5 }),
        (edits) => {
          let text = TEXT;
          for (const [at, del, ins] of edits) {
            const i = at % (text.length + 1);
            text = text.slice(0, i) + ins + text.slice(i + del);
          }
          const out = compileText(text);
          expect(out.diagnostics.filter((d) => d.message.startsWith('internal compiler error'))).toEqual([]);
          for (const p of out.plans) {
            const v = validatePlanIR(JSON.parse(JSON.stringify(p)));
            expect(v.ok ? [] : v.errors).toEqual([]);
          }
        },
      ),
      { numRuns: RUNS },
    );
  }, Math.max(60_000, RUNS * 1_000));
});
