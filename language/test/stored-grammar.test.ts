/**
 * The stored grammar (grammar-cache.ts) is the recorded one: read back, every production has the
 * class, the fields and the token types recording gave it — so a parser built from the file makes
 * the same decisions as one that records. A file of another grammar is not used.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Rule } from 'chevrotain';
import { grammarFingerprint, readGrammarCache, writeGrammarCache } from '../grammar-cache.js';
import type { LazyLookahead, LazyLookaheadFunction, LookaheadPaths } from '../lazy-lookahead.js';
import { ALL_TOKENS } from '../lexer.js';
import { orchParser } from '../parser.js';
import { grammarLayers } from '../parser-engine.js';
import { CstParser } from '../chevrotain.js';

const dir = mkdtempSync(join(tmpdir(), 'orch-grammar-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every own field of a production tree, classes and token types by name, rules by name. */
function shape(x: unknown): unknown {
  if (x === null || typeof x !== 'object') return x;
  if (Array.isArray(x)) return x.map(shape);
  const out: Record<string, unknown> = { class: (Object.getPrototypeOf(x) as { constructor: { name: string } }).constructor.name };
  for (const [k, v] of Object.entries(x)) {
    out[k] = k === 'referencedRule' || k === 'terminalType' || k === 'separator' ? (v as { name?: string } | undefined)?.name : shape(v);
  }
  return out;
}

const recorded = (): Rule[] => Object.values((orchParser() as unknown as { gastProductionsCache: Record<string, Rule> }).gastProductionsCache);

/** Every production's lookahead paths (each lookahead built). */
function allPaths(): LookaheadPaths {
  const p = orchParser() as unknown as { lazyLookahead: Map<number, LazyLookaheadFunction>; lookaheadStrategy: LazyLookahead };
  for (const f of p.lazyLookahead.values()) f.build();
  return p.lookaheadStrategy.paths;
}

/** Paths with token types by name. */
const named = (paths: LookaheadPaths) => [...paths].map(([k, alts]) => [k, alts.map((alt) => alt.map((path) => path.map((t) => t.name)))]);

describe('the grammar cache', () => {
  it('reads back the recorded productions field for field', () => {
    const rules = recorded();
    const file = pathToFileURL(join(dir, 'round-trip.json'));
    const paths = allPaths();
    writeGrammarCache(file, 'fp', rules, paths);
    const read = readGrammarCache(file, 'fp', ALL_TOKENS)?.rules;
    expect(read).toBeDefined();
    expect([...read!.keys()]).toEqual(rules.map((r) => r.name));
    // The recorded rules are linked to each other (chevrotain resolved them); the read ones are
    // not yet: compare without the links.
    const unlinked = (r: unknown) => JSON.parse(JSON.stringify(shape(r), (k, v: unknown) => (k === 'referencedRule' ? undefined : v))) as unknown;
    expect([...read!.values()].map(unlinked)).toEqual(rules.map(unlinked));
    expect(rules.length).toBeGreaterThan(50);
  });

  it('reads back the lookahead paths of every production', () => {
    const paths = allPaths();
    const file = pathToFileURL(join(dir, 'lookahead.json'));
    writeGrammarCache(file, 'fp', recorded(), paths);
    const read = readGrammarCache(file, 'fp', ALL_TOKENS)?.lookahead;
    expect(read).toBeDefined();
    expect(named(read!)).toEqual(named(paths));
    expect(paths.size).toBeGreaterThan(100);
  });

  it('is not used for another grammar, a missing file or an unknown token', () => {
    const file = pathToFileURL(join(dir, 'other.json'));
    writeGrammarCache(file, 'fp-a', recorded(), new Map());
    expect(readGrammarCache(file, 'fp-b', ALL_TOKENS)).toBeUndefined();
    expect(readGrammarCache(pathToFileURL(join(dir, 'missing.json')), 'fp-a', ALL_TOKENS)).toBeUndefined();
    expect(readGrammarCache(file, 'fp-a', ALL_TOKENS.filter((t) => t.name !== 'LCurly'))).toBeUndefined();
    writeFileSync(file, '{"fingerprint":');
    expect(readGrammarCache(file, 'fp-a', ALL_TOKENS)).toBeUndefined();
  });

  it('fingerprints the rules by their names and their code', () => {
    const a = grammarFingerprint([['r', () => 1]]);
    expect(grammarFingerprint([['r', () => 1]])).toBe(a);
    expect(grammarFingerprint([['r', () => 2]])).not.toBe(a);
    expect(grammarFingerprint([['s', () => 1]])).not.toBe(a);
  });

  it("fingerprints the parser's layers whole, with the helpers their rules call", () => {
    const layers = grammarLayers(orchParser(), CstParser).map(([, c]) => c.toString());
    // itemsOrJunk adds every block's junk alternatives: a change there changes the grammar.
    expect(layers.some((text) => text.includes('itemsOrJunk('))).toBe(true);
    expect(layers.length).toBeGreaterThan(10);
  });
});
