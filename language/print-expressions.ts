/** The printer's types, literals and expressions, with the comments inside them. */
import type { Comment, Expr, FieldDecl, Ident, QualifiedName, Range, RecordLit, RecordType, StringLit, TypeExpr } from './ast.js';
import { commentsWithin } from './comments.js';
import { group, indent, join, line, render, type Doc } from './layout.js';
import { BlockPrinter, type Item } from './print-blocks.js';
import { commentText, escapeStringText, formatMoneyAmount, formatNumber, recordKeyText } from './print-literals.js';
import { endOffset, startOffset } from './source.js';
import { chainBase, isChainLink, leftPrec, operandPrecs, Prec, precOf, type ChainLink } from './print-precedence.js';

export class ExprPrinter extends BlockPrinter {
  /** Prints a type, placing comments inside record types; returns the comments it could not place. */
  protected typeWithComments(t: TypeExpr, comments: Comment[]): { doc: Doc; rest: Comment[] } {
    const records: RecordType[] = [];
    const collect = (x: TypeExpr): void => {
      if (x.kind === 'RecordType') records.push(x);
      else if (x.kind === 'ListType') collect(x.element);
      else if (x.kind === 'MapType') collect(x.value);
      else if (x.kind === 'OptionalType') collect(x.inner);
    };
    collect(t);
    const outer = records[0];
    if (!outer) return { doc: this.type(t), rest: comments };
    const mine = commentsWithin(comments, outer.range);
    return { doc: this.type(t, new Map([[outer, mine]])), rest: comments.filter((c) => !mine.includes(c)) };
  }

  type(t: TypeExpr, recordComments: ReadonlyMap<RecordType, Comment[]> = new Map()): Doc {
    switch (t.kind) {
      case 'PrimitiveType':
        return t.name;
      case 'EnumType':
        return join(' | ', t.values.map((v) => this.string(v)));
      case 'ListType':
        return ['list<', this.type(t.element, recordComments), '>'];
      case 'MapType':
        return ['map<', this.type(t.value, recordComments), '>'];
      case 'RecordType':
        return this.recordType(t, recordComments.get(t) ?? []);
      case 'OptionalType':
        return [this.type(t.inner, recordComments), '?'];
      case 'NamedType':
        return this.qname(t.name);
    }
  }

  protected recordType(t: RecordType, comments: Comment[]): Doc {
    const items: Item[] = t.fields.map((f) => ({ range: f.range, doc: f.doc, print: (inner) => this.fieldDecl(f, inner) }));
    return this.commaList('{', '}', items, comments, true);
  }

  /** `suffix`: a separator to print after the field and before its trailing comments. */
  protected fieldDecl(f: FieldDecl, comments: Comment[], suffix = ''): Doc {
    const { doc, rest } = this.typeWithComments(f.type, comments);
    const defaultComments = f.default ? commentsWithin(rest, f.default.range) : [];
    const remaining = rest.filter((c) => !defaultComments.includes(c));
    return this.withTrailing(
      [
        f.name.name,
        ': ',
        doc,
        f.dataClass ? [' @', f.dataClass] : '',
        f.trust ? [' @', f.trust] : '',
        f.default ? [' = ', this.exprC(f.default, defaultComments)] : '',
        f.maxAge ? [' max_age ', this.expr(f.maxAge)] : '',
        f.hold ? [' hold ', this.expr(f.hold)] : '',
        suffix,
      ],
      remaining,
    );
  }

  protected qname(q: QualifiedName): string {
    return q.parts.map((p: Ident) => p.name).join('.');
  }

  protected string(text: string): string {
    return `"${escapeStringText(text)}"`;
  }

  protected stringLit(s: StringLit): Doc {
    // A string cannot span lines: interpolated expressions are always laid out flat.
    const flat = (e: Expr): string => render(this.expr(e), Number.POSITIVE_INFINITY);
    return ['"', s.parts.map((p) => (typeof p === 'string' ? escapeStringText(p) : ['${', flat(p), '}'])), '"'];
  }

  protected recordLit(r: RecordLit, comments: Comment[]): Doc {
    const items: Item[] = r.fields.map((f) => ({ range: f.range, print: (inner) => [recordKeyText(f.key.name), ': ', this.exprC(f.value, inner)] }));
    return this.commaList('{', '}', items, comments, true);
  }

