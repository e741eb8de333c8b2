/**
 * The builders both parse paths share: everything that turns tokens (or already built child
 * nodes) into an AST node, and every message those builders report. The two paths differ only in
 * how they find the tokens: the direct path (ast-actions.ts) gets them as rule arguments, the CST
 * path (cst-to-ast.ts) reads them out of CST nodes. Both hand them here, so that a node, its
 * field order, its range and its diagnostics are written once.
 *
 * A property value comes as the direct path sees it: its token, or its sub-rule already built.
 * A value the builder requires but finds missing (only after the CST path's error recovery)
 * throws MISSING, which drops just that item.
 */
import type { IToken, TokenType } from 'chevrotain';
import type * as A from './ast.js';
import {
  CAPABILITY_KINDS, DATA_CLASSES, GUARDRAIL_SEVERITIES, INTEGRITIES, JOIN_RULES, PRIORITIES, RESOURCE_KINDS, STRATEGIES,
} from './ast.js';
import { diagnostic, type Diagnostic, type Range } from './diagnostic.js';
import { isMissing, need, MISSING } from './cst-access.js';
import type { DocComments } from './doc-comments.js';
import { DurationTok, MoneyTok, NumberTok, PercentTok, StringTok } from './lexer.js';
import type { LineIndex } from './source.js';

/** What each number token is, for `unitLit`'s messages. */
const QUANTITY_WORDS = new Map<TokenType, { unit: 'number' | 'duration' | 'money' | 'percent'; what: string; example: string }>([
  [NumberTok, { unit: 'number', what: 'a number', example: 'a number' }],
  [DurationTok, { unit: 'duration', what: 'a duration', example: 'a duration (e.g. 30s)' }],
  [MoneyTok, { unit: 'money', what: 'an amount of money', example: 'an amount of money (e.g. 0.05usd)' }],
  [PercentTok, { unit: 'percent', what: 'a percentage', example: 'a percentage (e.g. 80%)' }],
]);

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

/** A `key value` option whose value is already built (`from EXPR` of a topic mapping). */
export type KeyedValue = readonly [key: IToken, value: A.Expr];

export abstract class NodeBuilders {
  readonly diagnostics: Diagnostic[] = [];
  protected inSimulate = false;
  /** Building the fields of a `context` block (`max_age` and `hold` are allowed). */
  protected inContext = false;

  constructor(
    readonly file: string,
    readonly text: string,
    readonly index: LineIndex,
    private readonly docs: DocComments,
    /** Offsets of the syntax errors already reported, sorted (to avoid piling on). */
    private readonly syntaxErrorOffsets: readonly number[] = [],
  ) {}

  /** A string literal; `${…}` parts are parsed as expressions (that takes the expression parser). */
  abstract stringLit(t: IToken | undefined, allowInterpolation?: boolean): A.StringLit;

  /** Whether a syntax error was reported inside [start, end). */
  protected hasSyntaxErrorIn(start: number, end: number): boolean {
    return this.syntaxErrorOffsets.some((o) => o >= start && o < end);
  }

  // ───────────── ranges, names, errors ─────────────

  range(start: number, end: number): Range {
    return this.index.range(start, end);
  }

  tokRange(t: IToken): Range {
    return this.range(t.startOffset, t.endOffset! + 1);
  }

  join(a: { range: Range }, b: { range: Range }): Range {
    return this.index.join(a.range, b.range);
  }

  error(message: string, range: Range): void {
    this.diagnostics.push(diagnostic('E0001', message, this.file, range));
  }

  ident(t: IToken | undefined): A.Ident {
    const tok = need(t);
    return { kind: 'Ident', name: tok.image, range: this.tokRange(tok) };
  }

  qualified(parts: readonly IToken[]): A.QualifiedName {
    if (parts.length === 0) throw MISSING;
    const ids = parts.map((t) => this.ident(t));
    return { kind: 'QualifiedName', parts: ids, range: this.join(ids[0]!, ids[ids.length - 1]!) };
  }

  /** An enum word such as `kind agent`; an unknown word is an E0001 listing the allowed ones. */
  word<T extends string>(t: IToken | undefined, allowed: readonly T[], what: string): T | undefined {
    const tok = need(t);
    if ((allowed as readonly string[]).includes(tok.image)) return tok.image as T;
    this.error(`unknown ${what} '${tok.image}' (expected one of: ${allowed.join(', ')})`, this.tokRange(tok));
    return undefined;
  }

  /** Sets `d[field]` to an enum word; an unknown word is reported and leaves the field unset. */
  setWord<D, K extends keyof D>(d: D, field: K, t: IToken | undefined, allowed: readonly Extract<D[K], string>[], what: string): void {
    const w = this.word(t, allowed, what);
    if (w !== undefined) d[field] = w;
  }

  newBag(owner: string): PropertyBag {
    return { owner, seen: new Map() };
  }

  /** Records that property `key` was given at [start, end); false (and an E0102) when given before. */
  firstTime(bag: PropertyBag, key: string, start: number, end: number): boolean {
    const seen = bag.seen.get(key);
    if (seen) {
      const first = this.range(seen[0], seen[1]);
      this.diagnostics.push(
        diagnostic('E0102', `'${key}' is given twice in ${bag.owner} (first on line ${first.start.line})`, this.file, this.range(start, end), {
          related: [{ message: `first '${key}' here`, file: this.file, range: first }],
        }),
      );
      return false;
    }
    bag.seen.set(key, [start, end]);
    return true;
  }

