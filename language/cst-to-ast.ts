/**
 * CST → AST (language/ast.ts shapes). Also reports the errors that are easier to state on the
 * tree than in the grammar: a property given twice (E0102), an unknown enum word such as
 * `kind robot` (E0001, listing the allowed words), a range outside `simulate`.
 *
 * After error recovery the CST may be partial. A node that lacks a part the AST requires is
 * dropped (the syntax error was already reported), so every AST node handed on is well formed.
 *
 * This file only finds the tokens in the CST; the nodes and their checks are built by the
 * builders shared with the direct path (node-builders.ts).
 */
import type { CstNode, IToken } from 'chevrotain';
import type * as A from './ast.js';
import type { Range } from './diagnostic.js';
import { child, need, nodes, nodeSpan, onlyChild, token, tokens, MISSING } from './cst-access.js';
import { RESERVED_WORDS, isTerminatedString, lex, scanInterpolation } from './lexer.js';
import { fitted, keyName, NodeBuilders, REPEATABLE, STEP_OPTION_KEYS, type KeyedValue, type Mutable, type StepOptionKey } from './node-builders.js';
import type { DocComments } from './doc-comments.js';
import type { ExprItem, ExpressionParser } from './expression-parts.js';
import type { LineIndex } from './source.js';
import { syntaxErrorsToDiagnostics } from './syntax-errors.js';
import { MAX_EXPRESSION_DEPTH, MAX_INTERPOLATION_DEPTH, nestingLimit } from './nesting.js';

/** The CST path: reads the tokens out of CST nodes and hands them to the shared builders. */
export class AstBuilder extends NodeBuilders {
  /** Builds a type argument on demand (namedType builds only those it uses). */
  private readonly typeOfNode = (n: CstNode): A.TypeExpr => this.typeExpr(n);
  /** Expressions and operators open around the one being built (MAX_EXPRESSION_DEPTH). */
  private expressionDepth = 0;
  /** Interpolations open around the string being built (MAX_INTERPOLATION_DEPTH). */
  private interpolationDepth = 0;

  constructor(
    file: string,
    text: string,
    index: LineIndex,
    docs: DocComments,
    /** The grammar's expression parser (`parseExpressionTokens`), for `${…}` interpolations. */
    private readonly parseExpression: ExpressionParser,
    /** Offsets of the syntax errors already reported, sorted (to avoid piling on). */
    syntaxErrorOffsets: readonly number[] = [],
  ) {
    super(file, text, index, docs, syntaxErrorOffsets);
  }

  // ───────────── ranges, names ─────────────

  nodeRange(n: CstNode): Range {
    const s = need(nodeSpan(n));
    return this.range(s[0], s[1]);
  }

  qualifiedName(n: CstNode | undefined): A.QualifiedName {
    return this.qualified(tokens(need(n), 'part'));
  }

  nameList(n: CstNode | undefined): A.Ident[] {
    return tokens(need(n), 'name').map((t) => this.ident(t));
  }

  boolLit(n: CstNode | undefined): boolean {
    const node = need(n);
    if (token(node, 'Kw_true')) return true;
    if (token(node, 'Kw_false')) return false;
    throw MISSING;
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
    return { kind: 'StringLit', parts: fitted(parts), range: this.tokRange(tok) };
  }

