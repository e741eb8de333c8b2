/**
 * The first layer of the grammar class (parser.ts): how this grammar drives Chevrotain, below
 * any rule. Chevrotain's options, the grammar cache in place of recording the rules, lookahead
 * built on first use, the AST build's cheaper rule wrapper and `MANY` loop, and the CST's node
 * objects. Most of it overrides Chevrotain 11 internals that are not in its public types; each
 * override says what it replaces and why.
 *
 * A layer over either base (the AST build's `EmbeddedActionsParser`, the CST build's
 * `CstParser`): it calls the base's own methods through `Base.prototype`, which its types lack.
 */
import type { CstElement, CstNode, Rule } from 'chevrotain';
import type { AstActions } from './ast-actions.js';
import { CstParser } from './chevrotain.js';
import { grammarCacheFile, grammarFingerprint, readGrammarCache, writeGrammarCache } from './grammar-cache.js';
import { isLazyLookahead, LazyLookahead, type LazyLookaheadFunction } from './lazy-lookahead.js';
import { ALL_TOKENS } from './lexer.js';
import { orchErrorMessages } from './parse-messages.js';

/**
 * The `children` object of a CST node: fast-mode (one hidden class per rule shape) yet, like
 * Chevrotain's `Object.create(null)`, without inherited keys. `Object.create(null)` objects are
 * dictionaries in V8 — several times larger, and the CST of a large plan has ~100,000 of them.
 */
const CstChildren = function CstChildren() {} as unknown as new () => Record<string, CstElement[]>;
CstChildren.prototype = Object.create(null);

/** Chevrotain 11 internals used by the `cstInvocationStateUpdate` override. */
interface CstInternals {
  readonly CST_STACK: CstNode[];
  setInitialNodeLocation(node: CstNode): void;
}

/** Chevrotain's parser state the grammar cache reads (not in its public types). */
interface GrammarInternals {
  readonly definedRulesNames: readonly string[];
  readonly gastProductionsCache: Record<string, Rule>;
}

/** A rule's options as Chevrotain's `RULE` passes them on (its defaults when none are given). */
interface RuleConfig {
  readonly resyncEnabled?: boolean;
  readonly recoveryValueFunc?: (e: unknown) => unknown;
}

/** Chevrotain's own default for `recoveryValueFunc`. */
const noRecoveryValue = (): undefined => undefined;

/** A rule as Chevrotain's `defineRule` returns it: `coreRule` is what a sub-rule call invokes. */
interface WrappedRule {
  coreRule: (this: never) => unknown;
}

/** What a `MANY` is given: its body, or its body with a gate. */
type ManyArg = (() => unknown) | { DEF: () => unknown; GATE?: (this: unknown) => boolean };

/** Chevrotain 11 parser internals the rule wrapper and the `MANY` loop use (not in its public types). */
interface ParserInternals {
  readonly outputCst: boolean;
  readonly recoveryEnabled: boolean;
  readonly fullRuleNameToShort: Record<string, number>;
  readonly subruleIdx: number;
  ruleInvocationStateUpdate(shortName: number, fullName: string, idxInCallingRule: number): void;
  ruleFinallyStateUpdate(): void;
  invokeRuleCatch(e: unknown, resyncEnabled: boolean, recoveryValueFunc: (e: unknown) => unknown): unknown;
  getLaFuncFromCache(key: number): unknown;
  doSingleRepetition(action: () => unknown): boolean;
}

/**
 * The classes of `parser` above `Base` (its grammar's layers), each whole: a helper a rule calls
 * (a junk alternative, an operand's accesses) adds productions the rule's own function does not
 * show, so the grammar cache's fingerprint reads them too.
 */
export function grammarLayers(parser: object, Base: abstract new (...args: never[]) => unknown): (readonly [string, { toString(): string }])[] {
  const layers: (readonly [string, { toString(): string }])[] = [];
  for (let p = Object.getPrototypeOf(parser) as object | null; p && p !== Base.prototype; p = Object.getPrototypeOf(p)) layers.push(['(layer)', p.constructor]);
  return layers;
}

