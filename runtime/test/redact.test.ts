/**
 * Structural redaction (runtime/redact.ts). "No secret left" means, precisely: no string leaf of
 * the result contains a secret of SUBSTRING_MIN or more characters, and no string leaf equals a
 * shorter secret. Keys and non-string leaves are never changed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Redactor, REDACTION_MARK, SUBSTRING_MIN } from '../redact.js';

const redactor = (...secrets: string[]) => {
  const r = new Redactor();
  for (const s of secrets) r.add(s);
  return r;
};

/** Every string leaf (not keys) of a JSON value. */
function stringLeaves(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) stringLeaves(x, out);
  else if (v !== null && typeof v === 'object') for (const x of Object.values(v)) stringLeaves(x, out);
  return out;
}

/** The value with every string leaf replaced by a placeholder: the shape redaction must keep. */
function shape(v: unknown): unknown {
  if (typeof v === 'string') return '<s>';
  if (Array.isArray(v)) return v.map(shape);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]));
  return v;
}

function leaks(leaf: string, secrets: readonly string[]): boolean {
  return secrets.some((s) => s !== REDACTION_MARK && s.length > 0 && (s.length >= SUBSTRING_MIN ? leaf.includes(s) : leaf === s));
}

describe('Redactor', () => {
  it('replaces long secrets inside strings and short ones only as whole strings', () => {
    const r = redactor('1', 'run', 'true', 'tok-123');
    expect(r.value({ runId: 'run', n: 1, ok: true, s: '1', t: 'run 1 truest', u: 'x tok-123 y', list: ['run', 'running'] })).toEqual({
      runId: '***',
      n: 1,
      ok: true,
      s: '***',
      t: 'run 1 ***st',
      u: 'x *** y',
      list: ['***', 'running'],
    });
  });

  it('repeats until a replacement has not joined text into a new occurrence', () => {
    const r = redactor('a***b');
    expect(r.text('aa***bb')).toBe('***');
  });

  it('keeps keys, cycles and shared objects, and does not touch its input', () => {
    const shared = { k: 'secret-value' };
    const input: Record<string, unknown> = { 'secret-value': shared, again: shared };
    input.self = input;
    const out = redactor('secret-value').value(input) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(['secret-value', 'again', 'self']);
    expect(out['secret-value']).toEqual({ k: '***' });
    expect(out.again).toBe(out['secret-value']);
    expect(out.self).toBe(out);
    expect(shared.k).toBe('secret-value');
  });

  it('walks very deep values without overflowing the stack', () => {
    let deep: unknown = 'tok-123';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    let out = redactor('tok-123').value(deep);
    for (let i = 0; i < 100_000; i++) out = (out as unknown[])[0];
    expect(out).toBe('***');
  });

  it('property: never throws, never changes a key or a non-string leaf, leaves no secret, changes nothing else', () => {
    const unit = fc.constantFrom('a', 'b', 'r', 'u', 'n', '1', 't', 'e', '*', ' ', '"', '\\');
    const str = fc.string({ unit, maxLength: 12 });
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        str,
        fc.integer(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(fc.oneof(str, fc.constantFrom('run', 'runId', 'true', '1', '__proto__')), tie('value'), { maxKeys: 4 }),
      ),
    })).value;
    const secret = fc.oneof(fc.constantFrom('1', 'run', 'true', 'a', '*', '***', '****', 'runId', 'a***b'), fc.string({ unit, minLength: 1, maxLength: 6 }));
    fc.assert(
      fc.property(json, fc.array(secret, { maxLength: 5 }), (value, secrets) => {
        const before = JSON.stringify(value);
        const out = redactor(...secrets).value(value);
        expect(JSON.stringify(value)).toBe(before);
        expect(shape(out)).toEqual(shape(value));
        const was = stringLeaves(value);
        const now = stringLeaves(out);
        now.forEach((leaf, i) => {
          expect(leaks(leaf, secrets)).toBe(false);
          if (!leaks(was[i]!, secrets)) expect(leaf).toBe(was[i]);
        });
        expect(redactor(...secrets).value(out)).toEqual(out);
      }),
      { numRuns: 2000 },
    );
  });
});