  private interpolation(source: string, offset: number, dollarOffset: number): A.Expr | undefined {
    if (source.trim() === '') {
      this.error('empty interpolation ${}', this.range(dollarOffset, offset + source.length + 1));
      return undefined;
    }
    const path = this.namePath(source, offset);
    if (path) return path;
    if (this.interpolationDepth >= MAX_INTERPOLATION_DEPTH) {
      this.error(`strings with interpolations nested more than ${MAX_INTERPOLATION_DEPTH} levels deep`, this.range(dollarOffset, offset + source.length + 1));
      return undefined;
    }
    const lexed = lex(source);
    for (const p of lexed.problems) this.error(p.message, this.range(offset + p.offset, offset + p.offset + p.length));
    for (const t of lexed.tokens) {
      t.startOffset += offset;
      t.endOffset = (t.endOffset ?? t.startOffset) + offset;
    }
    const tooDeep = nestingLimit(lexed.tokens);
    if (tooDeep) {
      const t = lexed.tokens[tooDeep.index]!;
      this.error(tooDeep.message.replace(/;.*/, ''), this.tokRange(t));
      return undefined;
    }
    const { cst, errors } = this.parseExpression(lexed.tokens);
    this.diagnostics.push(...syntaxErrorsToDiagnostics(errors, this.file, this.index, offset + source.length, 1));
    if (errors.length > 0) return undefined;
    this.interpolationDepth++;
    try {
      return this.attempt(() => this.expression(cst));
    } finally {
      this.interpolationDepth--;
    }
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
    this.enterExpression(n ? nodeSpan(n)?.[0] : undefined);
    try {
      return this.expressionNode(n);
    } finally {
      this.expressionDepth--;
    }
  }

  /** One level deeper; past MAX_EXPRESSION_DEPTH an E0001 and the expression is dropped. */
  private enterExpression(offset: number | undefined): void {
    if (++this.expressionDepth <= MAX_EXPRESSION_DEPTH) return;
    this.expressionDepth--;
    const at = offset ?? 0;
    this.error(`expression nested more than ${MAX_EXPRESSION_DEPTH} levels deep (operators inside operators, brackets, interpolations); split it up`, this.range(at, at + 1));
    throw MISSING;
  }

  private expressionNode(n: CstNode | undefined): A.Expr {
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
    return this.flatExpression(items, dotdot);
  }

  /** A flat expression: operands and operator tokens in source order, split at `dotdot` into a range. */
  flatExpression(items: ExprItem[], dotdot: IToken | undefined): A.Expr {
    if (!dotdot) return this.climb(items);
    const at = dotdot.startOffset;
    return this.rangeExpr(this.climb(items.filter((i) => i.at < at)), this.climb(items.filter((i) => i.at > at)));
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
      this.enterExpression(items[i]?.at);
      try {
        return parseAt(minPrec);
      } finally {
        this.expressionDepth--;
      }
    };
    const parseAt = (minPrec: number): A.Expr => {
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
          range: this.index.join(this.tokRange(it.prefix), operand.range),
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
    if (brackets.length === 0) {
      // Member accesses only (the common `step.output.field`): already in source order.
      if (members.length !== dots.length) throw MISSING;
      for (const m of members) acc = this.member(acc, m);
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
      acc = s.member ? this.member(acc, s.member) : this.indexExpr(acc, this.expression(s.index), s.close);
    }
    return acc;
  }

