/**
 * Chevrotain's LL(k) lookahead, computed on first use instead of for every production when the
 * parser is built. Building the lookahead of the whole grammar is a large share of a parser's
 * construction — paid by every `orch` process — while most files use a fraction of the
 * grammar. Same functions, same decisions; only when they are computed changes.
 *
 * The strategy hands Chevrotain placeholders that carry their `build`; the parser's lookahead
 * cache (parser.ts, `setLaFuncCache`/`getLaFuncFromCache`) keeps the placeholders aside and
 * caches the real function on first use, so parsing calls the real functions directly. A
 * placeholder called directly still answers correctly (it builds and delegates).
 */
import type { ILookaheadStrategy, ILookaheadValidationError, IOrAlt } from 'chevrotain';
import { LLkLookaheadStrategy } from './chevrotain.js';

type Strategy = ILookaheadStrategy & { validate(options: Parameters<ILookaheadStrategy['validate']>[0]): ILookaheadValidationError[] };
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type LookaheadFunction = (...args: any[]) => unknown;

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

export class LazyLookahead implements ILookaheadStrategy {
  private readonly eager: Strategy;

  constructor(maxLookahead: number) {
    this.eager = new LLkLookaheadStrategy({ maxLookahead });
  }

  validate(options: Parameters<ILookaheadStrategy['validate']>[0]): ILookaheadValidationError[] {
    return this.eager.validate(options);
  }

  buildLookaheadForAlternation(options: Parameters<ILookaheadStrategy['buildLookaheadForAlternation']>[0]): (alts?: IOrAlt<unknown>[]) => number | undefined {
    return placeholder(() => this.eager.buildLookaheadForAlternation(options));
  }

  buildLookaheadForOptional(options: Parameters<ILookaheadStrategy['buildLookaheadForOptional']>[0]): () => boolean {
    return placeholder(() => this.eager.buildLookaheadForOptional(options));
  }
}

export function isLazyLookahead(f: unknown): f is LazyLookaheadFunction {
  return typeof f === 'function' && typeof (f as Partial<LazyLookaheadFunction>).build === 'function';
}
