/**
 * The CST path's names, strings (with `${…}` interpolations), expressions (precedence climbing
 * over the grammar's flat operand lists), records, types and retry specs: the tokens read out of
 * the CST nodes, the nodes built by the shared builders (node-builders.ts).
 */
import type { CstNode, IToken } from 'chevrotain';
import type * as A from './ast.js';
import type { Range } from './diagnostic.js';
import { child, need, nodes, nodeSpan, onlyChild, token, tokens, MISSING } from './cst-access.js';
import { RESERVED_WORDS, isSingleQuoted, isTerminatedString, lex, scanInterpolation } from './lexer.js';
import { fitted, NodeBuilders } from './node-builders.js';
import type { DocComments } from './doc-comments.js';
import type { ExprItem, ExpressionParser } from './expression-parts.js';
import type { LineIndex } from './source.js';
import { compactNodes } from './compact-nodes.js';
import { syntaxErrorsToDiagnostics } from './syntax-errors.js';
import { MAX_EXPRESSION_DEPTH, MAX_INTERPOLATION_DEPTH, nestingLimit } from './nesting.js';

export class CstExpressionBuilder extends NodeBuilders {
  /** Builds a type argument on demand (namedType builds only those it uses). */
  protected readonly typeOfNode = (n: CstNode): A.TypeExpr => this.typeExpr(n);

  /** Expressions and operators open around the one being built (MAX_EXPRESSION_DEPTH). */
  protected expressionDepth = 0;

  /** Interpolations open around the string being built (MAX_INTERPOLATION_DEPTH). */
  protected interpolationDepth = 0;

  /**
   * Whether every string token of the main lex is known to be closed (its lex had no problems:
   * parse.ts's direct path), so that each string is not scanned again for its closing quote.
   * Strings of an interpolation's own lex are always checked.
   */
  stringsClosed = false;

