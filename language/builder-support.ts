/** What the builder layers and both parse paths share: node shapes being filled in, property bags, step option keys, limits. */
import type { IToken } from 'chevrotain';
import type * as A from './ast.js';
import type { Range } from './diagnostic.js';

/** The largest `repeat … max N` (LANGUAGE.md §7.1). */
export const MAX_REPEAT = 1000;

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export const PRIMITIVES = new Set<string>(['string', 'number', 'int', 'bool', 'duration', 'money', 'percent', 'any', 'secret']);

/** Properties that may appear several times in one block (by key). */
export const REPEATABLE = new Set([
  'budgetDecl', 'rateLimitDecl', 'forbidRule', 'requireRule', 'assertRule', 'checkRule',
  'stepDecl', 'forEach', 'raceBlock', 'repeatBlock', 'invariantDecl', 'successDecl',
  'mockDecl', 'decisionDecl', 'signalDecl', 'expectDecl',
]);

/** The name a property key is reported under (a sub-rule is reported as its keyword). */
export function keyName(key: string): string {
  return key === 'retrySpec' ? 'retry' : key === 'testOrigin' ? 'captured_from' : key;
}

/** Step options in the order they are assigned to a StepDecl, whatever their source order. */
export const STEP_OPTION_KEYS = ['after', 'on', 'fallback', 'compensate', 'timeout', 'retry', 'join', 'on_failure', 'priority', 'when'] as const;
export type StepOptionKey = (typeof STEP_OPTION_KEYS)[number];

/** Sets an optional property once; the second occurrence is an E0102 naming the first. */
export interface PropertyBag {
  readonly owner: string;
  /** Property key → [start, end) offsets of its first occurrence. */
  readonly seen: Map<string, [number, number]>;
}

/** What a trigger's items gave, before they are checked and put together. */
export interface TriggerParts {
  source?: A.TriggerSource;
  sourceKey: string;
  plan?: A.QualifiedName;
  timezone?: IToken;
  where?: { expr: A.Expr; range: Range };
  readonly rest: Partial<Mutable<A.TriggerDecl>>;
}

export function isLitOrRange(e: A.Expr, kind: 'DurationLit' | 'MoneyLit'): boolean {
  if (e.kind === kind) return true;
  return e.kind === 'RangeExpr' && e.from.kind === kind && e.to.kind === kind;
}

/**
 * The array itself, or an exact-size copy of a short one: an array built by `push` reserves 17
 * slots at its first element, and a large file's tree holds a few of them per step (call
 * arguments, string parts) — ~20 MB of empty slots at 100,000 steps.
 */
export function fitted<T>(items: T[]): T[] {
  return items.length < 17 ? items.slice() : items;
}

/**
 * The one empty list a node holds where it has nothing (a step without `after`): an empty array
 * of its own is 32 bytes a step of a large plan. Frozen: the tree is read-only, and a stray push
 * must fail loudly rather than add to every node at once.
 */
export const NONE: readonly never[] = Object.freeze([]);

/** A `key value` option whose value is already built (`from EXPR` of a topic mapping). */
export type KeyedValue = readonly [key: IToken, value: A.Expr];
