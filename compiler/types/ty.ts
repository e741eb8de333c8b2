/**
 * The compiler's semantic types (LANGUAGE.md §3). Unlike the syntactic `TypeExpr`, these are
 * resolved (aliases expanded) and carry what checking needs: literal values of strings (so a
 * literal can match an enum), currencies of money, data classes and declarations of fields (so
 * the LSP can jump from `generate.output.id` to the field).
 */
import type { DataClass, Range } from '../../language/index.js';
import { DATA_CLASSES } from '../../language/index.js';

export interface FieldTy {
  readonly name: string;
  readonly ty: Ty;
  /** Data class declared on the field (`@personal`), if any. */
  readonly dataClass?: DataClass;
  /** §9.3: marked `@untrusted` (a plan input or context field so marked, at any depth, is a source). */
  readonly untrusted?: boolean;
  /** A default value or an optional type makes the field non-required. */
  readonly required: boolean;
  /**
   * The default's value, when it is known at compile time (a literal, a list or record of them, a
   * quantity): the IR's schema records it at any depth, and the runtime fills it in.
   */
  readonly default?: unknown;
  readonly decl?: { readonly file: string; readonly range: Range; readonly symbol?: number };
}

export type Ty =
  | { readonly k: 'string'; readonly literal?: string }
  | { readonly k: 'number' | 'int' | 'bool' | 'duration' | 'percent' | 'any' | 'secret' | 'null' }
  /**
   * `spend`: an amount the program spends or estimates (`run.cost`, `plan.cost`, a step's `.cost`),
   * in the currency every cost and budget is written in (`ModelBuilder.currency`), not known here.
   */
  | { readonly k: 'money'; readonly currency?: string; readonly spend?: true }
  /** A data class name used as a value (`personal` in a guardrail condition). */
  | { readonly k: 'data_class' }
  | { readonly k: 'enum'; readonly values: readonly string[] }
  /**
   * `mixed`: a list literal whose items have no one type (`[1, "a"]`): its elements read as
   * `any`, and it fits a `list<T>` only when every item type fits `T`.
   * `items`: any other list literal's own item types. Its elements read as the widened `elem`
   * (`["a", "b"]` is a `list<string>`), but it fits a `list<T>` only when every item fits `T`
   * (`["c"]` is no `list<"a" | "b">`), and a mismatch is reported at the item.
   */
  | { readonly k: 'list'; readonly elem: Ty; readonly mixed?: readonly Ty[]; readonly items?: readonly Ty[] }
  | { readonly k: 'map'; readonly value: Ty }
  | { readonly k: 'record'; readonly fields: ReadonlyMap<string, FieldTy>; readonly open?: boolean }
  | { readonly k: 'optional'; readonly inner: Ty }
  /** Error recovery: compatible with everything, never reported twice. */
  | { readonly k: 'unknown' };

/** `run.cost`, `plan.cost`, a step's `.cost`: money in the program's currency (not a type one writes). */
export const SPEND: Ty = { k: 'money', spend: true };

export const T = {
  string: { k: 'string' } as Ty,
  number: { k: 'number' } as Ty,
  int: { k: 'int' } as Ty,
  bool: { k: 'bool' } as Ty,
  duration: { k: 'duration' } as Ty,
  money: { k: 'money' } as Ty,
  percent: { k: 'percent' } as Ty,
  any: { k: 'any' } as Ty,
  secret: { k: 'secret' } as Ty,
  null: { k: 'null' } as Ty,
  dataClass: { k: 'data_class' } as Ty,
  unknown: { k: 'unknown' } as Ty,
};

export function listOf(elem: Ty): Ty {
  return { k: 'list', elem };
}

export function record(fields: readonly FieldTy[], open = false): Ty {
  return { k: 'record', fields: new Map(fields.map((f) => [f.name, f])), open };
}

export function field(name: string, ty: Ty, required = true): FieldTy {
  return { name, ty, required };
}

export function optional(inner: Ty): Ty {
  return inner.k === 'optional' || inner.k === 'unknown' || inner.k === 'any' ? inner : { k: 'optional', inner };
}

export function stripOptional(t: Ty): Ty {
  return t.k === 'optional' ? t.inner : t;
}

export function isLoose(t: Ty): boolean {
  return t.k === 'unknown' || t.k === 'any';
}

