/**
 * fast-check generators of `.orch` ASTs, one per node kind, shaped as the parser builds them:
 * parentheses a printed tree needs are present as `ParenExpr` nodes (see `parenthesize`), string
 * parts are merged and never empty, numbers are non-negative (a minus sign is a `UnaryExpr`).
 * Ranges are all a dummy range: compare trees with `stripRanges`.
 *
 * Reused by the printer, parser, LSP and compiler tests:
 *   arbModule, arbModuleText, arbDeclaration, arbExpr, arbTypeExpr, arbStep, … and stripRanges.
 * The trees are syntactically valid, not semantically: names need not resolve, types need not
 * match.
 */
import fc from 'fast-check';
import type * as A from '../ast.js';
import { CAPABILITY_KINDS, DATA_CLASSES, GUARDRAIL_SEVERITIES, INTEGRITIES, JOIN_RULES, PRIORITIES, RESOURCE_KINDS, STRATEGIES, WEIGHT_FACTORS } from '../ast.js';
import { parenthesize, print } from '../printer.js';

/** The range every generated node carries. */
export const NO_RANGE: A.Range = {
  start: { line: 1, column: 1, offset: 0 },
  end: { line: 1, column: 1, offset: 0 },
};
const r = NO_RANGE;

/** Words the grammar reserves everywhere, plus words that start declarations or items. */
const AVOID = new Set([
  'and', 'or', 'not', 'in', 'implies', 'true', 'false', 'null',
  'module', 'import', 'as', 'type', 'capability', 'resource', 'policy', 'guardrail', 'context', 'plan',
  'trigger', 'invariant', 'simulate', 'kind', 'input', 'output', 'handler', 'timeout', 'retry', 'backoff',
  'max', 'cost', 'latency', 'data', 'consent', 'requires', 'idempotent', 'provides', 'concurrency',
  'reliability', 'location', 'energy', 'strategy', 'weights', 'budget', 'prefer', 'max_fallbacks',
  'require_consent', 'rate_limit', 'per', 'severity', 'category', 'message', 'forbid', 'step', 'where',
  'require', 'before', 'after', 'assert', 'check', 'goal', 'guardrails', 'priority', 'deadline',
  'on_failure', 'for', 'each', 'parallel', 'wait', 'until', 'run', 'success', 'on', 'fallback',
  'compensate', 'join', 'schedule', 'timezone', 'event', 'manual', 'api', 'when', 'with', 'debounce',
  'always', 'never', 'eventually', 'fail',
  'string', 'number', 'int', 'bool', 'duration', 'money', 'percent', 'any', 'secret', 'list', 'map',
]);

/** Soft keywords that stay usable as record keys, field and argument names and member names. */
export const KEYWORD_NAMES = ['cost', 'input', 'output', 'kind', 'data', 'step', 'status', 'timeout', 'message', 'plan', 'run', 'event'];

export const arbIdentName: fc.Arbitrary<string> = fc
  .stringMatching(/^[a-z_][a-z0-9_]{0,9}$/)
  .filter((s) => !AVOID.has(s));

/** A name in a position where keywords are allowed too (keys, fields, arguments, members). */
export const arbKeyName: fc.Arbitrary<string> = fc.oneof({ weight: 4, arbitrary: arbIdentName }, { weight: 1, arbitrary: fc.constantFrom(...KEYWORD_NAMES) });

export function ident(name: string): A.Ident {
  return { kind: 'Ident', name, range: r };
}
export const arbIdent: fc.Arbitrary<A.Ident> = arbIdentName.map(ident);
/** Field names (record types and literals, members, arguments) may be any keyword, reserved ones too. */
const arbFieldIdent: fc.Arbitrary<A.Ident> = fc
  .oneof({ weight: 6, arbitrary: arbKeyName }, { weight: 1, arbitrary: fc.constantFrom('in', 'not', 'and', 'or', 'implies', 'true', 'false', 'null') })
  .map(ident);

export const arbQualifiedName: fc.Arbitrary<A.QualifiedName> = fc
  .array(arbIdent, { minLength: 1, maxLength: 3 })
  .map((parts) => ({ kind: 'QualifiedName', parts, range: r }));

const uniqueIdents = (min: number, max: number): fc.Arbitrary<A.Ident[]> =>
  fc.uniqueArray(arbIdentName, { minLength: min, maxLength: max }).map((xs) => xs.map(ident));

// ───────────── literals ─────────────

/** Text with the characters a printer must escape. */
export const arbStringText: fc.Arbitrary<string> = fc.string({
  unit: fc.constantFrom('a', 'b', 'Z', ' ', '"', '\\', '\n', '\t', '$', '{', '}', 'é', '#', '/', '*', '%', '€'),
  maxLength: 12,
});

