/** Garbling the full campaign example never crashes the compiler, and whatever IR comes out is valid. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validatePlanIR } from '../ir/validate.js';
import { compileText } from './helpers.js';

const TEXT = readFileSync(fileURLToPath(new URL('./fixtures/campaign.orch', import.meta.url)), 'utf8');
const TOKENS = ['{', '}', '(', ')', ',', '.', '"', 'step ', 'when ', '??', 'for each x in ', 'after ', ' 3s', ' 2usd', 'input', 'generate', '@personal', '\n'];

describe('garbled campaign example', () => {
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
      { numRuns: 120 },
    );
  });
});