  constructor(
    file: string,
    text: string,
    index: LineIndex,
    docs: DocComments,
    /** The grammar's expression parser (`parseExpressionTokens`), for `${…}` interpolations. */
    protected readonly parseExpression: ExpressionParser,
    /** Offsets of the syntax errors already reported, sorted (to avoid piling on). */
    syntaxErrorOffsets: readonly number[] = [],
  ) {
    super(file, text, index, docs, syntaxErrorOffsets);
  }

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
    // `'text'` (reported by lex): the string it means, its text as written.
    if (isSingleQuoted(image)) return { kind: 'StringLit', parts: [image.slice(1, -1)], range: this.tokRange(tok) };
    const base = tok.startOffset;
    const closed = (this.stringsClosed && this.interpolationDepth === 0) || isTerminatedString(image);
    const end = closed ? image.length - 1 : image.length;
    // The first part alone, and a list only from a second one on: most strings are one part.
    let first: string | A.Expr | undefined;
    let parts: (string | A.Expr)[] | undefined;
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
          if (text) {
            if (first === undefined) first = text;
            else (parts ??= [first]).push(text);
          }
          text = '';
          const expr = this.interpolation(image, innerStart, innerEnd, base + innerStart, base + i);
          if (expr) {
            if (first === undefined) first = expr;
            else (parts ??= [first]).push(expr);
          }
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
    if (first === undefined) first = text;
    else if (text) (parts ??= [first]).push(text);
    return { kind: 'StringLit', parts: parts === undefined ? [first] : fitted(parts), range: this.tokRange(tok) };
  }

  /** The interpolation `image[from, to)` (its body, without `${` and `}`), at `offset` in the file. */
  protected interpolation(image: string, from: number, to: number, offset: number, dollarOffset: number): A.Expr | undefined {
    // A dotted name first, read in place: a blank body is not one, and is reported below.
    const path = this.namePath(image, from, to, offset);
    if (path) return path;
    const source = image.slice(from, to);
    if (source.trim() === '') {
      this.error('empty interpolation ${}', this.range(dollarOffset, offset + source.length + 1));
      return undefined;
    }
    if (this.interpolationDepth >= MAX_INTERPOLATION_DEPTH) {
      this.error(`strings with interpolations nested more than ${MAX_INTERPOLATION_DEPTH} levels deep`, this.range(dollarOffset, offset + source.length + 1));
      return undefined;
    }
    const lexed = lex(source, this.words);
    for (const p of lexed.problems) this.error(p.message, this.range(offset + p.offset, offset + p.offset + p.length));
    for (const t of lexed.tokens) {
      const end = (t.endOffset ?? t.startOffset) + offset;
      t.startOffset += offset;
      if (t.endOffset !== end) t.endOffset = end; // a lexer token's end moves with its start
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
  protected namePath(source: string, from: number, to: number, offset: number): A.Expr | undefined {
    // A scanner, not a regular expression: this runs for most strings of a large plan.
    let acc: A.Expr | undefined;
    let start = 0;
    let wantWord = true;
    let i = from;
    while (i < to) {
      const c = source.charCodeAt(i);
      if (isWordStart(c)) {
        if (!wantWord) return undefined;
        let j = i + 1;
        while (j < to && isWordPart(source.charCodeAt(j))) j++;
        const word = this.shared(source.slice(i, j));
        if (RESERVED.has(word)) return undefined;
        const s = offset + i - from;
        const e = offset + j - from;
        if (!acc) {
          acc = this.index.named('NameExpr', word, s, e);
          start = s;
        } else {
          const property: A.Ident = this.index.named('Ident', word, s, e);
          acc = compactNodes(this.index)?.member(acc, property, start, Math.max(start, e)) ?? { kind: 'MemberExpr', object: acc, property, range: this.range(start, e) };
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
  protected enterExpression(offset: number | undefined): void {
    if (++this.expressionDepth <= MAX_EXPRESSION_DEPTH) return;
    this.expressionDepth--;
    const at = offset ?? 0;
    this.error(`expression nested more than ${MAX_EXPRESSION_DEPTH} levels deep (operators inside operators, brackets, interpolations); split it up`, this.range(at, at + 1));
    throw MISSING;
  }

  protected expressionNode(n: CstNode | undefined): A.Expr {
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

  protected binary(op: A.BinaryOp, left: A.Expr, right: A.Expr): A.BinaryExpr {
    return { kind: 'BinaryExpr', op, left, right, range: this.join(left, right) };
  }

  /** An operand with its member / index accesses. */
  protected atom(n: CstNode): A.Expr {
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
  protected primary(n: CstNode): A.Expr {
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
  protected callArguments(n: CstNode): (A.Expr | A.Argument)[] {
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
        const key = this.fieldKey(token(f, 'key'));
        const value = this.expression(child(f, 'expression'));
        return { kind: 'RecordField', key, value, range: this.nodeRange(f) };
      });
      if (field) fields.push(field);
    }
    return this.recordLitFrom(fields, this.nodeRange(node));
  }

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

  protected fieldDeclNode(n: CstNode): A.FieldDecl {
    const range = this.nodeRange(n);
    const name = need(token(n, 'name')); // a field without its name is dropped before its type is looked at
    const type = this.typeExpr(child(n, 'typeExpr'));
    const def = child(n, 'default');
    const annotations = tokens(n, 'annotation');
    const keys = tokens(n, 'fieldKey');
    const options = keys.length === 0 ? undefined : pairUp(keys, tokens(n, 'fieldValue')).flat();
    return this.fieldDecl(name, type, annotations.length > 0 ? annotations : undefined, def && this.expression(def), options, range);
  }

  protected namedTypeNode(n: CstNode): A.TypeExpr {
    const name = this.qualifiedName(child(n, 'qualifiedName'));
    return this.namedType(name, nodes(n, 'arg'), this.typeOfNode, this.nodeRange(n));
  }

  retrySpecNode(n: CstNode | undefined): A.RetrySpec {
    const node = need(n);
    return this.retrySpec(token(node, 'attempts'), token(node, 'backoffKind'), token(node, 'delay'), token(node, 'max'), this.nodeRange(node));
  }
}

/**
 * Pairs each key token with the first value (token or node) after it and before the next key:
 * after recovery a key may lack its value, and then it is left out.
 */
export function pairUp<V extends IToken | CstNode>(keys: readonly IToken[], values: readonly V[]): [IToken, V][] {
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

/** The tokens an operand may be (in the order they are looked for). */
const PRIMARY_TOKENS = ['string', 'number', 'bool', 'null'] as const;

const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', n: '\n', t: '\t', r: '\r', $: '$' };