/** Merges adjacent text parts and drops empty ones, as the parser does (`""` is `['']`). */
export function normalizeParts(parts: readonly (string | A.Expr)[]): (string | A.Expr)[] {
  const out: (string | A.Expr)[] = [];
  for (const p of parts) {
    if (typeof p === 'string') {
      if (p === '') continue;
      const last = out[out.length - 1];
      if (typeof last === 'string') out[out.length - 1] = last + p;
      else out.push(p);
    } else out.push(p);
  }
  return out.length === 0 ? [''] : out;
}

export function stringLit(text: string): A.StringLit {
  return { kind: 'StringLit', parts: normalizeParts([text]), range: r };
}
/** A string without interpolation. */
export const arbPlainString: fc.Arbitrary<A.StringLit> = arbStringText.map(stringLit);

const arbSmallDecimal = fc.integer({ min: 0, max: 100_000 }).map((n) => n / 100);

export const arbNumberLit: fc.Arbitrary<A.NumberLit> = fc.oneof(
  fc.integer({ min: 0, max: 1_000_000 }).map((value): A.NumberLit => ({ kind: 'NumberLit', value, integer: true, range: r })),
  arbSmallDecimal.map((value): A.NumberLit => ({ kind: 'NumberLit', value, integer: false, range: r })),
);
const arbIntLit: fc.Arbitrary<A.NumberLit> = fc.integer({ min: 0, max: 1000 }).map((value) => ({ kind: 'NumberLit', value, integer: true, range: r }));

export const arbDurationLit: fc.Arbitrary<A.DurationLit> = fc.record({
  value: fc.oneof(fc.integer({ min: 0, max: 10_000 }), arbSmallDecimal),
  unit: fc.constantFrom<A.DurationUnit>('ms', 's', 'm', 'h', 'd'),
}).map(({ value, unit }) => ({ kind: 'DurationLit', value, unit, range: r }));

export const arbMoneyLit: fc.Arbitrary<A.MoneyLit> = fc.record({
  amount: arbSmallDecimal,
  currency: fc.constantFrom('usd', 'eur', 'gbp'),
}).map(({ amount, currency }) => ({ kind: 'MoneyLit', amount, currency, range: r }));

export const arbPercentLit: fc.Arbitrary<A.PercentLit> = fc
  .oneof(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 1000 }).map((n) => n / 10))
  .map((value) => ({ kind: 'PercentLit', value, range: r }));

const arbBoolLit: fc.Arbitrary<A.BoolLit> = fc.boolean().map((value) => ({ kind: 'BoolLit', value, range: r }));
const arbNullLit: fc.Arbitrary<A.NullLit> = fc.constant({ kind: 'NullLit', range: r });
/** Names that head expressions in real plans (`input.x`, `step.data`, `plan.cost`, …) are keywords elsewhere. */
export const EXPRESSION_HEADS = ['input', 'context', 'step', 'plan', 'run', 'event', 'output'];
const arbNameExpr: fc.Arbitrary<A.NameExpr> = fc
  .oneof({ weight: 4, arbitrary: arbIdentName }, { weight: 1, arbitrary: fc.constantFrom(...EXPRESSION_HEADS) })
  .map((name) => ({ kind: 'NameExpr', name, range: r }));

const BINARY_OPS: readonly A.BinaryOp[] = ['implies', 'or', 'and', '==', '!=', '<', '<=', '>', '>=', 'in', '??', '+', '-', '*', '/', '%'];
/** Built-in functions callable in expressions (v0.4 adds `calls known age endorse declassify`). */
const BUILTINS = ['len', 'contains', 'lower', 'upper', 'min', 'max', 'sum', 'round', 'now', 'format', 'secret', 'calls', 'known', 'age', 'endorse', 'declassify'];

