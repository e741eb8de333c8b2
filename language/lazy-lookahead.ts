/**
 * Chevrotain's LL(k) lookahead, computed on first use instead of for every production when the
 * parser is built. Building the lookahead of the whole grammar is a large share of a parser's
 * construction — paid by every `orch` process — while most files use a fraction of the
 * grammar. Same functions, same decisions; only when they are computed changes.
 *
 * The strategy hands Chevrotain placeholders that carry their `build`; the parser's lookahead
 * cache (parser-engine.ts, `setLaFuncCache`/`getLaFuncFromCache`) keeps the placeholders aside and
 * caches the real function on first use, so parsing calls the real functions directly. A
 * placeholder called directly still answers correctly (it builds and delegates).
 *
 * The functions are made here from Chevrotain's lookahead paths (`getLookaheadPaths`), the same
 * decisions as its own builders make from them, so that the paths can come from the grammar
 * cache: computing them was ~4 % of an `orch check` of a 10,000-step plan, in every process.
 */
import type { ILookaheadStrategy, ILookaheadValidationError, IOrAlt, IToken, LookaheadSequence, TokenType } from 'chevrotain';
import { getLookaheadPaths, LLkLookaheadStrategy, tokenMatcher } from './chevrotain.js';

type Strategy = ILookaheadStrategy & { validate(options: Parameters<ILookaheadStrategy['validate']>[0]): ILookaheadValidationError[] };
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type LookaheadFunction = (...args: any[]) => unknown;

/** What a lookahead function reads of the parser. */
interface Reader {
  LA(k: number): IToken;
}

/** A lookahead placeholder: `build` computes the real function. */
export interface LazyLookaheadFunction {
  readonly build: () => LookaheadFunction;
}

function placeholder<F extends LookaheadFunction>(build: () => F): F & LazyLookaheadFunction {
  let f: F | undefined;
  const once = (): F => (f ??= build());
  const call = function (this: unknown, ...args: unknown[]) {
    return once().apply(this, args);
  } as unknown as F;
  return Object.assign(call, { build: once });
}

/**
 * A production's lookahead paths (Chevrotain's `LookaheadSequence` per alternative; an optional
 * production's one alternative, its body), by `lookaheadKey`. Computing them from the grammar is
 * most of building a lookahead function; the build stores them with the grammar (grammar-cache.ts).
 */
export type LookaheadPaths = Map<string, LookaheadSequence[]>;

/** A production's key in `LookaheadPaths`: its rule, kind, occurrence and lookahead depth. */
export function lookaheadKey(rule: string, prodType: string, occurrence: number, maxLookahead: number): string {
  return `${rule} ${prodType} ${occurrence} ${maxLookahead}`;
}

export class LazyLookahead implements ILookaheadStrategy {
  private readonly eager: Strategy;
  /** Paths read from the grammar cache (used instead of computing them). */
  private stored: LookaheadPaths | undefined;
  /** Every production's paths, as they are used or computed (what the grammar cache stores). */
  readonly paths: LookaheadPaths = new Map();

  constructor(maxLookahead: number) {
    this.eager = new LLkLookaheadStrategy({ maxLookahead });
  }

  /** Takes the paths of the grammar cache (before the parser's first lookahead is built). */
  useStored(paths: LookaheadPaths | undefined): void {
    this.stored = paths;
  }

  validate(options: Parameters<ILookaheadStrategy['validate']>[0]): ILookaheadValidationError[] {
    return this.eager.validate(options);
  }

  buildLookaheadForAlternation(options: Parameters<ILookaheadStrategy['buildLookaheadForAlternation']>[0]): (alts?: IOrAlt<unknown>[]) => number | undefined {
    const { rule, prodOccurrence: occurrence, maxLookahead, hasPredicates } = options;
    return placeholder(() => alternationLookahead(this.pathsOf(rule, 'Alternation', occurrence, maxLookahead), hasPredicates));
  }

