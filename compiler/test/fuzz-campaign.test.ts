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
