/** What a handler may return (runtime/executor/json-output.ts): JSON values within a size limit. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toJsonOutput } from '../executor/json-output.js';

const MiB = 1024 * 1024;
const error = (v: unknown, max = MiB) => {
  const r = toJsonOutput(v, max);
  return r.ok ? null : r.error;
};

describe('toJsonOutput', () => {
  it('says what is wrong and where', () => {
    const cyc: Record<string, unknown> = { a: [1, {}] };
    (cyc.a as unknown[])[1] = cyc;
    expect(error(cyc)).toBe('output.a[1]: a circular reference is not a JSON value');
    expect(error({ a: { b: () => 1 } })).toBe('output.a.b: a function is not a JSON value');
    expect(error({ 'odd key': Symbol('x') })).toBe('output["odd key"]: a symbol is not a JSON value');
    expect(error([1n])).toBe('output[0]: a bigint (1n) is not a JSON value');
    expect(error({ x: Infinity })).toBe('output.x: Infinity is not a JSON value');
    expect(error([1, undefined])).toBe('output[1]: undefined is not a JSON value');
    expect(error({ s: new Set() })).toBe('output.s: an instance of Set is not a JSON value');
    class Point {
      x = 1;
    }
    expect(error({ p: new Point() })).toBe('output.p: an instance of Point is not a JSON value');
    expect(error({ bad: { toJSON: () => { throw new Error('nope'); } } })).toBe('output.bad: toJSON() threw: nope');
  });

  it('accepts shared (non-circular) objects, toJSON values, undefined properties and no output at all', () => {
    const shared = { n: 1 };
    expect(toJsonOutput({ a: shared, b: [shared], when: new Date(0), gone: undefined }, MiB)).toEqual({
      ok: true,
      json: '{"a":{"n":1},"b":[{"n":1}],"when":"1970-01-01T00:00:00.000Z"}',
    });
    expect(toJsonOutput(undefined, MiB)).toEqual({ ok: true, json: 'null' });
    expect(toJsonOutput(JSON.parse('{"__proto__": {"x": 1}}'), MiB)).toEqual({ ok: true, json: '{"__proto__":{"x":1}}' });
  });

  it('measures the UTF-8 size of the JSON text against the limit', () => {
    expect(toJsonOutput('é'.repeat(4), 10)).toEqual({ ok: true, json: '"éééé"' });
    expect(error('é'.repeat(5), 10)).toBe('output is 12 bytes of JSON, more than the limit of 10 bytes (maxOutputBytes / --max-output)');
  });

  it('a value nested deeper than JSON.stringify can go is an error, not a crash', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(error(deep, 10 * MiB)).toMatch(/^output cannot be serialized/);
  });

  it('nesting beyond 1,000 levels is an error on every Node line; 1,000 is fine', () => {
    const nest = (n: number): unknown => {
      let v: unknown = 'x]}"';
      for (let i = 0; i < n; i++) v = i % 2 ? [v] : { k: v };
      return v;
    };
    expect(toJsonOutput(nest(1000), 10 * MiB).ok).toBe(true);
    expect(error(nest(1001), 10 * MiB)).toBe('output cannot be serialized: it nests 1001 levels deep, more than 1000');
  });

  it('property: a JSON value round-trips exactly; anything else never throws and yields parseable JSON or an error', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const r = toJsonOutput(v, 10 * MiB);
        expect(r).toEqual({ ok: true, json: JSON.stringify(v) });
      }),
    );
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withMap: true, withSet: true, withDate: true, withTypedArray: true, withSparseArray: true, withNullPrototype: true }), (v) => {
        const r = toJsonOutput(v, 10 * MiB);
        if (r.ok) expect(() => JSON.parse(r.json)).not.toThrow();
        else expect(r.error).toMatch(/^output/);
      }),
    );
  });
});
