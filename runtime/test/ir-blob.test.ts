/**
 * A run's IR is stored deflated from JSON written piece by piece (journal/ir-blob.ts): the bytes
 * must inflate to exactly what `JSON.stringify` writes, members left out and all, and be
 * redacted like the rest of the journal.
 */
import { inflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { irHash, irTextHash } from '../../compiler/index.js';
import { irBlob, irBlobSync, jsonPieces, keepText } from '../backend/ir-blob.js';

const same = (t: string) => t;

/** JSON-like values with what JSON.stringify treats specially: undefined members, toJSON, nesting. */
const arbValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.jsonValue({ maxDepth: 2 }),
    fc.constant(undefined),
    fc.date({ noInvalidDate: true }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 5 }),
  ),
})).value;

describe('IR blob', () => {
  it('inflates to exactly JSON.stringify of the IR (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.string({ maxLength: 8 }), arbValue, { maxKeys: 8 }), async (ir) => {
        const expected = JSON.stringify(ir);
        expect([...jsonPieces(ir)].join('')).toBe(expected);
        expect(inflateRawSync((await irBlob(ir, same))!).toString('utf8')).toBe(expected);
        // The version the run journals was taken from the same pieces.
        expect(irHash(ir)).toBe(irTextHash(expected));
        expect(inflateRawSync(irBlobSync(ir, same)!).toString('utf8')).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('streams a large IR in batches, each redacted', async () => {
    const steps = Array.from({ length: 20_000 }, (_, i) => ({ id: `s${i}`, args: { token: i % 1000 === 0 ? 'hunter2' : 'ok' }, after: [] }));
    const ir = { version: 'orch.plan/v2', plan: 'big', steps, subplans: {} };
    let calls = 0;
    const redact = (t: string) => {
      calls++;
      return t.replaceAll('hunter2', '***');
    };
    const text = inflateRawSync((await irBlob(ir, redact))!).toString('utf8');
    expect(calls).toBeGreaterThan(10);
    expect(text).toBe(JSON.stringify(ir).replaceAll('hunter2', '***'));
    expect(text).not.toContain('hunter2');
  });

  it('gives the run its version without stringifying the IR again (the peak of a large run)', async () => {
    const steps = Array.from({ length: 2_000 }, (_, i) => ({ id: `s${i}`, args: { n: i }, after: [] }));
    const ir = { version: 'orch.plan/v2', plan: 'big', steps, subplans: {} };
    const expected = irTextHash(JSON.stringify(ir));
    await irBlob(ir, (t) => t.replaceAll('s1', 'xx'));
    const stringify = JSON.stringify;
    let whole = 0;
    JSON.stringify = ((value: unknown, ...rest: []) => {
      if (value === ir) whole++;
      return stringify(value, ...rest);
    }) as typeof JSON.stringify;
    try {
      // The unredacted text's hash, as irHash of the IR itself.
      expect(irHash(ir)).toBe(expected);
    } finally {
      JSON.stringify = stringify;
    }
    expect(whole).toBe(0);
  });

  it('stores a plan started again without writing its JSON out again, and still redacts where asked', async () => {
    const steps = Array.from({ length: 500 }, (_, i) => ({ id: `s${i}`, args: { token: i === 7 ? 'hunter2' : 'ok' }, after: [] }));
    const ir = { version: 'orch.plan/v3', plan: 'again', steps, subplans: {} };
    const first = await irBlob(ir, keepText);
    // The same bytes, not a second serialization of the same (never changed) IR.
    expect(await irBlob(ir, keepText)).toBe(first);
    expect(inflateRawSync(first!).toString('utf8')).toBe(JSON.stringify(ir));
    // A journal that redacts writes its own, whatever was kept for the plan.
    const redacted = await irBlob(ir, (t) => t.replaceAll('hunter2', '***'));
    expect(redacted).not.toBe(first);
    expect(inflateRawSync(redacted!).toString('utf8')).not.toContain('hunter2');
    // Another IR object (a recompiled plan) is its own.
    const copy = { ...ir };
    expect(await irBlob(copy, keepText)).not.toBe(first);
  });
});
