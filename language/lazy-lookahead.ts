/**
 * Chevrotain's LL(k) lookahead, computed on first use instead of for every production when the
 * parser is built. Building the lookahead of the whole grammar is a large share of a parser's
 * construction — paid by every `orch` process — while most files use a fraction of the
 * grammar. Same functions, same decisions; only when they are computed changes.
 */
import type { ILookaheadStrategy, ILookaheadValidationError, IOrAlt } from 'chevrotain';
import { LLkLookaheadStrategy } from './chevrotain.js';

type Strategy = ILookaheadStrategy & { validate(options: Parameters<ILookaheadStrategy['validate']>[0]): ILookaheadValidationError[] };

export class LazyLookahead implements ILookaheadStrategy {
  private readonly eager: Strategy;

  constructor(maxLookahead: number) {
    this.eager = new LLkLookaheadStrategy({ maxLookahead });
  }

  validate(options: Parameters<ILookaheadStrategy['validate']>[0]): ILookaheadValidationError[] {
    return this.eager.validate(options);
  }

  buildLookaheadForAlternation(options: Parameters<ILookaheadStrategy['buildLookaheadForAlternation']>[0]): (alts?: IOrAlt<unknown>[]) => number | undefined {
    const eager = this.eager;
    let f: ((alts?: IOrAlt<unknown>[]) => number | undefined) | undefined;
    return function lazyAlternation(this: unknown, alts?: IOrAlt<unknown>[]) {
      f ??= eager.buildLookaheadForAlternation(options);
      return f.call(this, alts);
    };
  }

  buildLookaheadForOptional(options: Parameters<ILookaheadStrategy['buildLookaheadForOptional']>[0]): () => boolean {
    const eager = this.eager;
    let f: (() => boolean) | undefined;
    return function lazyOptional(this: unknown) {
      f ??= eager.buildLookaheadForOptional(options);
      return f.call(this);
    };
  }
}
