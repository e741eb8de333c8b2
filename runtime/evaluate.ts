/**
 * The pure evaluator of `ExprIR` — shared by the scheduler (`when`, arguments, `wait until`,
 * success criteria, outputs), run-time guardrails, the verifier and `orch serve`.
 *
 * Values are plain JSON-ish values in run-time units (durations in ms, money as an amount,
 * percents as fractions, data classes as their names). There is no `eval`: every operator and
 * built-in is interpreted here. Secrets are resolved only through the injected `secret` resolver,
 * so a caller that must never see them (journal, preview) passes a resolver that returns `***`.
 *
 * Member access on `null`/missing values yields `null` (so `x.output.f ?? d` works for a skipped
 * `x`); type errors (e.g. `len(3)`, adding a list to a number) throw `EvalError`.
 *
 * A context signal never set or older than its `max_age` is UNKNOWN (LANGUAGE.md §9.4), and logic
 * over it is Kleene's: a comparison or computation with UNKNOWN is UNKNOWN, `false and UNKNOWN` is
 * false, `true or UNKNOWN` true, `UNKNOWN ?? v` is v. `evaluate` gives a value (UNKNOWN becomes
 * null, so it never reaches a handler or the journal); `condition` keeps the third value.
 */
import { contextReads, exprChildren, roundUnit, type BlockView, type BuiltinFn, type ExprIR, type StepView } from '../compiler/index.js';

export class EvalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvalError';
  }
}

/** The third truth value: a context signal that is not known (never set, or stale). */
export const UNKNOWN: unique symbol = Symbol('unknown');
export type Truth = boolean | typeof UNKNOWN;

/** What the evaluator knows of one context signal (`context.X`, `known()`, `age()`). */
export interface SignalRead {
  readonly value: unknown;
  readonly state: 'fresh' | 'stale' | 'never_set';
  /** ms since it was set; null when never set. */
  readonly age_ms: number | null;
  readonly max_age_ms: number | null;
  /**
   * When it was set (epoch ms), when its age grows with the clock from there (the context store);
   * absent where an age does not (verify's fresh signal reports at every instant, age 0).
   */
  readonly set_at?: number | null;
}

export interface EvalEnv {
  /** Roots of `{op:'var'}`; a missing root evaluates to `null`. */
  readonly vars: { readonly [name: string]: unknown };
  /** `for each` item variables in scope, by name. */
  readonly items?: { readonly [name: string]: unknown };
  /** The view of another step (`{op:'step'}`); `undefined` when unknown. */
  readonly step?: (id: string) => StepView | undefined;
  /** v2: the view of a `race` or `repeat` block (`{op:'block'}`); `undefined` when unknown. */
  readonly block?: (id: string) => BlockView | undefined;
  /** v2: a loop's previous iteration (step views by id), `null` in the first (`{op:'previous'}`). */
  readonly previous?: (loop: string) => { readonly [id: string]: StepView } | null;
  /** Resolves `secret("NAME")`; without it a secret evaluates to the redaction marker. */
  readonly secret?: (name: string) => string;
  /** Current time in epoch ms, for `now()`. Injected so the verifier's virtual clock works. */
  readonly now?: () => number;
  /**
   * §9.4: each context signal's state; without it `context.X` is `vars.context.X` and unknown
   * when absent (or null: a signal that went stale is sent to a run as null).
   */
  readonly signal?: (name: string) => SignalRead;
}

export const REDACTED = '***';

export const DATA_CLASS_RANK: { readonly [name: string]: number } = {
  public: 0,
  internal: 1,
  personal: 2,
  sensitive: 3,
  secret: 4,
};

/** The value of an expression; an unknown signal's part is null. */
export function evaluate(expr: ExprIR, env: EvalEnv): unknown {
  const v = evaluate3(expr, env);
  if (v !== UNKNOWN) return v;
  // An interpolated string that leaves the evaluator prints its unknown parts as `unknown`.
  return expr.op === 'concat' ? interpolate(expr.parts, env) : null;
}