/** Expressions of every kind except `RangeExpr` (only valid in `simulate`), before parenthesizing. */
const rawExpr = fc.letrec<{ expr: A.Expr; leaf: A.Expr }>((tie) => ({
  leaf: fc.oneof(
    arbNumberLit,
    arbDurationLit,
    arbMoneyLit,
    arbPercentLit,
    arbBoolLit,
    arbNullLit,
    arbNameExpr,
    arbNameExpr,
    arbPlainString,
  ),
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 6, arbitrary: tie('leaf') },
    {
      weight: 1,
      arbitrary: fc
        .array(fc.oneof(arbStringText, tie('expr')), { maxLength: 4 })
        .map((parts): A.Expr => ({ kind: 'StringLit', parts: normalizeParts(parts), range: r })),
    },
    { weight: 1, arbitrary: fc.array(tie('expr'), { maxLength: 4 }).map((items): A.Expr => ({ kind: 'ListLit', items, range: r })) },
    {
      weight: 1,
      arbitrary: fc
        .uniqueArray(fc.record({ key: arbFieldIdent, value: tie('expr') }), { maxLength: 4, selector: (f) => f.key.name })
        .map((fs): A.Expr => ({ kind: 'RecordLit', fields: fs.map((f) => ({ kind: 'RecordField', ...f, range: r })), range: r })),
    },
    {
      weight: 2,
      arbitrary: fc
        .record({ object: tie('expr'), property: arbFieldIdent })
        .map(({ object, property }): A.Expr => ({ kind: 'MemberExpr', object, property, range: r })),
    },
    {
      weight: 1,
      arbitrary: fc.record({ object: tie('expr'), index: tie('expr') }).map((x): A.Expr => ({ kind: 'IndexExpr', ...x, range: r })),
    },
    {
      weight: 1,
      arbitrary: fc
        .record(
          {
            callee: fc.constantFrom(...BUILTINS).map(ident),
            args: fc.array(tie('expr'), { maxLength: 3 }),
            // Named arguments after the positional ones (`reason: "…"`, `to: internal`).
            named: fc
              .uniqueArray(fc.record({ name: arbFieldIdent, value: tie('expr') }), { minLength: 1, maxLength: 2, selector: (a) => a.name.name })
              .map((as) => as.map((a): A.Argument => ({ kind: 'Argument', ...a, range: r }))),
          },
          { requiredKeys: ['callee', 'args'] },
        )
        .map((x): A.Expr => ({ kind: 'CallExpr', ...x, range: r })),
    },
    {
      weight: 1,
      arbitrary: fc
        .record({ op: fc.constantFrom<A.UnaryOp>('not', '-'), operand: tie('expr') })
        .map((x): A.Expr => ({ kind: 'UnaryExpr', ...x, range: r })),
    },
    {
      weight: 3,
      arbitrary: fc
        .record({ op: fc.constantFrom(...BINARY_OPS), left: tie('expr'), right: tie('expr') })
        .map((x): A.Expr => ({ kind: 'BinaryExpr', ...x, range: r })),
    },
    { weight: 1, arbitrary: tie('expr').map((inner): A.Expr => ({ kind: 'ParenExpr', inner, range: r })) },
  ),
})).expr;

/** Any expression (no ranges `a..b`), with the parentheses precedence requires. */
export const arbExpr: fc.Arbitrary<A.Expr> = rawExpr.map(parenthesize);
/** Any expression as a hand-built tree might look: parentheses for precedence missing. */
export const arbExprWithoutParens: fc.Arbitrary<A.Expr> = rawExpr;

export const arbStringLit: fc.Arbitrary<A.StringLit> = fc
  .array(fc.oneof(arbStringText, arbExpr), { maxLength: 4 })
  .map((parts) => parenthesize({ kind: 'StringLit', parts: normalizeParts(parts), range: r }) as A.StringLit);

const arbRecordLit: fc.Arbitrary<A.RecordLit> = fc
  .uniqueArray(fc.record({ key: arbFieldIdent, value: arbExpr }), { maxLength: 4, selector: (f) => f.key.name })
  .map((fs) => ({ kind: 'RecordLit', fields: fs.map((f) => ({ kind: 'RecordField', ...f, range: r })), range: r }));

export const arbRangeExpr: fc.Arbitrary<A.RangeExpr> = fc
  .oneof(
    fc.tuple(arbNumberLit, arbNumberLit),
    fc.tuple(arbDurationLit, arbDurationLit),
    fc.tuple(arbMoneyLit, arbMoneyLit),
    fc.tuple(arbPercentLit, arbPercentLit),
  )
  .map(([from, to]) => ({ kind: 'RangeExpr', from, to, range: r }));

// ───────────── types ─────────────

