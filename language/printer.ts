/**
 * The canonical printer (`orch fmt`): AST → text in one style.
 *
 * - 2-space indentation, one property per line, properties in a fixed order per declaration;
 * - one blank line between top-level declarations; lists, records and argument lists stay on one
 *   line when they fit in `width` columns, otherwise one element per line;
 * - parentheses: every `ParenExpr` is reproduced, and parentheses are added where precedence
 *   needs them, so re-parsing the output gives back the same tree;
 * - every comment of `Module.comments` is printed, next to the item it was written next to.
 *
 * `print` without `source` still places comments using node ranges; with the source text it can
 * also keep comments next to properties that have no range of their own (`kind agent // …`).
 */
import type {
  Argument, BinaryExpr, BinaryOp, CapabilityCall, CapabilityDecl, Comment, ContextDecl, Declaration,
  BlockItem, RepeatDecl, Expr, FieldDecl, ForEachDecl, GuardrailDecl, GuardrailRule, Ident, ImportDecl, InvariantDecl, Module,
  ModuleDecl, PlanDecl, PolicyDecl, QualifiedName, Range, RecordLit, RecordType, ResourceDecl, RetrySpec,
  Selector, SimulateDecl, StepAction, StepDecl, StringLit, SuccessCriterion, TriggerDecl, TriggerSource,
  TypeAliasDecl, TypeExpr, SimulateContextDecl, SourceDecl, TopicMapping, TestDecl, MockDecl,
} from './ast.js';
import { commentsWithin, distribute, SourceIndex, type Attached } from './comments.js';
import { breakParent, group, hardline, indent, join, line, lineSuffix, render, softline, type Doc } from './layout.js';
import { endLine, endOffset, startLine } from './source.js';

/** Reserved words that continue an expression (`a in b`): a field named so ends the value before it. */
const INFIX_WORDS = new Set(['in', 'and', 'or', 'implies']);

export interface PrintOptions {
  /** The text the module was parsed from; improves comment placement. */
  readonly source?: string;
  /** Target line width for wrapping; default 100. */
  readonly width?: number;
}

export function print(module: Module, options: PrintOptions = {}): string {
  const text = [...printChunks(module, options)].join('');
  return text.length === 0 ? '' : `${text}\n`;
}

/**
 * `print`'s text in pieces, one top-level item (with the line breaks before it) at a time, in
 * order; `print` is their concatenation and a final line break when there is any. Lets
 * `orch fmt --check` stop at the first piece that differs from the file.
 */
export function* printChunks(module: Module, options: PrintOptions = {}): Generator<string> {
  for (const chunk of printModuleChunks(module, options)) yield chunk.text;
}

/** A piece of `printChunks`, with the top-level item it prints. */
export interface PrintedChunk {
  readonly text: string;
  /** The module's item this piece prints; none for the comments after the last item. */
  readonly item?: TopLevelItem;
}

export type TopLevelItem = ModuleDecl | ImportDecl | Declaration;

/** `printChunks` with the item each piece prints (for `format`'s self-check, piece by piece). */
export function* printModuleChunks(module: Module, options: PrintOptions = {}): Generator<PrintedChunk> {
  const printer = new Printer(options.source === undefined ? undefined : new SourceIndex(options.source));
  const width = options.width ?? 100;
  // Top-level chunks are separated by hard line breaks at indent 0, so each lays out alone exactly
  // as within the whole; built and rendered one at a time, only one chunk's document is alive —
  // the whole module's at once took gigabytes for a 10 MB file of small plans.
  for (const chunk of printer.moduleChunks(module)) yield { text: chunk.before + render(chunk.doc(), width), item: chunk.item };
}

/** One expression on one line, exactly as `orch fmt` writes it (hovers, messages). */
export function printExpr(e: Expr): string {
  return render(new Printer(undefined).expr(e), Number.POSITIVE_INFINITY);
}

// ───────────────────────────── literals ─────────────────────────────

/** Prints a number without exponent notation so the lexer reads it back as the same value. */
export function formatNumber(value: number, integer = Number.isInteger(value)): string {
  let text = String(Math.abs(value));
  if (/e/i.test(text)) text = withoutExponent(text);
  if (!integer && !text.includes('.')) text += '.0';
  return value < 0 ? `-${text}` : text;
}