function interpolate(parts: readonly ExprIR[], env: EvalEnv): string {
  return parts.map((p) => {
    const v = evaluate3(p, env);
    return v === UNKNOWN ? 'unknown' : formatValue(v);
  }).join('');
}

/** A condition's Kleene truth: only `true` is true, UNKNOWN stays UNKNOWN, anything else is false. */
export function condition(expr: ExprIR, env: EvalEnv): Truth {
  return truth(evaluate3(expr, env));
}

function truth(v: unknown): Truth {
  return v === UNKNOWN ? UNKNOWN : v === true;
}

/** The value with the third truth value kept: UNKNOWN when it depends on a signal that is not known. */
export function evaluateOrUnknown(expr: ExprIR, env: EvalEnv): unknown {
  return evaluate3(expr, env);
}

function evaluate3(expr: ExprIR, env: EvalEnv): unknown {
  if (isLink(expr) && isLink(linkBase(expr))) return evaluateChain(expr, env);
  return evaluateNode(expr, env);
}

/** The signal `context.X` names, when `e` is such a read. */
function contextKey(e: ExprIR): string | null {
  return e.op === 'get' && e.object.op === 'var' && e.object.name === 'context' ? e.key : null;
}

export function readSignal(env: EvalEnv, name: string): SignalRead {
  if (env.signal) return env.signal(name);
  const ctx = env.vars.context as { readonly [k: string]: unknown } | null | undefined;
  const v = ctx && typeof ctx === 'object' ? ctx[name] : undefined;
  return v === undefined || v === null ? { value: null, state: 'never_set', age_ms: null, max_age_ms: null } : { value: v, state: 'fresh', age_ms: null, max_age_ms: null };
}

/**
 * Why a condition over `expr` is unknown: the first signal that makes it so, in evaluation order
 * — not one a `??` replaced, a `known()` read or a decided `and`/`or` left aside — else the first
 * signal it reads that is not known.
 */
export function unknownReason(expr: ExprIR, env: EvalEnv): string {
  const cause = unknownCause(expr, env);
  for (const name of cause !== null ? [cause] : contextReads(expr)) {
    const r = readSignal(env, name);
    if (r.state === 'never_set') return `context.${name} was never set`;
    // Set, but with no time (a retained message): stale for want of an age, not for its length.
    if (r.state === 'stale' && r.age_ms === null && r.set_at === null) return `context.${name} is stale: its age is unknown (a retained message)`;
    // Only a derived signal is unknown while younger than its max_age (or without one): what it reads is not known.
    if (r.state === 'stale' && (r.max_age_ms === null || (r.age_ms ?? 0) <= r.max_age_ms)) return `context.${name} is unknown: a signal it is derived from is not known`;
    if (r.state === 'stale') return `context.${name} is stale: ${staleAge(r.age_ms ?? 0, r.max_age_ms ?? 0)} > ${formatAge(r.max_age_ms ?? 0)}`;
  }
  return 'its value is unknown';
}

/** The signal whose being unknown makes `expr` unknown, found down the unknown parts of it. */
function unknownCause(expr: ExprIR, env: EvalEnv): string | null {
  try {
    return causeIn(expr, env);
  } catch {
    return null; // a part that cannot be evaluated on its own (or a chain too deep): the plain search
  }
}

function causeIn(expr: ExprIR, env: EvalEnv): string | null {
  const key = contextKey(expr);
  if (key !== null) return evaluate3(expr, env) === UNKNOWN ? key : null;
  // A list or record written out carries an unknown item as null: look inside it all the same.
  if (expr.op !== 'list' && expr.op !== 'record' && evaluate3(expr, env) !== UNKNOWN) return null;
  if (expr.op === '??') return causeIn(expr.right, env);
  if (expr.op === 'call' && (expr.fn === 'known' || expr.fn === 'age')) return expr.fn === 'age' && expr.args[0] ? contextKey(expr.args[0]) : null;
  for (const part of exprChildren(expr)) {
    const found = causeIn(part, env);
    if (found !== null) return found;
  }
  return null;
}

