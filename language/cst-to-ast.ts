/**
 * CST → AST (language/ast.ts shapes). Also reports the errors that are easier to state on the
 * tree than in the grammar: a property given twice (E0102), an unknown enum word such as
 * `kind robot` (E0001, listing the allowed words), a range outside `simulate`.
 *
 * After error recovery the CST may be partial. A node that lacks a part the AST requires is
 * dropped (the syntax error was already reported), so every AST node handed on is well formed.
 */
import type { CstNode, IToken } from 'chevrotain';
import type * as A from './ast.js';
import {
  CAPABILITY_KINDS, DATA_CLASSES, GUARDRAIL_SEVERITIES, JOIN_RULES, PRIORITIES, RESOURCE_KINDS, STRATEGIES,
} from './ast.js';
import { diagnostic, type Diagnostic, type Range } from './diagnostic.js';
import { child, isMissing, need, nodes, nodeSpan, onlyChild, token, tokens, MISSING } from './cst-access.js';
import { DurationTok, MoneyTok, NumberTok, PercentTok, RESERVED_WORDS, StringTok, isTerminatedString, lex, scanInterpolation } from './lexer.js';
import { parseExpressionTokens } from './parser.js';
import { LineIndex } from './source.js';
import { syntaxErrorsToDiagnostics } from './syntax-errors.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export const PRIMITIVES = new Set<string>(['string', 'number', 'int', 'bool', 'duration', 'money', 'percent', 'any', 'secret']);

/** Sets an optional property once; the second occurrence is an E0102 naming the first. */
interface PropertyBag {
  readonly owner: string;
  /** Property key → [start, end) offsets of its first occurrence. */
  readonly seen: Map<string, [number, number]>;
}

export class AstBuilder {
  readonly diagnostics: Diagnostic[] = [];
  protected inSimulate = false;

  constructor(
    readonly file: string,
    readonly text: string,
    readonly index: LineIndex,
    private readonly docs: DocComments,
    /** Offsets of the syntax errors already reported, sorted (to avoid piling on). */
    private readonly syntaxErrorOffsets: readonly number[] = [],
  ) {}

  /** Whether a syntax error was reported inside [start, end). */
  private hasSyntaxErrorIn(start: number, end: number): boolean {
    return this.syntaxErrorOffsets.some((o) => o >= start && o < end);
  }

  // ───────────── ranges, names, errors ─────────────

  range(start: number, end: number): Range {
    return this.index.range(start, end);
  }

  tokRange(t: IToken): Range {
    return this.range(t.startOffset, t.endOffset! + 1);
  }

  nodeRange(n: CstNode): Range {
    const s = need(nodeSpan(n));
    return this.range(s[0], s[1]);
  }

  join(a: { range: Range }, b: { range: Range }): Range {
    return { start: a.range.start, end: b.range.end };
  }

  error(message: string, range: Range): void {
    this.diagnostics.push(diagnostic('E0001', message, this.file, range));
  }

  ident(t: IToken | undefined): A.Ident {
    const tok = need(t);
    return { kind: 'Ident', name: tok.image, range: this.tokRange(tok) };
  }

  qualifiedName(n: CstNode | undefined): A.QualifiedName {
    const parts = tokens(need(n), 'part').map((t) => this.ident(t));
    if (parts.length === 0) throw MISSING;
    return { kind: 'QualifiedName', parts, range: this.join(parts[0]!, parts[parts.length - 1]!) };
  }

  nameList(n: CstNode | undefined): A.Ident[] {
    return tokens(need(n), 'name').map((t) => this.ident(t));
  }

