/**
 * Properties of the printer on generated ASTs covering every node kind:
 * parse(print(ast)) gives back ast (ignoring ranges) without diagnostics, and printing is a
 * fixed point (print(parse(print(ast))) === print(ast)).
 * Runs: ORCH_PROPERTY_RUNS (default 300).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Module } from '../ast.js';
import { parse } from '../index.js';
import { parenthesize, print } from '../printer.js';
import { arbExprWithoutParens, arbModule, GENERATED_FILE, NO_RANGE, nodeKinds, stripRanges } from './arbitraries.js';

const RUNS = Number(process.env.ORCH_PROPERTY_RUNS ?? 300);
/** Generous: shrinking a failure takes many runs. */
const TIMEOUT = Math.max(180_000, RUNS * 600);

function reparse(text: string): Module {
  const { module, diagnostics } = parse({ file: GENERATED_FILE, text });
  expect(diagnostics.map((d) => `${d.code} ${d.range.start.line}:${d.range.start.column} ${d.message}`), text).toEqual([]);
  return module;
}

describe('printer round trip (property)', () => {
  it('parse(print(ast)) equals ast ignoring ranges, with no diagnostics', () => {
    fc.assert(
      fc.property(arbModule, (ast) => {
        const text = print(ast);
        expect(stripRanges(reparse(text)), text).toEqual(stripRanges(ast));
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);

  it('printing is idempotent: print(parse(print(ast))) === print(ast)', () => {
    fc.assert(
      fc.property(arbModule, (ast) => {
        const text = print(ast);
        expect(print(reparse(text), { source: text })).toBe(text);
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);

  it('adds the parentheses precedence needs to hand-built expressions', () => {
    fc.assert(
      fc.property(arbExprWithoutParens, (expr) => {
        const ast: Module = {
          kind: 'Module',
          file: GENERATED_FILE,
          imports: [],
          comments: [],
          range: NO_RANGE,
          declarations: [
            { kind: 'InvariantDecl', name: { kind: 'Ident', name: 'x', range: NO_RANGE }, modality: 'always', condition: expr, range: NO_RANGE },
          ],
        };
        const text = print(ast);
        const decl = reparse(text).declarations[0];
        expect(decl?.kind).toBe('InvariantDecl');
        if (decl?.kind === 'InvariantDecl') expect(stripRanges(decl.condition), text).toEqual(stripRanges(parenthesize(expr)));
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);

  it('the generators cover every node kind', () => {
    const kinds = new Set<string>();
    fc.sample(arbModule, { numRuns: 400, seed: 7 }).forEach((m) => nodeKinds(m, kinds));
    const expected = [
      'Module', 'ModuleDecl', 'StdImport', 'FileImport', 'Ident', 'QualifiedName',
      'TypeAliasDecl', 'CapabilityDecl', 'ResourceDecl', 'PolicyDecl', 'GuardrailDecl', 'ContextDecl', 'PlanDecl',
      'TriggerDecl', 'InvariantDecl', 'SimulateDecl',
      'StringLit', 'NumberLit', 'DurationLit', 'MoneyLit', 'PercentLit', 'BoolLit', 'NullLit', 'ListLit', 'RecordLit',
      'RecordField', 'NameExpr', 'MemberExpr', 'IndexExpr', 'CallExpr', 'UnaryExpr', 'BinaryExpr', 'RangeExpr', 'ParenExpr',
      'PrimitiveType', 'EnumType', 'ListType', 'MapType', 'RecordType', 'FieldDecl', 'OptionalType', 'NamedType',
      'RetrySpec', 'BudgetDecl', 'RateLimitDecl', 'WeightDecl', 'StepSelector', 'KindSelector', 'CapabilitySelector',
      'ForbidRule', 'RequireRule', 'AssertRule', 'CheckRule', 'Argument', 'CapabilityCall', 'WaitAction',
      'WaitUntilAction', 'RunAction', 'StepDecl', 'ForEachDecl', 'RaceDecl', 'RepeatDecl', 'SuccessCriterion', 'ScheduleSource', 'EventSource',
      'ManualSource', 'ApiSource', 'ConditionSource', 'ChainSource',
      'SimulateContextDecl', 'StaleSignal', 'SourceDecl', 'TopicMapping', 'TestDecl', 'TestOrigin', 'MockDecl',
      'DecisionDecl', 'SignalDecl', 'ExpectDecl',
    ];
    expect([...expected].filter((k) => !kinds.has(k))).toEqual([]);
  });
});
