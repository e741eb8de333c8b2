/**
 * `sameIgnoringRanges` (the formatter's meaning check) walks two trees node against node; it
 * must say "same" exactly when their `canonicalTokens` streams — the definition of "equal
 * ignoring ranges" — are equal. Trees are drawn with what the definition treats specially:
 * `range`/`*Range` keys, undefined values, `comments`, `doc` with trailing spaces, `ParenExpr`
 * (see-through with `transparentParens`), -0 and NaN, keys in either order.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalTokens, sameIgnoringRanges } from '../tree-equality.js';

const RUNS = Number(process.env.ORCH_PROPERTY_RUNS) > 0 ? Number(process.env.ORCH_PROPERTY_RUNS) : 700;

const primitive = fc.constantFrom<unknown>(0, -0, 1, NaN, '', 'a', 'a ', 'n1', '1', true, false, null, undefined);

const { tree } = fc.letrec<{ tree: unknown; node: unknown }>((tie) => ({
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, primitive, fc.array(tie('tree'), { maxLength: 3 }), tie('node')),
  node: fc.oneof(
    fc.record({ kind: fc.constant('ParenExpr'), inner: tie('tree'), range: fc.nat() }),
    fc.record(
      {
        kind: fc.oneof(fc.constantFrom('A', 'B'), tie('tree')),
        name: tie('tree'),
        value: tie('tree'),
        range: tie('tree'),
        nameRange: tie('tree'),
        doc: fc.oneof(fc.constantFrom('d', 'd \t', 'x \ny', undefined), tie('tree')),
        // (the AST's `comments` are always comments)
        comments: fc.array(fc.record({ text: fc.constantFrom('// a', '// b'), range: fc.nat() }), { maxLength: 2 }),
      },
      { requiredKeys: [] },
    ),
  ),
}));

/** The same tree with every node's keys in reverse order (order carries no meaning). */
function reordered(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reordered);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reordered(x)]));
}

const tokensEqual = (a: unknown, b: unknown, transparentParens: boolean): boolean => {
  const x = canonicalTokens(a, { transparentParens });
  const y = canonicalTokens(b, { transparentParens });
  return x.length === y.length && x.every((t, i) => t === y[i]);
};

describe('sameIgnoringRanges', () => {
  it('agrees with comparing canonical token streams, on unrelated trees', () => {
    fc.assert(
      fc.property(tree, tree, fc.boolean(), (a, b, parens) => {
        expect(sameIgnoringRanges(a, b, { transparentParens: parens })).toBe(tokensEqual(a, b, parens));
      }),
      { numRuns: RUNS },
    );
  });

  it('agrees with comparing canonical token streams, on a tree and a reordered copy', () => {
    fc.assert(
      fc.property(tree, fc.boolean(), (a, parens) => {
        const b = reordered(a);
        expect(sameIgnoringRanges(a, b, { transparentParens: parens })).toBe(tokensEqual(a, b, parens));
      }),
      { numRuns: RUNS },
    );
  });
});