/** A stale age that would print as its `max_age` (read the moment it passed): with the ms past it, `2m1ms`. */
function staleAge(age: number, max: number): string {
  const shown = formatAge(age);
  return shown === formatAge(max) && age > max ? `${shown}${Math.round(age - max)}ms` : shown;
}

/** `3m12s`, `2m`, `450ms`: an age as a person reads it. */
export function formatAge(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  let s = Math.floor(ms / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  return parts.join('');
}

/** Kleene's and/or/implies over the two sides' truth (the right side only when it decides). */
function kleene(op: 'and' | 'or' | 'implies', expr: { readonly left: ExprIR; readonly right: ExprIR }, env: EvalEnv): Truth {
  let l = truth(evaluate3(expr.left, env));
  if (op === 'implies') l = l === UNKNOWN ? UNKNOWN : !l;
  const decisive = op === 'and' ? false : true;
  if (l === decisive) return decisive;
  const r = truth(evaluate3(expr.right, env));
  if (r === decisive) return decisive;
  return l === UNKNOWN || r === UNKNOWN ? UNKNOWN : !decisive;
}

type Link = Extract<ExprIR, { left: ExprIR }> | Extract<ExprIR, { op: 'get' | 'index' }>;

function isLink(e: ExprIR): e is Link {
  // `context.X` is one read of a signal's state, not member access on a record.
  return 'left' in e || (e.op === 'get' && contextKey(e) === null) || e.op === 'index';
}

function linkBase(e: Link): ExprIR {
  return 'left' in e ? e.left : e.object;
}

/**
 * A left-nested chain (`a + b + …`, `x.a.b…`) in a loop from its innermost link outwards: a
 * chain thousands of links long must not exhaust the stack. Each link is evaluated as itself
 * with its left side replaced by the value already computed (short-circuits are kept).
 */
function evaluateChain(expr: Link, env: EvalEnv): unknown {
  const links: Link[] = [];
  let cur: ExprIR = expr;
  while (isLink(cur)) {
    links.push(cur);
    cur = linkBase(cur);
  }
  let value = evaluateNode(cur, env);
  for (let i = links.length - 1; i >= 0; i--) {
    const link = links[i]!;
    const known = { op: 'lit', value } as ExprIR;
    value = evaluateNode(('left' in link ? { ...link, left: known } : { ...link, object: known }) as ExprIR, env);
  }
  return value;
}

function evaluateNode(expr: ExprIR, env: EvalEnv): unknown {
  switch (expr.op) {
    case 'lit':
      return expr.value;
    case 'list':
      return expr.items.map((e) => evaluate(e, env));
    case 'record': {
      const out: Record<string, unknown> = {};
      for (const f of expr.fields) {
        const v = evaluate(f.value, env);
        // `{ __proto__: x }` is a field like any other (§2 names): an assignment would set the
        // object's prototype instead, and the field would be lost.
        if (f.key === '__proto__') Object.defineProperty(out, f.key, { value: v, enumerable: true, writable: true, configurable: true });
        else out[f.key] = v;
      }
      return out;
    }
    case 'concat': {
      // Inside the evaluator a string built from an unknown is unknown: `"{context.mode}" == "away"` is no plain false.
      const values = expr.parts.map((p) => evaluate3(p, env));
      return values.includes(UNKNOWN) ? UNKNOWN : values.map(formatValue).join('');
    }
    case 'var':
      return env.vars[expr.name] ?? null;
    case 'item':
      if (!env.items || !(expr.name in env.items)) throw new EvalError(`"${expr.name}" is not in scope here`);
      return env.items[expr.name];
    case 'step': {
      const view = env.step?.(expr.id);
      if (!view) throw new EvalError(`unknown step "${expr.id}"`);
      return view;
    }
    case 'get': {
      const key = contextKey(expr);
      if (key !== null) {
        const r = readSignal(env, key);
        return r.state === 'fresh' ? r.value : UNKNOWN;
      }
      return member(evaluate3(expr.object, env), expr.key);
    }
    case 'index': {
      const obj = evaluate3(expr.object, env);
      const idx = evaluate3(expr.index, env);
      if (obj === UNKNOWN || idx === UNKNOWN) return UNKNOWN;
      if (obj === null || obj === undefined) return null;
      if (Array.isArray(obj)) {
        if (typeof idx !== 'number') throw new EvalError(`a list index must be a number, got ${typeName(idx)}`);
        const i = idx < 0 ? obj.length + idx : idx;
        return obj[i] ?? null;
      }
      if (typeof obj === 'object' && typeof idx === 'string') return member(obj, idx);
      if (typeof obj === 'string' && typeof idx === 'number') return obj[idx] ?? null;
      throw new EvalError(`cannot index ${typeName(obj)} with ${typeName(idx)}`);
    }
    case 'call': {
      if (expr.fn === 'known' || expr.fn === 'age') return signalState(expr.fn, expr.args[0], env);
      // A list written out as an argument keeps its unknown items (as a value it would carry them as null).
      if (expr.fn === 'contains' && expr.args[0]?.op === 'list' && expr.args[1]) return membership(evaluate3(expr.args[1], env), expr.args[0].items.map((e) => evaluate3(e, env)));
      const args = expr.args.map((a) => (a.op === 'list' ? knownItems(a.items.map((e) => evaluate3(e, env))) : evaluate3(a, env)));
      if (args.includes(UNKNOWN)) return UNKNOWN;
      // `round` of a percentage rounds the percent figure, not the fraction (check/builtins.ts).
      const v = expr.fn === 'round' && expr.unit === 'percent' && typeof args[0] === 'number' ? callBuiltin('round', [args[0] * 100, ...args.slice(1)], env) as number / 100 : callBuiltin(expr.fn, args, env);
      return roundUnit(expr.unit, v);
    }
    case 'secret':
      return env.secret ? env.secret(expr.name) : REDACTED;
    case 'not': {
      const v = truth(evaluate3(expr.arg, env));
      return v === UNKNOWN ? UNKNOWN : !v;
    }
    case 'neg': {
      const v = evaluate3(expr.arg, env);
      if (v === UNKNOWN) return UNKNOWN;
      if (typeof v !== 'number') throw new EvalError(`cannot negate ${typeName(v)}`);
      return -v;
    }
    case 'range':
      return { from: evaluate(expr.from, env), to: evaluate(expr.to, env) };
    case 'block': {
      const view = env.block?.(expr.id);
      if (!view) throw new EvalError(`unknown block "${expr.id}"`);
      return view;
    }
    case 'previous':
      if (!env.previous) throw new EvalError(`"${expr.loop}.previous" is only known inside the loop`);
      return env.previous(expr.loop);
    case 'and':
    case 'or':
    case 'implies':
      return kleene(expr.op, expr, env);
    case '??': {
      const l = evaluate3(expr.left, env);
      return l === null || l === undefined || l === UNKNOWN ? evaluate3(expr.right, env) : l;
    }
    default: {
      const l = evaluate3(expr.left, env);
      if (expr.op === 'in' && expr.right.op === 'list') return membership(l, expr.right.items.map((e) => evaluate3(e, env)));
      const r = evaluate3(expr.right, env);
      if (l === UNKNOWN || r === UNKNOWN) return UNKNOWN;
      const v = binary(expr.op, l, r, expr.compare);
      return roundUnit(expr.unit, v);
    }
  }
}

/**
 * `x in [a, b]` over a list written out: `x == a or x == b`, in Kleene's logic — an unknown item
 * leaves it unknown unless another item matches (a list value carries an unknown item as null,
 * which would make the answer a plain false and a `forbid` over it fail open).
 */
function membership(l: unknown, items: readonly unknown[]): Truth {
  if (l === UNKNOWN) return UNKNOWN;
  if (items.some((x) => x !== UNKNOWN && deepEqual(x, l))) return true;
  return items.includes(UNKNOWN) ? UNKNOWN : false;
}

/** A list written out as a built-in's argument: unknown when an item is (`max([context.t, 0])` is unknown, not an error over null). */
function knownItems(items: unknown[]): unknown {
  return items.includes(UNKNOWN) ? UNKNOWN : items;
}

/** `known(context.X)` and `age(context.X)`: the signal's state, not its value. */
function signalState(fn: 'known' | 'age', arg: ExprIR | undefined, env: EvalEnv): unknown {
  const key = arg ? contextKey(arg) : null;
  if (key === null) {
    const v = arg ? evaluate3(arg, env) : UNKNOWN;
    return fn === 'known' ? v !== UNKNOWN && v !== null && v !== undefined : UNKNOWN;
  }
  const r = readSignal(env, key);
  if (fn === 'known') return r.state === 'fresh';
  return r.age_ms === null ? UNKNOWN : r.age_ms;
}

/** Truthiness of a condition: only `true` is true (null/missing is false, never an error). */
export function truthy(v: unknown): boolean {
  return v === true;
}

function member(obj: unknown, key: string): unknown {
  if (obj === UNKNOWN) return UNKNOWN;
  if (obj === null || obj === undefined) return null;
  if (Array.isArray(obj)) {
    if (key === 'length') return obj.length;
    // `send.output.id` on a for-each output list maps over the items.
    return obj.map((o) => member(o, key));
  }
  if (typeof obj === 'object') {
    // Own keys only: an `any` value (a source's payload) must not read `constructor`, `__proto__`
    // or `toString` off Object.prototype — a function or a prototype is no value of the language.
    const v = Object.hasOwn(obj, key) ? (obj as Record<string, unknown>)[key] : undefined;
    return v === undefined ? null : v;
  }
  if (typeof obj === 'string' && key === 'length') return obj.length;
  return null;
}

type BinOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | '+' | '-' | '*' | '/' | '%';

function binary(op: BinOp, l: unknown, r: unknown, compare?: 'data_class'): unknown {
  if (compare === 'data_class' || (isDataClass(l) && isDataClass(r) && op !== '==' && op !== '!=' && op !== 'in')) {
    if (op === '==' || op === '!=' || op === 'in') return binary(op, l, r);
    return compareNumbers(op, rank(l), rank(r));
  }
  switch (op) {
    case '==':
      return deepEqual(l, r);
    case '!=':
      return !deepEqual(l, r);
    case '<':
    case '<=':
    case '>':
    case '>=':
      if (typeof l === 'number' && typeof r === 'number') return compareNumbers(op, l, r);
      if (typeof l === 'string' && typeof r === 'string') return compareNumbers(op, l < r ? -1 : l > r ? 1 : 0, 0);
      // Comparing with a missing value is false rather than an error: a condition over a
      // not-yet-known signal simply does not hold.
      if (l === null || r === null || l === undefined || r === undefined) return false;
      throw new EvalError(`cannot compare ${typeName(l)} with ${typeName(r)}`);
    case 'in': {
      const found = includes(r, l);
      if (found === undefined) throw new EvalError(`"in" needs a list, string or record on the right, got ${typeName(r)}`);
      return found;
    }
    case '+':
      if (typeof l === 'number' && typeof r === 'number') return l + r;
      if (typeof l === 'string' || typeof r === 'string') return formatValue(l) + formatValue(r);
      if (Array.isArray(l) && Array.isArray(r)) return [...l, ...r];
      throw new EvalError(`cannot add ${typeName(l)} and ${typeName(r)}`);
    default: {
      if (typeof l !== 'number' || typeof r !== 'number')
        throw new EvalError(`"${op}" needs numbers, got ${typeName(l)} and ${typeName(r)}`);
      if (op === '-') return l - r;
      if (op === '*') return l * r;
      if (r === 0) throw new EvalError(op === '/' ? 'division by zero' : 'modulo by zero');
      return op === '/' ? l / r : l % r;
    }
  }
}

function compareNumbers(op: '<' | '<=' | '>' | '>=' | string, l: number, r: number): boolean {
  switch (op) {
    case '<':
      return l < r;
    case '<=':
      return l <= r;
    case '>':
      return l > r;
    case '>=':
      return l >= r;
    default:
      throw new EvalError(`"${op}" cannot compare data classes`);
  }
}

function isDataClass(v: unknown): v is string {
  return typeof v === 'string' && v in DATA_CLASS_RANK;
}

function rank(v: unknown): number {
  if (!isDataClass(v)) throw new EvalError(`${JSON.stringify(v)} is not a data class`);
  return DATA_CLASS_RANK[v]!;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if ((a === null || a === undefined) && (b === null || b === undefined)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as never)[k], (b as never)[k]));
}