  /** An enum word such as `kind agent`; an unknown word is an E0001 listing the allowed ones. */
  word<T extends string>(t: IToken | undefined, allowed: readonly T[], what: string): T | undefined {
    const tok = need(t);
    if ((allowed as readonly string[]).includes(tok.image)) return tok.image as T;
    this.error(`unknown ${what} '${tok.image}' (expected one of: ${allowed.join(', ')})`, this.tokRange(tok));
    return undefined;
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

  // ───────────── literals ─────────────

  integer(t: IToken | undefined, what: string): A.NumberLit {
    const lit = this.numberLit(need(t));
    if (!lit.integer || lit.value < 0) this.error(`${what} must be a whole number, found '${need(t).image}'`, lit.range);
    return lit;
  }

  numberLit(t: IToken): A.NumberLit {
    return { kind: 'NumberLit', value: Number(t.image), integer: !t.image.includes('.'), range: this.tokRange(t) };
  }

  durationLit(t: IToken | undefined): A.DurationLit {
    const tok = need(t);
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(tok.image);
    if (!m) throw MISSING;
    return { kind: 'DurationLit', value: Number(m[1]), unit: m[2] as A.DurationUnit, range: this.tokRange(tok) };
  }

  moneyLit(t: IToken | undefined): A.MoneyLit {
    const tok = need(t);
    const m = /^(\d+(?:\.\d+)?)([a-z]{3})$/.exec(tok.image);
    if (!m) throw MISSING;
    return { kind: 'MoneyLit', amount: Number(m[1]), currency: m[2]!, range: this.tokRange(tok) };
  }

  percentLit(t: IToken | undefined): A.PercentLit {
    const tok = need(t);
    return { kind: 'PercentLit', value: Number(tok.image.slice(0, -1)), range: this.tokRange(tok) };
  }

  boolLit(n: CstNode | undefined): boolean {
    const node = need(n);
    if (token(node, 'Kw_true')) return true;
    if (token(node, 'Kw_false')) return false;
    throw MISSING;
  }

  numericLiteral(t: IToken): A.Expr {
    switch (t.tokenType) {
      case NumberTok:
        return this.numberLit(t);
      case DurationTok:
        return this.durationLit(t);
      case MoneyTok:
        return this.moneyLit(t);
      case PercentTok:
        return this.percentLit(t);
      default:
        throw MISSING; // a bad unit, already reported by the lexer
    }
  }

  /** A string literal; `${…}` parts are parsed as expressions with their own ranges. */
  stringLit(t: IToken | undefined, allowInterpolation = true): A.StringLit {
    const tok = need(t);
    const image = tok.image;
    const base = tok.startOffset;
    const closed = isTerminatedString(image);
    const end = closed ? image.length - 1 : image.length;
    const parts: (string | A.Expr)[] = [];
    let text = '';
    let i = 1;
    while (i < end) {
      const c = image[i]!;
      if (c === '\\') {
        const e = image[i + 1];
        const decoded = e === undefined ? undefined : ESCAPES[e];
        if (decoded === undefined) {
          this.error(`unknown escape '\\${e ?? ''}' in string (use \\" \\\\ \\n \\t \\r or \\$)`, this.range(base + i, base + i + 2));
          text += e ?? '';
        } else text += decoded;
        i += 2;
        continue;
      }
      if (c === '$' && image[i + 1] === '{') {
        const close = scanInterpolation(image, i + 2);
        const terminated = image[close - 1] === '}' && close <= end;
        const innerStart = i + 2;
        const innerEnd = terminated ? close - 1 : Math.min(close, end);
        if (!allowInterpolation) {
          this.error('interpolation ${…} is not allowed here', this.range(base + i, base + innerEnd + (terminated ? 1 : 0)));
        } else if (!terminated) {
          this.error("unterminated interpolation (missing '}')", this.range(base + i, base + i + 2));
        } else {
          if (text) parts.push(text);
          text = '';
          const expr = this.interpolation(image.slice(innerStart, innerEnd), base + innerStart, base + i);
          if (expr) parts.push(expr);
        }
        i = Math.max(innerEnd + (terminated ? 1 : 0), i + 2);
        continue;
      }
      // A run of plain characters, appended at once.
      let j = i + 1;
      while (j < end) {
        const k = image.charCodeAt(j);
        if (k === 92 /* \\ */ || k === 36 /* $ */) break;
        j++;
      }
      text += j === i + 1 ? c : image.slice(i, j);
      i = j;
    }
    if (text || parts.length === 0) parts.push(text);
    return { kind: 'StringLit', parts, range: this.tokRange(tok) };
  }

  /** Plain text of a string that must not interpolate (enum values, invariant names, paths). */
  plainString(t: IToken | undefined): string {
    const lit = this.stringLit(t, false);
    return lit.parts.filter((p): p is string => typeof p === 'string').join('');
  }

  private interpolation(source: string, offset: number, dollarOffset: number): A.Expr | undefined {
    if (source.trim() === '') {
      this.error('empty interpolation ${}', this.range(dollarOffset, offset + source.length + 1));
      return undefined;
    }
    const path = this.namePath(source, offset);
    if (path) return path;
    const lexed = lex(source);
    for (const p of lexed.problems) this.error(p.message, this.range(offset + p.offset, offset + p.offset + p.length));
    for (const t of lexed.tokens) {
      t.startOffset += offset;
      t.endOffset = (t.endOffset ?? t.startOffset) + offset;
    }
    const { cst, errors } = parseExpressionTokens(lexed.tokens);
    this.diagnostics.push(...syntaxErrorsToDiagnostics(errors, this.file, this.index, offset + source.length, 1));
    if (errors.length > 0) return undefined;
    return this.attempt(() => this.expression(cst));
  }

  /**
   * Fast path for the usual interpolation, a dotted name (`${input.name}`,
   * `${fetch.output.body}`): built directly, without a second lexer and parser run.
   */
  private namePath(source: string, offset: number): A.Expr | undefined {
    // A scanner, not a regular expression: this runs for most strings of a large plan.
    let acc: A.Expr | undefined;
    let start = 0;
    let wantWord = true;
    let i = 0;
    while (i < source.length) {
      const c = source.charCodeAt(i);
      if (isWordStart(c)) {
        if (!wantWord) return undefined;
        let j = i + 1;
        while (j < source.length && isWordPart(source.charCodeAt(j))) j++;
        const word = source.slice(i, j);
        if (RESERVED.has(word)) return undefined;
        const s = offset + i;
        const e = offset + j;
        if (!acc) {
          acc = { kind: 'NameExpr', name: word, range: this.range(s, e) };
          start = s;
        } else {
          const property: A.Ident = { kind: 'Ident', name: word, range: this.range(s, e) };
          acc = { kind: 'MemberExpr', object: acc, property, range: this.range(start, e) };
        }
        wantWord = false;
        i = j;
      } else if (c === 46 /* . */) {
        if (wantWord) return undefined;
        wantWord = true;
        i++;
      } else if (SPACE.test(source[i]!)) {
        i++;
      } else return undefined;
    }
    return wantWord ? undefined : acc;
  }

  // ───────────── expressions ─────────────

  /** An `expression` node: operands, prefix and binary operators in source order (flat CST). */
  expression(n: CstNode | undefined): A.Expr {
    const node = need(n);
    const atoms = nodes(node, 'atom');
    const ops = tokens(node, 'op');
    const prefixes = tokens(node, 'prefix');
    const dotdot = token(node, 'DotDot');
    // Fast path: a lone operand (by far the most common expression), inline in this node.
    if (atoms.length === 0 && ops.length === 0 && prefixes.length === 0 && !dotdot) return this.atom(node);
    const items: ExprItem[] = [{ at: operandStart(node), atom: node }];
    for (const a of atoms) items.push({ at: need(nodeSpan(a))[0], atom: a });
    for (const t of ops) items.push({ at: t.startOffset, op: t });
    for (const t of prefixes) items.push({ at: t.startOffset, prefix: t });
    items.sort((x, y) => x.at - y.at);
    if (!dotdot) return this.climb(items);
    const from = this.climb(items.filter((i) => i.at < dotdot.startOffset));
    const to = this.climb(items.filter((i) => i.at > dotdot.startOffset));
    return this.rangeExpr(from, to);
  }

  rangeExpr(from: A.Expr, to: A.Expr): A.RangeExpr {
    const r: A.RangeExpr = { kind: 'RangeExpr', from, to, range: this.join(from, to) };
    if (!this.inSimulate) this.error('a range (a..b) is only allowed inside a simulate block', r.range);
    return r;
  }

  /** Precedence climbing over a flat operand/operator list (precedences in `PRECEDENCE`). */
  climb(items: readonly ExprItem[]): A.Expr {
    let i = 0;
    const parse = (minPrec: number): A.Expr => {
      const it = items[i++];
      let left: A.Expr;
      if (!it) throw MISSING;
      if (it.prefix) {
        const isNot = it.prefix.image === 'not';
        const operand = parse(isNot ? PREC_COMPARISON : PREC_UNARY);
        left = {
          kind: 'UnaryExpr',
          op: isNot ? 'not' : '-',
          operand,
          range: { start: this.tokRange(it.prefix).start, end: operand.range.end },
        };
      } else if (it.expr) {
        left = it.expr;
      } else if (it.atom) {
        left = this.atom(it.atom);
      } else throw MISSING;
      let comparisons = 0;
      for (;;) {
        const next = items[i];
        if (!next?.op) break;
        const op = next.op.image as A.BinaryOp;
        const prec = PRECEDENCE[op];
        if (prec < minPrec) break;
        i++;
        if (prec === PREC_COMPARISON && ++comparisons > 1) {
          this.error(`comparisons do not chain: combine them with 'and' (found a second '${op}')`, this.tokRange(next.op));
        }
        const right = parse(op === 'implies' ? prec : prec + 1);
        left = this.binary(op, left, right);
      }
      return left;
    };
    const e = parse(0);
    if (i < items.length) throw MISSING;
    return e;
  }

  private binary(op: A.BinaryOp, left: A.Expr, right: A.Expr): A.BinaryExpr {
    return { kind: 'BinaryExpr', op, left, right, range: this.join(left, right) };
  }

  /** An operand with its member / index accesses. */
  private atom(n: CstNode): A.Expr {
    let acc = this.primary(n);
    const dots = tokens(n, 'Dot');
    const brackets = tokens(n, 'LBracket');
    if (dots.length === 0 && brackets.length === 0) return acc;
    const members = tokens(n, 'member');
    const start = acc.range.start.offset;
    if (brackets.length === 0) {
      // Member accesses only (the common `step.output.field`): already in source order.
      if (members.length !== dots.length) throw MISSING;
      for (const m of members) {
        acc = { kind: 'MemberExpr', object: acc, property: this.ident(m), range: this.range(start, m.endOffset! + 1) };
      }
      return acc;
    }
    const indexes = nodes(n, 'index');
    const closers = tokens(n, 'RBracket');
    if (members.length !== dots.length || indexes.length !== brackets.length) throw MISSING;
    const steps: { at: number; member?: IToken; index?: CstNode; close?: IToken }[] = [
      ...dots.map((d, k) => ({ at: d.startOffset, member: members[k]! })),
      ...brackets.map((b, k) => ({ at: b.startOffset, index: indexes[k]!, close: closers[k] })),
    ].sort((x, y) => x.at - y.at);
    for (const s of steps) {
      if (s.member) {
        acc = { kind: 'MemberExpr', object: acc, property: this.ident(s.member), range: this.range(start, s.member.endOffset! + 1) };
      } else {
        const index = this.expression(s.index);
        const end = s.close ? s.close.endOffset! + 1 : index.range.end.offset;
        acc = { kind: 'IndexExpr', object: acc, index, range: this.range(start, end) };
      }
    }
    return acc;
  }

  /** The operand itself, without postfix accesses. */
  private primary(n: CstNode): A.Expr {
    const str = token(n, 'string');
    if (str) return this.stringLit(str);
    const num = token(n, 'number');
    if (num) return this.numericLiteral(num);
    const b = token(n, 'bool');
    if (b) return { kind: 'BoolLit', value: b.image === 'true', range: this.tokRange(b) };
    const nul = token(n, 'null');
    if (nul) return { kind: 'NullLit', range: this.tokRange(nul) };
    const name = token(n, 'name');
    if (name) {
      const args = child(n, 'positionalArgs');
      if (!args) return { kind: 'NameExpr', name: name.image, range: this.tokRange(name) };
      return {
        kind: 'CallExpr',
        callee: this.ident(name),
        args: nodes(args, 'arg').map((a) => this.expression(a)),
        range: this.range(name.startOffset, need(nodeSpan(args))[1]),
      };
    }
    const inner = child(n, 'inner');
    if (inner) {
      const e = this.expression(inner);
      const open = need(token(n, 'LParen'));
      const close = token(n, 'RParen');
      return { kind: 'ParenExpr', inner: e, range: this.range(open.startOffset, close ? close.endOffset! + 1 : e.range.end.offset) };
    }
    const list = child(n, 'listLit');
    if (list) return { kind: 'ListLit', items: nodes(list, 'item').map((i) => this.expression(i)), range: this.nodeRange(list) };
    const rec = child(n, 'recordLit');
    if (rec) return this.recordLit(rec);
    throw MISSING;
  }

  recordLit(n: CstNode | undefined): A.RecordLit {
    const node = need(n);
    const fields: A.RecordField[] = [];
    const bag = this.newBag('this record');
    for (const f of nodes(node, 'recordField')) {
      const field = this.attempt((): A.RecordField => {
        const key = this.ident(token(f, 'key'));
        const value = this.expression(child(f, 'expression'));
        return { kind: 'RecordField', key, value, range: this.nodeRange(f) };
      });
      if (field && this.firstTimeAt(bag, field.key.name, field.key.range)) fields.push(field);
    }
    return { kind: 'RecordLit', fields, range: this.nodeRange(node) };
  }

  // ───────────── types ─────────────

  typeExpr(n: CstNode | undefined): A.TypeExpr {
    const node = need(n);
    const inner = need(onlyChild(node));
    let t: A.TypeExpr;
    if (inner.name === 'enumType') {
      t = { kind: 'EnumType', values: tokens(inner, 'value').map((v) => this.plainString(v)), range: this.nodeRange(inner) };
    } else if (inner.name === 'recordType') {
      t = this.recordType(inner);
    } else {
      t = this.namedType(inner);
    }
    if (token(node, 'Question')) return { kind: 'OptionalType', inner: t, range: this.nodeRange(node) };
    return t;
  }

  recordType(n: CstNode | undefined): A.RecordType {
    const node = need(n);
    const fields: A.FieldDecl[] = [];
    const bag = this.newBag('this record type');
    for (const f of nodes(node, 'fieldDecl')) {
      const field = this.attempt(() => this.fieldDecl(f));
      if (field && this.firstTimeAt(bag, field.name.name, field.name.range)) fields.push(field);
    }
    return { kind: 'RecordType', fields, range: this.nodeRange(node) };
  }

  private fieldDecl(n: CstNode): A.FieldDecl {
    const span = need(nodeSpan(n));
    const name = this.ident(token(n, 'name'));
    const type = this.typeExpr(child(n, 'typeExpr'));
    const f: Mutable<A.FieldDecl> = { kind: 'FieldDecl', name, type, range: this.range(span[0], span[1]) };
    const dc = token(n, 'dataClass');
    if (dc) {
      const w = this.word(dc, DATA_CLASSES, 'data class');
      if (w) f.dataClass = w;
    }
    const def = child(n, 'default');
    if (def) f.default = this.expression(def);
    const doc = this.doc(span[0]);
    if (doc !== undefined) f.doc = doc;
    return f;
  }

  private namedType(n: CstNode): A.TypeExpr {
    const name = this.qualifiedName(child(n, 'qualifiedName'));
    const args = nodes(n, 'arg');
    const range = this.nodeRange(n);
    const simple = name.parts.length === 1 ? name.parts[0]!.name : undefined;
    if (simple === 'list' || simple === 'map') {
      if (args.length !== 1) {
        this.error(`${simple} takes one type argument: ${simple}<T>`, range);
        throw MISSING;
      }
      const inner = this.typeExpr(args[0]);
      return simple === 'list'
        ? { kind: 'ListType', element: inner, range }
        : { kind: 'MapType', value: inner, range };
    }
    if (args.length > 0) {
      this.error(`type '${name.parts.map((p) => p.name).join('.')}' takes no type arguments`, range);
    }
    if (simple !== undefined && PRIMITIVES.has(simple)) {
      return { kind: 'PrimitiveType', name: simple as A.PrimitiveTypeName, range: name.range };
    }
    return { kind: 'NamedType', name, range: name.range };
  }

  // ───────────── shared properties ─────────────

  retrySpec(n: CstNode | undefined): A.RetrySpec {
    const node = need(n);
    const attempts = this.integer(token(node, 'attempts'), 'the retry count');
    const r: Mutable<A.RetrySpec> = { kind: 'RetrySpec', attempts: attempts.value, range: this.nodeRange(node) };
    const kindTok = token(node, 'backoffKind');
    if (kindTok) {
      const kind = this.word(kindTok, ['fixed', 'exponential'] as const, 'backoff');
      const delay = this.durationLit(token(node, 'delay'));
      const maxTok = token(node, 'max');
      if (kind) r.backoff = maxTok ? { kind, delay, max: this.durationLit(maxTok) } : { kind, delay };
    }
    return r;
  }

  // ───────────── module ─────────────

  module(root: CstNode): Omit<A.Module, 'comments'> {
    let moduleDecl: A.ModuleDecl | undefined;
    const imports: A.ImportDecl[] = [];
    const declarations: A.Declaration[] = [];
    for (const item of nodes(root, 'topItem')) {
      const decl = need(onlyChild(item));
      switch (decl.name) {
        case 'moduleDecl': {
          const m = this.attempt((): A.ModuleDecl => ({
            kind: 'ModuleDecl',
            name: this.qualifiedName(child(decl, 'qualifiedName')),
            range: this.nodeRange(decl),
          }));
          if (!m) break;
          if (moduleDecl) {
            this.diagnostics.push(
              diagnostic('E0102', `the module name is declared twice (first on line ${moduleDecl.range.start.line})`, this.file, m.range),
            );
          } else moduleDecl = m;
          break;
        }
        case 'importDecl': {
          const imp = this.attempt(() => this.importDecl(decl));
          if (imp) imports.push(imp);
          break;
        }
        default: {
          const d = this.attempt(() => this.declaration(decl));
          if (d) declarations.push(d);
        }
      }
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

  private importDecl(n: CstNode): A.ImportDecl {
    const range = this.nodeRange(n);
    const path = token(n, 'path');
    if (path) {
      return {
        kind: 'FileImport',
        path: this.plainString(path),
        pathRange: this.tokRange(path),
        alias: this.ident(token(n, 'alias')),
        range,
      };
    }
    const imp: Mutable<A.StdImport> = { kind: 'StdImport', path: this.qualifiedName(child(n, 'qualifiedName')), range };
    if (token(n, 'LCurly')) {
      const list = child(n, 'nameList');
      imp.names = list ? this.nameList(list) : [];
    }
    return imp;
  }

  private declaration(n: CstNode): A.Declaration {
    const span = need(nodeSpan(n));
    const doc = this.doc(span[0]);
    const d = this.declarationBody(n);
    return doc === undefined ? d : { ...d, doc };
  }

  private declarationBody(n: CstNode): A.Declaration {
    switch (n.name) {
      case 'typeAlias':
        return {
          kind: 'TypeAliasDecl',
          name: this.ident(token(n, 'name')),
          type: this.typeExpr(child(n, 'typeExpr')),
          range: this.nodeRange(n),
        };
      case 'capabilityDecl':
        return this.capability(n);
      case 'resourceDecl':
        return this.resource(n);
      case 'policyDecl':
        return this.policy(n);
      case 'guardrailDecl':
        return this.guardrail(n);
      case 'contextDecl': {
        const rec = this.recordType(child(n, 'recordType'));
        return { kind: 'ContextDecl', fields: rec.fields, range: this.nodeRange(n) };
      }
      case 'planDecl':
        return this.plan(n);
      case 'triggerDecl':
        return this.trigger(n);
      case 'invariantDecl':
        return this.invariant(n);
      case 'simulateDecl':
        return this.simulate(n);
      default:
        throw MISSING;
    }
  }

  /** Walks the property sub-rules of a block; `key` is the property keyword (or a sub-rule). */
  private properties(n: CstNode, rule: string, owner: string, apply: (key: string, prop: CstNode) => void): void {
    const bag = this.newBag(owner);
    for (const prop of nodes(n, rule)) {
      const keyTok = token(prop, 'key');
      const sub = keyTok ? undefined : onlyChild(prop);
      const key = keyTok?.image ?? sub?.name;
      if (!key) continue;
      const propSpan = nodeSpan(prop);
      if (!propSpan) continue;
      const repeatable = REPEATABLE.has(key);
      if (!repeatable && !this.firstTime(bag, keyName(key), propSpan[0], propSpan[1])) continue;
      this.attempt(() => apply(key, sub ?? prop));
    }
  }

  private capability(n: CstNode): A.CapabilityDecl {
    const name = this.ident(token(n, 'name'));
    const d: Mutable<A.CapabilityDecl> = { kind: 'CapabilityDecl', name, range: this.nodeRange(n) };
    this.properties(n, 'capabilityProp', `capability '${name.name}'`, (key, p) => {
      switch (key) {
        case 'kind': {
          const w = this.word(token(p, 'word'), CAPABILITY_KINDS, 'capability kind');
          if (w) d.capabilityKind = w;
          break;
        }
        case 'input': d.input = this.recordType(child(p, 'recordType')); break;
        case 'output': d.output = this.typeExpr(child(p, 'typeExpr')); break;
        case 'handler': d.handler = this.stringLit(token(p, 'String'), false); break;
        case 'timeout': d.timeout = this.durationLit(token(p, 'Duration')); break;
        case 'retrySpec': d.retry = this.retrySpec(p); break;
        case 'cost': d.cost = this.moneyLit(token(p, 'Money')); break;
        case 'latency': d.latency = this.durationLit(token(p, 'Duration')); break;
        case 'data': {
          const w = this.word(token(p, 'word'), DATA_CLASSES, 'data class');
          if (w) d.data = w;
          break;
        }
        case 'consent': d.consent = tokens(need(child(p, 'stringList')), 'value').map((t) => this.stringLit(t, false)); break;
        case 'requires': d.requires = this.nameList(child(p, 'nameList')); break;
        case 'idempotent': d.idempotent = this.boolLit(child(p, 'boolLit')); break;
      }
    });
    return d;
  }

  private resource(n: CstNode): A.ResourceDecl {
    const name = this.ident(token(n, 'name'));
    const d: Mutable<A.ResourceDecl> = { kind: 'ResourceDecl', name, range: this.nodeRange(n) };
    this.properties(n, 'resourceProp', `resource '${name.name}'`, (key, p) => {
      switch (key) {
        case 'kind': {
          const w = this.word(token(p, 'word'), RESOURCE_KINDS, 'resource kind');
          if (w) d.resourceKind = w;
          break;
        }
        case 'provides': d.provides = this.nameList(child(p, 'nameList')); break;
        case 'concurrency': d.concurrency = this.integer(token(p, 'Number'), 'concurrency'); break;
        case 'cost': d.cost = this.moneyLit(token(p, 'Money')); break;
        case 'latency': d.latency = this.durationLit(token(p, 'Duration')); break;
        case 'reliability': d.reliability = this.percentLit(token(p, 'Percent')); break;
        case 'location': d.location = this.stringLit(token(p, 'String')); break;
        case 'energy': d.energy = this.numberLit(need(token(p, 'Number'))); break;
      }
    });
    return d;
  }

  private policy(n: CstNode): A.PolicyDecl {
    const name = this.ident(token(n, 'name'));
    const budgets: A.BudgetDecl[] = [];
    const rateLimits: A.RateLimitDecl[] = [];
    const d: Mutable<A.PolicyDecl> = { kind: 'PolicyDecl', name, budgets, rateLimits, range: this.nodeRange(n) };
    this.properties(n, 'policyProp', `policy '${name.name}'`, (key, p) => {
      switch (key) {
        case 'strategy': {
          const w = this.word(token(p, 'word'), STRATEGIES, 'strategy');
          if (w) d.strategy = w;
          break;
        }
        case 'weights': {
          const bag = this.newBag('the weights');
          const weights: A.WeightDecl[] = [];
          for (const e of nodes(need(child(p, 'weightsBlock')), 'weightEntry')) {
            const w = this.attempt((): A.WeightDecl => ({
              kind: 'WeightDecl',
              key: this.ident(token(e, 'key')),
              value: this.numberLit(need(token(e, 'Number'))),
              range: this.nodeRange(e),
            }));
            if (w && this.firstTimeAt(bag, w.key.name, w.key.range)) weights.push(w);
          }
          d.weights = weights;
          break;
        }
        case 'budgetDecl': {
          const b = this.budget(p);
          if (b) budgets.push(b);
          break;
        }
        case 'prefer': {
          const w = this.word(token(p, 'word'), ['local', 'edge', 'cloud'] as const, 'preference');
          if (w) d.prefer = w;
          break;
        }
        case 'max_fallbacks': d.maxFallbacks = this.integer(token(p, 'Number'), 'max_fallbacks'); break;
        case 'require_consent': d.requireConsent = this.boolLit(child(p, 'boolLit')); break;
        case 'rateLimitDecl':
          rateLimits.push({
            kind: 'RateLimitDecl',
            capability: this.qualifiedName(child(p, 'qualifiedName')),
            count: this.integer(token(p, 'count'), 'the rate limit count').value,
            per: this.durationLit(token(p, 'per')),
            range: this.nodeRange(p),
          });
          break;
      }
    });
    return d;
  }

  private budget(p: CstNode): A.BudgetDecl | undefined {
    const metric = this.word(token(p, 'metric'), ['cost', 'duration'] as const, 'budget metric');
    const op = need(token(p, 'op')).image as '<=' | '<';
    const limitTok = need(token(p, 'limit'));
    if (!metric) return undefined;
    if (metric === 'cost' && limitTok.tokenType !== MoneyTok) {
      this.error(`a cost budget needs an amount of money (e.g. 0.50usd), found '${limitTok.image}'`, this.tokRange(limitTok));
      return undefined;
    }
    if (metric === 'duration' && limitTok.tokenType !== DurationTok) {
      this.error(`a duration budget needs a duration (e.g. 10m), found '${limitTok.image}'`, this.tokRange(limitTok));
      return undefined;
    }
    const limit = metric === 'cost' ? this.moneyLit(limitTok) : this.durationLit(limitTok);
    return { kind: 'BudgetDecl', metric, op, limit, range: this.nodeRange(p) };
  }

  private guardrail(n: CstNode): A.GuardrailDecl {
    const name = this.ident(token(n, 'name'));
    const rules: A.GuardrailRule[] = [];
    const d: Mutable<A.GuardrailDecl> = { kind: 'GuardrailDecl', name, rules, range: this.nodeRange(n) };
    this.properties(n, 'guardrailProp', `guardrail '${name.name}'`, (key, p) => {
      switch (key) {
        case 'severity': {
          const w = this.word(token(p, 'word'), GUARDRAIL_SEVERITIES, 'severity');
          if (w) d.severity = w;
          break;
        }
        case 'category': d.category = this.ident(token(p, 'word')); break;
        case 'message': d.message = this.stringLit(token(p, 'String')); break;
        case 'forbidRule':
          rules.push({ kind: 'ForbidRule', condition: this.expression(child(p, 'expression')), range: this.nodeRange(p) });
          break;
        case 'requireRule': {
          const subject = this.selector(child(p, 'subject'));
          const object = this.selector(child(p, 'object'));
          const order = need(token(p, 'order')).image as 'before' | 'after';
          rules.push({ kind: 'RequireRule', subject, order, object, range: this.nodeRange(p) });
          break;
        }
        case 'assertRule':
          rules.push({ kind: 'AssertRule', condition: this.expression(child(p, 'expression')), range: this.nodeRange(p) });
          break;
        case 'checkRule':
          rules.push({
            kind: 'CheckRule',
            target: this.selector(child(p, 'selector')),
            condition: this.expression(child(p, 'expression')),
            range: this.nodeRange(p),
          });
          break;
      }
    });
    return d;
  }

  private selector(n: CstNode | undefined): A.Selector {
    const node = need(n);
    const range = this.nodeRange(node);
    const kindWord = token(node, 'kindWord');
    if (kindWord) {
      const k = this.word(kindWord, CAPABILITY_KINDS, 'capability kind');
      if (!k) throw MISSING;
      return { kind: 'KindSelector', capabilityKind: k, range };
    }
    const qn = child(node, 'qualifiedName');
    if (qn) return { kind: 'CapabilitySelector', capability: this.qualifiedName(qn), range };
    return { kind: 'StepSelector', step: this.ident(token(node, 'step')), range };
  }

  // ───────────── plans ─────────────

  private plan(n: CstNode): A.PlanDecl {
    const name = this.ident(token(n, 'name'));
    const body: (A.StepDecl | A.ForEachDecl | A.InvariantDecl)[] = [];
    // Steps are direct children of the plan node; loops and invariants come wrapped in
    // `planItem`. Source order is restored from offsets.
    const placed: { at: number; item: A.StepDecl | A.ForEachDecl | A.InvariantDecl }[] = [];
    const success: A.SuccessCriterion[] = [];
    let guardrails: A.QualifiedName[] = [];
    const d: Mutable<A.PlanDecl> = { kind: 'PlanDecl', name, guardrails, body, success, range: this.nodeRange(n) };
    this.properties(n, 'planItem', `plan '${name.name}'`, (key, p) => {
      switch (key) {
        case 'goal': d.goal = this.stringLit(token(p, 'String')); break;
        case 'input': d.input = this.recordType(child(p, 'recordType')); break;
        case 'policy': d.policy = this.qualifiedName(child(p, 'qualifiedName')); break;
        case 'guardrails':
          guardrails = nodes(need(child(p, 'qualifiedNameList')), 'name').map((q) => this.qualifiedName(q));
          d.guardrails = guardrails;
          break;
        case 'priority': {
          const w = this.word(token(p, 'word'), PRIORITIES, 'priority');
          if (w) d.priority = w;
          break;
        }
        case 'deadline': d.deadline = this.durationLit(token(p, 'Duration')); break;
        case 'concurrency': d.concurrency = this.integer(token(p, 'Number'), 'concurrency'); break;
        case 'on_failure': {
          const w = this.word(token(p, 'word'), ['abort', 'continue', 'rollback'] as const, 'failure mode');
          if (w) d.onFailure = w;
          break;
        }
        case 'output': d.output = this.recordLit(child(p, 'recordLit')); break;
        case 'forEach': placed.push({ at: need(nodeSpan(p))[0], item: this.forEach(p) }); break;
        case 'invariantDecl': placed.push({ at: need(nodeSpan(p))[0], item: this.invariant(p) }); break;
        case 'successDecl': {
          const label = token(p, 'label');
          const condition = this.expression(child(p, 'expression'));
          const s: Mutable<A.SuccessCriterion> = { kind: 'SuccessCriterion', condition, range: this.nodeRange(p) };
          if (label) s.label = this.stringLit(label);
          success.push(s);
          break;
        }
      }
    });
    for (const st of nodes(n, 'stepDecl')) {
      const step = this.attempt(() => this.step(st));
      if (step) placed.push({ at: step.range.start.offset, item: step });
    }
    if (placed.length > 0 && placed.some((p) => p.item.kind !== 'StepDecl')) placed.sort((a, b) => a.at - b.at);
    for (const p of placed) body.push(p.item);
    return d;
  }

  private step(n: CstNode): A.StepDecl {
    const span = need(nodeSpan(n));
    const name = this.ident(token(n, 'name'));
    const actionNode = child(n, 'capabilityCall') ?? child(n, 'waitAction') ?? child(n, 'waitUntilAction') ?? child(n, 'runAction');
    const action = this.stepAction(need(actionNode));
    const after: A.Ident[] = [];
    const d: Mutable<A.StepDecl> = { kind: 'StepDecl', name, action, after, range: this.range(span[0], span[1]) };
    const inlineWhen = child(n, 'when');
    const hasBlock = token(n, 'LCurly') !== undefined;
    if (!inlineWhen && !hasBlock) return this.withDoc(d, span[0]);
    const bag = this.newBag(`step '${name.name}'`);
    if (inlineWhen) {
      const whenTok = need(token(n, 'Kw_when'));
      this.firstTime(bag, 'when', whenTok.startOffset, whenTok.endOffset! + 1);
      d.when = this.expression(inlineWhen);
    }
    // Options are direct children: `<key>Key` tokens and `<key>Value` values (retry: a node).
    for (const [key, keyLabel, value] of hasBlock ? STEP_OPTIONS : NONE_OPTIONS) {
      const keys = key === 'retry' ? nodes(n, value).map((r) => token(r, 'Kw_retry')) : tokens(n, keyLabel);
      if (keys.length === 0) continue;
      // A repeated option is an E0102; the first occurrence applies.
      for (const k of keys) if (k) this.firstTime(bag, key, k.startOffset, k.endOffset! + 1);
      this.attempt(() => {
        switch (key) {
          case 'after': after.push(...this.nameList(child(n, value))); break;
          case 'on': d.on = this.qualifiedName(child(n, value)); break;
          case 'fallback': d.fallback = this.capabilityCall(need(child(n, value))); break;
          case 'compensate': d.compensate = this.capabilityCall(need(child(n, value))); break;
          case 'timeout': d.timeout = this.durationLit(token(n, value)); break;
          case 'retry': d.retry = this.retrySpec(child(n, value)); break;
          case 'join': {
            const w = this.word(token(n, value), JOIN_RULES, 'join rule');
            if (w) d.join = w;
            break;
          }
          case 'on_failure': {
            const w = this.word(token(n, value), ['abort', 'continue'] as const, 'step failure mode');
            if (w) d.onFailure = w;
            break;
          }
          case 'priority': {
            const w = this.word(token(n, value), PRIORITIES, 'priority');
            if (w) d.priority = w;
            break;
          }
          case 'when':
            if (!d.when) d.when = this.expression(child(n, value));
            break;
        }
      });
    }
    return this.withDoc(d, span[0]);
  }

  private withDoc<T extends { doc?: string }>(d: T, start: number): T {
    const doc = this.doc(start);
    if (doc !== undefined) d.doc = doc;
    return d;
  }

  private stepAction(n: CstNode): A.StepAction {
    const range = this.nodeRange(n);
    switch (n.name) {
      case 'waitUntilAction': {
        const a: Mutable<A.WaitUntilAction> = { kind: 'WaitUntilAction', condition: this.expression(child(n, 'expression')), range };
        const t = token(n, 'Duration');
        if (t) a.timeout = this.durationLit(t);
        return a;
      }
      case 'waitAction':
        return { kind: 'WaitAction', duration: this.expression(child(n, 'expression')), range };
      case 'runAction': {
        const args = child(n, 'callArgs');
        return { kind: 'RunAction', plan: this.qualifiedName(child(n, 'qualifiedName')), args: args ? this.args(args) : [], range };
      }
      case 'capabilityCall':
        return this.capabilityCall(n);
      default:
        throw MISSING;
    }
  }

  private capabilityCall(n: CstNode): A.CapabilityCall {
    return {
      kind: 'CapabilityCall',
      capability: this.qualifiedName(n),
      args: this.args(need(child(n, 'callArgs'))),
      range: this.nodeRange(n),
    };
  }

  private args(n: CstNode): A.Argument[] {
    const names = tokens(n, 'argName');
    const values = nodes(n, 'argValue');
    const out: A.Argument[] = [];
    for (let i = 0; i < names.length; i++) {
      const nameTok = names[i]!;
      // After recovery a name may lack its value: pair each value with the name before it.
      const next = names[i + 1]?.startOffset ?? Infinity;
      const valueNode = names.length === values.length ? values[i] : values.find((v) => {
        const s = nodeSpan(v);
        return s !== undefined && s[0] > nameTok.startOffset && s[0] < next;
      });
      const arg = this.attempt((): A.Argument => {
        const value = this.expression(valueNode);
        return { kind: 'Argument', name: this.ident(nameTok), value, range: this.range(nameTok.startOffset, value.range.end.offset) };
      });
      if (arg) out.push(arg);
    }
    return out;
  }

  private forEach(n: CstNode): A.ForEachDecl {
    const item = this.ident(token(n, 'item'));
    const list = this.expression(child(n, 'list'));
    const body: (A.StepDecl | A.ForEachDecl)[] = [];
    for (const st of nodes(n, 'stepDecl')) {
      const x = this.attempt(() => this.step(st));
      if (x) body.push(x);
    }
    for (const loop of nodes(n, 'forEach')) {
      const x = this.attempt(() => this.forEach(loop));
      if (x) body.push(x);
    }
    body.sort((a, b) => a.range.start.offset - b.range.start.offset);
    const d: Mutable<A.ForEachDecl> = { kind: 'ForEachDecl', item, list, body, range: this.nodeRange(n) };
    const par = token(n, 'parallel');
    if (par) d.parallel = this.integer(par, 'parallel');
    return d;
  }

  // ───────────── triggers ─────────────

  private trigger(n: CstNode): A.TriggerDecl {
    const name = this.ident(token(n, 'name'));
    const range = this.nodeRange(n);
    let source: A.TriggerSource | undefined;
    let sourceKey = '';
    let plan: A.QualifiedName | undefined;
    let timezone: IToken | undefined;
    let where: { expr: A.Expr; range: Range } | undefined;
    const d: Partial<Mutable<A.TriggerDecl>> = {};
    const setSource = (key: string, p: CstNode, s: A.TriggerSource) => {
      if (source) {
        this.error(`a trigger has one source; '${key}' conflicts with '${sourceKey}'`, this.nodeRange(p));
        return;
      }
      source = s;
      sourceKey = key;
    };
    this.properties(n, 'triggerItem', `trigger '${name.name}'`, (key, p) => {
      const r = this.nodeRange(p);
      switch (key) {
        case 'schedule': setSource(key, p, { kind: 'ScheduleSource', cron: this.stringLit(token(p, 'String'), false), range: r }); break;
        case 'timezone': timezone = need(token(p, 'String')); break;
        case 'event': setSource(key, p, { kind: 'EventSource', eventType: this.stringLit(token(p, 'String'), false), range: r }); break;
        case 'where': where = { expr: this.expression(child(p, 'expression')), range: r }; break;
        case 'manual': setSource(key, p, { kind: 'ManualSource', range: r }); break;
        case 'api': setSource(key, p, { kind: 'ApiSource', path: this.stringLit(token(p, 'String'), false), range: r }); break;
        case 'when': setSource(key, p, { kind: 'ConditionSource', condition: this.expression(child(p, 'expression')), range: r }); break;
        case 'after': {
          const planName = this.qualifiedName(child(p, 'qualifiedName'));
          const outcome = this.word(token(p, 'word'), ['completed', 'failed', 'finished'] as const, 'plan outcome');
          if (outcome) setSource(key, p, { kind: 'ChainSource', plan: planName, outcome, range: r });
          break;
        }
        case 'run': plan = this.qualifiedName(child(p, 'qualifiedName')); break;
        case 'with': d.with = this.recordLit(child(p, 'recordLit')); break;
        case 'debounce': d.debounce = this.durationLit(token(p, 'Duration')); break;
      }
    });
    const src = source as A.TriggerSource | undefined;
    if (timezone) {
      if (src?.kind === 'ScheduleSource') source = { ...src, timezone: this.stringLit(timezone, false), range: { start: src.range.start, end: this.tokRange(timezone).end } };
      else this.error("'timezone' only applies to a 'schedule' trigger", this.tokRange(timezone));
    }
    if (where) {
      if (src?.kind === 'EventSource') source = { ...src, where: where.expr, range: { start: src.range.start, end: where.range.end } };
      else this.error("'where' only applies to an 'event' trigger", where.range);
    }
    // A trigger whose block already has a syntax error is not told what it lacks as well.
    const broken = this.hasSyntaxErrorIn(range.start.offset, range.end.offset + 1);
    if (!source) {
      if (!broken) this.error(`trigger '${name.name}' needs a source: schedule, event, manual, api, when or after`, name.range);
      throw MISSING;
    }
    if (!plan) {
      if (!broken) this.error(`trigger '${name.name}' needs 'run PLAN'`, name.range);
      throw MISSING;
    }
    return { kind: 'TriggerDecl', name, source, plan, ...d, range } as A.TriggerDecl;
  }

  // ───────────── verification ─────────────

  private invariant(n: CstNode): A.InvariantDecl {
    const nameTok = need(token(n, 'name'));
    const name: A.Ident | A.StringLit = nameTok.tokenType === StringTok ? this.stringLit(nameTok, false) : this.ident(nameTok);
    const modality = need(token(n, 'modality')).image as A.Modality;
    const span = need(nodeSpan(n));
    const d: Mutable<A.InvariantDecl> = {
      kind: 'InvariantDecl',
      name,
      modality,
      condition: this.expression(child(n, 'expression')),
      range: this.range(span[0], span[1]),
    };
    const doc = this.doc(span[0]);
    if (doc !== undefined) d.doc = doc;
    return d;
  }

  private simulate(n: CstNode): A.SimulateDecl {
    const d: Mutable<A.SimulateDecl> = {
      kind: 'SimulateDecl',
      capability: this.qualifiedName(child(n, 'qualifiedName')),
      range: this.nodeRange(n),
    };
    this.inSimulate = true;
    try {
      this.properties(n, 'simulateProp', `simulate '${d.capability.parts.map((p) => p.name).join('.')}'`, (key, p) => {
        switch (key) {
          case 'output': d.output = this.recordLit(child(p, 'recordLit')); break;
          case 'fail': d.fail = this.percentLit(token(p, 'Percent')); break;
          case 'latency': {
            const e = this.expression(child(p, 'expression'));
            if (isLitOrRange(e, 'DurationLit')) d.latency = e as A.DurationLit | A.RangeExpr;
            else this.error('expected a duration or a duration range such as 1s..5s', e.range);
            break;
          }
          case 'cost': {
            const e = this.expression(child(p, 'expression'));
            if (isLitOrRange(e, 'MoneyLit')) d.cost = e as A.MoneyLit | A.RangeExpr;
            else this.error('expected an amount of money or a range such as 0.01usd..0.05usd', e.range);
            break;
          }
        }
      });
    } finally {
      this.inSimulate = false;
    }
    return d;
  }
}

export function isLitOrRange(e: A.Expr, kind: 'DurationLit' | 'MoneyLit'): boolean {
  if (e.kind === kind) return true;
  return e.kind === 'RangeExpr' && e.from.kind === kind && e.to.kind === kind;
}

/** Offset of the inline first operand of an `expression` node. */
function operandStart(n: CstNode): number {
  for (const key of ['name', 'number', 'string', 'LParen', 'bool', 'null']) {
    const t = token(n, key);
    if (t) return t.startOffset;
  }
  for (const key of ['listLit', 'recordLit']) {
    const c = child(n, key);
    const s = c && nodeSpan(c);
    if (s) return s[0];
  }
  throw MISSING;
}

const SPACE = /^\s$/;

function isWordStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}

function isWordPart(c: number): boolean {
  return isWordStart(c) || (c >= 48 && c <= 57);
}
const RESERVED = new Set<string>(RESERVED_WORDS);

/** One element of a flat expression; operands come as CST (`atom`) or already built (`expr`). */
export interface ExprItem {
  readonly at: number;
  readonly atom?: CstNode;
  readonly expr?: A.Expr;
  readonly op?: IToken;
  readonly prefix?: IToken;
}

/** Binding power of binary operators (ast.ts: implies < or < and < not < comparison < ?? < + - < * / % < unary minus). */
const PREC_COMPARISON = 5;
const PREC_UNARY = 9;
const PRECEDENCE: Record<A.BinaryOp, number> = {
  implies: 1,
  or: 2,
  and: 3,
  '==': PREC_COMPARISON, '!=': PREC_COMPARISON, '<': PREC_COMPARISON, '<=': PREC_COMPARISON,
  '>': PREC_COMPARISON, '>=': PREC_COMPARISON, in: PREC_COMPARISON,
  '??': 6,
  '+': 7, '-': 7,
  '*': 8, '/': 8, '%': 8,
};

/** Step options, in the order they are read (each is an inline child of the step node). */
const STEP_OPTIONS = (['after', 'on', 'fallback', 'compensate', 'timeout', 'retry', 'join', 'on_failure', 'priority', 'when'] as const).map(
  (key) => [key, `${key}Key`, `${key}Value`] as const,
);
const NONE_OPTIONS: typeof STEP_OPTIONS = [];

/** Properties that may appear several times in one block. */
const REPEATABLE = new Set([
  'budgetDecl', 'rateLimitDecl', 'forbidRule', 'requireRule', 'assertRule', 'checkRule',
  'stepDecl', 'forEach', 'invariantDecl', 'successDecl',
]);

function keyName(key: string): string {
  return key === 'retrySpec' ? 'retry' : key;
}

const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', n: '\n', t: '\t', r: '\r', $: '$' };


/**
 * Doc comments (`/// text`) waiting to attach to the next declaration, field or step that
 * follows them with only whitespace in between. Those never taken end up as plain comments.
 */
export class DocComments {
  private readonly taken = new Set<IToken>();

  constructor(private readonly docs: IToken[]) {}

  take(startOffset: number, text: string): string | undefined {
    // Last doc token ending before startOffset.
    let lo = 0;
    let hi = this.docs.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.docs[mid]!.endOffset! < startOffset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    const lines: string[] = [];
    let next = startOffset;
    for (let i = found; i >= 0; i--) {
      const d = this.docs[i]!;
      if (this.taken.has(d) || !onlyWhitespace(text, d.endOffset! + 1, next)) break;
      lines.unshift(d.image.slice(3).replace(/^ /, ''));
      this.taken.add(d);
      next = d.startOffset;
    }
    return lines.length ? lines.join('\n') : undefined;
  }

  isTaken(t: IToken): boolean {
    return this.taken.has(t);
  }
}

function onlyWhitespace(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return false;
  }
  return true;
}