export function parserEngine(Base: typeof CstParser) {
  return class ParserEngine extends Base {
    /** True in the AST build once the grammar is recorded: the actions run. */
    live = false;
    /** The AST factory of the current parse (AST build only). */
    b: AstActions = undefined as unknown as AstActions;

    constructor(recovery: boolean) {
      super(ALL_TOKENS, {
        recoveryEnabled: recovery,
        nodeLocationTracking: 'onlyOffset',
        maxLookahead: 2,
        lookaheadStrategy: new LazyLookahead(2),
        // Grammar validation costs start-up time on every run; the grammar test validates it.
        skipValidations: !process.env.ORCH_VALIDATE_GRAMMAR,
        errorMessageProvider: orchErrorMessages,
      });
    }

    /**
     * Resets the AST build's working state (also after a parse that threw). Each layer that keeps
     * some resets its own, then calls this.
     */
    resetActions(): void {}

    /** The grammar's rules read from the build's grammar cache while the parser is built (grammar-cache.ts). */
    private storedRules: Map<string, Rule> | undefined = undefined;

    /** Chevrotain's analysis, with the rules' recording replaced by the grammar cache when it matches. */
    override performSelfAnalysis(): void {
      const self = this as unknown as GrammarInternals;
      const file = grammarCacheFile(import.meta.url);
      const wrapped = this as unknown as Record<string, { originalGrammarAction: () => void }>;
      const fingerprint = grammarFingerprint([...self.definedRulesNames.map((name) => [name, wrapped[name]!.originalGrammarAction] as const), ...grammarLayers(this, Base)]);
      // Validation checks the grammar the code records, never a stored copy of it.
      const parts = process.env.ORCH_VALIDATE_GRAMMAR ? undefined : readGrammarCache(file, fingerprint, ALL_TOKENS);
      this.storedRules = parts?.rules;
      const strategy = (this as unknown as { lookaheadStrategy: LazyLookahead }).lookaheadStrategy;
      strategy.useStored(parts?.lookahead);
      try {
        super.performSelfAnalysis();
      } finally {
        this.storedRules = undefined;
      }
      if (parts?.lookahead === undefined && process.env.ORCH_WRITE_GRAMMAR_CACHE === '1') {
        // Every production's lookahead, so that the file holds all their paths (a file of an
        // earlier build may have the rules without them).
        for (const f of this.lazyLookahead.values()) f.build();
        writeGrammarCache(file, fingerprint, Object.values(self.gastProductionsCache), strategy.paths);
      }
    }

    /** Chevrotain's recording of one rule (during `performSelfAnalysis`): the stored rule when there is one. */
    topLevelRuleRecord(name: string, def: () => void): Rule {
      const stored = this.storedRules?.get(name);
      if (stored) return stored;
      const base = Base.prototype as unknown as { topLevelRuleRecord(this: unknown, name: string, def: () => void): Rule };
      return base.topLevelRuleRecord.call(this, name, def);
    }

    /**
     * Chevrotain 11's rule wrapper, for a sub-rule call of the AST build: its own takes the
     * rule's arguments as a rest parameter and passes them on with `apply`, an array made at
     * every call — a hundred thousand on the 10k-step plan, mostly run before V8 optimises the
     * wrapper. No rule of this grammar takes arguments, so the AST build's sub-rule calls go
     * through a wrapper without them; the rest is Chevrotain's `invokeRuleWithTryCst`. The
     * top-level call and the CST builds keep Chevrotain's.
     */
    defineRule(name: string, impl: () => unknown, config: RuleConfig): WrappedRule {
      const base = Base.prototype as unknown as { defineRule(this: unknown, name: string, impl: () => unknown, config: RuleConfig): WrappedRule };
      const rule = base.defineRule.call(this, name, impl, config);
      const self = this as unknown as ParserInternals;
      if (self.outputCst || impl.length !== 0) return rule;
      const resync = config.resyncEnabled ?? true;
      const recoveryValue = config.recoveryValueFunc ?? noRecoveryValue;
      const shortName = self.fullRuleNameToShort[name]!;
      rule.coreRule = function invokeRule(this: ParserInternals): unknown {
        try {
          this.ruleInvocationStateUpdate(shortName, name, this.subruleIdx);
          return impl.call(this);
        } catch (e) {
          return this.invokeRuleCatch(e, resync, recoveryValue);
        } finally {
          this.ruleFinallyStateUpdate();
        }
      };
      return rule;
    }

    /**
     * Chevrotain 11's `MANY` loop, for the builds without recovery: its own ends every loop by
     * handing `attemptInRepetitionRecovery` an argument list made for the purpose (an array per
     * `MANY`, several per step), which without recovery does nothing. The same loop, lookahead
     * and gate otherwise.
     */
    manyInternalLogic(prodOccurrence: number, actionORMethodDef: ManyArg, key: number): void {
      const self = this as unknown as ParserInternals;
      if (self.recoveryEnabled) {
        const base = Base.prototype as unknown as { manyInternalLogic(this: unknown, o: number, a: ManyArg, k: number): void };
        base.manyInternalLogic.call(this, prodOccurrence, actionORMethodDef, key);
        return;
      }
      const lookahead = self.getLaFuncFromCache(key) as (this: unknown) => boolean;
      let action: () => unknown;
      let gate: ((this: unknown) => boolean) | undefined;
      if (typeof actionORMethodDef !== 'function') {
        action = actionORMethodDef.DEF;
        gate = actionORMethodDef.GATE;
      } else action = actionORMethodDef;
      let notStuck = true;
      while ((gate === undefined || gate.call(this)) && lookahead.call(this) === true && notStuck === true) {
        notStuck = self.doSingleRepetition(action);
      }
    }

    /**
     * Chevrotain 11's hook that opens a rule's CST node, with `CstChildren` for the children and
     * the `location` slot present from the start (adding it later costs every node a second
     * allocation). Same node contents as the original. (The AST build replaces it by a no-op.)
     */
    cstInvocationStateUpdate(fullRuleName: string): void {
      const self = this as unknown as CstInternals;
      const node = { name: fullRuleName, children: new CstChildren(), location: undefined } as unknown as CstNode;
      self.setInitialNodeLocation(node);
      self.CST_STACK.push(node);
    }

    /** Lookahead placeholders by Chevrotain's production key, until first used (lazy-lookahead.ts). */
    private readonly lazyLookahead = new Map<number, LazyLookaheadFunction>();

    /** Chevrotain 11's lookahead cache writer: placeholders wait aside. */
    setLaFuncCache(key: number, value: unknown): void {
      if (isLazyLookahead(value)) this.lazyLookahead.set(key, value);
      else (this as unknown as { lookAheadFuncsCache: Map<number, unknown> }).lookAheadFuncsCache.set(key, value);
    }

    /** Chevrotain 11's lookahead cache reader: builds a production's lookahead on first use. */
    getLaFuncFromCache(key: number): unknown {
      const cache = (this as unknown as { lookAheadFuncsCache: Map<number, unknown> }).lookAheadFuncsCache;
      const f = cache.get(key);
      if (f !== undefined) return f;
      const built = this.lazyLookahead.get(key)!.build();
      cache.set(key, built);
      return built;
    }
  };
}

export type ParserEngine = ReturnType<typeof parserEngine>;