  /** An expression and the comments inside it (placed in nested lists/records/calls, else trailing). */
  protected exprC(e: Expr, comments: readonly Comment[]): Doc {
    if (comments.length === 0) return this.expr(e);
    // `name: /* why */ value`: a one-line block comment written before the value stays before it
    // (deferred, it would follow the item's comma and read as the next item's).
    const start = startOffset(e.range);
    const before = comments.filter((c) => c.style === 'block' && !c.text.includes('\n') && endOffset(c.range) <= start);
    const rest = before.length === 0 ? comments : comments.filter((c) => !before.includes(c));
    const placed = new Set<Comment>();
    const doc = this.expr(e, Prec.Range, rest, placed);
    return this.withTrailing(before.length === 0 ? doc : [before.map((c) => [commentText(c), ' ']), doc], rest.filter((c) => !placed.has(c)));
  }

  expr(e: Expr, min: Prec = Prec.Range, comments: readonly Comment[] = [], placed: Set<Comment> = new Set()): Doc {
    const doc = isChainLink(e) && isChainLink(chainBase(e)) ? this.chain(e, comments, placed) : this.exprInner(e, comments, placed);
    return precOf(e) < min ? ['(', doc, ')'] : doc;
  }

  /**
   * A left-nested chain (`a + b + …`, `a.b.c…`, `a[0][1]…`) printed in a loop from its innermost
   * link outwards, to the same document the recursive printer makes: chains thousands of links
   * long must not exhaust the stack.
   */
  protected chain(e: ChainLink, comments: readonly Comment[], placed: Set<Comment>): Doc {
    const sub = (x: Expr, min: Prec = Prec.Range): Doc => this.expr(x, min, comments, placed);
    const links: ChainLink[] = [];
    let cur: Expr = e;
    while (isChainLink(cur)) {
      links.push(cur);
      cur = chainBase(cur);
    }
    let doc = sub(cur, leftPrec(links[links.length - 1]!));
    for (let i = links.length - 1; i >= 0; i--) {
      const x = links[i]!;
      if (x.kind === 'BinaryExpr') doc = group(doc, ' ', x.op, indent(line, sub(x.right, operandPrecs(x)[1])));
      else if (x.kind === 'MemberExpr') doc = [doc, '.', x.property.name];
      else doc = [doc, '[', sub(x.index), ']'];
      if (i > 0 && precOf(x) < leftPrec(links[i - 1]!)) doc = ['(', doc, ')'];
    }
    return doc;
  }

  protected exprInner(e: Expr, comments: readonly Comment[], placed: Set<Comment>): Doc {
    const sub = (x: Expr, min: Prec = Prec.Range): Doc => this.expr(x, min, comments, placed);
    /** Comments for a list-like child: taken here, so the container places them. */
    const take = (range: Range): Comment[] => {
      const mine = commentsWithin(comments, range).filter((c) => !placed.has(c));
      for (const c of mine) placed.add(c);
      return mine;
    };
    switch (e.kind) {
      case 'StringLit':
        return this.stringLit(e);
      case 'NumberLit':
        return formatNumber(e.value, e.integer);
      case 'DurationLit':
        return `${formatNumber(e.value)}${e.unit}`;
      case 'MoneyLit':
        return `${formatMoneyAmount(e.amount)}${e.currency}`;
      case 'PercentLit':
        return `${formatNumber(e.value)}%`;
      case 'BoolLit':
        return String(e.value);
      case 'NullLit':
        return 'null';
      case 'NameExpr':
        return e.name;
      case 'ListLit': {
        const mine = take(e.range);
        const items: Item[] = e.items.map((x) => ({ range: x.range, print: (inner) => this.exprC(x, inner) }));
        return this.commaList('[', ']', items, mine, false);
      }
      case 'RecordLit':
        return this.recordLit(e, take(e.range));
      case 'MemberExpr':
        return [sub(e.object, Prec.Postfix), '.', e.property.name];
      case 'IndexExpr':
        return [sub(e.object, Prec.Postfix), '[', sub(e.index), ']'];
      case 'CallExpr': {
        const mine = take(e.range);
        const items: Item[] = e.args.map((x) => ({ range: x.range, print: (inner) => this.exprC(x, inner) }));
        for (const a of e.named ?? []) items.push({ range: a.range, print: (inner) => [a.name.name, ': ', this.exprC(a.value, inner)] });
        return [e.callee.name, this.commaList('(', ')', items, mine, false)];
      }
      case 'UnaryExpr':
        if (e.op === 'not') return ['not ', sub(e.operand, Prec.Not)];
        // `- -x` and `- 5` stay apart so they do not lex as one token.
        return [precOf(e.operand) === Prec.Negate ? '- ' : '-', sub(e.operand, Prec.Negate)];
      case 'BinaryExpr': {
        const [l, r] = operandPrecs(e);
        return group(sub(e.left, l), ' ', e.op, indent(line, sub(e.right, r)));
      }
      case 'RangeExpr':
        return [sub(e.from, Prec.Implies), '..', sub(e.to, Prec.Implies)];
      case 'ParenExpr':
        return ['(', sub(e.inner), ')'];
    }
  }
}
