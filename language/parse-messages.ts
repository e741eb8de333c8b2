/**
 * Syntax error messages in user words: what was expected, where, and what was found
 * ("expected '}' to close the capability block, found 'step'"), never Chevrotain internals.
 */
import type { IParserErrorMessageProvider, IToken, TokenType } from 'chevrotain';
import { EOF, tokenLabel } from './chevrotain.js';
import { Name, RESERVED_WORDS } from './lexer.js';

/** Block rules: the phrase used for their closing brace and the items they accept. */
const BLOCKS: Record<string, { readonly what: string; readonly items?: string }> = {
  capabilityDecl: {
    what: 'the capability block',
    items: 'a capability property (kind, input, output, handler, timeout, retry, cost, latency, data, consent, requires, idempotent, destructive, system, prompt, model, endpoint, temperature, max_tokens, trust, endorses)',
  },
  resourceDecl: {
    what: 'the resource block',
    items: 'a resource property (kind, provides, concurrency, cost, latency, reliability, location, energy, endpoint, model, accepts, available when)',
  },
  policyDecl: {
    what: 'the policy block',
    items: 'a policy property (strategy, weights, budget, prefer, max_fallbacks, require_consent, rate_limit)',
  },
  guardrailDecl: {
    what: 'the guardrail block',
    items: 'a guardrail property (severity, category, message, forbid, require, assert, check)',
  },
  planDecl: {
    what: 'the plan block',
    items: 'a plan item (goal, input, policy, guardrails, priority, deadline, concurrency, on_failure, step, for each, race, repeat, invariant, success, output)',
  },
  stepDecl: {
    what: 'the step options block',
    items: 'a step option (after, on, fallback, compensate, timeout, retry, join, on_failure, priority, when)',
  },
  forEach: { what: 'the for each block', items: "a 'step' or a nested 'for each', 'race' or 'repeat'" },
  raceBlock: { what: 'the race block', items: "a 'step' (each step is a branch; a branch of several steps is a 'run' of a sub-plan)" },
  repeatBlock: { what: 'the repeat block', items: "a 'step' or a nested 'for each', 'race' or 'repeat'" },
  triggerDecl: {
    what: 'the trigger block',
    items: 'a trigger property (schedule, timezone, event, where, manual, api, when, after, run, with, debounce)',
  },
  simulateDecl: { what: 'the simulate block', items: 'a simulate property (output, fail, latency, cost)' },
  simulateContext: { what: 'the simulate context block', items: 'a signal going stale (NAME stale P%)' },
  sourceDecl: { what: 'the source block', items: "a topic mapping (topic \"T\" sets SIGNAL [from EXPR] [at EXPR])" },
  testDecl: {
    what: 'the test block',
    items: 'a test item (plan, started_by, input, context, mock, approve, reject, signal, expect, captured_from)',
  },
  invariantDecl: { what: 'the invariant block' },
  recordType: { what: 'the record type', items: 'a field (name: type)' },
  recordLit: { what: 'the record', items: 'a field (key: value)' },
  weightsBlock: { what: 'the weights block', items: 'a weight (name: number)' },
  importDecl: { what: 'the import list' },
};

const CLOSERS: Record<string, string> = {
  RParen: 'the parentheses',
  RBracket: 'the list',
};

/** What a rule stands for when none of its alternatives matches. */
const ALTERNATIVES: Record<string, string> = {
  topItem: 'a declaration (module, import, type, capability, resource, policy, guardrail, context, plan, trigger, invariant, simulate, source, test)',
  capabilityProp: BLOCKS.capabilityDecl!.items!,
  resourceProp: BLOCKS.resourceDecl!.items!,
  policyProp: BLOCKS.policyDecl!.items!,
  guardrailProp: BLOCKS.guardrailDecl!.items!,
  planItem: BLOCKS.planDecl!.items!,
  triggerItem: BLOCKS.triggerDecl!.items!,
  simulateProp: BLOCKS.simulateDecl!.items!,
  testItem: BLOCKS.testDecl!.items!,
  mockDecl: "'returns VALUE' or 'fails \"MESSAGE\"'",
  decisionDecl: "'approve' or 'reject'",
  simulateDecl: "a capability name, or 'context {' for signals going stale",
  stepDecl: 'a step action (a capability call such as notify(text: "hi"), wait, wait until or run)',
  typeExpr: 'a type',
  atom: 'an expression',
  expression: 'an expression',
  selector: "a selector (a step name, 'kind K' or 'capability C')",
  invariantDecl: "'always', 'never' or 'eventually'",
  boolLit: "'true' or 'false'",
  budgetDecl: "'<=' or '<'",
  requireRule: "'before' or 'after'",
  importDecl: 'a module path (std.name) or a file path string',
};