/** Doc comment text: one or more lines, each without leading or trailing spaces. */
export const arbDoc: fc.Arbitrary<string> = fc
  .array(fc.stringMatching(/^[A-Za-z0-9`][A-Za-z0-9 .,:`()-]{0,20}[A-Za-z0-9.`)]$/), { minLength: 1, maxLength: 3 })
  .map((lines) => lines.join('\n'));

const PRIMITIVES: readonly A.PrimitiveTypeName[] = ['string', 'number', 'int', 'bool', 'duration', 'money', 'percent', 'any', 'secret'];

const typeTree = fc.letrec<{ type: A.TypeExpr; nonOptional: A.TypeExpr; field: A.FieldDecl; record: A.RecordType }>((tie) => ({
  nonOptional: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 4, arbitrary: fc.constantFrom(...PRIMITIVES).map((name): A.TypeExpr => ({ kind: 'PrimitiveType', name, range: r })) },
    {
      weight: 1,
      arbitrary: fc
        .uniqueArray(fc.string({ unit: fc.constantFrom('a', 'b', '-', ' ', '"'), minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 4 })
        .map((values): A.TypeExpr => ({ kind: 'EnumType', values, range: r })),
    },
    { weight: 1, arbitrary: tie('type').map((element): A.TypeExpr => ({ kind: 'ListType', element, range: r })) },
    { weight: 1, arbitrary: tie('type').map((value): A.TypeExpr => ({ kind: 'MapType', value, range: r })) },
    { weight: 1, arbitrary: tie('record') },
    { weight: 1, arbitrary: arbQualifiedName.map((name): A.TypeExpr => ({ kind: 'NamedType', name, range: r })) },
  ),
  type: fc.oneof(
    { weight: 4, arbitrary: tie('nonOptional') },
    { weight: 1, arbitrary: tie('nonOptional').map((inner): A.TypeExpr => ({ kind: 'OptionalType', inner, range: r })) },
  ),
  field: fc
    .record(
      {
        name: arbFieldIdent,
        type: tie('type'),
        dataClass: fc.constantFrom(...DATA_CLASSES),
        trust: fc.constantFrom(...INTEGRITIES),
        default: arbExpr,
        doc: arbDoc,
      },
      { requiredKeys: ['name', 'type'] },
    )
    .map((f): A.FieldDecl => ({ kind: 'FieldDecl', ...f, range: r })),
  record: fc
    .uniqueArray(tie('field'), { maxLength: 4, selector: (f) => f.name.name })
    .map((fields): A.RecordType => ({ kind: 'RecordType', fields, range: r })),
}));

export const arbTypeExpr: fc.Arbitrary<A.TypeExpr> = typeTree.type;
export const arbRecordType: fc.Arbitrary<A.RecordType> = typeTree.record;
export const arbFieldDecl: fc.Arbitrary<A.FieldDecl> = typeTree.field;

// ───────────── shared properties ─────────────

export const arbRetrySpec: fc.Arbitrary<A.RetrySpec> = fc
  .record(
    {
      attempts: fc.integer({ min: 0, max: 10 }),
      backoff: fc.record(
        { kind: fc.constantFrom<A.BackoffKind>('fixed', 'exponential'), delay: arbDurationLit, max: arbDurationLit },
        { requiredKeys: ['kind', 'delay'] },
      ),
    },
    { requiredKeys: ['attempts'] },
  )
  .map((x) => ({ kind: 'RetrySpec', ...x, range: r }));

// ───────────── declarations ─────────────

export const arbTypeAlias: fc.Arbitrary<A.TypeAliasDecl> = fc
  .record({ name: arbIdent, type: arbTypeExpr, doc: arbDoc }, { requiredKeys: ['name', 'type'] })
  .map((x) => ({ kind: 'TypeAliasDecl', ...x, range: r }));

export const arbCapability: fc.Arbitrary<A.CapabilityDecl> = fc
  .record(
    {
      name: arbIdent,
      doc: arbDoc,
      capabilityKind: fc.constantFrom(...CAPABILITY_KINDS),
      input: arbRecordType,
      output: arbTypeExpr,
      handler: arbPlainString,
      timeout: arbDurationLit,
      retry: arbRetrySpec,
      cost: arbMoneyLit,
      latency: arbDurationLit,
      data: fc.constantFrom(...DATA_CLASSES),
      consent: fc.array(arbPlainString, { minLength: 1, maxLength: 3 }),
      requires: uniqueIdents(1, 3),
      idempotent: fc.boolean(),
      trust: fc.constantFrom(...INTEGRITIES),
      endorses: fc.boolean(),
    },
    { requiredKeys: ['name'] },
  )
  .map((x) => ({ kind: 'CapabilityDecl', ...x, range: r }));

export const arbResource: fc.Arbitrary<A.ResourceDecl> = fc
  .record(
    {
      name: arbIdent,
      doc: arbDoc,
      resourceKind: fc.constantFrom(...RESOURCE_KINDS),
      provides: uniqueIdents(1, 3),
      concurrency: arbIntLit,
      cost: arbMoneyLit,
      latency: arbDurationLit,
      reliability: arbPercentLit,
      location: arbPlainString,
      energy: arbNumberLit,
      accepts: fc.constantFrom(...DATA_CLASSES),
      availableWhen: arbExpr,
    },
    { requiredKeys: ['name'] },
  )
  .map((x) => ({ kind: 'ResourceDecl', ...x, range: r }));

const arbBudget: fc.Arbitrary<A.BudgetDecl> = fc.oneof(
  fc.record({ op: fc.constantFrom<'<=' | '<'>('<=', '<'), limit: arbMoneyLit }).map((x): A.BudgetDecl => ({ kind: 'BudgetDecl', metric: 'cost', ...x, range: r })),
  fc.record({ op: fc.constantFrom<'<=' | '<'>('<=', '<'), limit: arbDurationLit }).map((x): A.BudgetDecl => ({ kind: 'BudgetDecl', metric: 'duration', ...x, range: r })),
);

export const arbPolicy: fc.Arbitrary<A.PolicyDecl> = fc
  .record(
    {
      name: arbIdent,
      doc: arbDoc,
      strategy: fc.constantFrom(...STRATEGIES),
      weights: fc
        .uniqueArray(fc.record({ key: fc.constantFrom(...WEIGHT_FACTORS).map(ident), value: arbNumberLit }), { maxLength: 4, selector: (w) => w.key.name })
        .map((ws) => ws.map((w): A.WeightDecl => ({ kind: 'WeightDecl', ...w, range: r }))),
      budgets: fc.array(arbBudget, { maxLength: 2 }),
      prefer: fc.constantFrom<A.Preference>('local', 'edge', 'cloud'),
      maxFallbacks: arbIntLit,
      requireConsent: fc.boolean(),
      rateLimits: fc.array(
        fc
          .record({ capability: arbQualifiedName, count: fc.integer({ min: 0, max: 1000 }), per: arbDurationLit })
          .map((x): A.RateLimitDecl => ({ kind: 'RateLimitDecl', ...x, range: r })),
        { maxLength: 2 },
      ),
    },
    { requiredKeys: ['name', 'budgets', 'rateLimits'] },
  )
  .map((x) => ({ kind: 'PolicyDecl', ...x, range: r }));

export const arbSelector: fc.Arbitrary<A.Selector> = fc.oneof(
  arbIdent.map((step): A.Selector => ({ kind: 'StepSelector', step, range: r })),
  fc.constantFrom(...CAPABILITY_KINDS).map((capabilityKind): A.Selector => ({ kind: 'KindSelector', capabilityKind, range: r })),
  arbQualifiedName.map((capability): A.Selector => ({ kind: 'CapabilitySelector', capability, range: r })),
);

export const arbGuardrailRule: fc.Arbitrary<A.GuardrailRule> = fc.oneof(
  arbExpr.map((condition): A.GuardrailRule => ({ kind: 'ForbidRule', condition, range: r })),
  arbExpr.map((condition): A.GuardrailRule => ({ kind: 'AssertRule', condition, range: r })),
  fc.record({ target: arbSelector, condition: arbExpr }).map((x): A.GuardrailRule => ({ kind: 'CheckRule', ...x, range: r })),
  fc
    .record({ subject: arbSelector, order: fc.constantFrom<'before' | 'after'>('before', 'after'), object: arbSelector })
    .map((x): A.GuardrailRule => ({ kind: 'RequireRule', ...x, range: r })),
);

export const arbGuardrail: fc.Arbitrary<A.GuardrailDecl> = fc
  .record(
    {
      name: arbIdent,
      doc: arbDoc,
      severity: fc.constantFrom(...GUARDRAIL_SEVERITIES),
      category: arbIdent,
      message: arbPlainString,
      rules: fc.array(arbGuardrailRule, { maxLength: 3 }),
    },
    { requiredKeys: ['name', 'rules'] },
  )
  .map((x) => ({ kind: 'GuardrailDecl', ...x, range: r }));

/** A context signal (§9.4): `max_age` on any, `hold` only on a derived one (with `= expr`). */
const arbContextField: fc.Arbitrary<A.FieldDecl> = fc
  .record({ field: arbFieldDecl, maxAge: fc.option(arbDurationLit, { nil: undefined }), hold: fc.option(arbDurationLit, { nil: undefined }) })
  .map(({ field, maxAge, hold }) => ({ ...field, ...(maxAge ? { maxAge } : {}), ...(hold && field.default ? { hold } : {}) }));

export const arbContext: fc.Arbitrary<A.ContextDecl> = fc
  .record(
    { fields: fc.uniqueArray(arbContextField, { maxLength: 4, selector: (f) => f.name.name }), doc: arbDoc },
    { requiredKeys: ['fields'] },
  )
  .map((x) => ({ kind: 'ContextDecl', ...x, range: r }));

const arbArguments: fc.Arbitrary<A.Argument[]> = fc
  .uniqueArray(fc.record({ name: arbFieldIdent, value: arbExpr }), { maxLength: 3, selector: (a) => a.name.name })
  .map((as) => as.map((a) => ({ kind: 'Argument', ...a, range: r })));

export const arbCapabilityCall: fc.Arbitrary<A.CapabilityCall> = fc
  .record({ capability: arbQualifiedName, args: arbArguments })
  .map((x) => ({ kind: 'CapabilityCall', ...x, range: r }));

export const arbStepAction: fc.Arbitrary<A.StepAction> = fc.oneof(
  { weight: 4, arbitrary: arbCapabilityCall },
  { weight: 1, arbitrary: arbExpr.map((duration): A.StepAction => ({ kind: 'WaitAction', duration, range: r })) },
  {
    weight: 1,
    arbitrary: fc
      .record({ condition: arbExpr, timeout: arbDurationLit }, { requiredKeys: ['condition'] })
      .map((x): A.StepAction => ({ kind: 'WaitUntilAction', ...x, range: r })),
  },
  { weight: 1, arbitrary: fc.record({ plan: arbQualifiedName, args: arbArguments }).map((x): A.StepAction => ({ kind: 'RunAction', ...x, range: r })) },
);

export const arbStep: fc.Arbitrary<A.StepDecl> = fc
  .record(
    {
      name: arbIdent,
      doc: arbDoc,
      action: arbStepAction,
      when: arbExpr,
      after: uniqueIdents(0, 3),
      on: arbQualifiedName,
      fallback: arbCapabilityCall,
      compensate: arbCapabilityCall,
      timeout: arbDurationLit,
      retry: arbRetrySpec,
      join: fc.constantFrom(...JOIN_RULES),
      onFailure: fc.constantFrom<'abort' | 'continue'>('abort', 'continue'),
      priority: fc.constantFrom(...PRIORITIES),
    },
    { requiredKeys: ['name', 'action', 'after'] },
  )
  .map((x) => ({ kind: 'StepDecl', ...x, range: r }));

/** `repeat … max N`: N from 1 to 1000 (anything else is an error). */
const arbRepeatMax: fc.Arbitrary<A.NumberLit> = fc.integer({ min: 1, max: 1000 }).map((value) => ({ kind: 'NumberLit', value, integer: true, range: r }));

/** `race NAME { … }`: two or three steps (one is an error). */
export const arbRace: fc.Arbitrary<A.RaceDecl> = fc
  .record({ name: arbIdent, body: fc.array(arbStep, { minLength: 2, maxLength: 3 }) })
  .map((x): A.RaceDecl => ({ kind: 'RaceDecl', ...x, range: r }));

/** Blocks nest: `for each` and `repeat` hold steps, races and further blocks (a `repeat` at least one step). */
const blocks = fc.letrec<{ forEach: A.ForEachDecl; repeat: A.RepeatDecl; item: A.BlockItem }>((tie) => ({
  item: fc.oneof(
    { depthSize: 'small', maxDepth: 2 },
    { weight: 4, arbitrary: arbStep },
    { weight: 1, arbitrary: tie('forEach') },
    { weight: 1, arbitrary: tie('repeat') },
    { weight: 1, arbitrary: arbRace },
  ),
  forEach: fc
    .record(
      {
        item: arbIdent,
        list: arbExpr,
        parallel: arbIntLit,
        body: fc.array(tie('item'), { maxLength: 3 }),
      },
      { requiredKeys: ['item', 'list', 'body'] },
    )
    .map((x): A.ForEachDecl => ({ kind: 'ForEachDecl', ...x, range: r })),
  repeat: fc
    .record(
      {
        name: arbIdent,
        max: arbRepeatMax,
        until: arbExpr,
        onFailure: fc.constantFrom<'abort' | 'continue'>('abort', 'continue'),
        // A loop holds a step (one with none is E0302).
        body: fc.tuple(arbStep, fc.array(tie('item'), { maxLength: 2 })).map(([s, rest]) => [s, ...rest]),
      },
      { requiredKeys: ['name', 'max', 'until', 'body'] },
    )
    .map((x): A.RepeatDecl => ({ kind: 'RepeatDecl', ...x, range: r })),
}));

export const arbForEach: fc.Arbitrary<A.ForEachDecl> = blocks.forEach;
export const arbRepeat: fc.Arbitrary<A.RepeatDecl> = blocks.repeat;

export const arbInvariant: fc.Arbitrary<A.InvariantDecl> = fc
  .record(
    {
      name: fc.oneof(arbIdent, arbPlainString),
      doc: arbDoc,
      modality: fc.constantFrom<A.Modality>('always', 'never', 'eventually'),
      condition: arbExpr,
    },
    { requiredKeys: ['name', 'modality', 'condition'] },
  )
  .map((x) => ({ kind: 'InvariantDecl', ...x, range: r }));

export const arbPlan: fc.Arbitrary<A.PlanDecl> = fc
  .record(
    {
      name: arbIdent,
      doc: arbDoc,
      goal: arbStringLit,
      input: arbRecordType,
      policy: arbQualifiedName,
      guardrails: fc.array(arbQualifiedName, { maxLength: 3 }),
      priority: fc.constantFrom(...PRIORITIES),
      deadline: arbDurationLit,
      concurrency: arbIntLit,
      onFailure: fc.constantFrom<A.PlanFailureMode>('abort', 'continue', 'rollback'),
      body: fc.array(fc.oneof(
        { weight: 4, arbitrary: arbStep }, { weight: 1, arbitrary: arbForEach }, { weight: 1, arbitrary: arbRepeat },
        { weight: 1, arbitrary: arbRace }, { weight: 1, arbitrary: arbInvariant },
      ), {
        maxLength: 4,
      }),
      success: fc.array(
        fc
          .record({ label: arbPlainString, condition: arbExpr }, { requiredKeys: ['condition'] })
          .map((x): A.SuccessCriterion => ({ kind: 'SuccessCriterion', ...x, range: r })),
        { maxLength: 2 },
      ),
      output: arbRecordLit,
    },
    { requiredKeys: ['name', 'guardrails', 'body', 'success'] },
  )
  .map((x) => ({ kind: 'PlanDecl', ...x, range: r }));

export const arbTriggerSource: fc.Arbitrary<A.TriggerSource> = fc.oneof(
  fc
    .record({ cron: arbPlainString, timezone: arbPlainString }, { requiredKeys: ['cron'] })
    .map((x): A.TriggerSource => ({ kind: 'ScheduleSource', ...x, range: r })),
  fc
    .record({ eventType: arbPlainString, where: arbExpr }, { requiredKeys: ['eventType'] })
    .map((x): A.TriggerSource => ({ kind: 'EventSource', ...x, range: r })),
  fc.constant<A.TriggerSource>({ kind: 'ManualSource', range: r }),
  arbPlainString.map((path): A.TriggerSource => ({ kind: 'ApiSource', path, range: r })),
  arbExpr.map((condition): A.TriggerSource => ({ kind: 'ConditionSource', condition, range: r })),
  fc
    .record({ plan: arbQualifiedName, outcome: fc.constantFrom<'completed' | 'failed' | 'finished'>('completed', 'failed', 'finished') })
    .map((x): A.TriggerSource => ({ kind: 'ChainSource', ...x, range: r })),
);

export const arbTrigger: fc.Arbitrary<A.TriggerDecl> = fc
  .record(
    { name: arbIdent, doc: arbDoc, source: arbTriggerSource, plan: arbQualifiedName, with: arbRecordLit, debounce: arbDurationLit },
    { requiredKeys: ['name', 'source', 'plan'] },
  )
  .map((x) => ({ kind: 'TriggerDecl', ...x, range: r }));

export const arbSimulate: fc.Arbitrary<A.SimulateDecl> = fc
  .record(
    {
      capability: arbQualifiedName,
      doc: arbDoc,
      output: fc
        .uniqueArray(fc.record({ key: arbFieldIdent, value: fc.oneof(arbExpr, arbRangeExpr) }), { maxLength: 4, selector: (f) => f.key.name })
        .map((fs): A.RecordLit => ({ kind: 'RecordLit', fields: fs.map((f) => ({ kind: 'RecordField', ...f, range: r })), range: r })),
      fail: arbPercentLit,
      latency: fc.oneof(
        arbDurationLit,
        fc.tuple(arbDurationLit, arbDurationLit).map(([from, to]): A.RangeExpr => ({ kind: 'RangeExpr', from, to, range: r })),
      ),
      cost: fc.oneof(
        arbMoneyLit,
        fc.tuple(arbMoneyLit, arbMoneyLit).map(([from, to]): A.RangeExpr => ({ kind: 'RangeExpr', from, to, range: r })),
      ),
    },
    { requiredKeys: ['capability'] },
  )
  .map((x) => ({ kind: 'SimulateDecl', ...x, range: r }));

// ───────────── v0.4: staleness, sources, tests ─────────────

export const arbSimulateContext: fc.Arbitrary<A.SimulateContextDecl> = fc
  .record(
    {
      doc: arbDoc,
      signals: fc
        .uniqueArray(fc.record({ signal: arbIdent, share: arbPercentLit }), { maxLength: 3, selector: (s) => s.signal.name })
        .map((ss) => ss.map((s): A.StaleSignal => ({ kind: 'StaleSignal', ...s, range: r }))),
    },
    { requiredKeys: ['signals'] },
  )
  .map((x) => ({ kind: 'SimulateContextDecl', ...x, range: r }));

export const arbSource: fc.Arbitrary<A.SourceDecl> = fc
  .record(
    {
      name: arbIdent,
      doc: arbDoc,
      topics: fc.array(
        fc
          .record({ topic: arbPlainString, signal: arbIdent, from: arbExpr, at: arbExpr }, { requiredKeys: ['topic', 'signal'] })
          .map((t): A.TopicMapping => ({ kind: 'TopicMapping', ...t, range: r })),
        { maxLength: 3 },
      ),
    },
    { requiredKeys: ['name', 'topics'] },
  )
  .map((x) => ({ kind: 'SourceDecl', ...x, range: r }));

/** A virtual time: a duration, sometimes written negative (the checker's E0901, not a syntax error). */
const arbVirtualTime: fc.Arbitrary<A.DurationLit> = fc.oneof(
  { weight: 3, arbitrary: arbDurationLit },
  { weight: 1, arbitrary: arbDurationLit.map((d): A.DurationLit => ({ ...d, value: d.value === 0 ? 0 : -d.value })) },
);

const arbMockAnswer: fc.Arbitrary<Pick<A.MockDecl, 'fails' | 'times' | 'returns'>> = fc.oneof(
  fc.array(arbExpr, { minLength: 1, maxLength: 3 }).map((returns) => ({ returns })),
  arbPlainString.map((fails) => ({ fails, returns: [] })),
  fc.record({ fails: arbPlainString, times: arbIntLit, returns: fc.array(arbExpr, { minLength: 1, maxLength: 2 }) }),
);

export const arbMock: fc.Arbitrary<A.MockDecl> = fc
  .record(
    {
      capability: arbQualifiedName,
      where: arbExpr,
      answer: arbMockAnswer,
      latency: arbDurationLit,
      spend: fc.oneof(arbMoneyLit.map((cost) => ({ cost })), arbRecordLit.map((usage) => ({ usage }))),
    },
    { requiredKeys: ['capability', 'answer'] },
  )
  .map(({ answer, spend, ...rest }): A.MockDecl => ({ kind: 'MockDecl', ...rest, ...answer, ...spend, range: r }));

export const arbTest: fc.Arbitrary<A.TestDecl> = fc
  .record(
    {
      name: arbPlainString,
      doc: arbDoc,
      origin: fc.record({ run: arbPlainString, irHash: arbPlainString }).map((o): A.TestOrigin => ({ kind: 'TestOrigin', ...o, range: r })),
      plan: arbQualifiedName,
      startedBy: arbPlainString,
      input: arbRecordLit,
      context: arbRecordLit,
      mocks: fc.array(arbMock, { maxLength: 3 }),
      decisions: fc.array(
        fc
          .record(
            {
              decision: fc.constantFrom<'approve' | 'reject'>('approve', 'reject'),
              step: arbIdent,
              by: fc.array(arbPlainString, { minLength: 1, maxLength: 3 }),
              at: arbVirtualTime,
            },
            { requiredKeys: ['decision', 'step', 'by'] },
          )
          .map((d): A.DecisionDecl => ({ kind: 'DecisionDecl', ...d, range: r })),
        { maxLength: 2 },
      ),
      signals: fc.array(
        fc.record({ signal: arbFieldIdent, value: arbExpr, at: arbVirtualTime }).map((x): A.SignalDecl => ({ kind: 'SignalDecl', ...x, range: r })),
        { maxLength: 2 },
      ),
      expects: fc.array(
        fc
          .record({ always: fc.constant(true as const), condition: arbExpr }, { requiredKeys: ['condition'] })
          .map((x): A.ExpectDecl => ({ kind: 'ExpectDecl', ...x, range: r })),
        { maxLength: 3 },
      ),
    },
    { requiredKeys: ['name', 'plan', 'mocks', 'decisions', 'signals', 'expects'] },
  )
  .map((x) => ({ kind: 'TestDecl', ...x, range: r }));

export const arbDeclaration: fc.Arbitrary<A.Declaration> = fc.oneof(
  arbTypeAlias,
  arbCapability,
  arbResource,
  arbPolicy,
  arbGuardrail,
  arbContext,
  arbPlan,
  arbTrigger,
  arbInvariant,
  arbSimulate,
  arbSimulateContext,
  arbSource,
  arbTest,
);

export const arbImport: fc.Arbitrary<A.ImportDecl> = fc.oneof(
  fc
    .record({ path: arbQualifiedName, names: uniqueIdents(1, 3) }, { requiredKeys: ['path'] })
    .map((x): A.ImportDecl => ({ kind: 'StdImport', ...x, range: r })),
  fc
    .record({ path: fc.stringMatching(/^\.\/[a-z_/]{1,12}\.orch$/), alias: arbIdent })
    .map((x): A.ImportDecl => ({ kind: 'FileImport', ...x, pathRange: r, range: r })),
);

export const GENERATED_FILE = 'generated.orch';

export const arbModule: fc.Arbitrary<A.Module> = fc
  .record(
    {
      module: arbQualifiedName.map((name): A.ModuleDecl => ({ kind: 'ModuleDecl', name, range: r })),
      imports: fc.array(arbImport, { maxLength: 3 }),
      declarations: fc.array(arbDeclaration, { maxLength: 5 }),
    },
    { requiredKeys: ['imports', 'declarations'] },
  )
  .map((x) => ({ kind: 'Module', file: GENERATED_FILE, ...x, comments: [], range: r }));

/** Source text of a generated module, in the canonical style (valid `.orch` syntax). */
export const arbModuleText: fc.Arbitrary<string> = arbModule.map((m) => print(m));

// ───────────── comparison ─────────────

export { stripRanges, equalIgnoringRanges } from '../tree-equality.js';

/** Every node kind the generators can produce (for a coverage check). */
export function nodeKinds(value: unknown, into: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => nodeKinds(v, into));
  else if (value !== null && typeof value === 'object') {
    const kind = (value as { kind?: unknown }).kind;
    if (typeof kind === 'string' && 'range' in value) into.add(kind);
    Object.values(value).forEach((v) => nodeKinds(v, into));
  }
  return into;
}