  /** The operand itself, without postfix accesses. */
  private primary(n: CstNode): A.Expr {
    for (const kind of PRIMARY_TOKENS) {
      const t = token(n, kind);
      if (t) return this.primaryToken(t, kind);
    }
    const name = token(n, 'name');
    if (name) {
      const args = child(n, 'positionalArgs');
      if (!args) return this.nameOrCall(name, undefined, 0);
      return this.nameOrCall(name, this.callArguments(args), need(nodeSpan(args))[1]);
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

  /** A built-in's arguments in source order: expressions, and `Argument`s for the named ones. */
  private callArguments(n: CstNode): (A.Expr | A.Argument)[] {
    const positional = nodes(n, 'arg');
    const names = tokens(n, 'namedArg');
    if (names.length === 0) return positional.map((a) => this.expression(a));
    const values = nodes(n, 'namedValue');
    const items: { at: number; item: A.Expr | A.Argument }[] = [];
    for (const a of positional) items.push({ at: need(nodeSpan(a))[0], item: this.expression(a) });
    for (const [nameTok, value] of pairUp(names, values)) {
      const arg = this.attempt(() => this.argument(nameTok, this.expression(value)));
      if (arg) items.push({ at: nameTok.startOffset, item: arg });
    }
    return items.sort((a, b) => a.at - b.at).map((x) => x.item);
  }

  recordLit(n: CstNode | undefined): A.RecordLit {
    const node = need(n);
    const fields: A.RecordField[] = [];
    for (const f of nodes(node, 'recordField')) {
      const field = this.attempt((): A.RecordField => {
        const key = this.ident(token(f, 'key'));
        const value = this.expression(child(f, 'expression'));
        return { kind: 'RecordField', key, value, range: this.nodeRange(f) };
      });
      if (field) fields.push(field);
    }
    return this.recordLitFrom(fields, this.nodeRange(node));
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
      t = this.namedTypeNode(inner);
    }
    if (token(node, 'Question')) return { kind: 'OptionalType', inner: t, range: this.nodeRange(node) };
    return t;
  }

  recordType(n: CstNode | undefined): A.RecordType {
    const node = need(n);
    const fields: A.FieldDecl[] = [];
    for (const f of nodes(node, 'fieldDecl')) {
      const field = this.attempt(() => this.fieldDeclNode(f));
      if (field) fields.push(field);
    }
    return this.recordTypeFrom(fields, this.nodeRange(node));
  }

  private fieldDeclNode(n: CstNode): A.FieldDecl {
    const range = this.nodeRange(n);
    const name = need(token(n, 'name')); // a field without its name is dropped before its type is looked at
    const type = this.typeExpr(child(n, 'typeExpr'));
    const def = child(n, 'default');
    const annotations = tokens(n, 'annotation');
    const keys = tokens(n, 'fieldKey');
    const options = keys.length === 0 ? undefined : pairUp(keys, tokens(n, 'fieldValue')).flat();
    return this.fieldDecl(name, type, annotations.length > 0 ? annotations : undefined, def && this.expression(def), options, range);
  }

  private namedTypeNode(n: CstNode): A.TypeExpr {
    const name = this.qualifiedName(child(n, 'qualifiedName'));
    return this.namedType(name, nodes(n, 'arg'), this.typeOfNode, this.nodeRange(n));
  }

  // ───────────── shared properties ─────────────

  retrySpecNode(n: CstNode | undefined): A.RetrySpec {
    const node = need(n);
    return this.retrySpec(token(node, 'attempts'), token(node, 'backoffKind'), token(node, 'delay'), token(node, 'max'), this.nodeRange(node));
  }

  // ───────────── module ─────────────

  module(root: CstNode): Omit<A.Module, 'comments'> {
    const items: (A.ModuleDecl | A.ImportDecl | A.Declaration)[] = [];
    for (const item of nodes(root, 'topItem')) {
      const decl = need(onlyChild(item));
      const built = this.attempt((): A.ModuleDecl | A.ImportDecl | A.Declaration => {
        switch (decl.name) {
          case 'moduleDecl':
            return { kind: 'ModuleDecl', name: this.qualifiedName(child(decl, 'qualifiedName')), range: this.nodeRange(decl) };
          case 'importDecl':
            return this.importDecl(decl);
          default:
            return this.declaration(decl);
        }
      });
      if (built) items.push(built);
    }
    return this.moduleOf(items);
  }

  private importDecl(n: CstNode): A.ImportDecl {
    const range = this.nodeRange(n);
    const path = token(n, 'path');
    if (path) {
      const imp: Mutable<A.FileImport> = {
        kind: 'FileImport',
        path: this.plainString(path),
        pathRange: this.tokRange(path),
        alias: this.ident(token(n, 'alias')),
        range,
      };
      if (token(n, 'mcp')) imp.mcp = true;
      return imp;
    }
    const imp: Mutable<A.StdImport> = { kind: 'StdImport', path: this.qualifiedName(child(n, 'qualifiedName')), range };
    if (token(n, 'LCurly')) {
      const list = child(n, 'nameList');
      imp.names = list ? this.nameList(list) : [];
    }
    return imp;
  }

  private declaration(n: CstNode): A.Declaration {
    // The doc is taken before the body is built: a declaration dropped after recovery still
    // consumes its doc comment (it does not turn into a plain comment).
    const doc = this.doc(need(nodeSpan(n))[0]);
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
        this.inContext = true;
        try {
          const rec = this.recordType(child(n, 'recordType'));
          return { kind: 'ContextDecl', fields: rec.fields, range: this.nodeRange(n) };
        } finally {
          this.inContext = false;
        }
      }
      case 'planDecl':
        return this.plan(n);
      case 'triggerDecl':
        return this.trigger(n);
      case 'invariantDecl':
        return this.invariant(n);
      case 'simulateDecl': {
        const ctx = child(n, 'simulateContext');
        return ctx ? this.simulateContextNode(n, ctx) : this.simulate(n);
      }
      case 'sourceDecl':
        return this.sourceNode(n);
      case 'testDecl':
        return this.testNode(n);
      default:
        throw MISSING;
    }
  }

  /**
   * Walks the property sub-rules of a block; `key` is the property keyword (or a sub-rule name)
   * and `prop` the node holding its value (the sub-rule's own node for those).
   */
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

  /**
   * A property's value as the direct path gets it: the sub-rule built, or the one token or
   * sub-rule after the key (built). Nothing there (after recovery) drops the property.
   */
  private propValue(key: string, p: CstNode): unknown {
    switch (key) {
      case 'retrySpec': return this.retrySpecNode(p);
      case 'budgetDecl': return this.budgetNode(p);
      case 'rateLimitDecl': return this.rateLimit(this.qualifiedName(child(p, 'qualifiedName')), token(p, 'count'), token(p, 'per'), this.nodeRange(p));
      case 'forbidRule': return { kind: 'ForbidRule', condition: this.expression(child(p, 'expression')), range: this.nodeRange(p) } satisfies A.ForbidRule;
      case 'assertRule': return { kind: 'AssertRule', condition: this.expression(child(p, 'expression')), range: this.nodeRange(p) } satisfies A.AssertRule;
      case 'requireRule': {
        const subject = this.selector(child(p, 'subject'));
        const object = this.selector(child(p, 'object'));
        const order = need(token(p, 'order')).image as 'before' | 'after';
        return { kind: 'RequireRule', subject, order, object, range: this.nodeRange(p) } satisfies A.RequireRule;
      }
      case 'checkRule': {
        const target = this.selector(child(p, 'selector'));
        return { kind: 'CheckRule', target, condition: this.expression(child(p, 'expression')), range: this.nodeRange(p) } satisfies A.CheckRule;
      }
      case 'successDecl': {
        const label = token(p, 'label');
        return this.success(label, this.expression(child(p, 'expression')), this.nodeRange(p));
      }
      case 'weights': {
        const weights: A.WeightDecl[] = [];
        for (const e of nodes(need(child(p, 'weightsBlock')), 'weightEntry')) {
          const w = this.attempt(() => this.weight(token(e, 'key'), token(e, 'Number'), this.nodeRange(e)));
          if (w) weights.push(w);
        }
        return weights;
      }
      case 'consent': return tokens(need(child(p, 'stringList')), 'value');
      case 'guardrails': return nodes(need(child(p, 'qualifiedNameList')), 'name').map((q) => this.qualifiedName(q));
    }
    for (const label of VALUE_TOKENS) {
      const t = token(p, label);
      if (t) return label === 'Number' ? this.signed(token(p, 'sign'), t) : t;
    }
    for (const label of VALUE_RULES) {
      const c = child(p, label);
      if (!c) continue;
      switch (label) {
        case 'recordType': return this.recordType(c);
        case 'typeExpr': return this.typeExpr(c);
        case 'recordLit': return this.recordLit(c);
        case 'nameList': return this.nameList(c);
        case 'boolLit': return this.boolLit(c);
        case 'qualifiedName': return this.qualifiedName(c);
        case 'expression': return this.expression(c);
      }
    }
    throw MISSING;
  }

  private capability(n: CstNode): A.CapabilityDecl {
    const name = this.ident(token(n, 'name'));
    const d: Mutable<A.CapabilityDecl> = { kind: 'CapabilityDecl', name, range: this.nodeRange(n) };
    const from = child(n, 'from');
    if (from) d.from = this.qualifiedName(from);
    this.properties(n, 'capabilityProp', `capability '${name.name}'`, (key, p) => this.capabilityProp(d, key, this.propValue(key, p)));
    return d;
  }

  private resource(n: CstNode): A.ResourceDecl {
    const name = this.ident(token(n, 'name'));
    const d: Mutable<A.ResourceDecl> = { kind: 'ResourceDecl', name, range: this.nodeRange(n) };
    this.properties(n, 'resourceProp', `resource '${name.name}'`, (key, p) => this.resourceProp(d, key, this.propValue(key, p)));
    return d;
  }

  private policy(n: CstNode): A.PolicyDecl {
    const name = this.ident(token(n, 'name'));
    const d: Mutable<A.PolicyDecl> = { kind: 'PolicyDecl', name, budgets: [], rateLimits: [], range: this.nodeRange(n) };
    this.properties(n, 'policyProp', `policy '${name.name}'`, (key, p) => this.policyProp(d, key, this.propValue(key, p)));
    return d;
  }

  private budgetNode(p: CstNode): A.BudgetDecl | undefined {
    return this.budget(token(p, 'metric'), token(p, 'op'), token(p, 'limit'), this.nodeRange(p), token(p, 'warn') !== undefined);
  }

  private guardrail(n: CstNode): A.GuardrailDecl {
    const name = this.ident(token(n, 'name'));
    const d: Mutable<A.GuardrailDecl> = { kind: 'GuardrailDecl', name, rules: [], range: this.nodeRange(n) };
    this.properties(n, 'guardrailProp', `guardrail '${name.name}'`, (key, p) => this.guardrailProp(d, key, this.propValue(key, p)));
    return d;
  }

  private selector(n: CstNode | undefined): A.Selector {
    const node = need(n);
    const range = this.nodeRange(node);
    const kindWord = token(node, 'kindWord');
    if (kindWord) return this.kindSelector(kindWord, range);
    const qn = child(node, 'qualifiedName');
    if (qn) return { kind: 'CapabilitySelector', capability: this.qualifiedName(qn), range };
    return { kind: 'StepSelector', step: this.ident(token(node, 'step')), range };
  }

  // ───────────── plans ─────────────

  private plan(n: CstNode): A.PlanDecl {
    const name = this.ident(token(n, 'name'));
    const body: (A.BlockItem | A.InvariantDecl)[] = [];
    // Steps are direct children of the plan node; loops and invariants come wrapped in
    // `planItem`. Source order is restored from offsets.
    const placed: { at: number; item: A.BlockItem | A.InvariantDecl }[] = [];
    const d: Mutable<A.PlanDecl> = { kind: 'PlanDecl', name, guardrails: [], body, success: [], range: this.nodeRange(n) };
    this.properties(n, 'planItem', `plan '${name.name}'`, (key, p) => {
      switch (key) {
        case 'forEach': placed.push({ at: need(nodeSpan(p))[0], item: this.forEach(p) }); break;
        case 'raceBlock': placed.push({ at: need(nodeSpan(p))[0], item: this.race(p) }); break;
        case 'repeatBlock': placed.push({ at: need(nodeSpan(p))[0], item: this.repeat(p) }); break;
        case 'invariantDecl': placed.push({ at: need(nodeSpan(p))[0], item: this.invariant(p) }); break;
        default: this.planProp(d, key, this.propValue(key, p));
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
    const d: Mutable<A.StepDecl> = { kind: 'StepDecl', name, action, after: [], range: this.range(span[0], span[1]) };
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
      // A block `when` after an inline one is not built (only reported as given twice).
      if (key === 'when' && d.when) continue;
      this.attempt(() => this.stepOption(d, key, this.stepOptionValue(n, key, value)));
    }
    return this.withDoc(d, span[0]);
  }

  /** A step option's value as the direct path gets it (its token, or its sub-rule built). */
  private stepOptionValue(n: CstNode, key: StepOptionKey, value: string): unknown {
    switch (key) {
      case 'after': return this.nameList(child(n, value));
      case 'on': return this.qualifiedName(child(n, value));
      case 'fallback':
      case 'compensate': return this.capabilityCallNode(need(child(n, value)));
      case 'retry': return this.retrySpecNode(child(n, value));
      case 'when': return this.expression(child(n, value));
      default: return need(token(n, value));
    }
  }

  private stepAction(n: CstNode): A.StepAction {
    const range = this.nodeRange(n);
    switch (n.name) {
      case 'waitUntilAction': {
        const a: Mutable<A.WaitUntilAction> = { kind: 'WaitUntilAction', condition: this.expression(child(n, 'expression')), range };
        const t = token(n, 'AnyNumber');
        // A timeout of another unit is reported (E0203) and left out, not the whole step.
        const timeout = t ? this.attempt(() => this.unitLit(t, 'timeout', 'duration')) : undefined;
        if (timeout) a.timeout = timeout;
        return a;
      }
      case 'waitAction':
        return { kind: 'WaitAction', duration: this.expression(child(n, 'expression')), range };
      case 'runAction': {
        const argsNode = child(n, 'callArgs');
        const { args, lost } = argsNode ? this.args(argsNode) : { args: [], lost: false };
        const a: Mutable<A.RunAction> = { kind: 'RunAction', plan: this.qualifiedName(child(n, 'qualifiedName')), args, range };
        if (lost) a.argsLost = true;
        return a;
      }
      case 'capabilityCall':
        return this.capabilityCallNode(n);
      default:
        throw MISSING;
    }
  }

  private capabilityCallNode(n: CstNode): A.CapabilityCall {
    const { args, lost } = this.args(need(child(n, 'callArgs')));
    const call = this.capabilityCall(this.qualifiedName(n), args, this.nodeRange(n));
    return lost ? { ...call, argsLost: true } : call;
  }

  /** The arguments that could be built, and whether any was dropped for an error in it. */
  private args(n: CstNode): { args: A.Argument[]; lost: boolean } {
    const names = tokens(n, 'argName');
    const values = nodes(n, 'argValue');
    const out: A.Argument[] = [];
    let lost = false;
    for (let i = 0; i < names.length; i++) {
      const nameTok = names[i]!;
      // After recovery a name may lack its value: pair each value with the name before it.
      const next = names[i + 1]?.startOffset ?? Infinity;
      const valueNode = names.length === values.length ? values[i] : values.find((v) => {
        const s = nodeSpan(v);
        return s !== undefined && s[0] > nameTok.startOffset && s[0] < next;
      });
      const arg = this.attempt(() => this.argument(nameTok, this.expression(valueNode)));
      if (arg) out.push(arg);
      else lost = true;
    }
    return { args: out, lost };
  }

  private forEach(n: CstNode): A.ForEachDecl {
    const item = need(token(n, 'item'));
    const list = this.expression(child(n, 'list'));
    return this.forEachDecl(item, list, token(n, 'parallel'), this.blockBody(n), this.nodeRange(n));
  }

  /** The steps and nested blocks of a block node, in source order. */
  private blockBody(n: CstNode): A.BlockItem[] {
    const body: A.BlockItem[] = [];
    for (const st of nodes(n, 'stepDecl')) {
      const x = this.attempt(() => this.step(st));
      if (x) body.push(x);
    }
    for (const loop of nodes(n, 'forEach')) {
      const x = this.attempt(() => this.forEach(loop));
      if (x) body.push(x);
    }
    for (const r of nodes(n, 'raceBlock')) {
      const x = this.attempt(() => this.race(r));
      if (x) body.push(x);
    }
    for (const r of nodes(n, 'repeatBlock')) {
      const x = this.attempt(() => this.repeat(r));
      if (x) body.push(x);
    }
    body.sort((a, b) => a.range.start.offset - b.range.start.offset);
    return body;
  }

  private race(n: CstNode): A.RaceDecl {
    const body: A.StepDecl[] = [];
    for (const st of nodes(n, 'stepDecl')) {
      const x = this.attempt(() => this.step(st));
      if (x) body.push(x);
    }
    return this.raceDecl(token(n, 'name'), body, this.nodeRange(n));
  }

  private repeat(n: CstNode): A.RepeatDecl {
    const name = need(token(n, 'name'));
    const until = this.expression(child(n, 'until'));
    return this.repeatDecl(name, token(n, 'max'), until, token(n, 'on_failureValue'), this.blockBody(n), this.nodeRange(n));
  }

  // ───────────── triggers ─────────────

  private trigger(n: CstNode): A.TriggerDecl {
    const name = this.ident(token(n, 'name'));
    const range = this.nodeRange(n);
    const parts = this.triggerParts();
    this.properties(n, 'triggerItem', `trigger '${name.name}'`, (key, p) => this.triggerProp(parts, key, this.triggerValue(key, p)));
    return this.triggerDecl(name, parts, range);
  }

  /** A trigger item's value as the direct path gets it: its source built, or its token / sub-rule. */
  private triggerValue(key: string, p: CstNode): unknown {
    const r = this.nodeRange(p);
    switch (key) {
      case 'schedule': return { kind: 'ScheduleSource', cron: this.stringLit(token(p, 'String'), false), range: r } satisfies A.ScheduleSource;
      case 'timezone': return need(token(p, 'String'));
      case 'event': return { kind: 'EventSource', eventType: this.stringLit(token(p, 'String'), false), range: r } satisfies A.EventSource;
      case 'where': return { expr: this.expression(child(p, 'expression')), range: r };
      case 'manual': return { kind: 'ManualSource', range: r } satisfies A.ManualSource;
      case 'api': return { kind: 'ApiSource', path: this.stringLit(token(p, 'String'), false), range: r } satisfies A.ApiSource;
      case 'when': return { kind: 'ConditionSource', condition: this.expression(child(p, 'expression')), range: r } satisfies A.ConditionSource;
      case 'after': {
        const plan = this.qualifiedName(child(p, 'qualifiedName'));
        const outcome = this.word(token(p, 'word'), ['completed', 'failed', 'finished'] as const, 'plan outcome');
        return outcome ? ({ kind: 'ChainSource', plan, outcome, range: r } satisfies A.ChainSource) : undefined;
      }
      default: return this.propValue(key, p);
    }
  }

  // ───────────── verification ─────────────

  private invariant(n: CstNode): A.InvariantDecl {
    // The name is built first: its errors stand even when the rest is missing.
    const name = this.invariantName(need(token(n, 'name')));
    const modality = need(token(n, 'modality'));
    return this.invariantDecl(name, modality, this.expression(child(n, 'expression')), this.nodeRange(n));
  }

  private simulate(n: CstNode): A.SimulateDecl {
    const d: Mutable<A.SimulateDecl> = {
      kind: 'SimulateDecl',
      capability: this.qualifiedName(child(n, 'qualifiedName')),
      range: this.nodeRange(n),
    };
    this.inSimulate = true;
    try {
      this.properties(n, 'simulateProp', `simulate '${d.capability.parts.map((p) => p.name).join('.')}'`, (key, p) => this.simulateProp(d, key, this.propValue(key, p)));
    } finally {
      this.inSimulate = false;
    }
    return d;
  }

  // ───────────── v0.4: simulated staleness, sources, tests ─────────────

  private simulateContextNode(n: CstNode, ctx: CstNode): A.SimulateContextDecl {
    const signals: A.StaleSignal[] = [];
    for (const s of nodes(ctx, 'staleSignal')) {
      const x = this.attempt(() => this.staleSignal(token(s, 'name'), token(s, 'value'), this.nodeRange(s)));
      if (x) signals.push(x);
    }
    return this.simulateContext(signals, this.nodeRange(n));
  }

  private sourceNode(n: CstNode): A.SourceDecl {
    const name = need(token(n, 'name'));
    const topics: A.TopicMapping[] = [];
    for (const t of nodes(n, 'topicMapping')) {
      const x = this.attempt(() => this.topicNode(t));
      if (x) topics.push(x);
    }
    return this.source(name, topics, this.nodeRange(n));
  }

  private topicNode(n: CstNode): A.TopicMapping {
    const keys = tokens(n, 'key');
    const values = [...nodes(n, 'fromValue'), ...nodes(n, 'atValue')];
    const options: KeyedValue[] = [];
    for (const [k, value] of pairUp(keys, values.sort((a, b) => need(nodeSpan(a))[0] - need(nodeSpan(b))[0]))) {
      const e = this.attempt(() => this.expression(value));
      if (e) options.push([k, e]);
    }
    return this.topic(need(token(n, 'topic')), need(token(n, 'name')), options.length > 0 ? options : undefined, this.nodeRange(n));
  }

  private testNode(n: CstNode): A.TestDecl {
    const d = this.testStart(need(token(n, 'name')), this.nodeRange(n));
    this.properties(n, 'testItem', `test "${d.name.parts.join('')}"`, (key, p) => this.testItem(d, key, this.testValue(key, p)));
    return this.testDone(d);
  }

  /** A test item's value as the direct path gets it. */
  private testValue(key: string, p: CstNode): unknown {
    const range = this.nodeRange(p);
    switch (key) {
      case 'testOrigin': return this.testOrigin(token(p, 'run'), token(p, 'hash'), range);
      case 'mockDecl': return this.mockNode(p);
      case 'decisionDecl': {
        const at = child(p, 'virtualTime');
        return this.decision(token(p, 'decision'), token(p, 'step'), tokens(need(child(p, 'people')), 'value'), at && this.virtualTimeNode(at), range);
      }
      case 'signalDecl': return this.signal(token(p, 'name'), this.expression(child(p, 'expression')), this.virtualTimeNode(child(p, 'virtualTime')), range);
      case 'expectDecl': return this.expect(token(p, 'modality') !== undefined, this.expression(child(p, 'expression')), range);
      default: return this.propValue(key, p);
    }
  }

  private virtualTimeNode(n: CstNode | undefined): A.DurationLit {
    const node = need(n);
    return this.virtualTime(token(node, 'sign'), token(node, 'value'));
  }

  private mockNode(n: CstNode): A.MockDecl {
    const where = child(n, 'where');
    const returns = nodes(n, 'returns').map((r) => this.expression(r));
    const capability = this.qualifiedName(child(n, 'qualifiedName'));
    const m = this.mock(capability, where && this.expression(where), token(n, 'fails'), token(n, 'times'), returns, this.nodeRange(n));
    if (!m.fails && returns.length === 0) throw MISSING; // neither `returns` nor `fails`: reported by the parser
    this.properties(n, 'mockOption', `mock '${capability.parts.map((p) => p.name).join('.')}'`, (key, p) => this.mockOption(m, key, this.propValue(key, p)));
    return m;
  }
}

/**
 * Pairs each key token with the first value (token or node) after it and before the next key:
 * after recovery a key may lack its value, and then it is left out.
 */
function pairUp<V extends IToken | CstNode>(keys: readonly IToken[], values: readonly V[]): [IToken, V][] {
  const start = (x: V): number => ('image' in x ? x.startOffset : (nodeSpan(x)?.[0] ?? -1));
  if (keys.length === values.length) return keys.map((k, i) => [k, values[i]!]);
  const out: [IToken, V][] = [];
  keys.forEach((k, i) => {
    const next = keys[i + 1]?.startOffset ?? Infinity;
    const value = values.find((x) => start(x) > k.startOffset && start(x) < next);
    if (value) out.push([k, value]);
  });
  return out;
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

/** Step options in the order they are assigned, with the labels of their key and value children. */
const STEP_OPTIONS = STEP_OPTION_KEYS.map((key) => [key, `${key}Key`, `${key}Value`] as const);
const NONE_OPTIONS: typeof STEP_OPTIONS = [];

/** The tokens an operand may be (in the order they are looked for). */
const PRIMARY_TOKENS = ['string', 'number', 'bool', 'null'] as const;

/** Where a keyword property keeps its value: one of these tokens, else one of these sub-rules. */
// `AnyNumber`: a quantity property takes any number, its unit checked by the builder (`unitLit`).
const VALUE_TOKENS = ['word', 'String', 'Duration', 'Money', 'Number', 'Percent', 'AnyNumber'];
const VALUE_RULES = ['recordType', 'typeExpr', 'recordLit', 'nameList', 'boolLit', 'qualifiedName', 'expression'] as const;

const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', n: '\n', t: '\t', r: '\r', $: '$' };