export function isNumeric(t: Ty): boolean {
  return t.k === 'number' || t.k === 'int';
}

export function isStringy(t: Ty): boolean {
  return t.k === 'string' || t.k === 'enum';
}

/** Unit family for E0203: values of different families never mix. */
export function unitOf(t: Ty): 'number' | 'duration' | 'money' | 'percent' | undefined {
  switch (t.k) {
    case 'number':
    case 'int':
      return 'number';
    case 'duration':
    case 'money':
    case 'percent':
      return t.k;
    default:
      return undefined;
  }
}

export function formatTy(t: Ty, depth = 0): string {
  switch (t.k) {
    case 'string':
      return t.literal !== undefined && depth === 0 ? `string` : 'string';
    case 'money':
      return t.currency ? `money(${t.currency})` : 'money';
    case 'enum':
      return t.values.map((v) => JSON.stringify(v)).join(' | ');
    case 'list':
      if (t.mixed) return `a list of ${[...new Set(t.mixed.map((m) => formatTy(m, depth + 1)))].join(', ')}`;
      return `list<${formatTy(t.elem, depth + 1)}>`;
    case 'map':
      return `map<${formatTy(t.value, depth + 1)}>`;
    case 'optional': {
      const inner = formatTy(t.inner, depth + 1);
      return t.inner.k === 'enum' ? `(${inner})?` : `${inner}?`;
    }
    case 'record':
      if (depth > 2) return '{…}';
      if (t.fields.size === 0) return '{}';
      return `{ ${[...t.fields.values()].map((f) => `${f.name}: ${formatTy(f.ty, depth + 1)}`).join(', ')} }`;
    case 'data_class':
      return 'data class';
    case 'unknown':
      return 'unknown';
    default:
      return t.k;
  }
}

/**
 * Whether a value of type `src` may be used where `dst` is expected. Numbers widen (int →
 * number), enums and literals narrow by value, a secret may be passed where a string is expected
 * (it is resolved at run time), records are structural (every required target field present).
 */
export function assignable(src: Ty, dst: Ty): boolean {
  if (isLoose(src) || isLoose(dst)) return true;
  if (dst.k === 'optional') return src.k === 'null' || assignable(stripOptional(src), dst.inner);
  if (src.k === 'optional') return false;
  switch (dst.k) {
    case 'string':
      return src.k === 'string' || src.k === 'enum' || src.k === 'secret';
    case 'number':
      return src.k === 'number' || src.k === 'int';
    case 'int':
      return src.k === 'int';
    case 'money':
      return src.k === 'money' && (!src.currency || !dst.currency || src.currency === dst.currency);
    case 'enum':
      if (src.k === 'enum') return src.values.every((v) => dst.values.includes(v));
      // A string whose value is not known before the run (an input's `string`, an interpolation)
      // could be any: only a literal is judged by its value.
      return src.k === 'string' && src.literal !== undefined && dst.values.includes(src.literal);
    case 'list':
      if (src.k !== 'list') return false;
      if (src.mixed) return src.mixed.every((t) => assignable(t, dst.elem));
      if (src.items) return src.items.every((t) => assignable(t, dst.elem));
      return assignable(src.elem, dst.elem);
    case 'map':
      if (src.k === 'map') return assignable(src.value, dst.value);
      return src.k === 'record' && [...src.fields.values()].every((f) => assignable(f.ty, dst.value));
    case 'record':
      if (src.k === 'map') return true;
      if (src.k !== 'record') return false;
      for (const f of dst.fields.values()) {
        const s = src.fields.get(f.name);
        if (!s) {
          if (f.required && !src.open) return false;
          continue;
        }
        if (!assignable(s.ty, f.ty)) return false;
      }
      return true;
    default:
      return src.k === dst.k;
  }
}

/**
 * Whether a value of type `t` narrows by value: a string literal, or a record or list literal
 * holding one.
 */
export function narrows(t: Ty, depth = 0): boolean {
  if (depth > 16) return false;
  switch (t.k) {
    case 'string':
      return t.literal !== undefined;
    case 'list':
      return (t.items ?? t.mixed)?.some((m) => narrows(m, depth + 1)) ?? false;
    case 'record':
      for (const f of t.fields.values()) if (narrows(f.ty, depth + 1)) return true;
      return false;
    default:
      return false;
  }
}

