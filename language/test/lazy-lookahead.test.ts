/**
 * The lookahead functions lazy-lookahead.ts makes from the grammar's paths decide as Chevrotain's
 * own builders do: for every production of the grammar, at every token of the repository's
 * examples and of the specification fixtures (and past their end), both give the same answer.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { IToken, LookaheadProductionType, Rule } from 'chevrotain';
import { EOF, LLkLookaheadStrategy } from '../chevrotain.js';
import { LazyLookahead, type LazyLookaheadFunction } from '../lazy-lookahead.js';
import { lex } from '../lexer.js';
import { orchParser } from '../parser.js';

function orchFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? orchFiles(join(dir, e.name)) : e.name.endsWith('.orch') ? [join(dir, e.name)] : [],
  );
}

/** A parser position over `tokens`: what lookahead functions read. */
function reader(tokens: readonly IToken[], at: number) {
  const eof = { image: '', startOffset: NaN, tokenType: EOF, tokenTypeIdx: EOF.tokenTypeIdx } as unknown as IToken;
  const LA = (k: number) => tokens[at + k - 1] ?? eof;
  return { LA, LA_FAST: LA };
}

describe('lookahead made from the paths', () => {
  it('decides as Chevrotain does for every production at every token', () => {
    const parser = orchParser() as unknown as { lazyLookahead: Map<number, LazyLookaheadFunction>; lookaheadStrategy: LazyLookahead; gastProductionsCache: Record<string, Rule> };
    for (const f of parser.lazyLookahead.values()) f.build();
    const keys = [...parser.lookaheadStrategy.paths.keys()];
    expect(keys.length).toBeGreaterThan(100);

    const root = join(import.meta.dirname, '..', '..');
    const files = [...orchFiles(join(root, 'examples')), ...orchFiles(join(root, 'language', 'test', 'fixtures'))];
    const streams = files.map((f) => lex(readFileSync(f, 'utf8')).tokens);
    expect(streams.length).toBeGreaterThan(5);

    const ours = new LazyLookahead(2);
    const chevrotain = new LLkLookaheadStrategy({ maxLookahead: 2 });
    let compared = 0;
    for (const key of keys) {
      const [ruleName, prodType, occurrence, maxLookahead] = key.split(' ') as [string, string, string, string];
      const rule = parser.gastProductionsCache[ruleName]!;
      const base = { prodOccurrence: Number(occurrence), rule, maxLookahead: Number(maxLookahead), dynamicTokensEnabled: false };
      const pairs: [(...a: unknown[]) => unknown, (...a: unknown[]) => unknown][] = prodType === 'Alternation'
        ? [false, true].map((hasPredicates) => [ours.buildLookaheadForAlternation({ ...base, hasPredicates }), chevrotain.buildLookaheadForAlternation({ ...base, hasPredicates })] as [never, never])
        : [[ours.buildLookaheadForOptional({ ...base, prodType: prodType as LookaheadProductionType as never }), chevrotain.buildLookaheadForOptional({ ...base, prodType: prodType as never })] as [never, never]];
      for (const [a, b] of pairs) {
        for (const tokens of streams) {
          for (let at = 0; at <= tokens.length; at++) {
            const r = reader(tokens, at);
            if (a.call(r, []) !== b.call(r, [])) expect.fail(`${key} at token ${at}: ${String(a.call(r, []))} vs ${String(b.call(r, []))}`);
            compared++;
          }
        }
      }
    }
    expect(compared).toBeGreaterThan(100_000);
  });
});
