/**
 * The `.orch` grammar (Chevrotain), in two builds of the same rules:
 *
 * - the **AST parser** (`EmbeddedActionsParser`, no recovery): the rules' actions build the AST
 *   of language/ast.ts directly (ast-actions.ts), with no CST. Every parse tries it first; on a
 *   valid file it is the whole parse phase.
 * - the **CST parser** (`CstParser`, with or without recovery): the same rules build a CST that
 *   cst-to-ast.ts turns into a (possibly partial) AST. Used when the AST parser meets a syntax
 *   error or anything the file must be told about, so error recovery, partial trees and every
 *   diagnostic come from one place.
 *
 * The actions run only in the AST build (`this.live`); in the CST build and while Chevrotain
 * records the grammar they are skipped, and rule return values are ignored. So every DSL call
 * (CONSUME, SUBRULE, OR…) stays a statement of its own, never inside a guarded expression.
 *
 * Blocks are lists of keyword-led items, each its own sub-rule, so an error inside one property
 * or step re-synchronises at the next property keyword or `}` and the rest of the file still
 * parses. Built once per process (self-analysis is expensive) and reused for every parse.
 */
import type { CstNode, IOrAlt, IToken } from 'chevrotain';
import type * as A from './ast.js';
import type { AstActions } from './ast-actions.js';
import { CstParser, EmbeddedActionsParser } from './chevrotain.js';
import { K, LCurly, Name, RCurly, StringTok, TopJunk } from './lexer.js';
import { parserEngine } from './parser-engine.js';
import { tokenInput } from './parser-input.js';
import { blockRules } from './grammar-blocks.js';
import { sharedRules } from './grammar-shared.js';
import { literalRules } from './grammar-literals.js';
import { expressionRules } from './grammar-expressions.js';
import { typeRules } from './grammar-types.js';
import { capabilityRules } from './grammar-capabilities.js';
import { policyRules } from './grammar-policies.js';
import { guardrailRules } from './grammar-guardrails.js';
import { contextRules } from './grammar-context.js';
import { verificationRules } from './grammar-verification.js';
import { stepRules } from './grammar-steps.js';
import { planRules } from './grammar-plans.js';
import { triggerRules } from './grammar-triggers.js';
import { testRules } from './grammar-tests.js';
import { LABEL, v } from './grammar-labels.js';

function defineParser(Base: typeof CstParser) {
  return class OrchParser extends testRules(triggerRules(planRules(stepRules(verificationRules(contextRules(guardrailRules(policyRules(capabilityRules(typeRules(expressionRules(literalRules(sharedRules(blockRules(tokenInput(parserEngine(Base)))))))))))))))) {
    constructor(recovery: boolean, build: boolean) {
      super(recovery);
      this.performSelfAnalysis();
      this.live = build;
    }

    // ───────────── module ─────────────

    /** Tokens that cannot start a declaration are consumed as `junk` so one bad line at the top
     *  level does not end the parse; the CST→AST phase reports each run of them once. */
    moduleFile = this.RULE('moduleFile', () => {
      const items: unknown[] | undefined = this.live ? [] : undefined;
      this.MANY(() => {
        this.OR([
          {
            ALT: () => {
              const d = this.SUBRULE(this.topItem);
              items?.push(d);
              if (this.releasing) this.releaseConsumed();
            },
          },
          {
            ALT: () => {
              this.CONSUME(TopJunk, LABEL.junk);
              this.ACTION(() => this.sawJunk());
            },
          },
        ]);
      });
      if (this.live) return this.b.moduleOf(v(items));
    });

    topItem = this.RULE('topItem', () => {
      const start = this.live ? this.at() : 0;
      const d = v<A.ModuleDecl | A.ImportDecl | A.Declaration>(this.OR((this.topItemAlts ??= [
        { ALT: () => this.SUBRULE(this.moduleDecl) },
        { ALT: () => this.SUBRULE(this.importDecl) },
        { ALT: () => this.SUBRULE(this.typeAlias) },
        { ALT: () => this.SUBRULE(this.capabilityDecl) },
        { ALT: () => this.SUBRULE(this.resourceDecl) },
        { ALT: () => this.SUBRULE(this.policyDecl) },
        { ALT: () => this.SUBRULE(this.guardrailDecl) },
        { ALT: () => this.SUBRULE(this.contextDecl) },
        { ALT: () => this.SUBRULE(this.planDecl) },
        { ALT: () => this.SUBRULE(this.triggerDecl) },
        { ALT: () => this.SUBRULE(this.invariantDecl) },
        { ALT: () => this.SUBRULE(this.simulateDecl) },
        { ALT: () => this.SUBRULE(this.sourceDecl) },
        { ALT: () => this.SUBRULE(this.testDecl) },
      ])));
      if (!this.live) return;
      if (d.kind === 'ModuleDecl' || d.kind === 'FileImport' || d.kind === 'StdImport') return d;
      return this.b.declarationOf(d, start);
    });
    /** The alternatives, built once per parser (see `planItemAlts`, grammar-plans.ts). */
    private topItemAlts?: IOrAlt<unknown>[];

    moduleDecl = this.RULE('moduleDecl', () => {
      const kw = this.CONSUME(K.module);
      const name = this.SUBRULE(this.qualifiedName);
      if (this.live) return { kind: 'ModuleDecl', name: v<A.QualifiedName>(name), range: this.b.span(kw.startOffset, this.end()) } satisfies A.ModuleDecl;
    });

    importDecl = this.RULE('importDecl', () => {
      const kw = this.CONSUME(K.import);
      const made = this.OR([
        {
          ALT: () => {
            this.CONSUME(K.mcp, LABEL.mcp);
            const path = this.CONSUME2(StringTok, LABEL.path);
            this.CONSUME2(K.as);
            const alias = this.CONSUME2(Name, LABEL.alias);
            if (this.live) {
              const b = this.b;
              const imp: A.FileImport = { kind: 'FileImport', path: b.plainString(path), pathRange: b.tokRange(path), alias: b.ident(alias), range: b.span(kw.startOffset, this.end()), mcp: true };
              return imp;
            }
          },
        },
        {
          ALT: () => {
            const path = this.CONSUME(StringTok, LABEL.path);
            this.CONSUME(K.as);
            const alias = this.CONSUME(Name, LABEL.alias);
            if (this.live) {
              const b = this.b;
              const imp: A.FileImport = { kind: 'FileImport', path: b.plainString(path), pathRange: b.tokRange(path), alias: b.ident(alias), range: b.span(kw.startOffset, this.end()) };
              return imp;
            }
          },
        },
        {
          ALT: () => {
            const path = this.SUBRULE(this.qualifiedName);
            const names = this.OPTION(() => {
              this.CONSUME(LCurly);
              const list = this.OPTION2(() => this.SUBRULE(this.nameList));
              this.CONSUME(RCurly);
              return list ?? [];
            });
            if (this.live) {
              const imp: { -readonly [P in keyof A.StdImport]: A.StdImport[P] } = { kind: 'StdImport', path: v(path), range: this.b.span(kw.startOffset, this.end()) };
              if (names !== undefined) imp.names = v(names);
              return imp;
            }
          },
        },
      ]);
      return made;
    });

  };
}

