/**
 * Property tests: `parse` never throws, always returns a Module, reports every diagnostic inside
 * the text with consistent positions, and finishes each case within the 1 s ceiling — for
 * arbitrary strings, for soups of Orch tokens, and for the spec examples with random edits.
 *
 * Runs per property: ORCH_PROPERTY_RUNS (default: 700 each, 2,100 in total).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from '../index.js';
import { LineIndex } from '../source.js';

const RUNS = Number(process.env.ORCH_PROPERTY_RUNS) > 0 ? Number(process.env.ORCH_PROPERTY_RUNS) : 700;

/** Generous per-test time so large ORCH_PROPERTY_RUNS values do not hit vitest's default timeout. */
const TEST_TIMEOUT = 60_000 + RUNS * 100;

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const SPECS = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.orch'))
  .map((f) => readFileSync(FIXTURES + f, 'utf8'));

function checkParse(text: string): void {
  const started = performance.now();
  const out = parse({ file: 'prop.orch', text });
  const elapsed = performance.now() - started;
  expect(out.module.kind).toBe('Module');
  expect(Array.isArray(out.module.declarations)).toBe(true);
  const index = new LineIndex(text);
  for (const d of out.diagnostics) {
    expect(d.message).not.toMatch(/internal parser error/);
    expect(d.message.length).toBeGreaterThan(0);
    expect(d.range.start.offset).toBeGreaterThanOrEqual(0);
    expect(d.range.end.offset).toBeLessThanOrEqual(text.length);
    expect(d.range.end.offset).toBeGreaterThanOrEqual(d.range.start.offset);
    expect(index.positionAt(d.range.start.offset)).toEqual(d.range.start);
  }
  expect(elapsed).toBeLessThan(1000);
}

/** Fragments that reach deep parser states far more often than random characters do. */
const FRAGMENTS = [
  'capability', 'resource', 'policy', 'guardrail', 'context', 'plan', 'trigger', 'invariant', 'simulate', 'type',
  'module', 'import', 'as', 'step', 'for', 'each', 'in', 'parallel', 'wait', 'until', 'run', 'when', 'after', 'on',
  'kind', 'input', 'output', 'timeout', 'retry', 'backoff', 'max', 'cost', 'with', 'success', 'always', 'not', 'and',
  'or', 'implies', 'true', 'null', 'x', 'a.b', '{', '}', '(', ')', '[', ']', ',', ':', '=', '==', '<=', '?', '??', '|',
  '@', '..', '.', '-', '+', '*', '%', '"s"', '"${', '${x}', '"', '\\', '30s', '0.5usd', '80%', '1', '2.5', '5min',
  '// c\n', '/* b */', '/*', '///d\n', '\n', ' ', '\t', 'é', '\0',
];

describe('parse never throws', () => {
  // The first parse builds the parser (grammar analysis); keep that out of the per-case ceiling.
  beforeAll(() => {
    parse({ file: 'warm-up.orch', text: SPECS.join('\n') });
  });

  it('for arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => checkParse(text)),
      { numRuns: RUNS },
    );
  }, TEST_TIMEOUT);

  it('for soups of Orch tokens', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 120 }), (parts) => checkParse(parts.join(' '))),
      { numRuns: RUNS },
    );
  }, TEST_TIMEOUT);

  it('for the spec examples with random deletions and insertions', () => {
    const edit = fc.record({
      at: fc.nat(),
      deleteCount: fc.nat({ max: 12 }),
      insert: fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ maxLength: 6 }), fc.constant('')),
    });
    fc.assert(
      fc.property(fc.constantFrom(...SPECS), fc.array(edit, { minLength: 1, maxLength: 5 }), (spec, edits) => {
        let text = spec;
        for (const e of edits) {
          const at = e.at % (text.length + 1);
          text = text.slice(0, at) + e.insert + text.slice(at + e.deleteCount);
        }
        checkParse(text);
      }),
      { numRuns: RUNS },
    );
  }, TEST_TIMEOUT);
});