  firstTimeAt(bag: PropertyBag, key: string, r: Range): boolean {
    return this.firstTime(bag, key, r.start.offset, r.end.offset);
  }

  /** Runs `f`; a missing part drops just this item. */
  attempt<T>(f: () => T): T | undefined {
    try {
      return f();
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }

  doc(startOffset: number): string | undefined {
    return this.docs.take(startOffset, this.text);
  }

  /** Gives `d` the doc comment before `start`, if any. */
  withDoc<T extends { doc?: string }>(d: T, start: number): T {
    const doc = this.doc(start);
    if (doc !== undefined) d.doc = doc;
    return d;
  }

  /** A top-level declaration takes the doc comment before it (spread last). */
  declarationOf(d: A.Declaration, start: number): A.Declaration {
    const doc = this.doc(start);
    return doc === undefined ? d : { ...d, doc };
  }

  // ───────────── literals ─────────────

  integer(t: IToken | undefined, what: string): A.NumberLit {
    const lit = this.numberLit(t);
    if (!lit.integer || lit.value < 0) this.error(`${what} must be a whole number, found '${need(t).image}'`, lit.range);
    return lit;
  }

  numberLit(t: IToken | undefined): A.NumberLit {
    const tok = need(t);
    const digits = tok.image.startsWith('-') ? tok.image.slice(1) : tok.image;
    this.checkMagnitude(digits, tok);
    return { kind: 'NumberLit', value: Number(tok.image), integer: !tok.image.includes('.'), range: this.tokRange(tok) };
  }

  /** `-` and a number as one number token spanning both (a signed property value: `temperature -0.1`). */
  signed(minus: IToken | undefined, n: IToken): IToken {
    if (!minus) return n;
    return { ...n, image: `-${n.image}`, startOffset: minus.startOffset, startLine: minus.startLine, startColumn: minus.startColumn };
  }

  /**
   * Numbers are IEEE doubles: a whole part beyond 2^53 − 1 would silently change (and `orch fmt`
   * would rewrite it), so it is an E0001 rather than a different number.
   */
  private checkMagnitude(digits: string, tok: IToken): void {
    const whole = /^\d+/.exec(digits)?.[0] ?? '';
    const significant = whole.replace(/^0+/, '');
    if (significant.length > 16 || (significant.length === 16 && Number(significant) > Number.MAX_SAFE_INTEGER)) {
      this.error(`number '${tok.image.length > 40 ? `${tok.image.slice(0, 40)}…` : tok.image}' is too large: whole parts above 9007199254740991 (2^53 - 1) cannot be represented exactly`, this.tokRange(tok));
    }
  }

  durationLit(t: IToken | undefined): A.DurationLit {
    const tok = need(t);
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(tok.image);
    if (!m) throw MISSING;
    this.checkMagnitude(m[1]!, tok);
    return { kind: 'DurationLit', value: Number(m[1]), unit: m[2] as A.DurationUnit, range: this.tokRange(tok) };
  }

  moneyLit(t: IToken | undefined): A.MoneyLit {
    const tok = need(t);
    const m = /^(\d+(?:\.\d+)?)([a-z]{3})$/.exec(tok.image);
    if (!m) throw MISSING;
    this.checkMagnitude(m[1]!, tok);
    return { kind: 'MoneyLit', amount: Number(m[1]), currency: m[2]!, range: this.tokRange(tok) };
  }

  percentLit(t: IToken | undefined): A.PercentLit {
    const tok = need(t);
    this.checkMagnitude(tok.image, tok);
    return { kind: 'PercentLit', value: Number(tok.image.slice(0, -1)), range: this.tokRange(tok) };
  }

  /**
   * A property's quantity (`timeout 30s`, `cost 0.01usd`, `reliability 99%`). The grammar takes
   * any number there, so that one of another unit (`timeout 3usd`, `deadline 10`) is a unit
   * mismatch, E0203 at the value naming the unit the property needs (LANGUAGE.md §5), rather
   * than a syntax error. The property is then left out, as after any error in its value.
   */
  unitLit(t: IToken | undefined, key: string, unit: 'duration'): A.DurationLit;
  unitLit(t: IToken | undefined, key: string, unit: 'money'): A.MoneyLit;
  unitLit(t: IToken | undefined, key: string, unit: 'percent'): A.PercentLit;
  unitLit(t: IToken | undefined, key: string, unit: 'duration' | 'money' | 'percent'): A.DurationLit | A.MoneyLit | A.PercentLit {
    const tok = need(t);
    const found = QUANTITY_WORDS.get(tok.tokenType);
    if (found?.unit === unit) return unit === 'duration' ? this.durationLit(tok) : unit === 'money' ? this.moneyLit(tok) : this.percentLit(tok);
    // Not a number of a known unit (`5min`): the lexer has said so.
    if (!found) throw MISSING;
    const wanted = [...QUANTITY_WORDS.values()].find((w) => w.unit === unit)!;
    this.diagnostics.push(diagnostic('E0203', `'${key}' needs ${wanted.example}, found ${found.what} '${tok.image}'`, this.file, this.tokRange(tok)));
    throw MISSING;
  }

  /**
   * A simulate `latency` or `cost` that is not a literal of its unit: one of another unit (or a
   * range of them) is a unit mismatch (E0203, `unit`), anything else a syntax error (`other`).
   */
  private quantityError(e: A.Expr, unit: string, other: string): void {
    const quantity = (x: A.Expr) => x.kind === 'NumberLit' || x.kind === 'DurationLit' || x.kind === 'MoneyLit' || x.kind === 'PercentLit';
    if (quantity(e) || (e.kind === 'RangeExpr' && quantity(e.from) && quantity(e.to))) {
      const found = this.text.slice(e.range.start.offset, e.range.end.offset);
      this.diagnostics.push(diagnostic('E0203', `${unit}, found '${found}'`, this.file, e.range));
    } else this.error(other, e.range);
  }

  numericLiteral(t: IToken): A.Expr {
    switch (t.tokenType) {
      case NumberTok: return this.numberLit(t);
      case DurationTok: return this.durationLit(t);
      case MoneyTok: return this.moneyLit(t);
      case PercentTok: return this.percentLit(t);
      default: throw MISSING; // a bad unit, already reported by the lexer
    }
  }

  /** Plain text of a string that must not interpolate (enum values, invariant names, paths). */
  plainString(t: IToken | undefined): string {
    const lit = this.stringLit(t, false);
    return lit.parts.filter((p): p is string => typeof p === 'string').join('');
  }

  // ───────────── expressions ─────────────

  primaryToken(t: IToken, kind: 'string' | 'number' | 'bool' | 'null'): A.Expr {
    switch (kind) {
      case 'string': return this.stringLit(t);
      case 'number': return this.numericLiteral(t);
      case 'bool': return { kind: 'BoolLit', value: t.image === 'true', range: this.tokRange(t) };
      case 'null': return { kind: 'NullLit', range: this.tokRange(t) };
    }
  }

  /**
   * A name, or a call when it has arguments (`end`: just past the closing parenthesis). Named
   * arguments (`Argument` nodes) come after the positional ones; a name given twice is E0102.
   */
  nameOrCall(name: IToken, args: readonly (A.Expr | A.Argument)[] | undefined, end: number): A.Expr {
    if (!args) return { kind: 'NameExpr', name: name.image, range: this.tokRange(name) };
    let named: A.Argument[] | undefined;
    let positional = args as A.Expr[];
    if (args.some((a) => a.kind === 'Argument')) {
      positional = [];
      named = [];
      for (const a of args) {
        if (a.kind === 'Argument') named.push(a);
        else if (named.length > 0) this.error(`a positional argument cannot follow a named one in ${name.image}(…)`, a.range);
        else positional.push(a);
      }
      named = this.firstOfEach(named, `${name.image}(…)`, (a) => a.name);
    }
    const call: Mutable<A.CallExpr> = { kind: 'CallExpr', callee: this.ident(name), args: positional, range: this.range(name.startOffset, end) };
    if (named) call.named = named;
    return call;
  }

  member(object: A.Expr, m: IToken): A.MemberExpr {
    const property = this.ident(m);
    return { kind: 'MemberExpr', object, property, range: this.index.join(object.range, property.range) };
  }

  /** `object[index]`; without its `]` (after recovery) it ends with the index. */
  indexExpr(object: A.Expr, index: A.Expr, close: IToken | undefined): A.IndexExpr {
    const end = close ? close.endOffset! + 1 : index.range.end.offset;
    return { kind: 'IndexExpr', object, index, range: this.range(object.range.start.offset, end) };
  }

  /** A record literal; a key given twice is an E0102 (and the later field is dropped). */
  recordLitFrom(fields: readonly A.RecordField[], range: Range): A.RecordLit {
    return { kind: 'RecordLit', fields: this.firstOfEach(fields, 'this record', (f) => f.key), range };
  }

  /**
   * `fields` without the repeats of a name (each an E0102), as an exact copy: the tree keeps it,
   * and a list pushed to has room for 17 (a file of many small plans has two records a plan).
   */
  protected firstOfEach<F>(fields: readonly F[], owner: string, nameOf: (f: F) => A.Ident): F[] {
    // One field cannot repeat: no bag (a map) for it.
    if (fields.length < 2) return fields.slice();
    const bag = this.newBag(owner);
    const kept: F[] = [];
    for (const f of fields) {
      const name = nameOf(f);
      if (this.firstTimeAt(bag, name.name, name.range)) kept.push(f);
    }
    return kept.length === fields.length ? fields.slice() : kept.slice();
  }

  // ───────────── types ─────────────

  recordTypeFrom(fields: readonly A.FieldDecl[], range: Range): A.RecordType {
    return { kind: 'RecordType', fields: this.firstOfEach(fields, 'this record type', (f) => f.name), range };
  }

  /**
   * A field. `annotations`: the words after `@` (a data class and an integrity, any order);
   * `options`: `max_age` / `hold` key and value tokens in pairs (context fields only, §9.4).
   */
  fieldDecl(
    name: IToken | undefined,
    type: A.TypeExpr,
    annotations: readonly IToken[] | undefined,
    def: A.Expr | undefined,
    options: readonly IToken[] | undefined,
    range: Range,
  ): A.FieldDecl {
    const f: Mutable<A.FieldDecl> = { kind: 'FieldDecl', name: this.ident(name), type, range };
    if (annotations) this.annotate(f, annotations);
    if (def) f.default = def;
    if (options) this.fieldOptions(f, options);
    return this.withDoc(f, range.start.offset);
  }

  /** `@personal @untrusted`: one data class and one integrity; a second of either is E0102. */
  private annotate(f: Mutable<A.FieldDecl>, annotations: readonly IToken[]): void {
    const bag = annotations.length > 1 ? this.newBag(`field '${f.name.name}'`) : undefined;
    for (const t of annotations) {
      const word = t.image;
      const integrity = (INTEGRITIES as readonly string[]).includes(word);
      const known = integrity || (DATA_CLASSES as readonly string[]).includes(word);
      if (!known) {
        this.error(`unknown data class '${word}' (expected one of: ${DATA_CLASSES.join(', ')}); integrity is @trusted or @untrusted`, this.tokRange(t));
        continue;
      }
      if (bag && !this.firstTime(bag, integrity ? 'integrity' : 'data class', t.startOffset, t.endOffset! + 1)) continue;
      if (integrity) f.trust = word as A.Integrity;
      else f.dataClass = word as A.DataClass;
    }
  }

  /** `max_age D` / `hold D` (pairs of key and value tokens): durations, on context fields only. */
  private fieldOptions(f: Mutable<A.FieldDecl>, options: readonly IToken[]): void {
    const bag = options.length > 2 ? this.newBag(`field '${f.name.name}'`) : undefined;
    for (let i = 0; i + 1 < options.length; i += 2) {
      const key = options[i]!;
      const word = key.image;
      if (bag && !this.firstTime(bag, word, key.startOffset, key.endOffset! + 1)) continue;
      if (!this.inContext) {
        this.error(`'${word}' applies only to a field of a context block (a signal)`, this.tokRange(key));
        continue;
      }
      if (word === 'hold' && !f.default) {
        this.error(`'hold' applies only to a derived signal: ${f.name.name}: T = EXPR hold D`, this.tokRange(key));
        continue;
      }
      const d = this.attempt(() => this.unitLit(options[i + 1], word, 'duration'));
      if (!d) continue;
      if (word === 'max_age') f.maxAge = d;
      else f.hold = d;
    }
  }

  /**
   * A named type: `list<T>`, `map<T>`, a primitive or a declared type. Its arguments are built
   * by `typeOf` only where they are used (the CST path builds them on demand).
   */
  namedType<T>(name: A.QualifiedName, args: readonly T[], typeOf: (arg: T) => A.TypeExpr, range: Range): A.TypeExpr {
    const simple = name.parts.length === 1 ? name.parts[0]!.name : undefined;
    if (simple === 'list' || simple === 'map') {
      if (args.length !== 1) {
        this.error(`${simple} takes one type argument: ${simple}<T>`, range);
        throw MISSING;
      }
      const inner = typeOf(args[0]!);
      return simple === 'list' ? { kind: 'ListType', element: inner, range } : { kind: 'MapType', value: inner, range };
    }
    if (args.length > 0) this.error(`type '${name.parts.map((p) => p.name).join('.')}' takes no type arguments`, range);
    if (simple !== undefined && PRIMITIVES.has(simple)) return { kind: 'PrimitiveType', name: simple as A.PrimitiveTypeName, range: name.range };
    return { kind: 'NamedType', name, range: name.range };
  }

  // ───────────── shared properties ─────────────

  retrySpec(attempts: IToken | undefined, kindTok: IToken | undefined, delay: IToken | undefined, max: IToken | undefined, range: Range): A.RetrySpec {
    const r: Mutable<A.RetrySpec> = { kind: 'RetrySpec', attempts: this.integer(attempts, 'the retry count').value, range };
    if (kindTok) {
      const kind = this.word(kindTok, ['fixed', 'exponential'] as const, 'backoff');
      const d = this.unitLit(delay, 'backoff', 'duration');
      if (kind) r.backoff = max ? { kind, delay: d, max: this.unitLit(max, 'max', 'duration') } : { kind, delay: d };
    }
    return r;
  }

  // ───────────── module ─────────────

  /** The module from its items in source order; a second `module` line is an E0102. */
  moduleOf(items: readonly (A.ModuleDecl | A.ImportDecl | A.Declaration)[]): Omit<A.Module, 'comments'> {
    let moduleDecl: A.ModuleDecl | undefined;
    const imports: A.ImportDecl[] = [];
    const declarations: A.Declaration[] = [];
    for (const item of items) {
      if (item.kind === 'ModuleDecl') {
        if (moduleDecl) {
          this.diagnostics.push(
            diagnostic('E0102', `the module name is declared twice (first on line ${moduleDecl.range.start.line})`, this.file, item.range),
          );
        } else moduleDecl = item;
      } else if (item.kind === 'FileImport' || item.kind === 'StdImport') imports.push(item);
      else declarations.push(item);
    }
    const out: Mutable<Omit<A.Module, 'comments'>> = {
      kind: 'Module',
      file: this.file,
      imports,
      declarations,
      range: this.range(0, this.text.length),
    };
    if (moduleDecl) out.module = moduleDecl;
    return out;
  }

  // ───────────── declaration properties (value: the token, or the sub-rule built) ─────────────

  capabilityProp(d: Mutable<A.CapabilityDecl>, key: string, v: unknown): void {
    const t = v as IToken;
    switch (key) {
      case 'kind': this.setWord(d, 'capabilityKind', t, CAPABILITY_KINDS, 'capability kind'); break;
      case 'input': d.input = v as A.RecordType; break;
      case 'output': d.output = v as A.TypeExpr; break;
      case 'handler': d.handler = this.stringLit(t, false); break;
      case 'timeout': d.timeout = this.unitLit(t, key, 'duration'); break;
      case 'retrySpec': d.retry = v as A.RetrySpec; break;
      case 'cost': d.cost = this.unitLit(t, key, 'money'); break;
      case 'latency': d.latency = this.unitLit(t, key, 'duration'); break;
      case 'data': this.setWord(d, 'data', t, DATA_CLASSES, 'data class'); break;
      case 'consent': d.consent = (v as IToken[]).map((s) => this.stringLit(s, false)); break;
      case 'requires': d.requires = v as A.Ident[]; break;
      case 'idempotent': d.idempotent = v as boolean; break;
      case 'destructive': d.destructive = v as boolean; break;
      case 'system': d.system = this.stringLit(t); break;
      case 'prompt': d.prompt = this.stringLit(t); break;
      case 'model': d.model = this.stringLit(t, false); break;
      case 'endpoint': d.endpoint = this.stringLit(t, false); break;
      case 'temperature': d.temperature = this.numberLit(t); break;
      // Its range (≥ 1, whole) is E0801 in the compiler (§8.9), not a parse error.
      case 'max_tokens': d.maxTokens = this.numberLit(t); break;
      case 'trust': this.setWord(d, 'trust', t, INTEGRITIES, 'integrity'); break;
      case 'endorses': d.endorses = v as boolean; break;
    }
  }

  resourceProp(d: Mutable<A.ResourceDecl>, key: string, v: unknown): void {
    const t = v as IToken;
    switch (key) {
      case 'kind': this.setWord(d, 'resourceKind', t, RESOURCE_KINDS, 'resource kind'); break;
      case 'provides': d.provides = v as A.Ident[]; break;
      case 'concurrency': d.concurrency = this.integer(t, 'concurrency'); break;
      case 'cost': d.cost = this.unitLit(t, key, 'money'); break;
      case 'latency': d.latency = this.unitLit(t, key, 'duration'); break;
      case 'reliability': d.reliability = this.unitLit(t, key, 'percent'); break;
      case 'location': d.location = this.stringLit(t); break;
      case 'energy': d.energy = this.numberLit(t); break;
      case 'endpoint': d.endpoint = this.stringLit(t, false); break;
      case 'model': d.model = this.stringLit(t, false); break;
      case 'accepts': this.setWord(d, 'accepts', t, DATA_CLASSES, 'data class'); break;
      case 'available': d.availableWhen = v as A.Expr; break;
    }
  }

  policyProp(d: Mutable<A.PolicyDecl>, key: string, v: unknown): void {
    const t = v as IToken;
    switch (key) {
      case 'strategy': this.setWord(d, 'strategy', t, STRATEGIES, 'strategy'); break;
      case 'weights': {
        const bag = this.newBag('the weights');
        const weights: A.WeightDecl[] = [];
        for (const w of v as A.WeightDecl[]) if (this.firstTimeAt(bag, w.key.name, w.key.range)) weights.push(w);
        d.weights = weights;
        break;
      }
      case 'budgetDecl': {
        const b = v as A.BudgetDecl | undefined;
        if (b) (d.budgets as A.BudgetDecl[]).push(b);
        break;
      }
      case 'prefer': this.setWord(d, 'prefer', t, ['local', 'edge', 'cloud'] as const, 'preference'); break;
      case 'max_fallbacks': d.maxFallbacks = this.integer(t, 'max_fallbacks'); break;
      case 'require_consent': d.requireConsent = v as boolean; break;
      case 'rateLimitDecl': (d.rateLimits as A.RateLimitDecl[]).push(v as A.RateLimitDecl); break;
    }
  }

  weight(key: IToken | undefined, value: IToken | undefined, range: Range): A.WeightDecl {
    return { kind: 'WeightDecl', key: this.ident(key), value: this.numberLit(value), range };
  }

  /** A budget. A limit of the wrong unit for its metric is kept: the compiler reports it (E0203). */
  budget(metricTok: IToken | undefined, opTok: IToken | undefined, limitTok: IToken | undefined, range: Range, warn = false): A.BudgetDecl | undefined {
    const metric = this.word(metricTok, ['cost', 'duration'] as const, 'budget metric');
    const op = need(opTok).image as '<=' | '<';
    const limitT = need(limitTok);
    if (!metric) return undefined;
    const limit = limitT.tokenType === MoneyTok ? this.moneyLit(limitT) : this.durationLit(limitT);
    return { kind: 'BudgetDecl', metric, op, limit, ...(warn ? { warn: true } : {}), range };
  }

  rateLimit(capability: A.QualifiedName, count: IToken | undefined, per: IToken | undefined, range: Range): A.RateLimitDecl {
    return { kind: 'RateLimitDecl', capability, count: this.integer(count, 'the rate limit count').value, per: this.unitLit(per, 'per', 'duration'), range };
  }

  guardrailProp(d: Mutable<A.GuardrailDecl>, key: string, v: unknown): void {
    const t = v as IToken;
    switch (key) {
      case 'severity': this.setWord(d, 'severity', t, GUARDRAIL_SEVERITIES, 'severity'); break;
      case 'category': d.category = this.ident(t); break;
      case 'message': d.message = this.stringLit(t); break;
      default: (d.rules as A.GuardrailRule[]).push(v as A.GuardrailRule);
    }
  }

  kindSelector(word: IToken, range: Range): A.Selector {
    const k = this.word(word, CAPABILITY_KINDS, 'capability kind');
    if (!k) throw MISSING;
    return { kind: 'KindSelector', capabilityKind: k, range };
  }

  /** A plan property other than its body (steps, loops and invariants: each path places those). */
  planProp(d: Mutable<A.PlanDecl>, key: string, v: unknown): void {
    const t = v as IToken;
    switch (key) {
      case 'goal': d.goal = this.stringLit(t); break;
      case 'input': d.input = v as A.RecordType; break;
      case 'policy': d.policy = v as A.QualifiedName; break;
      case 'guardrails': d.guardrails = v as A.QualifiedName[]; break;
      case 'priority': this.setWord(d, 'priority', t, PRIORITIES, 'priority'); break;
      case 'deadline': d.deadline = this.unitLit(t, key, 'duration'); break;
      case 'concurrency': d.concurrency = this.integer(t, 'concurrency'); break;
      case 'on_failure': this.setWord(d, 'onFailure', t, ['abort', 'continue', 'rollback'] as const, 'failure mode'); break;
      case 'output': d.output = v as A.RecordLit; break;
      case 'successDecl': (d.success as A.SuccessCriterion[]).push(v as A.SuccessCriterion); break;
    }
  }

  success(label: IToken | undefined, condition: A.Expr, range: Range): A.SuccessCriterion {
    const s: Mutable<A.SuccessCriterion> = { kind: 'SuccessCriterion', condition, range };
    if (label) s.label = this.stringLit(label);
    return s;
  }

  /** A step option (value: its token, or its sub-rule built); `when` in the block yields to an inline one. */
  stepOption(d: Mutable<A.StepDecl>, key: StepOptionKey, v: unknown): void {
    const t = v as IToken;
    switch (key) {
      case 'after': d.after = fitted([...d.after, ...(v as A.Ident[])]); break;
      case 'on': d.on = v as A.QualifiedName; break;
      case 'fallback': d.fallback = v as A.CapabilityCall; break;
      case 'compensate': d.compensate = v as A.CapabilityCall; break;
      case 'timeout': d.timeout = this.unitLit(t, key, 'duration'); break;
      case 'retry': d.retry = v as A.RetrySpec; break;
      case 'join': this.setWord(d, 'join', t, JOIN_RULES, 'join rule'); break;
      case 'on_failure': this.setWord(d, 'onFailure', t, ['abort', 'continue'] as const, 'step failure mode'); break;
      case 'priority': this.setWord(d, 'priority', t, PRIORITIES, 'priority'); break;
      case 'when':
        if (!d.when) d.when = v as A.Expr;
        break;
    }
  }

  argument(name: IToken, value: A.Expr): A.Argument {
    const id = this.ident(name);
    return { kind: 'Argument', name: id, value, range: this.index.join(id.range, value.range) };
  }

  capabilityCall(capability: A.QualifiedName, args: A.Argument[], range: Range): A.CapabilityCall {
    return { kind: 'CapabilityCall', capability, args: fitted(args), range };
  }

  forEachDecl(item: IToken | undefined, list: A.Expr, parallel: IToken | undefined, body: A.BlockItem[], range: Range): A.ForEachDecl {
    const d: Mutable<A.ForEachDecl> = { kind: 'ForEachDecl', item: this.ident(item), list, body, range };
    if (parallel) d.parallel = this.integer(parallel, 'parallel');
    return d;
  }

  /** A race needs two branches at least: one step alone is not a race (E0303). */
  raceDecl(name: IToken | undefined, body: A.StepDecl[], range: Range): A.RaceDecl {
    const id = this.ident(name);
    if (body.length < 2 && !this.hasSyntaxErrorIn(range.start.offset, range.end.offset)) {
      this.diagnostics.push(diagnostic('E0303', `race ${id.name} has ${body.length === 0 ? 'no branch' : 'one branch'}; a race needs two or more steps that compete (a single step needs no race)`, this.file, id.range));
    }
    return { kind: 'RaceDecl', name: id, body, range };
  }

  /** A loop without `max`, or with a `max` outside 1..1000, is E0302: Orch has no unbounded loop. */
  repeatDecl(name: IToken | undefined, max: IToken | undefined, until: A.Expr, onFailure: IToken | undefined, body: A.BlockItem[], range: Range): A.RepeatDecl {
    const id = this.ident(name);
    const d: Mutable<A.RepeatDecl> = { kind: 'RepeatDecl', name: id, until, body, range };
    if (!max) {
      this.diagnostics.push(diagnostic('E0302', `repeat ${id.name} has no bound: write "repeat ${id.name} max N until …" with N from 1 to ${MAX_REPEAT} (Orch has no unbounded loop)`, this.file, id.range));
    } else {
      const n = this.integer(max, 'max');
      if (n.integer && (n.value < 1 || n.value > MAX_REPEAT))
        this.diagnostics.push(diagnostic('E0302', `repeat ${id.name} max ${max.image}: the bound must be from 1 to ${MAX_REPEAT}`, this.file, n.range));
      d.max = n;
    }
    if (onFailure) this.setWord(d, 'onFailure', onFailure, ['abort', 'continue'] as const, 'loop failure mode');
    return d;
  }

  // ───────────── triggers ─────────────

  triggerParts(): TriggerParts {
    return { sourceKey: '', rest: {} };
  }

  /** A trigger item; a second source is an E0001 (value: the source built, or the token / sub-rule). */
  triggerProp(t: TriggerParts, key: string, v: unknown): void {
    switch (key) {
      case 'timezone': t.timezone = v as IToken; break;
      case 'where': t.where = v as { expr: A.Expr; range: Range }; break;
      case 'run': t.plan = v as A.QualifiedName; break;
      case 'with': t.rest.with = v as A.RecordLit; break;
      case 'debounce': t.rest.debounce = this.unitLit(v as IToken, key, 'duration'); break;
      case 'consent': t.rest.consent = (v as IToken[]).map((s) => this.stringLit(s, false)); break;
      default: {
        const s = v as A.TriggerSource | undefined;
        if (!s) break;
        if (t.source) {
          this.error(`a trigger has one source; '${key}' conflicts with '${t.sourceKey}'`, s.range);
          break;
        }
        t.source = s;
        t.sourceKey = key;
      }
    }
  }

  /** The trigger from its items: `timezone` and `where` join their source; source and plan are required. */
  triggerDecl(name: A.Ident, t: TriggerParts, range: Range): A.TriggerDecl {
    const src = t.source;
    let source = src;
    if (t.timezone) {
      if (src?.kind === 'ScheduleSource') source = { ...src, timezone: this.stringLit(t.timezone, false), range: this.index.join(src.range, this.tokRange(t.timezone)) };
      else this.error("'timezone' only applies to a 'schedule' trigger", this.tokRange(t.timezone));
    }
    if (t.where) {
      if (src?.kind === 'EventSource') source = { ...src, where: t.where.expr, range: this.index.join(src.range, t.where.range) };
      else this.error("'where' only applies to an 'event' trigger", t.where.range);
    }
    // A trigger whose block already has a syntax error is not told what it lacks as well.
    const broken = this.hasSyntaxErrorIn(range.start.offset, range.end.offset + 1);
    if (!source) {
      if (!broken) this.error(`trigger '${name.name}' needs a source: schedule, event, manual, api, when or after`, name.range);
      throw MISSING;
    }
    if (!t.plan) {
      if (!broken) this.error(`trigger '${name.name}' needs 'run PLAN'`, name.range);
      throw MISSING;
    }
    return { kind: 'TriggerDecl', name, source, plan: t.plan, ...t.rest, range } as A.TriggerDecl;
  }

  // ───────────── verification ─────────────

  /** An invariant is named by a word or by a string without interpolation. */
  invariantName(nameTok: IToken): A.Ident | A.StringLit {
    return nameTok.tokenType === StringTok ? this.stringLit(nameTok, false) : this.ident(nameTok);
  }

  invariantDecl(name: A.Ident | A.StringLit, modality: IToken, condition: A.Expr, range: Range): A.InvariantDecl {
    const d: Mutable<A.InvariantDecl> = { kind: 'InvariantDecl', name, modality: modality.image as A.Modality, condition, range };
    return this.withDoc(d, range.start.offset);
  }

  /** `simulate context { … }`: a signal named twice is E0102. */
  simulateContext(signals: readonly A.StaleSignal[], range: Range): A.SimulateContextDecl {
    return { kind: 'SimulateContextDecl', signals: this.firstOfEach(signals, 'simulate context', (s) => s.signal), range };
  }

  staleSignal(name: IToken | undefined, share: IToken | undefined, range: Range): A.StaleSignal {
    return { kind: 'StaleSignal', signal: this.ident(name), share: this.unitLit(share, 'stale', 'percent'), range };
  }

  // ───────────── context sources (v0.4 §9.4) ─────────────

  source(name: IToken | undefined, topics: readonly A.TopicMapping[], range: Range): A.SourceDecl {
    return { kind: 'SourceDecl', name: this.ident(name), topics: fitted([...topics]), range };
  }

  /** `topic "T" sets X [from E] [at E]`: `from` and `at` in either order, each once (E0102). */
  topic(topic: IToken | undefined, signal: IToken | undefined, options: readonly KeyedValue[] | undefined, range: Range): A.TopicMapping {
    const m: Mutable<A.TopicMapping> = { kind: 'TopicMapping', topic: this.stringLit(topic, false), signal: this.ident(signal), range };
    if (!options) return m;
    const bag = options.length > 1 ? this.newBag(`the topic mapping of '${m.signal.name}'`) : undefined;
    for (const [key, value] of options) {
      if (bag && !this.firstTime(bag, key.image, key.startOffset, key.endOffset! + 1)) continue;
      if (key.image === 'from') m.from = value;
      else m.at = value;
    }
    return m;
  }

  // ───────────── tests of plans (v0.4 §9.2) ─────────────

  /** A test before its items; `testItem` fills it, `testDone` checks it has a plan. */
  testStart(name: IToken | undefined, range: Range): Mutable<A.TestDecl> {
    const tok = need(name);
    let title: A.StringLit;
    if (tok.tokenType === StringTok) title = this.stringLit(tok, false);
    else {
      this.error(`a test is named by a string: test "${tok.image}" { … }`, this.tokRange(tok));
      title = { kind: 'StringLit', parts: [tok.image], range: this.tokRange(tok) };
    }
    const d = { kind: 'TestDecl', name: title, range, mocks: [], decisions: [], signals: [], expects: [] };
    return d as unknown as Mutable<A.TestDecl>;
  }

  testItem(d: Mutable<A.TestDecl>, key: string, v: unknown): void {
    switch (key) {
      case 'plan': d.plan = v as A.QualifiedName; break;
      case 'input': d.input = v as A.RecordLit; break;
      case 'context': d.context = v as A.RecordLit; break;
      case 'started_by': d.startedBy = this.stringLit(v as IToken, false); break;
      case 'testOrigin': d.origin = v as A.TestOrigin; break;
      case 'mockDecl': (d.mocks as A.MockDecl[]).push(v as A.MockDecl); break;
      case 'decisionDecl': (d.decisions as A.DecisionDecl[]).push(v as A.DecisionDecl); break;
      case 'signalDecl': (d.signals as A.SignalDecl[]).push(v as A.SignalDecl); break;
      case 'expectDecl': (d.expects as A.ExpectDecl[]).push(v as A.ExpectDecl); break;
    }
  }

  /** A test names the plan it runs; without `plan P` it is an E0001 and left out. */
  testDone(d: Mutable<A.TestDecl>): A.TestDecl {
    if (!d.plan) {
      const range = d.range;
      if (!this.hasSyntaxErrorIn(range.start.offset, range.end.offset + 1)) this.error(`test "${this.plainText(d.name)}" needs 'plan P' (the plan it runs)`, d.name.range);
      throw MISSING;
    }
    return d;
  }

  private plainText(s: A.StringLit): string {
    return s.parts.filter((p): p is string => typeof p === 'string').join('');
  }

  testOrigin(run: IToken | undefined, hash: IToken | undefined, range: Range): A.TestOrigin {
    return { kind: 'TestOrigin', run: this.stringLit(run, false), irHash: this.stringLit(hash, false), range };
  }

  /** A mock before its options (`mockOption` adds them). */
  mock(capability: A.QualifiedName, where: A.Expr | undefined, fails: IToken | undefined, times: IToken | undefined, returns: A.Expr[], range: Range): Mutable<A.MockDecl> {
    const m: Mutable<A.MockDecl> = { kind: 'MockDecl', capability, returns: fitted(returns), range };
    if (where) m.where = where;
    if (fails) m.fails = this.stringLit(fails, false);
    if (times) m.times = this.integer(times, 'times');
    return m;
  }

  /** `latency D`, `cost M`, `usage { … }`; `cost` and `usage` exclude each other. */
  mockOption(m: Mutable<A.MockDecl>, key: string, v: unknown): void {
    switch (key) {
      case 'latency': m.latency = this.unitLit(v as IToken, key, 'duration'); break;
      case 'cost':
      case 'usage': {
        const other = key === 'cost' ? m.usage : m.cost;
        const value = key === 'cost' ? this.unitLit(v as IToken, key, 'money') : (v as A.RecordLit);
        if (other) {
          this.error(`a mock gives 'cost' or 'usage', not both (usage is priced as a model call is)`, value.range);
          break;
        }
        if (key === 'cost') m.cost = value as A.MoneyLit;
        else m.usage = value as A.RecordLit;
        break;
      }
    }
  }

  decision(kw: IToken | undefined, step: IToken | undefined, people: readonly IToken[] | undefined, at: A.DurationLit | undefined, range: Range): A.DecisionDecl {
    const d: Mutable<A.DecisionDecl> = {
      kind: 'DecisionDecl',
      decision: need(kw).image as 'approve' | 'reject',
      step: this.ident(step),
      by: need(people).map((p) => this.stringLit(p, false)),
      range,
    };
    if (at) d.at = at;
    return d;
  }

  signal(name: IToken | undefined, value: A.Expr, at: A.DurationLit, range: Range): A.SignalDecl {
    return { kind: 'SignalDecl', signal: this.ident(name), value, at, range };
  }

  /** `at D` / `at -D` in a test: a duration, negative when signed (the checker reports that, E0901). */
  virtualTime(minus: IToken | undefined, t: IToken | undefined): A.DurationLit {
    const d = this.unitLit(t, 'at', 'duration');
    if (!minus) return d;
    return { kind: 'DurationLit', value: d.value === 0 ? 0 : -d.value, unit: d.unit, range: this.range(minus.startOffset, d.range.end.offset) };
  }

  expect(always: boolean, condition: A.Expr, range: Range): A.ExpectDecl {
    return always ? { kind: 'ExpectDecl', always: true, condition, range } : { kind: 'ExpectDecl', condition, range };
  }

  simulateProp(d: Mutable<A.SimulateDecl>, key: string, v: unknown): void {
    switch (key) {
      case 'output': d.output = v as A.RecordLit; break;
      case 'fail': d.fail = this.unitLit(v as IToken, key, 'percent'); break;
      case 'latency': {
        const e = v as A.Expr;
        if (isLitOrRange(e, 'DurationLit')) d.latency = e as A.DurationLit | A.RangeExpr;
        else this.quantityError(e, "'latency' needs a duration or a duration range such as 1s..5s", 'expected a duration or a duration range such as 1s..5s');
        break;
      }
      case 'cost': {
        const e = v as A.Expr;
        if (isLitOrRange(e, 'MoneyLit')) d.cost = e as A.MoneyLit | A.RangeExpr;
        else this.quantityError(e, "'cost' needs an amount of money or a range such as 0.01usd..0.05usd", 'expected an amount of money or a range such as 0.01usd..0.05usd');
        break;
      }
    }
  }
}