/** What a block declaration that lost its name (`plan {`) is told, by its rule. */
const NAMELESS: Record<string, string> = {
  capabilityDecl: 'a capability needs a name: `capability NAME {`',
  resourceDecl: 'a resource needs a name: `resource NAME {`',
  policyDecl: 'a policy needs a name: `policy NAME {`',
  guardrailDecl: 'a guardrail needs a name: `guardrail NAME {`',
  planDecl: 'a plan needs a name: `plan NAME {`',
  triggerDecl: 'a trigger needs a name: `trigger NAME {`',
  invariantDecl: 'an invariant needs a name: `invariant NAME {`',
  sourceDecl: 'a source needs a name: `source NAME {`',
  testDecl: 'a test needs a name: `test "NAME" {`',
};

/**
 * What a declaration names, by its rule: a reserved word written as its name (`capability in {`)
 * is told so at the word, not read as junk from the keyword on. Keywords that are names (§2:
 * `capability input`) never get here: they are `Name`s.
 */
const DECLARES: Record<string, string> = {
  typeAlias: 'a type',
  capabilityDecl: 'a capability',
  resourceDecl: 'a resource',
  policyDecl: 'a policy',
  guardrailDecl: 'a guardrail',
  planDecl: 'a plan',
  triggerDecl: 'a trigger',
  sourceDecl: 'a source',
  // Their names are alternatives (a name or a string): a reserved word there is no viable one.
  invariantDecl: 'an invariant',
  testDecl: 'a test',
};

/** Whether a reserved word where rule `ruleName` expects a name is a declaration's name. */
export function isReservedDeclarationName(expected: TokenType, actual: IToken | undefined, ruleName: string): boolean {
  return expected.name === 'Name' && DECLARES[ruleName] !== undefined && actual !== undefined && (RESERVED_WORDS as readonly string[]).includes(actual.image) && actual.tokenType.name === `Kw_${actual.image}`;
}

function reservedNameMessage(actual: IToken, ruleName: string): string {
  return `'${actual.image}' is a reserved word and cannot name ${DECLARES[ruleName]}; choose another name`;
}

/** How a token is shown in a message. */
export function describeToken(token: IToken | undefined): string {
  if (!token || token.tokenType === EOF) return 'end of file';
  const image = token.image;
  if (image.startsWith('"')) return image.length > 24 ? `string ${image.slice(0, 20)}…"` : `string ${image}`;
  return `'${image.length > 24 ? `${image.slice(0, 24)}…` : image}'`;
}

/** Reserved words that continue an expression: as a field name after a value, they need a comma. */
const INFIX_WORDS = new Set(['in', 'and', 'or', 'implies']);

/**
 * Quantity properties take any number in the grammar (another unit is the builder's E0203): a
 * missing value names the unit the property needs, as a token of that unit would.
 */
const QUANTITY_PROPERTIES: Record<string, string> = {
  timeout: 'a duration (e.g. 30s)',
  latency: 'a duration (e.g. 30s)',
  deadline: 'a duration (e.g. 30s)',
  debounce: 'a duration (e.g. 30s)',
  cost: 'an amount of money (e.g. 0.05usd)',
  reliability: 'a percentage (e.g. 80%)',
  fail: 'a percentage (e.g. 80%)',
  stale: 'a percentage (e.g. 80%)',
  max_age: 'a duration (e.g. 30s)',
  hold: 'a duration (e.g. 30s)',
  at: 'a duration (e.g. 30s)',
  // `retry 3 backoff fixed 5s max 30s`, `rate_limit x 10 per 1m`
  fixed: 'a duration (e.g. 30s)',
  exponential: 'a duration (e.g. 30s)',
  max: 'a duration (e.g. 30s)',
  per: 'a duration (e.g. 30s)',
};