function numbersOf(fn: string, args: unknown[]): number[] {
  const list = args.length === 1 && Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
  return list.map((x) => {
    if (typeof x !== 'number') throw new EvalError(`${fn}() needs numbers, got ${typeName(x)}`);
    return x;
  });
}

function callBuiltin(fn: BuiltinFn, args: unknown[], env: EvalEnv): unknown {
  switch (fn) {
    case 'known':
    case 'age':
      return UNKNOWN; // read by signalState before the arguments are evaluated
    case 'len': {
      const v = args[0];
      if (typeof v === 'string' || Array.isArray(v)) return v.length;
      if (v === null || v === undefined) return 0;
      if (typeof v === 'object') return Object.keys(v).length;
      throw new EvalError(`len() needs a string, list or record, got ${typeName(v)}`);
    }
    case 'contains': {
      const [hay, needle] = args;
      const found = includes(hay, needle);
      if (found === undefined) throw new EvalError(`contains() needs a list, string or record, got ${typeName(hay)}`);
      return found;
    }
    case 'lower':
    case 'upper': {
      const v = args[0];
      if (typeof v !== 'string') throw new EvalError(`${fn}() needs a string, got ${typeName(v)}`);
      return fn === 'lower' ? v.toLowerCase() : v.toUpperCase();
    }
    case 'split': {
      const [v, sep] = args;
      if (typeof v !== 'string') throw new EvalError(`split() needs a string, got ${typeName(v)}`);
      if (typeof sep !== 'string') throw new EvalError(`split() needs a string separator, got ${typeName(sep)}`);
      return v.split(sep);
    }
    case 'lines': {
      const v = args[0];
      if (typeof v !== 'string') throw new EvalError(`lines() needs a string, got ${typeName(v)}`);
      // A text that ends with a newline has no empty last line.
      const ls = v.split(/\r?\n/);
      if (ls.length > 0 && ls[ls.length - 1] === '') ls.pop();
      return ls;
    }
    case 'min':
    case 'max': {
      const ns = numbersOf(fn, args);
      if (ns.length === 0) return null;
      return fn === 'min' ? Math.min(...ns) : Math.max(...ns);
    }
    case 'sum':
      return numbersOf(fn, args).reduce((a, b) => a + b, 0);
    case 'round': {
      const [v, digits] = args;
      if (typeof v !== 'number') throw new EvalError(`round() needs a number, got ${typeName(v)}`);
      const d = typeof digits === 'number' ? digits : 0;
      const f = 10 ** d;
      return Math.round(v * f) / f;
    }
    case 'now':
      return (env.now ?? Date.now)();
    case 'format': {
      // format(template, a, b) replaces `{}` / `{0}` placeholders; format(value) stringifies.
      const [first, ...rest] = args;
      if (typeof first !== 'string' || rest.length === 0) return formatValue(first);
      let next = 0;
      return first.replace(/\{(\d*)\}/g, (_m, n: string) => formatValue(rest[n === '' ? next++ : Number(n)] ?? null));
    }
  }
}

/** How a value prints inside an interpolated string. */
export function formatValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a record';
  return `a ${typeof v}`;
}

/**
 * `x in hay` and `contains(hay, x)`: an item of a list, a substring of a string, a key of a record
 * or map — its own key only (`"constructor" in m` of a map without that key is false, as its
 * `m["constructor"]` is null). undefined when `hay` can hold nothing.
 */
function includes(hay: unknown, needle: unknown): boolean | undefined {
  if (Array.isArray(hay)) return hay.some((x) => deepEqual(x, needle));
  if (typeof hay === 'string') return typeof needle === 'string' && hay.includes(needle);
  if (hay !== null && typeof hay === 'object') return typeof needle === 'string' && Object.hasOwn(hay, needle);
  if (hay === null || hay === undefined) return false;
  return undefined;
}
