/**
 * The AST's building blocks (LANGUAGE.md sections 2–3): the base node, names, comments,
 * literals, expressions and types — everything a declaration of `ast.ts` is made of. Importers
 * use `ast.ts`, which re-exports this module.
 */
import type { Range } from './diagnostic.js';

export interface Node {
  readonly kind: string;
  readonly range: Range;
}

export interface Ident extends Node {
  readonly kind: 'Ident';
  readonly name: string;
}

/** `a`, `policies.privacy_first`, `devices.turn_off`. */
export interface QualifiedName extends Node {
  readonly kind: 'QualifiedName';
  readonly parts: readonly Ident[];
}

// ───────────────────────────── comments ─────────────────────────────

export interface Comment extends Node {
  readonly kind: 'Comment';
  /** `line` = `// …`, `block` = `/* … *\/`. Doc comments (`///`) become `doc` on declarations. */
  readonly style: 'line' | 'block';
  /** The full comment text including its delimiters, exactly as written. */
  readonly text: string;
}

// ───────────────────────────── literals and expressions ─────────────────────────────

export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd';
export type DataClass = 'public' | 'internal' | 'personal' | 'sensitive' | 'secret';
export const DATA_CLASSES: readonly DataClass[] = ['public', 'internal', 'personal', 'sensitive', 'secret'];
/** LANGUAGE.md §9.3: a value's integrity label (`@trusted` / `@untrusted`, `trust …`). */
export type Integrity = 'trusted' | 'untrusted';
export const INTEGRITIES: readonly Integrity[] = ['trusted', 'untrusted'];

export interface StringLit extends Node {
  readonly kind: 'StringLit';
  /** Literal text (escapes already decoded) alternating with `${expr}` interpolations. */
  readonly parts: readonly (string | Expr)[];
}
export interface NumberLit extends Node {
  readonly kind: 'NumberLit';
  readonly value: number;
  /** True when written without a decimal point (types as `int`). */
  readonly integer: boolean;
}
export interface DurationLit extends Node {
  readonly kind: 'DurationLit';
  readonly value: number;
  readonly unit: DurationUnit;
}
export interface MoneyLit extends Node {
  readonly kind: 'MoneyLit';
  readonly amount: number;
  /** Lower-case ISO-like code as written: usd, eur, gbp. */
  readonly currency: string;
}
export interface PercentLit extends Node {
  readonly kind: 'PercentLit';
  /** As written: `80%` → 80. */
  readonly value: number;
}
export interface BoolLit extends Node {
  readonly kind: 'BoolLit';
  readonly value: boolean;
}
export interface NullLit extends Node {
  readonly kind: 'NullLit';
}
export interface ListLit extends Node {
  readonly kind: 'ListLit';
  readonly items: readonly Expr[];
}
export interface RecordField extends Node {
  readonly kind: 'RecordField';
  readonly key: Ident;
  readonly value: Expr;
}
export interface RecordLit extends Node {
  readonly kind: 'RecordLit';
  readonly fields: readonly RecordField[];
}
/** A bare identifier in expression position: `input`, `context`, `generate`, `personal`, `r`. */
export interface NameExpr extends Node {
  readonly kind: 'NameExpr';
  readonly name: string;
}
export interface MemberExpr extends Node {
  readonly kind: 'MemberExpr';
  readonly object: Expr;
  readonly property: Ident;
}
export interface IndexExpr extends Node {
  readonly kind: 'IndexExpr';
  readonly object: Expr;
  readonly index: Expr;
}
/**
 * Built-in function call in an expression: `len(x)`, `secret("NAME")`, `format(...)`,
 * `calls(email)`, `known(context.motion)`. Positional arguments come first; `named` holds the
 * named ones after them (LANGUAGE.md §9.3: `endorse(v, reason: "…")`,
 * `declassify(v, to: internal, reason: "…")`), absent when there are none.
 */