function describeExpected(t: TokenType, previous?: IToken, ruleName?: string): string {
  if (t.name === 'AnyNumber' && previous) {
    // A loop's `max` is a count; a backoff's `max` a duration.
    const unit = ruleName === 'repeatBlock' ? undefined : QUANTITY_PROPERTIES[previous.image];
    if (unit) return unit;
  }
  return tokenLabel(t);
}

function uniq(xs: string[]): string[] {
  return [...new Set(xs)];
}

function listOf(labels: string[]): string {
  const u = uniq(labels);
  if (u.length <= 1) return u[0] ?? 'something else';
  if (u.length > 8) return `${u.slice(0, 8).join(', ')}, …`;
  return `${u.slice(0, -1).join(', ')} or ${u[u.length - 1]}`;
}

export const orchErrorMessages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage({ expected, actual, previous, ruleName }) {
    const found = describeToken(actual);
    // The keyword is a declaration's: what is missing is its name, not a declaration.
    if (isReservedDeclarationName(expected, actual, ruleName)) return reservedNameMessage(actual!, ruleName);
    const nameless = NAMELESS[ruleName];
    if (nameless && actual?.image === '{' && previous?.image === ruleName.slice(0, -'Decl'.length)) return nameless;
    const block = BLOCKS[ruleName];
    if (expected.name === 'RCurly' && block) {
      const items = block.items ? `${block.items} or ` : '';
      return `expected ${items}'}' to close ${block.what}, found ${found}`;
    }
    const closer = CLOSERS[expected.name];
    if (closer) return `expected ${describeExpected(expected)} to close ${closer}, found ${found}`;
    const after = previous && previous.image && previous.tokenType !== EOF ? ` after '${previous.image}'` : '';
    return `expected ${describeExpected(expected, previous, ruleName)}${after}, found ${found}`;
  },

  buildNotAllInputParsedMessage({ firstRedundant }) {
    return `unexpected ${describeToken(firstRedundant)}`;
  },

  buildNoViableAltMessage({ expectedPathsPerAlt, actual, previous, ruleName }) {
    const found = describeToken(actual[0]);
    // `invariant in {`: the word right after the declaration's keyword is its name.
    if (previous?.image === ruleName.slice(0, -'Decl'.length) && isReservedDeclarationName(Name, actual[0], ruleName)) return reservedNameMessage(actual[0]!, ruleName);
    const named = ALTERNATIVES[ruleName];
    const after = previous && previous.image && previous.tokenType !== EOF ? ` after '${previous.image}'` : '';
    // `{ a: 1 in: 2 }`: `in` read as the operator; a field of that name needs a comma before it.
    const hint = previous && INFIX_WORDS.has(previous.image) && actual[0]?.image === ':' ? ` (a field named '${previous.image}' after a value needs a comma before it)` : '';
    if (named) return `expected ${named}${after}, found ${found}${hint}`;
    const labels = expectedPathsPerAlt.flatMap((alt) => alt.map((path) => (path[0] ? describeExpected(path[0]) : '')));
    return `expected ${listOf(labels.filter(Boolean))}${after}, found ${found}`;
  },

  buildEarlyExitMessage({ expectedIterationPaths, actual, ruleName }) {
    const found = describeToken(actual[0]);
    const named = ALTERNATIVES[ruleName];
    if (named) return `expected ${named}, found ${found}`;
    const labels = expectedIterationPaths.map((path) => (path[0] ? describeExpected(path[0]) : ''));
    return `expected ${listOf(labels.filter(Boolean))}, found ${found}`;
  },
};

/** The message for junk consumed by recovery inside block `ruleName` (or at the top level). */
export function junkMessage(ruleName: string, token: IToken): string {
  const found = describeToken(token);
  if (ruleName === 'moduleFile') return `expected ${ALTERNATIVES.topItem}, found ${found}`;
  const block = BLOCKS[ruleName];
  if (!block) return `unexpected ${found}`;
  const items = block.items ? `${block.items} or ` : '';
  return `expected ${items}'}' to close ${block.what}, found ${found}`;
}