  buildLookaheadForOptional(options: Parameters<ILookaheadStrategy['buildLookaheadForOptional']>[0]): () => boolean {
    const { rule, prodOccurrence: occurrence, maxLookahead, prodType } = options;
    return placeholder(() => optionalLookahead(this.pathsOf(rule, prodType, occurrence, maxLookahead)[0]!));
  }

  private pathsOf(rule: Parameters<typeof getLookaheadPaths>[0]['rule'], prodType: Parameters<typeof getLookaheadPaths>[0]['prodType'], occurrence: number, maxLookahead: number): LookaheadSequence[] {
    const key = lookaheadKey(rule.name, prodType, occurrence, maxLookahead);
    let paths = this.stored?.get(key);
    if (paths === undefined) {
      paths = getLookaheadPaths({ occurrence, rule, prodType, maxLookahead });
      // An optional production's paths are its body's and what follows it; only the body decides.
      if (prodType !== 'Alternation') paths = paths.slice(0, 1);
    }
    this.paths.set(key, paths);
    return paths;
  }
}

/**
 * The lookahead of an `OR`: the first alternative one of whose paths the next tokens match, and
 * whose gate (if any) is open. Chevrotain's decision, made from the same paths.
 */
function alternationLookahead(alts: readonly LookaheadSequence[], hasPredicates: boolean): (this: Reader, orAlts?: IOrAlt<unknown>[]) => number | undefined {
  if (!hasPredicates && alts.every((alt) => alt.every((path) => path.length === 1))) {
    // One token decides: the alternative by the next token's type (the first alternative that
    // takes it, or one of its categories).
    const choice: (number | undefined)[] = [];
    alts.forEach((alt, i) => {
      for (const path of alt) for (const idx of typeIndices(path[0]!)) choice[idx] ??= i;
    });
    return function (this: Reader) {
      return choice[this.LA(1).tokenTypeIdx];
    };
  }
  return function (this: Reader, orAlts?: IOrAlt<unknown>[]) {
    for (let t = 0; t < alts.length; t++) {
      if (hasPredicates) {
        const gate = (orAlts?.[t] as { GATE?: () => boolean } | undefined)?.GATE;
        if (gate !== undefined && gate.call(this) === false) continue;
      }
      if (matchesOne(this, alts[t]!)) return t;
    }
    return undefined;
  };
}

/** The lookahead of an optional production (`OPTION`, `MANY`…): whether its body comes next. */
function optionalLookahead(body: LookaheadSequence): (this: Reader) => boolean {
  if (body.every((path) => path.length === 1)) {
    const types = body.map((path) => path[0]!);
    if (types.length === 1 && (types[0]!.categoryMatches?.length ?? 0) === 0) {
      const only = types[0]!.tokenTypeIdx!;
      return function (this: Reader) {
        return this.LA(1).tokenTypeIdx === only;
      };
    }
    const starts: boolean[] = [];
    for (const t of types) for (const idx of typeIndices(t)) starts[idx] = true;
    return function (this: Reader) {
      return starts[this.LA(1).tokenTypeIdx] === true;
    };
  }
  return function (this: Reader) {
    return matchesOne(this, body);
  };
}

/** A token type's index and those of the types in its category. */
function typeIndices(t: TokenType): number[] {
  return [t.tokenTypeIdx!, ...(t.categoryMatches ?? [])];
}

/** Whether the next tokens match one of `paths`. */
function matchesOne(p: Reader, paths: LookaheadSequence): boolean {
  next: for (const path of paths) {
    for (let i = 0; i < path.length; i++) if (!tokenMatcher(p.LA(i + 1), path[i]!)) continue next;
    return true;
  }
  return false;
}

export function isLazyLookahead(f: unknown): f is LazyLookaheadFunction {
  return typeof f === 'function' && typeof (f as Partial<LazyLookaheadFunction>).build === 'function';
}