/**
 * The item type of a list literal made of string literals only (`["c", "d"]`): the enum of them,
 * so that a `for each` item passed where an enum is expected is judged by the values it can take.
 * Undefined for any other list.
 */
export function literalItems(t: Ty): Ty | undefined {
  if (t.k !== 'list' || !t.items || t.items.length === 0) return undefined;
  const values: string[] = [];
  for (const i of t.items) {
    if (i.k !== 'string' || i.literal === undefined) return undefined;
    if (!values.includes(i.literal)) values.push(i.literal);
  }
  return { k: 'enum', values };
}

/**
 * The type of a value read back from a literal whose items may differ (`["a", "b"]`'s items are
 * strings, not `"a"`): string literals become `string`, at any depth of records and lists.
 */
export function widenLiteral(t: Ty, depth = 0): Ty {
  if (!narrows(t) || depth > 16) return t;
  switch (t.k) {
    case 'string':
      return T.string;
    case 'list':
      return t.mixed ? { k: 'list', elem: t.elem, mixed: t.mixed.map((m) => widenLiteral(m, depth + 1)) } : listOf(t.elem);
    case 'record':
      return { ...t, fields: new Map([...t.fields].map(([k, f]) => [k, { ...f, ty: widenLiteral(f.ty, depth + 1) }])) };
    default:
      return t;
  }
}

const UNITS = new Set<Ty['k']>(['duration', 'money', 'percent', 'number', 'int']);

/**
 * The code of "a `src` where a `dst` is expected": a unit mismatch (E0203) between two quantities
 * of different units, else E0201 — a fraction where an `int` is expected is a type mismatch (both
 * are plain numbers), as is money of another currency.
 */
export function mismatchCode(src: Ty, expected: Ty): 'E0201' | 'E0203' {
  const dst = stripOptional(expected);
  const plain = (t: Ty) => t.k === 'number' || t.k === 'int';
  if (src.k === 'money' && dst.k === 'money' && src.currency && dst.currency && src.currency !== dst.currency) return 'E0203';
  if (!UNITS.has(src.k) || !UNITS.has(dst.k) || src.k === dst.k || (plain(src) && plain(dst))) return 'E0201';
  return 'E0203';
}

/** Whether two values may be compared with `==`/`!=` (same family, or overlapping enums). */
export function comparable(a: Ty, b: Ty): boolean {
  if (isLoose(a) || isLoose(b)) return true;
  if (a.k === 'null' || b.k === 'null') return true;
  const sa = stripOptional(a);
  const sb = stripOptional(b);
  return assignable(sa, sb) || assignable(sb, sa) || (isStringy(sa) && isStringy(sb) && looseEnum(sa, sb));
}

function looseEnum(a: Ty, b: Ty): boolean {
  if (a.k === 'enum' && b.k === 'enum') return a.values.some((v) => b.values.includes(v));
  return true;
}

export function maxClass(a: DataClass, b: DataClass): DataClass {
  return DATA_CLASSES.indexOf(a) >= DATA_CLASSES.indexOf(b) ? a : b;
}

/** Whether a field anywhere inside a value of this type is marked `@untrusted` (fields of nested records). */
export function untrustedInType(t: Ty, depth = 0): boolean {
  if (depth > 8) return false;
  switch (t.k) {
    case 'record':
      for (const f of t.fields.values()) if (f.untrusted || untrustedInType(f.ty, depth + 1)) return true;
      return false;
    case 'list':
      return untrustedInType(t.elem, depth + 1);
    case 'map':
      return untrustedInType(t.value, depth + 1);
    case 'optional':
      return untrustedInType(t.inner, depth + 1);
    default:
      return false;
  }
}

/** Highest data class carried anywhere inside a value of this type (fields of nested records). */
export function classOfType(t: Ty, depth = 0): DataClass {
  if (depth > 8) return 'public';
  switch (t.k) {
    case 'record': {
      let c: DataClass = 'public';
      for (const f of t.fields.values()) {
        if (f.dataClass) c = maxClass(c, f.dataClass);
        c = maxClass(c, classOfType(f.ty, depth + 1));
      }
      return c;
    }
    case 'list':
      return classOfType(t.elem, depth + 1);
    case 'map':
      return classOfType(t.value, depth + 1);
    case 'optional':
      return classOfType(t.inner, depth + 1);
    default:
      return 'public';
  }
}
