/**
 * The grammar's recorded productions, kept in a file beside the compiled parser so that a process
 * need not record them again. Chevrotain builds a parser by running every rule once in a
 * recording mode that makes its grammar tree (GAST) — ~8 % of an `orch check` of a 10,000-step
 * plan, paid by every process (a lexer-free grammar of ~150 rules, each production object made
 * through lodash's `pickBy`). The tree depends on the grammar's code alone, so the build records it
 * once (`ORCH_WRITE_GRAMMAR_CACHE=1`, cli/bundle-check.mjs) and writes it next to the compiled
 * parser (the module that reads it, parser-engine.js, or the bundle it is in); a process reads it
 * back instead of recording.
 *
 * The file names a fingerprint of the grammar's source text (each rule's function, and each layer
 * class of the parser whole, with the helpers rules call, as the running module has them): a file
 * from another build of the grammar does not match and the parser records as before. Grammar validation (`ORCH_VALIDATE_GRAMMAR`) always records.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import type { IProduction, Rule as GastRule, TokenType } from 'chevrotain';
import type { LookaheadPaths } from './lazy-lookahead.js';
import { Alternation, Alternative, NonTerminal, Option, Repetition, RepetitionMandatory, RepetitionMandatoryWithSeparator, RepetitionWithSeparator, Rule, Terminal } from './chevrotain.js';

/** Production classes by name: what the file records for each node. */
const CLASSES = { Alternation, Alternative, NonTerminal, Option, Repetition, RepetitionMandatory, RepetitionMandatoryWithSeparator, RepetitionWithSeparator, Rule, Terminal } as const;
type ClassName = keyof typeof CLASSES;

/** One production as stored: its class, its own fields, token types by name, children nested. */
interface StoredProduction {
  readonly c: ClassName;
  readonly f: Record<string, unknown>;
  readonly d?: readonly StoredProduction[];
}

interface StoredGrammar {
  readonly fingerprint: string;
  readonly rules: readonly StoredProduction[];
  /** Every production's lookahead paths (lazy-lookahead.ts), token types by name. */
  readonly lookahead?: Record<string, string[][][]>;
}

/** What a matching file holds: the recorded rules by name and the lookahead paths. */
export interface StoredGrammarParts {
  readonly rules: Map<string, GastRule>;
  readonly lookahead: LookaheadPaths | undefined;
}

/** Fields holding a token type (stored by name). */
const TOKEN_FIELDS = new Set(['terminalType', 'separator']);
/** Fields resolved again after loading (chevrotain's `resolveGrammar` links each non-terminal to its rule). */
const SKIPPED_FIELDS = new Set(['_definition', 'referencedRule']);

/** The file beside `moduleUrl` (the module that reads it). */
export function grammarCacheFile(moduleUrl: string): URL {
  return new URL('./orch-grammar.json', moduleUrl);
}

/** A fingerprint of the grammar: every rule's name and its function's source text, then the parser's layers'. */
export function grammarFingerprint(rules: ReadonlyArray<readonly [string, { toString(): string }]>): string {
  const hash = createHash('sha256');
  for (const [name, action] of rules) hash.update(name).update('\0').update(action.toString()).update('\0');
  return hash.digest('hex');
}

function store(p: IProduction): StoredProduction {
  const c = (Object.keys(CLASSES) as ClassName[]).find((k) => Object.getPrototypeOf(p) === CLASSES[k].prototype);
  if (!c) throw new Error(`grammar cache: unknown production ${p.constructor.name}`);
  const f: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) {
    if (SKIPPED_FIELDS.has(k) || v === undefined) continue;
    f[k] = TOKEN_FIELDS.has(k) ? (v as TokenType).name : v;
  }
  return c === 'NonTerminal' || c === 'Terminal' ? { c, f } : { c, f, d: (p as unknown as { definition: IProduction[] }).definition.map(store) };
}

/** Writes the recorded rules (chevrotain's `gastProductionsCache`) and lookahead paths with their fingerprint. */
export function writeGrammarCache(file: URL, fingerprint: string, rules: readonly GastRule[], lookahead: LookaheadPaths): void {
  const paths = Object.fromEntries([...lookahead].map(([key, alts]) => [key, alts.map((alt) => alt.map((path) => path.map((t) => t.name)))]));
  const stored: StoredGrammar = { fingerprint, rules: rules.map(store), lookahead: paths };
  writeFileSync(file, `${JSON.stringify(stored)}\n`);
}

/**
 * The stored rules by name (and the lookahead paths, when the file has them) when the file exists
 * and matches `fingerprint`, else undefined.
 * Each production is made from its class's prototype with its fields set as recorded —
 * the same objects recording makes, without going through the constructors' `pickBy`.
 */
export function readGrammarCache(file: URL, fingerprint: string, tokens: readonly TokenType[]): StoredGrammarParts | undefined {
  let stored: StoredGrammar;
  try {
    stored = JSON.parse(readFileSync(file, 'utf8')) as StoredGrammar;
  } catch {
    return undefined;
  }
  if (stored.fingerprint !== fingerprint) return undefined;
  const tokenByName = new Map(tokens.map((t) => [t.name, t]));
  const load = (s: StoredProduction): IProduction => {
    const p = Object.create(CLASSES[s.c].prototype) as Record<string, unknown>;
    // Children first, as the constructors set them (a non-terminal's own list stays empty: its
    // definition is its rule's).
    if (s.c !== 'Terminal') p._definition = s.d ? s.d.map(load) : [];
    for (const [k, v] of Object.entries(s.f)) {
      if (!TOKEN_FIELDS.has(k)) {
        p[k] = v;
        continue;
      }
      const t = tokenByName.get(v as string);
      if (!t) throw new Error(`grammar cache: unknown token ${String(v)}`);
      p[k] = t;
    }
    return p as unknown as IProduction;
  };
  const token = (name: string): TokenType => {
    const t = tokenByName.get(name);
    if (!t) throw new Error(`grammar cache: unknown token ${name}`);
    return t;
  };
  try {
    const rules = new Map(stored.rules.map((r) => [String(r.f.name), load(r) as GastRule]));
    const lookahead: LookaheadPaths | undefined = stored.lookahead && new Map(Object.entries(stored.lookahead).map(([key, alts]) => [key, alts.map((alt) => alt.map((path) => path.map(token)))]));
    return { rules, lookahead };
  } catch {
    return undefined;
  }
}