const CstOrchParser = defineParser(CstParser);
/** The same grammar class over Chevrotain's embedded-actions base (no CST). */
const AstOrchParser = defineParser(EmbeddedActionsParser as unknown as typeof CstParser);
type OrchParser = InstanceType<typeof CstOrchParser>;

let instance: OrchParser | undefined;
let fastInstance: OrchParser | undefined;
let astInstance: OrchParser | undefined;

/** The shared parser instance with error recovery (constructed on first use). */
export function orchParser(): OrchParser {
  instance ??= new CstOrchParser(true, false);
  return instance;
}

/**
 * The same grammar without error recovery: about a fifth faster on a valid file (Chevrotain
 * tracks node locations per rule instead of per token and skips the recovery bookkeeping).
 * On a valid input both build the same CST — recovery only acts where a parse would fail — so
 * every CST parse tries this one first and re-parses with `orchParser()` only when it reports an
 * error. Constructed on first use, like the recovering one.
 */
function fastParser(): OrchParser {
  fastInstance ??= new CstOrchParser(false, false);
  return fastInstance;
}

function astParser(): OrchParser {
  astInstance ??= new AstOrchParser(false, true);
  return astInstance;
}

export type { OrchParser };

type Errors = OrchParser['errors'];

/** Runs `rule` on `tokens`: without recovery first, with it when that finds an error. */
function run<T>(tokens: IToken[], rule: (p: OrchParser) => T, knownBad = false): { result: T; errors: Errors; junkSeen: boolean } {
  if (!knownBad) {
    const fast = attempt(fastParser(), tokens, rule);
    if (fast.errors.length === 0) return fast;
  }
  return attempt(orchParser(), tokens, rule);
}

function attempt<T>(p: OrchParser, tokens: IToken[], rule: (p: OrchParser) => T): { result: T; errors: Errors; junkSeen: boolean } {
  p.input = tokens;
  p.junkSeen = false;
  const result = rule(p);
  const out = { result, errors: p.errors, junkSeen: p.junkSeen };
  p.input = []; // do not keep the last file's tokens alive in the shared parser
  return out;
}

/**
 * Parses a token list into a CST for the whole module. `knownBad`: the tokens are known to
 * contain a syntax error (go straight to the recovering parser).
 */
export function parseTokens(tokens: IToken[], knownBad = false): { cst: CstNode; errors: Errors; junkSeen: boolean } {
  const { result, errors, junkSeen } = run(tokens, (p) => p.moduleFile(), knownBad);
  return { cst: result, errors, junkSeen };
}

/** Parses a token list as a single expression (used for `${…}` interpolations). */
export function parseExpressionTokens(tokens: IToken[]): { cst: CstNode; errors: Errors } {
  const { result, errors } = run(tokens, (p) => p.expression());
  return { cst: result, errors };
}

/** Why the AST parser gave the file to the CST path. */
export type AstParseFailure = 'syntax' | 'other';

/**
 * Parses a token list straight to the module AST (no CST), with `builder` making the nodes.
 * Gives up — `'syntax'` on a syntax error, `'other'` on junk, a check that failed or anything
 * unexpected — so the caller can take the CST path, which reports it. The caller also gives up
 * when `builder.diagnostics` is not empty.
 */
export function parseModuleAst(
  tokens: IToken[],
  builder: AstActions,
  options: { readonly releaseTokens?: boolean; readonly feed?: () => IToken[] | undefined } = {},
): Omit<A.Module, 'comments'> | AstParseFailure {
  const p = astParser();
  p.input = tokens;
  p.setFeed(options.feed);
  p.junkSeen = false;
  p.b = builder;
  p.resetActions();
  p.releasing = options.releaseTokens ?? false;
  try {
    const m = p.moduleFile() as unknown as Omit<A.Module, 'comments'> | undefined;
    if (p.errors.length > 0) return 'syntax';
    return m ?? 'other';
  } catch {
    return 'other';
  } finally {
    p.setFeed(undefined);
    p.input = [];
    p.b = undefined as unknown as AstActions;
    p.releasing = false;
    p.resetActions();
  }
}
