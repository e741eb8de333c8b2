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
 *
 * The rules are not here: the grammar class is made of layers (`defineParser`), one job each —
 * how it drives Chevrotain (parser-engine.ts), its token input (parser-input.ts), its error
 * recovery (parser-recovery.ts), then the rules by area of the language (grammar-*.ts). This
 * module composes them and runs the parses.
 */
import type { CstNode, IToken } from 'chevrotain';
import type * as A from './ast.js';
import type { AstActions } from './ast-actions.js';
import { CstParser, EmbeddedActionsParser } from './chevrotain.js';
import { blockRules } from './grammar-blocks.js';
import { capabilityRules } from './grammar-capabilities.js';
import { contextRules } from './grammar-context.js';
import { expressionRules, expressionStack } from './grammar-expressions.js';
import { guardrailRules } from './grammar-guardrails.js';
import { literalRules } from './grammar-literals.js';
import { moduleRules } from './grammar-module.js';
import { planRules } from './grammar-plans.js';
import { policyRules } from './grammar-policies.js';
import { sharedRules } from './grammar-shared.js';
import { stepRules } from './grammar-steps.js';
import { testRules } from './grammar-tests.js';
import { triggerRules } from './grammar-triggers.js';
import { typeRules } from './grammar-types.js';
import { verificationRules } from './grammar-verification.js';
import { parserEngine } from './parser-engine.js';
import { tokenInput } from './parser-input.js';
import { parserRecovery } from './parser-recovery.js';

/**
 * The grammar class over `Base` (the CST build's `CstParser` or the AST build's
 * `EmbeddedActionsParser`), in layers, one area of the grammar each: Chevrotain's machinery
 * first, then the rules, each area over the ones whose rules it uses. Chevrotain needs every rule
 * defined (each layer's fields) before it analyses the grammar, so the analysis is the last
 * thing the constructor does.
 */
function defineParser(Base: typeof CstParser) {
  const engine = parserEngine(Base); // Chevrotain's options, the grammar cache, the overrides of its internals
  const input = tokenInput(engine); // the token feed and release, a rule's offsets
  const recovery = parserRecovery(input); // how much error recovery, and where it resumes
  const blocks = blockRules(recovery); // blocks of items, junk
  const shared = sharedRules(blocks); // dotted names, lists, booleans, the retry spec
  const literals = literalRules(shared); // lists, records, a built-in's arguments
  const expressions = expressionRules(expressionStack(literals));
  const types = typeRules(expressions);
  const capabilities = capabilityRules(types); // capabilities and resources
  const policies = policyRules(capabilities);
  const guardrails = guardrailRules(policies);
  const context = contextRules(guardrails); // context and its sources (§9.4)
  const verification = verificationRules(context); // invariants and simulations
  const steps = stepRules(verification);
  const plans = planRules(steps); // plans and their control flow
  const triggers = triggerRules(plans);
  const tests = testRules(triggers); // tests of plans (§9.2)
  return class OrchParser extends moduleRules(tests) {
    constructor(recovery: boolean, build: boolean) {
      super(recovery);
      this.performSelfAnalysis();
      this.live = build;
    }
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