export interface CallExpr extends Node {
  readonly kind: 'CallExpr';
  readonly callee: Ident;
  readonly args: readonly Expr[];
  readonly named?: readonly Argument[];
}
export type UnaryOp = 'not' | '-';
export interface UnaryExpr extends Node {
  readonly kind: 'UnaryExpr';
  readonly op: UnaryOp;
  readonly operand: Expr;
}
/**
 * Precedence, lowest first: implies < or < and < not < comparison (== != < <= > >= in)
 * < ?? < additive (+ -) < multiplicative (* / %) < unary minus < postfix (. [] call).
 * `implies` is right-associative; all others left-associative; comparisons do not chain.
 */
export type BinaryOp =
  | 'implies' | 'or' | 'and'
  | '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in'
  | '??'
  | '+' | '-'
  | '*' | '/' | '%';
export interface BinaryExpr extends Node {
  readonly kind: 'BinaryExpr';
  readonly op: BinaryOp;
  readonly left: Expr;
  readonly right: Expr;
}
/** `a..b`; only valid inside `simulate` blocks. */
export interface RangeExpr extends Node {
  readonly kind: 'RangeExpr';
  readonly from: Expr;
  readonly to: Expr;
}
/** Parenthesised expression, kept so the printer can reproduce the user's grouping. */
export interface ParenExpr extends Node {
  readonly kind: 'ParenExpr';
  readonly inner: Expr;
}

export type Literal =
  | StringLit | NumberLit | DurationLit | MoneyLit | PercentLit | BoolLit | NullLit;

export type Expr =
  | Literal
  | ListLit | RecordLit
  | NameExpr | MemberExpr | IndexExpr | CallExpr
  | UnaryExpr | BinaryExpr | RangeExpr | ParenExpr;

// ───────────────────────────── types ─────────────────────────────

export type PrimitiveTypeName =
  | 'string' | 'number' | 'int' | 'bool' | 'duration' | 'money' | 'percent' | 'any' | 'secret';

export interface PrimitiveType extends Node {
  readonly kind: 'PrimitiveType';
  readonly name: PrimitiveTypeName;
}
/** `"a" | "b"` */
export interface EnumType extends Node {
  readonly kind: 'EnumType';
  readonly values: readonly string[];
}
export interface ListType extends Node {
  readonly kind: 'ListType';
  readonly element: TypeExpr;
}
export interface MapType extends Node {
  readonly kind: 'MapType';
  readonly value: TypeExpr;
}
/**
 * `name: T @class @integrity = default max_age D hold D`. Annotations stack in any order (one data
 * class, one integrity). In a `context` block (§9.4) `= expr` makes the field a derived signal,
 * `max_age` is how long a set value stays fresh and `hold` keeps a derived `true` for a while;
 * the parser reports `max_age` and `hold` anywhere but on a context field.
 */
export interface FieldDecl extends Node {
  readonly kind: 'FieldDecl';
  readonly name: Ident;
  readonly type: TypeExpr;
  readonly dataClass?: DataClass;
  /** §9.3: `@trusted` (a sink that needs trust) or `@untrusted` (a source, or a sink that accepts anything). */
  readonly trust?: Integrity;
  readonly default?: Expr;
  /** §9.4: `max_age D` on a context signal. */
  readonly maxAge?: DurationLit;
  /** §9.4: `hold D` on a derived context signal. */
  readonly hold?: DurationLit;
  readonly doc?: string;
}
export interface RecordType extends Node {
  readonly kind: 'RecordType';
  readonly fields: readonly FieldDecl[];
}
/** `T?` */
export interface OptionalType extends Node {
  readonly kind: 'OptionalType';
  readonly inner: TypeExpr;
}
/** Reference to a `type` alias (possibly imported: `devices.Reading`). */
export interface NamedType extends Node {
  readonly kind: 'NamedType';
  readonly name: QualifiedName;
}

export type TypeExpr =
  | PrimitiveType | EnumType | ListType | MapType | RecordType | OptionalType | NamedType;

/** A named argument: of a step's call, or of a built-in (`reason: "…"`). */
export interface Argument extends Node {
  readonly kind: 'Argument';
  readonly name: Ident;
  readonly value: Expr;
}