/** `1.5e-7` → `0.00000015`, `1e21` → `1000000000000000000000`: the same digits, the point moved. */
function withoutExponent(text: string): string {
  const [mantissa = '', exp = '0'] = text.toLowerCase().split('e');
  const [whole = '', fraction = ''] = mantissa.split('.');
  const digits = whole + fraction;
  const point = whole.length + Number(exp);
  if (point <= 0) return `0.${'0'.repeat(-point)}${digits}`.replace(/0+$/, '');
  if (point >= digits.length) return digits + '0'.repeat(point - digits.length);
  return `${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** Amounts with cents keep at least two decimals (`0.50usd`, `0.002usd`, `12usd`). */
export function formatMoneyAmount(amount: number): string {
  const text = formatNumber(amount);
  const decimals = text.split('.')[1];
  return decimals !== undefined && decimals.length < 2 ? `${text}0` : text;
}

/** Escapes literal string text: quotes, backslashes, control characters and `${`. */
export function escapeStringText(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    switch (ch) {
      case '"':
        out += '\\"';
        break;
      case '\\':
        out += '\\\\';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\t':
        out += '\\t';
        break;
      case '$':
        out += text[i + 1] === '{' ? '\\$' : '$';
        break;
      default:
        out += ch;
    }
  }
  return out;
}

/** A comment as printed: as written, with `\n` line endings. */
export function commentText(c: Comment): string {
  return c.text.replace(/\r\n?/g, '\n');
}
const text = commentText;
/** `/// …` (not `////`): a doc comment when it starts a line. */
const isTripleSlash = (c: Comment): boolean => c.style === 'line' && /^\/\/\/(?!\/)/.test(commentText(c));

const NO_COMMENTS: Comment[] = Object.freeze([]) as unknown as Comment[];

/** No comment before, after or at the end of the item (its inner ones are its own to print). */
function isAlone(a: Attached): boolean {
  return a.leading.length === 0 && a.trailing.length === 0 && a.after.length === 0;
}

/** The number of lines of a `///` doc comment (its text joins them with `\n`). */
function docLineCount(doc: string): number {
  let n = 1;
  for (let i = doc.indexOf('\n'); i >= 0; i = doc.indexOf('\n', i + 1)) n++;
  return n;
}

// ───────────────────────────── precedence ─────────────────────────────

const enum Prec {
  Range = 0,
  Implies = 1,
  Or = 2,
  And = 3,
  Not = 4,
  Compare = 5,
  Coalesce = 6,
  Additive = 7,
  Multiplicative = 8,
  Negate = 9,
  Postfix = 10,
  Primary = 11,
}

const BINARY_PREC: Record<BinaryOp, Prec> = {
  implies: Prec.Implies,
  or: Prec.Or,
  and: Prec.And,
  '==': Prec.Compare,
  '!=': Prec.Compare,
  '<': Prec.Compare,
  '<=': Prec.Compare,
  '>': Prec.Compare,
  '>=': Prec.Compare,
  in: Prec.Compare,
  '??': Prec.Coalesce,
  '+': Prec.Additive,
  '-': Prec.Additive,
  '*': Prec.Multiplicative,
  '/': Prec.Multiplicative,
  '%': Prec.Multiplicative,
};

function precOf(e: Expr): Prec {
  switch (e.kind) {
    case 'BinaryExpr':
      return BINARY_PREC[e.op];
    case 'UnaryExpr':
      return e.op === 'not' ? Prec.Not : Prec.Negate;
    case 'RangeExpr':
      return Prec.Range;
    case 'MemberExpr':
    case 'IndexExpr':
    case 'CallExpr':
      return Prec.Postfix;
    case 'NumberLit':
      return e.value < 0 ? Prec.Negate : Prec.Primary;
    default:
      return Prec.Primary;
  }
}

type ChainLink = Extract<Expr, { kind: 'BinaryExpr' | 'MemberExpr' | 'IndexExpr' }>;

/** A link of a left-nested chain: its left operand or object continues the chain. */
function isChainLink(e: Expr): e is ChainLink {
  return e.kind === 'BinaryExpr' || e.kind === 'MemberExpr' || e.kind === 'IndexExpr';
}

function chainBase(e: ChainLink): Expr {
  return e.kind === 'BinaryExpr' ? e.left : e.object;
}

/** Minimum precedence of the left operand (or object) of a chain link. */
function leftPrec(e: ChainLink): Prec {
  return e.kind === 'BinaryExpr' ? operandPrecs(e)[0] : Prec.Postfix;
}

/** Minimum precedence of each operand of a binary operator for the tree to re-parse as written. */
function operandPrecs(e: BinaryExpr): [Prec, Prec] {
  const p = BINARY_PREC[e.op];
  if (p === Prec.Implies) return [p + 1, p]; // right-associative
  if (p === Prec.Compare) return [p + 1, p + 1]; // comparisons do not chain
  return [p, p + 1];
}

/**
 * The tree the parser builds from `print(e)`: `e` with a `ParenExpr` wherever the printer has to
 * add parentheses for precedence. `parse(print(m))` equals `m` when `m`'s expressions are fixed
 * points of this function (as every parsed tree is).
 */
export function parenthesize(e: Expr): Expr {
  const at = (child: Expr, min: Prec): Expr => {
    const inner = parenthesize(child);
    return precOf(inner) < min ? { kind: 'ParenExpr', inner, range: inner.range } : inner;
  };
  switch (e.kind) {
    case 'BinaryExpr': {
      const [l, r] = operandPrecs(e);
      return { ...e, left: at(e.left, l), right: at(e.right, r) };
    }
    case 'UnaryExpr':
      return { ...e, operand: at(e.operand, e.op === 'not' ? Prec.Not : Prec.Negate) };
    case 'MemberExpr':
      return { ...e, object: at(e.object, Prec.Postfix) };
    case 'IndexExpr':
      return { ...e, object: at(e.object, Prec.Postfix), index: at(e.index, Prec.Range) };
    case 'CallExpr':
      return {
        ...e,
        args: e.args.map((a) => at(a, Prec.Range)),
        ...(e.named ? { named: e.named.map((a) => ({ ...a, value: at(a.value, Prec.Range) })) } : {}),
      };
    case 'ListLit':
      return { ...e, items: e.items.map((a) => at(a, Prec.Range)) };
    case 'RecordLit':
      return { ...e, fields: e.fields.map((f) => ({ ...f, value: at(f.value, Prec.Range) })) };
    case 'StringLit':
      return { ...e, parts: e.parts.map((p) => (typeof p === 'string' ? p : at(p, Prec.Range))) };
    case 'RangeExpr':
      return { ...e, from: at(e.from, Prec.Implies), to: at(e.to, Prec.Implies) };
    case 'ParenExpr':
      return { ...e, inner: at(e.inner, Prec.Range) };
    default:
      return e;
  }
}

// ───────────────────────────── property keywords (for comment placement) ─────────────────────────────

const KEYWORDS = {
  CapabilityDecl: ['kind', 'input', 'output', 'handler', 'timeout', 'retry', 'cost', 'latency', 'data', 'consent', 'requires', 'idempotent', 'destructive', 'system', 'prompt', 'model', 'endpoint', 'temperature', 'max_tokens', 'trust', 'endorses'],
  ResourceDecl: ['kind', 'provides', 'concurrency', 'cost', 'latency', 'reliability', 'location', 'energy', 'endpoint', 'model', 'accepts', 'available'],
  PolicyDecl: ['strategy', 'weights', 'budget', 'prefer', 'max_fallbacks', 'require_consent', 'rate_limit'],
  GuardrailDecl: ['severity', 'category', 'message', 'forbid', 'require', 'assert', 'check'],
  PlanDecl: ['goal', 'input', 'policy', 'guardrails', 'priority', 'deadline', 'concurrency', 'on_failure', 'success', 'output'],
  StepDecl: ['after', 'on', 'fallback', 'compensate', 'timeout', 'retry', 'join', 'on_failure', 'priority', 'when'],
  TriggerDecl: ['schedule', 'event', 'manual', 'api', 'when', 'after', 'run', 'debounce', 'consent'],
  SimulateDecl: ['output', 'fail', 'latency', 'cost'],
  TestDecl: ['captured_from', 'plan', 'started_by', 'input', 'context'],
} as const;

/** One line-item of a block: a property, a step, a field… */
interface Item {
  /** Where it was in the source, for comment placement; absent for synthesised nodes. */
  readonly range?: Range;
  readonly doc?: string;
  /** Prints the item; `inner` are the comments inside its range, which it must print. */
  readonly print: (inner: Comment[]) => Doc;
  /** A blank line before it: always (a new section of a block), or where the source had one. */
  readonly blankBefore?: 'always' | 'source';
}

/** Items of several sections, one blank line between non-empty sections. */
function sections(...groups: readonly Item[][]): Item[] {
  const out: Item[] = [];
  for (const group of groups) {
    group.forEach((item, i) => out.push(i === 0 && out.length > 0 ? { ...item, blankBefore: 'always' } : item));
  }
  return out;
}

interface Property {
  readonly keyword: string;
  readonly value?: { readonly range: Range };
  readonly print: (inner: Comment[]) => Doc;
}

class Printer {
  constructor(private readonly source: SourceIndex | undefined) {}

  // ───────────── comments ─────────────

  private leading(comments: readonly Comment[]): Doc {
    return comments.map((c) => [text(c), hardline]);
  }

  /**
   * Block comments stay inline; the first line comment goes to the end of the line; anything
   * after it gets a line of its own, at the item's indentation.
   */
  private trailing(comments: readonly Comment[]): Doc {
    const out: Doc[] = [];
    let lineEnded = false;
    for (const c of comments) {
      if (lineEnded) out.push(hardline, text(c));
      else if (c.style === 'line') {
        out.push(lineSuffix(` ${text(c)}`));
        lineEnded = true;
      } else out.push(` ${text(c)}`, text(c).includes('\n') ? breakParent : '');
    }
    return out;
  }

  private docLines(doc: string | undefined): Doc {
    if (doc === undefined) return [];
    return doc.split('\n').map((l) => [l.length > 0 ? `/// ${l}` : '///', hardline]);
  }

  /**
   * Comments an item could not place among its parts are printed after the whole item (and
   * after its separator in a list), by the container: see `printItem`.
   */
  private deferred: Comment[] = [];

  private withTrailing(doc: Doc, inner: readonly Comment[]): Doc {
    this.deferred.push(...inner);
    return doc;
  }

  /** Items one per line, with the blank lines their `blankBefore` asks for. */
  private lines(items: readonly Item[], comments: readonly Comment[]): { docs: Doc[]; dangling: Comment[] } {
    const { items: attached, dangling } = this.distribute(items, comments);
    const docs: Doc[] = [];
    items.forEach((item, index) => {
      const a = attached[index]!;
      // Lines are looked up only for an item that keeps a blank line from the source.
      const sourceBlank = (): boolean => {
        const prevEnd = this.lastLine(items[index - 1]!, attached[index - 1]!);
        const first = a.leading[0] !== undefined ? startLine(a.leading[0].range) : this.firstLine(item);
        return prevEnd !== undefined && first !== undefined && first - prevEnd > 1;
      };
      const blank = index > 0 && (item.blankBefore === 'always' || (item.blankBefore === 'source' && sourceBlank()));
      docs.push([blank ? hardline : '', this.itemDoc(item, a)]);
    });
    return { docs, dangling };
  }

  private distribute(items: readonly Item[], comments: readonly Comment[]): ReturnType<typeof distribute> {
    // The items' first lines matter only to place comments.
    return distribute(items.map((i) => i.range), comments, comments.length === 0 ? [] : items.map((i) => this.firstLine(i)));
  }

  /** Own-line comments that close an item. */
  private after(comments: readonly Comment[]): Doc {
    return comments.map((c) => [hardline, text(c)]);
  }

  /** The last source line of an item with the comments that follow it. */
  private lastLine(item: Item, a: Attached): number | undefined {
    if (!item.range || endOffset(item.range) <= 0) return undefined;
    const last = a.after.at(-1) ?? a.trailing.at(-1);
    return last !== undefined ? endLine(last.range) : endLine(item.range);
  }

  /** The source line an item starts on, counting its `///` doc lines (not part of its range). */
  private firstLine(item: Item): number | undefined {
    if (!item.range) return undefined;
    return startLine(item.range) - (item.doc === undefined ? 0 : docLineCount(item.doc));
  }

  private itemDoc(item: Item, a: Attached): Doc {
    const { doc, late } = this.printItem(item, a);
    // Nothing around it (most items): the item alone, not wrapped in five empty documents.
    if (late.length === 0 && item.doc === undefined && isAlone(a)) return doc;
    return [this.leading(a.leading), this.docLines(item.doc), doc, this.trailing([...late, ...a.trailing]), this.after(a.after)];
  }

  /** Prints an item and collects the comments it deferred. */
  private printItem(item: Item, a: Attached): { doc: Doc; late: Comment[] } {
    const mark = this.deferred.length;
    const doc = item.print(a.inner);
    if (this.deferred.length === mark) return { doc, late: NO_COMMENTS };
    const late = this.deferred.splice(mark).sort((x, y) => x.range.start.offset - y.range.start.offset);
    return { doc, late };
  }

  /**
   * `head {` items one per line `}`; `{}` when empty. Comments on the opening line (`{ // …`)
   * describe the block and go first.
   */
  private block(head: Doc, items: readonly Item[], comments: readonly Comment[], node?: Range): Doc {
    const [header, rest] = this.splitHeader(items, comments, node);
    const { docs, dangling } = this.lines(items, rest);
    const afterEnd = node ? header.filter((c) => c.range.start.offset >= node.end.offset) : [];
    // `x {} // c`: moved inside, the comment would describe an empty block the next time round
    // and the output would change again.
    if (docs.length === 0 && dangling.length === 0 && afterEnd.length === header.length) return [head, ' {}', this.trailing(afterEnd)];
    // A `///` on the opening line stays there: on a line of its own it would become the first
    // item's doc comment.
    const onOpening = header.filter((c) => !afterEnd.includes(c) && isTripleSlash(c));
    const inside = header.filter((c) => !onOpening.includes(c));
    const body: Doc[] = [...inside.map((c) => text(c)), ...docs, ...dangling.map((c) => text(c))];
    return [head, ' {', this.trailing(onOpening), indent(body.map((d) => [hardline, d])), hardline, '}'];
  }

  /**
   * Comments on the block's opening line, before any item, describe the whole block; so do the
   * end-of-line comments of a one-line declaration (handed in by `module`, after `node`).
   */
  private splitHeader(items: readonly Item[], comments: readonly Comment[], node: Range | undefined): [Comment[], Comment[]] {
    if (node === undefined) return [[], [...comments]];
    // No comments (most blocks): no positions to look up.
    if (comments.length === 0) return [[], []];
    // A loop, not Math.min(...): a call of 100,000 arguments would overflow the stack.
    let firstItem = Infinity;
    for (const i of items) if (i.range && i.range.end.offset > 0) firstItem = Math.min(firstItem, i.range.start.offset);
    const isHeader = (c: Comment): boolean =>
      c.range.start.line === node.start.line && (c.range.end.offset <= firstItem || c.range.start.offset >= node.end.offset);
    return [comments.filter(isHeader), comments.filter((c) => !isHeader(c))];
  }

  /** `open a, b close` on one line when it fits, else one element per line (no trailing comma). */
  private commaList(open: string, close: string, items: readonly Item[], comments: readonly Comment[], spaced: boolean): Doc {
    const { items: attached, dangling } = this.distribute(items, comments);
    if (items.length === 0 && dangling.length === 0) return `${open}${close}`;
    const parts: Doc[] = [];
    items.forEach((item, index) => {
      const a = attached[index]!;
      const last = index === items.length - 1;
      const { doc, late } = this.printItem(item, a);
      if (late.length === 0 && item.doc === undefined && isAlone(a)) {
        // The empty text stands for the full form's: `render` trims trailing spaces up to one.
        parts.push(last ? [doc, ''] : [doc, ',', line]);
        return;
      }
      parts.push([
        this.leading(a.leading),
        this.docLines(item.doc),
        doc,
        last ? '' : ',',
        this.trailing([...late, ...a.trailing]),
        this.after(a.after),
        last ? '' : line,
      ]);
    });
    for (const c of dangling) parts.push(hardline, text(c), breakParent);
    const edge = spaced ? line : softline;
    return group(open, indent(edge, parts), edge, close);
  }

  private propertyBlock(head: Doc, node: { readonly kind: keyof typeof KEYWORDS; readonly range: Range }, props: readonly Property[], comments: readonly Comment[]): Doc {
    return this.block(head, this.propertyItems(node, props, comments), comments, node.range);
  }

  /**
   * `comments`: those the block will place among its items. `foreign`: ranges of the block's
   * other items (a plan's steps), which no property spans.
   */
  private propertyItems(
    node: { readonly kind: keyof typeof KEYWORDS; readonly range: Range },
    props: readonly Property[],
    comments: readonly Comment[],
    foreign: readonly Range[] = [],
  ): Item[] {
    // A property's span places comments, nothing else (property items never take a blank line
    // from the source): a block without comments skips the scan, which lexes its text again.
    if (comments.length === 0) return props.map((p) => ({ range: p.value?.range, print: p.print }));
    const values = props.flatMap((p) => (p.value && p.value.range.end.offset > 0 ? [p.value.range] : []));
    const spans = this.source?.propertySpans(node.range, new Set<string>(KEYWORDS[node.kind]), values, foreign) ?? [];
    const seen = new Map<string, number>();
    return props.map((p) => {
      const n = seen.get(p.keyword) ?? 0;
      seen.set(p.keyword, n + 1);
      const span = spans.filter((s) => s.keyword === p.keyword)[n];
      return { range: span?.range ?? p.value?.range, print: p.print };
    });
  }

  // ───────────── module ─────────────

  /** The module as chunks that each start a line at indent 0, after `before` (line breaks). */
  moduleChunks(m: Module): { readonly before: string; readonly doc: () => Doc; readonly item?: TopLevelItem }[] {
    const header: Item[] = [];
    if (m.module) {
      const md = m.module;
      header.push({ range: md.range, print: (inner) => this.withTrailing(this.moduleDecl(md), inner) });
    }
    const imports: Item[] = m.imports.map((imp) => ({ range: imp.range, print: (inner) => this.withTrailing(this.importDecl(imp), inner) }));
    const decls: Item[] = m.declarations.map((d) => ({ range: d.range, doc: d.doc, print: (inner) => this.declaration(d, inner) }));
    const absorbs = new Set(m.declarations.filter((d) => d.kind !== 'InvariantDecl' && d.kind !== 'TypeAliasDecl').map((d) => d.range));
    const all = [...header, ...imports, ...decls];
    const nodes: TopLevelItem[] = [...(m.module ? [m.module] : []), ...m.imports, ...m.declarations];
    const comments = [...m.comments].sort((a, b) => a.range.start.offset - b.range.start.offset);
    const { items: attached, dangling } = this.distribute(all, comments);
    /** An import after the first: printed right below the one before it. */
    const sameGroupAt = (index: number): boolean => index > header.length && index < header.length + imports.length;
    const chunks: { before: string; doc: () => Doc; item?: TopLevelItem }[] = all.map((item, index) => ({
      before: index === 0 ? '' : sameGroupAt(index) ? '\n' : '\n\n',
      item: nodes[index],
      doc: () => {
        const a = attached[index]!;
        // `trigger t { … }  // note` on one line becomes a block: the note goes to its first line.
        const oneLine = item.range !== undefined && absorbs.has(item.range) && startLine(item.range) === endLine(item.range);
        const placed = oneLine ? { ...a, inner: [...a.inner, ...a.trailing], trailing: [] } : a;
        // Imports are one group without blank lines: a blank line kept after a comment above an
        // import would make that comment close the import before it the next time round.
        return [this.topLeading(a.leading, item, !sameGroupAt(index)), this.itemDoc(item, { ...placed, leading: [] })];
      },
    }));
    // Comments after the last declaration: keep a blank line where the source had one.
    const last = attached.at(-1);
    let prevLine = last && all.length > 0 ? this.lastLine(all.at(-1)!, last) : undefined;
    const tail: Doc[] = [];
    for (const c of dangling) {
      if (chunks.length > 0 || tail.length > 0) tail.push(hardline, prevLine === undefined || c.range.start.line - prevLine > 1 ? hardline : '');
      tail.push(text(c));
      prevLine = c.range.end.line;
    }
    if (tail.length) chunks.push({ before: '', doc: () => tail });
    return chunks;
  }

  /** Top-level leading comments keep a single blank line where the source had one. */
  private topLeading(comments: readonly Comment[], next: Item, blankLines = true): Doc {
    if (comments.length === 0) return [];
    const real = blankLines && next.range !== undefined && next.range.end.offset > 0;
    return comments.map((c, i) => {
      const nextLine = comments[i + 1]?.range.start.line ?? this.firstLine(next);
      const blank = real && nextLine !== undefined && nextLine - c.range.end.line > 1;
      return [text(c), hardline, blank ? hardline : ''];
    });
  }

  private moduleDecl(md: ModuleDecl): Doc {
    return ['module ', this.qname(md.name)];
  }

  private importDecl(imp: ImportDecl): Doc {
    if (imp.kind === 'FileImport') return ['import ', imp.mcp ? 'mcp ' : '', this.string(imp.path), ' as ', imp.alias.name];
    if (!imp.names) return ['import ', this.qname(imp.path)];
    const names = imp.names.map((n) => ({ range: n.range, print: (inner: Comment[]) => this.withTrailing(n.name, inner) }));
    return ['import ', this.qname(imp.path), ' ', this.commaList('{', '}', names, [], true)];
  }

  private declaration(d: Declaration, comments: Comment[]): Doc {
    switch (d.kind) {
      case 'TypeAliasDecl':
        return this.typeAlias(d, comments);
      case 'CapabilityDecl':
        return this.capability(d, comments);
      case 'ResourceDecl':
        return this.resource(d, comments);
      case 'PolicyDecl':
        return this.policy(d, comments);
      case 'GuardrailDecl':
        return this.guardrail(d, comments);
      case 'ContextDecl':
        return this.context(d, comments);
      case 'PlanDecl':
        return this.plan(d, comments);
      case 'TriggerDecl':
        return this.trigger(d, comments);
      case 'InvariantDecl':
        return this.invariant(d, comments);
      case 'SimulateDecl':
        return this.simulate(d, comments);
      case 'SimulateContextDecl':
        return this.simulateContext(d, comments);
      case 'SourceDecl':
        return this.sourceDecl(d, comments);
      case 'TestDecl':
        return this.test(d, comments);
    }
  }

  // ───────────── declarations ─────────────

  private typeAlias(d: TypeAliasDecl, comments: Comment[]): Doc {
    const { doc, rest } = this.typeWithComments(d.type, comments);
    return this.withTrailing(['type ', d.name.name, ' = ', doc], rest);
  }

  /** `a, b, c` after a property keyword; one per line (indented) when too long. */
  private wordList(words: readonly Doc[]): Doc {
    return group(indent(join([',', line], words)));
  }

  /** A property whose value is a single word or literal with no nested comments to place. */
  private prop(keyword: string, value: Doc, range?: Range): Property {
    return { keyword, value: range ? { range } : undefined, print: (inner) => this.withTrailing([keyword, ' ', value], inner) };
  }

  private capability(d: CapabilityDecl, comments: Comment[]): Doc {
    const props: Property[] = [];
    if (d.capabilityKind) props.push(this.prop('kind', d.capabilityKind));
    if (d.input) {
      const input = d.input;
      props.push({ keyword: 'input', value: input, print: (inner) => ['input ', this.recordType(input, inner)] });
    }
    if (d.output) props.push(this.typeProp('output', d.output));
    if (d.handler) props.push(this.prop('handler', this.stringLit(d.handler), d.handler.range));
    if (d.timeout) props.push(this.prop('timeout', this.expr(d.timeout), d.timeout.range));
    if (d.retry) props.push(this.prop('retry', this.retry(d.retry), d.retry.range));
    if (d.cost) props.push(this.prop('cost', this.expr(d.cost), d.cost.range));
    if (d.latency) props.push(this.prop('latency', this.expr(d.latency), d.latency.range));
    if (d.data) props.push(this.prop('data', d.data));
    if (d.consent) props.push(this.prop('consent', this.wordList(d.consent.map((s) => this.stringLit(s)))));
    if (d.requires) props.push(this.prop('requires', this.wordList(d.requires.map((i) => i.name))));
    if (d.idempotent !== undefined) props.push(this.prop('idempotent', String(d.idempotent)));
    if (d.destructive !== undefined) props.push(this.prop('destructive', String(d.destructive)));
    if (d.system) props.push(this.prop('system', this.stringLit(d.system), d.system.range));
    if (d.prompt) props.push(this.prop('prompt', this.stringLit(d.prompt), d.prompt.range));
    if (d.model) props.push(this.prop('model', this.stringLit(d.model), d.model.range));
    if (d.endpoint) props.push(this.prop('endpoint', this.stringLit(d.endpoint), d.endpoint.range));
    if (d.temperature) props.push(this.prop('temperature', this.expr(d.temperature), d.temperature.range));
    if (d.maxTokens) props.push(this.prop('max_tokens', this.expr(d.maxTokens), d.maxTokens.range));
    if (d.trust) props.push(this.prop('trust', d.trust));
    if (d.endorses !== undefined) props.push(this.prop('endorses', String(d.endorses)));
    return this.propertyBlock(['capability ', d.name.name, ...(d.from ? [' from ', this.qname(d.from)] : [])], d, props, comments);
  }

  private typeProp(keyword: string, type: TypeExpr): Property {
    return {
      keyword,
      value: type,
      print: (inner) => {
        const { doc, rest } = this.typeWithComments(type, inner);
        return this.withTrailing([keyword, ' ', doc], rest);
      },
    };
  }

  private resource(d: ResourceDecl, comments: Comment[]): Doc {
    const props: Property[] = [];
    if (d.resourceKind) props.push(this.prop('kind', d.resourceKind));
    if (d.provides) props.push(this.prop('provides', this.wordList(d.provides.map((i) => i.name))));
    if (d.concurrency) props.push(this.prop('concurrency', this.expr(d.concurrency), d.concurrency.range));
    if (d.cost) props.push(this.prop('cost', this.expr(d.cost), d.cost.range));
    if (d.latency) props.push(this.prop('latency', this.expr(d.latency), d.latency.range));
    if (d.reliability) props.push(this.prop('reliability', this.expr(d.reliability), d.reliability.range));
    if (d.location) props.push(this.prop('location', this.stringLit(d.location), d.location.range));
    if (d.energy) props.push(this.prop('energy', this.expr(d.energy), d.energy.range));
    if (d.endpoint) props.push(this.prop('endpoint', this.stringLit(d.endpoint), d.endpoint.range));
    if (d.model) props.push(this.prop('model', this.stringLit(d.model), d.model.range));
    if (d.accepts) props.push(this.prop('accepts', d.accepts));
    const available = d.availableWhen;
    if (available) props.push({ keyword: 'available', value: available, print: (inner) => ['available when ', this.exprC(available, inner)] });
    return this.propertyBlock(['resource ', d.name.name], d, props, comments);
  }

  private policy(d: PolicyDecl, comments: Comment[]): Doc {
    const props: Property[] = [];
    if (d.strategy) props.push(this.prop('strategy', d.strategy));
    if (d.weights) {
      const weights = d.weights;
      props.push({
        keyword: 'weights',
        value: weights[0],
        print: (inner) => {
          const items: Item[] = weights.map((w) => ({ range: w.range, print: (c) => this.withTrailing([w.key.name, ': ', this.expr(w.value)], c) }));
          return ['weights ', this.commaList('{', '}', items, inner, true)];
        },
      });
    }
    for (const b of d.budgets) props.push(this.prop('budget', [b.metric, ' ', b.op, ' ', this.expr(b.limit), b.warn ? ' warn' : ''], b.range));
    if (d.prefer) props.push(this.prop('prefer', d.prefer));
    if (d.maxFallbacks) props.push(this.prop('max_fallbacks', this.expr(d.maxFallbacks), d.maxFallbacks.range));
    if (d.requireConsent !== undefined) props.push(this.prop('require_consent', String(d.requireConsent)));
    for (const r of d.rateLimits) {
      props.push(this.prop('rate_limit', [this.qname(r.capability), ' ', formatNumber(r.count, true), ' per ', this.expr(r.per)], r.range));
    }
    return this.propertyBlock(['policy ', d.name.name], d, props, comments);
  }

  private guardrail(d: GuardrailDecl, comments: Comment[]): Doc {
    const props: Property[] = [];
    if (d.severity) props.push(this.prop('severity', d.severity));
    if (d.category) props.push(this.prop('category', d.category.name, d.category.range));
    for (const r of d.rules) props.push(this.rule(r));
    if (d.message) props.push(this.prop('message', this.stringLit(d.message), d.message.range));
    return this.propertyBlock(['guardrail ', d.name.name], d, props, comments);
  }

  private rule(r: GuardrailRule): Property {
    const exprProp = (keyword: string, head: Doc, e: Expr): Property => ({
      keyword,
      value: r,
      print: (inner) => [head, this.exprC(e, inner)],
    });
    switch (r.kind) {
      case 'ForbidRule':
        return exprProp('forbid', 'forbid step where ', r.condition);
      case 'AssertRule':
        return exprProp('assert', 'assert ', r.condition);
      case 'CheckRule':
        return exprProp('check', ['check ', this.selector(r.target), ' where '], r.condition);
      case 'RequireRule':
        return this.prop('require', [this.selector(r.subject), ' ', r.order, ' ', this.selector(r.object)], r.range);
    }
  }

  private selector(s: Selector): Doc {
    switch (s.kind) {
      case 'StepSelector':
        return s.step.name;
      case 'KindSelector':
        return ['kind ', s.capabilityKind];
      case 'CapabilitySelector':
        return ['capability ', this.qname(s.capability)];
    }
  }

  private context(d: ContextDecl, comments: Comment[]): Doc {
    const items: Item[] = d.fields.map((f, i) => {
      // Fields of a context block need no comma, but a default followed by a field named by an
      // operator word (`n: int = 1` then `in: string`) would read as `1 in …`: a comma ends it.
      const next = d.fields[i + 1];
      const endsWithDefault = f.default !== undefined && f.maxAge === undefined && f.hold === undefined;
      const comma = endsWithDefault && next !== undefined && INFIX_WORDS.has(next.name.name);
      return { range: f.range, doc: f.doc, print: (inner) => this.fieldDecl(f, inner, comma ? ',' : '') };
    });
    return this.block('context', items, comments, d.range);
  }

  private plan(d: PlanDecl, comments: Comment[]): Doc {
    const props: Property[] = [];
    if (d.goal) props.push(this.prop('goal', this.stringLit(d.goal), d.goal.range));
    if (d.input) {
      const input = d.input;
      props.push({ keyword: 'input', value: input, print: (inner) => ['input ', this.recordType(input, inner)] });
    }
    if (d.policy) props.push(this.prop('policy', this.qname(d.policy), d.policy.range));
    if (d.guardrails.length > 0) {
      const first = d.guardrails[0]!;
      props.push(this.prop('guardrails', this.wordList(d.guardrails.map((g) => this.qname(g))), first.range));
    }
    if (d.priority) props.push(this.prop('priority', d.priority));
    if (d.deadline) props.push(this.prop('deadline', this.expr(d.deadline), d.deadline.range));
    if (d.concurrency) props.push(this.prop('concurrency', this.expr(d.concurrency), d.concurrency.range));
    if (d.onFailure) props.push(this.prop('on_failure', d.onFailure));
    const results: Property[] = d.success.map((s) => ({ keyword: 'success', value: s, print: (inner) => this.success(s, inner) }));
    if (d.output) {
      const output = d.output;
      results.push({ keyword: 'output', value: output, print: (inner) => ['output ', this.recordLit(output, inner)] });
    }
    const propItems = this.propertyItems(d, [...props, ...results], comments, d.body.map((b) => b.range));
    const body: Item[] = d.body.map((b) => this.bodyItem(b));
    return this.block(
      ['plan ', d.name.name],
      sections(propItems.slice(0, props.length), body, propItems.slice(props.length)),
      comments,
      d.range,
    );
  }

  private bodyItem(b: BlockItem | InvariantDecl): Item {
    switch (b.kind) {
      case 'StepDecl':
        return { range: b.range, doc: b.doc, blankBefore: 'source', print: (inner) => this.step(b, inner) };
      case 'ForEachDecl':
        return { range: b.range, blankBefore: 'source', print: (inner) => this.forEach(b, inner) };
      case 'RaceDecl':
        return { range: b.range, blankBefore: 'source', print: (inner) => this.block(['race ', b.name.name], b.body.map((x) => this.bodyItem(x)), inner, b.range) };
      case 'RepeatDecl':
        return { range: b.range, blankBefore: 'source', print: (inner) => this.repeat(b, inner) };
      case 'InvariantDecl':
        return { range: b.range, doc: b.doc, blankBefore: 'source', print: (inner) => this.invariant(b, inner) };
    }
  }

  private success(s: SuccessCriterion, comments: Comment[]): Doc {
    return ['success ', s.label ? [this.stringLit(s.label), ': '] : '', this.exprC(s.condition, comments)];
  }

  private step(s: StepDecl, comments: Comment[]): Doc {
    const options: Property[] = [];
    if (s.after.length > 0) options.push(this.prop('after', this.wordList(s.after.map((a) => a.name)), s.after[0]!.range));
    if (s.on) options.push(this.prop('on', this.qname(s.on), s.on.range));
    if (s.timeout) options.push(this.prop('timeout', this.expr(s.timeout), s.timeout.range));
    if (s.retry) options.push(this.prop('retry', this.retry(s.retry), s.retry.range));
    if (s.join) options.push(this.prop('join', s.join));
    if (s.onFailure) options.push(this.prop('on_failure', s.onFailure));
    if (s.priority) options.push(this.prop('priority', s.priority));
    for (const [keyword, call] of [['fallback', s.fallback], ['compensate', s.compensate]] as const) {
      if (call) options.push({ keyword, value: call, print: (inner) => [keyword, ' ', this.capabilityCall(call, inner)] });
    }
    // Comments inside the action or the `when` condition go there; the rest belong to the options.
    const actionComments = commentsWithin(comments, s.action.range);
    const whenComments = s.when ? commentsWithin(comments, s.when.range) : [];
    const optionComments = comments.filter((c) => !actionComments.includes(c) && !whenComments.includes(c));
    // `when …` moves to its own line when it does not fit after the action.
    const head: Doc = [
      'step ',
      s.name.name,
      ' = ',
      this.action(s.action, actionComments),
      s.when ? group(indent(line, 'when ', this.exprC(s.when, whenComments))) : '',
    ];
    if (options.length === 0) return this.withTrailing(head, optionComments);
    // Only the options block `{ … }` is scanned: the scan starts after the head, because the
    // action or the `when` condition may hold a record whose `{` (and `timeout:` key) would
    // otherwise be taken for the block and its properties.
    const headEnd = (s.when ?? s.action).range.end;
    const items = this.propertyItems({ kind: s.kind, range: { start: headEnd, end: s.range.end } }, options, optionComments);
    return this.block(head, items, optionComments);
  }

  private action(a: StepAction, comments: Comment[]): Doc {
    switch (a.kind) {
      case 'CapabilityCall':
        return this.capabilityCall(a, comments);
      case 'RunAction':
        // `run weekly_report` reads like a trigger's `run`; parentheses only with arguments.
        return ['run ', this.qname(a.plan), a.args.length === 0 ? this.withTrailing('', comments) : this.args(a.args, comments)];
      case 'WaitAction':
        return ['wait ', this.exprC(a.duration, comments)];
      case 'WaitUntilAction':
        return ['wait until ', this.exprC(a.condition, comments), a.timeout ? [' timeout ', this.expr(a.timeout)] : ''];
    }
  }

  private capabilityCall(c: CapabilityCall, comments: Comment[]): Doc {
    return [this.qname(c.capability), this.args(c.args, comments)];
  }

  private args(args: readonly Argument[], comments: Comment[]): Doc {
    const items: Item[] = args.map((a) => ({ range: a.range, print: (inner) => [a.name.name, ': ', this.exprC(a.value, inner)] }));
    return this.commaList('(', ')', items, comments, false);
  }

  private forEach(f: ForEachDecl, comments: Comment[]): Doc {
    const listComments = commentsWithin(comments, f.list.range);
    const rest = comments.filter((c) => !listComments.includes(c));
    const head: Doc = [
      'for each ',
      f.item.name,
      ' in ',
      this.exprC(f.list, listComments),
      f.parallel ? [' parallel ', this.expr(f.parallel)] : '',
    ];
    return this.block(head, f.body.map((b) => this.bodyItem(b)), rest, f.range);
  }

  private repeat(r: RepeatDecl, comments: Comment[]): Doc {
    const untilComments = commentsWithin(comments, r.until.range);
    const rest = comments.filter((c) => !untilComments.includes(c));
    const head: Doc = [
      'repeat ',
      r.name.name,
      r.max ? [' max ', this.expr(r.max)] : '',
      ' until ',
      this.exprC(r.until, untilComments),
      r.onFailure ? [' on_failure ', r.onFailure] : '',
    ];
    return this.block(head, r.body.map((b) => this.bodyItem(b)), rest, r.range);
  }

  private trigger(d: TriggerDecl, comments: Comment[]): Doc {
    const props: Property[] = [this.triggerSource(d.source)];
    const withRecord = d.with;
    props.push({
      keyword: 'run',
      value: d.plan,
      print: (inner) => ['run ', this.qname(d.plan), withRecord ? [' with ', this.recordLit(withRecord, inner)] : this.withTrailing('', inner)],
    });
    if (d.debounce) props.push(this.prop('debounce', this.expr(d.debounce), d.debounce.range));
    if (d.consent) props.push(this.prop('consent', this.wordList(d.consent.map((s) => this.stringLit(s)))));
    return this.propertyBlock(['trigger ', d.name.name], d, props, comments);
  }

  private triggerSource(s: TriggerSource): Property {
    switch (s.kind) {
      case 'ScheduleSource':
        return this.prop('schedule', [this.stringLit(s.cron), s.timezone ? [' timezone ', this.stringLit(s.timezone)] : ''], s.range);
      case 'EventSource': {
        const where = s.where;
        return {
          keyword: 'event',
          value: s,
          print: (inner) => ['event ', this.stringLit(s.eventType), where ? [' where ', this.exprC(where, inner)] : this.withTrailing('', inner)],
        };
      }
      case 'ManualSource':
        return { keyword: 'manual', value: s, print: (inner) => this.withTrailing('manual', inner) };
      case 'ApiSource':
        return this.prop('api', this.stringLit(s.path), s.range);
      case 'ConditionSource':
        return { keyword: 'when', value: s, print: (inner) => ['when ', this.exprC(s.condition, inner)] };
      case 'ChainSource':
        return this.prop('after', [this.qname(s.plan), ' ', s.outcome], s.range);
    }
  }

  private invariant(d: InvariantDecl, comments: Comment[]): Doc {
    const name = d.name.kind === 'Ident' ? d.name.name : this.stringLit(d.name);
    if (comments.length === 0) return group('invariant ', name, ' {', indent(line, d.modality, ' ', this.expr(d.condition)), line, '}');
    // With comments inside, the body gets its own line so they can stay above or below it.
    const body: Item = { range: d.condition.range, print: (inner) => [d.modality, ' ', this.exprC(d.condition, inner)] };
    return this.block(['invariant ', name], [body], comments, d.range);
  }

  private simulate(d: SimulateDecl, comments: Comment[]): Doc {
    const props: Property[] = [];
    if (d.output) {
      const output = d.output;
      props.push({ keyword: 'output', value: output, print: (inner) => ['output ', this.recordLit(output, inner)] });
    }
    if (d.fail) props.push(this.prop('fail', this.expr(d.fail), d.fail.range));
    if (d.latency) props.push(this.prop('latency', this.expr(d.latency), d.latency.range));
    if (d.cost) props.push(this.prop('cost', this.expr(d.cost), d.cost.range));
    return this.propertyBlock(['simulate ', this.qname(d.capability)], d, props, comments);
  }

  // ───────────── v0.4: staleness, sources, tests ─────────────

  private simulateContext(d: SimulateContextDecl, comments: Comment[]): Doc {
    const items: Item[] = d.signals.map((s) => ({
      range: s.range,
      print: (inner) => this.withTrailing([s.signal.name, ' stale ', this.expr(s.share)], inner),
    }));
    return this.block('simulate context', items, comments, d.range);
  }

  private sourceDecl(d: SourceDecl, comments: Comment[]): Doc {
    const items: Item[] = d.topics.map((t) => ({ range: t.range, blankBefore: 'source', print: (inner) => this.topic(t, inner) }));
    return this.block(['source ', d.name.name], items, comments, d.range);
  }

  private topic(t: TopicMapping, comments: Comment[]): Doc {
    const parts = this.parts(comments);
    return this.withTrailing(
      ['topic ', this.stringLit(t.topic), ' sets ', t.signal.name, t.from ? [' from ', parts(t.from)] : '', t.at ? [' at ', parts(t.at)] : ''],
      parts.rest(),
    );
  }

  /**
   * Prints the expressions of a one-line item, each with the comments inside it; `rest()` gives
   * the comments none of them held (for the item to trail).
   */
  private parts(comments: readonly Comment[]): ((e: Expr) => Doc) & { rest: () => Comment[] } {
    const used = new Set<Comment>();
    const print = (e: Expr): Doc => {
      const mine = commentsWithin(comments, e.range).filter((c) => !used.has(c));
      for (const c of mine) used.add(c);
      return e.kind === 'RecordLit' ? this.recordLit(e, mine) : this.exprC(e, mine);
    };
    return Object.assign(print, { rest: () => comments.filter((c) => !used.has(c)) });
  }

  private test(d: TestDecl, comments: Comment[]): Doc {
    const props: Property[] = [];
    const origin = d.origin;
    if (origin) props.push(this.prop('captured_from', [this.stringLit(origin.run), ' ir_hash ', this.stringLit(origin.irHash)], origin.range));
    props.push(this.prop('plan', this.qname(d.plan), d.plan.range));
    if (d.startedBy) props.push(this.prop('started_by', this.stringLit(d.startedBy), d.startedBy.range));
    for (const [keyword, record] of [['input', d.input], ['context', d.context]] as const) {
      if (record) props.push({ keyword, value: record, print: (inner) => [keyword, ' ', this.recordLit(record, inner)] });
    }
    const body: Item[] = [
      ...d.mocks.map((m): Item => ({ range: m.range, blankBefore: 'source', print: (inner) => this.mock(m, inner) })),
      ...d.decisions.map((x): Item => ({
        range: x.range,
        blankBefore: 'source',
        print: (inner) => this.withTrailing([x.decision, ' ', x.step.name, ' by ', join(', ', x.by.map((p) => this.stringLit(p))), x.at ? [' at ', this.expr(x.at)] : ''], inner),
      })),
      ...d.signals.map((x): Item => ({
        range: x.range,
        blankBefore: 'source',
        print: (inner) => {
          const parts = this.parts(inner);
          return this.withTrailing(['signal context.', x.signal.name, ' = ', parts(x.value), ' at ', this.expr(x.at)], parts.rest());
        },
      })),
      ...d.expects.map((x): Item => ({
        range: x.range,
        blankBefore: 'source',
        print: (inner) => ['expect ', x.always ? 'always ' : '', this.exprC(x.condition, inner)],
      })),
    ];
    const propItems = this.propertyItems(d, props, comments, body.map((b) => b.range!));
    return this.block(['test ', this.stringLit(d.name)], [...propItems, ...body], comments, d.range);
  }

  /** One line when it fits; else each clause (`returns`, `then`, `latency`, …) on a line of its own. */
  private mock(m: MockDecl, comments: Comment[]): Doc {
    const parts = this.parts(comments);
    const clauses: Doc[] = [];
    const answers = (values: readonly Expr[]): void => {
      values.forEach((v, i) => clauses.push([i === 0 ? 'returns ' : 'then ', parts(v)]));
    };
    if (m.fails) {
      clauses.push(['fails ', this.stringLit(m.fails), m.times ? [' times ', this.expr(m.times), ' then'] : '']);
      if (m.times) answers(m.returns);
    } else answers(m.returns);
    if (m.latency) clauses.push(['latency ', this.expr(m.latency)]);
    if (m.cost) clauses.push(['cost ', this.expr(m.cost)]);
    if (m.usage) clauses.push(['usage ', parts(m.usage)]);
    const doc = group('mock ', this.qname(m.capability), m.where ? [' where ', parts(m.where)] : '', indent(clauses.map((c) => [line, c])));
    return this.withTrailing(doc, parts.rest());
  }

  private retry(r: RetrySpec): Doc {
    const b = r.backoff;
    return [
      formatNumber(r.attempts, true),
      b ? [' backoff ', b.kind, ' ', this.expr(b.delay), b.max ? [' max ', this.expr(b.max)] : ''] : '',
    ];
  }

  // ───────────── types ─────────────

  /** Prints a type, placing comments inside record types; returns the comments it could not place. */
  private typeWithComments(t: TypeExpr, comments: Comment[]): { doc: Doc; rest: Comment[] } {
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

  private recordType(t: RecordType, comments: Comment[]): Doc {
    const items: Item[] = t.fields.map((f) => ({ range: f.range, doc: f.doc, print: (inner) => this.fieldDecl(f, inner) }));
    return this.commaList('{', '}', items, comments, true);
  }

  /** `suffix`: a separator to print after the field and before its trailing comments. */
  private fieldDecl(f: FieldDecl, comments: Comment[], suffix = ''): Doc {
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

  // ───────────── expressions ─────────────

  private qname(q: QualifiedName): string {
    return q.parts.map((p: Ident) => p.name).join('.');
  }

  private string(text: string): string {
    return `"${escapeStringText(text)}"`;
  }

  private stringLit(s: StringLit): Doc {
    // A string cannot span lines: interpolated expressions are always laid out flat.
    const flat = (e: Expr): string => render(this.expr(e), Number.POSITIVE_INFINITY);
    return ['"', s.parts.map((p) => (typeof p === 'string' ? escapeStringText(p) : ['${', flat(p), '}'])), '"'];
  }

  private recordLit(r: RecordLit, comments: Comment[]): Doc {
    const items: Item[] = r.fields.map((f) => ({ range: f.range, print: (inner) => [f.key.name, ': ', this.exprC(f.value, inner)] }));
    return this.commaList('{', '}', items, comments, true);
  }

  /** An expression and the comments inside it (placed in nested lists/records/calls, else trailing). */
  private exprC(e: Expr, comments: readonly Comment[]): Doc {
    if (comments.length === 0) return this.expr(e);
    const placed = new Set<Comment>();
    const doc = this.expr(e, Prec.Range, comments, placed);
    return this.withTrailing(doc, comments.filter((c) => !placed.has(c)));
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
  private chain(e: ChainLink, comments: readonly Comment[], placed: Set<Comment>): Doc {
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

  private exprInner(e: Expr, comments: readonly Comment[], placed: Set<Comment>): Doc {
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
