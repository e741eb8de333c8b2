/**
 * The printer's layout of line items with their comments: blocks `head { … }`, comma lists that
 * break one element per line when too long, property blocks in a fixed keyword order, and where
 * each comment goes (leading, trailing, on the block's opening line, after the item).
 */
import type { Comment, Range } from './ast.js';
import { distribute, SourceIndex, type Attached } from './comments.js';
import { breakParent, group, indent, join, hardline, line, lineSuffix, softline, type Doc } from './layout.js';
import { commentText } from './print-literals.js';
import { endLine, endOffset, startLine } from './source.js';

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

// Which keywords a declaration's properties start with (for comment placement).
export const KEYWORDS = {
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
export interface Item {
  /** Where it was in the source, for comment placement; absent for synthesised nodes. */
  readonly range?: Range;
  readonly doc?: string;
  /** Prints the item; `inner` are the comments inside its range, which it must print. */
  readonly print: (inner: Comment[]) => Doc;
  /** A blank line before it: always (a new section of a block), or where the source had one. */
  readonly blankBefore?: 'always' | 'source';
}

/** Items of several sections, one blank line between non-empty sections. */
export function sections(...groups: readonly Item[][]): Item[] {
  const out: Item[] = [];
  for (const group of groups) {
    for (let i = 0; i < group.length; i++) {
      const item = group[i]!;
      // Not `{ ...item, … }`: a spread of these objects (their shapes vary) was a tenth of printing small plans.
      out.push(i === 0 && out.length > 0 ? { range: item.range, doc: item.doc, print: item.print, blankBefore: 'always' } : item);
    }
  }
  return out;
}

export interface Property {
  readonly keyword: string;
  readonly value?: { readonly range: Range };
  readonly print: (inner: Comment[]) => Doc;
}

export class BlockPrinter {
  constructor(protected readonly source: SourceIndex | undefined) {}

  protected leading(comments: readonly Comment[]): Doc {
    return comments.map((c) => [text(c), hardline]);
  }

  /**
   * Block comments stay inline; the first line comment goes to the end of the line; anything
   * after it gets a line of its own, at the item's indentation.
   */
  protected trailing(comments: readonly Comment[]): Doc {
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

  protected docLines(doc: string | undefined): Doc {
    if (doc === undefined) return [];
    return doc.split('\n').map((l) => [l.length > 0 ? `/// ${l}` : '///', hardline]);
  }

  /**
   * Comments an item could not place among its parts are printed after the whole item (and
   * after its separator in a list), by the container: see `printItem`.
   */
  protected deferred: Comment[] = [];

  protected withTrailing(doc: Doc, inner: readonly Comment[]): Doc {
    this.deferred.push(...inner);
    return doc;
  }

  /** Items one per line, with the blank lines their `blankBefore` asks for. */
  protected lines(items: readonly Item[], comments: readonly Comment[]): { docs: Doc[]; dangling: Comment[] } {
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

  protected distribute(items: readonly Item[], comments: readonly Comment[]): ReturnType<typeof distribute> {
    // The items' first lines matter only to place comments.
    return distribute(items.map((i) => i.range), comments, comments.length === 0 ? [] : items.map((i) => this.firstLine(i)));
  }

  /** Own-line comments that close an item. */
  protected after(comments: readonly Comment[]): Doc {
    return comments.map((c) => [hardline, text(c)]);
  }

  /** The last source line of an item with the comments that follow it. */
  protected lastLine(item: Item, a: Attached): number | undefined {
    if (!item.range || endOffset(item.range) <= 0) return undefined;
    const last = a.after.at(-1) ?? a.trailing.at(-1);
    return last !== undefined ? endLine(last.range) : endLine(item.range);
  }

  /** The source line an item starts on, counting its `///` doc lines (not part of its range). */
  protected firstLine(item: Item): number | undefined {
    if (!item.range) return undefined;
    return startLine(item.range) - (item.doc === undefined ? 0 : docLineCount(item.doc));
  }

  protected itemDoc(item: Item, a: Attached): Doc {
    const { doc, late } = this.printItem(item, a);
    // Nothing around it (most items): the item alone, not wrapped in five empty documents.
    if (late.length === 0 && item.doc === undefined && isAlone(a)) return doc;
    return [this.leading(a.leading), this.docLines(item.doc), doc, this.trailing([...late, ...a.trailing]), this.after(a.after)];
  }

  /** Prints an item and collects the comments it deferred. */
  protected printItem(item: Item, a: Attached): { doc: Doc; late: Comment[] } {
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
  protected block(head: Doc, items: readonly Item[], comments: readonly Comment[], node?: Range): Doc {
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
  protected splitHeader(items: readonly Item[], comments: readonly Comment[], node: Range | undefined): [Comment[], Comment[]] {
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
  protected commaList(open: string, close: string, items: readonly Item[], comments: readonly Comment[], spaced: boolean): Doc {
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
      // `a: int /* why */, b`: a one-line block comment right after an element stays before its
      // comma, where it was written; a line comment (and what follows it) goes after it.
      const after = [...late, ...a.trailing];
      const inline = inlineBlockCount(after);
      parts.push([
        this.leading(a.leading),
        this.docLines(item.doc),
        doc,
        this.trailing(after.slice(0, inline)),
        last ? '' : ',',
        this.trailing(inline === 0 ? after : after.slice(inline)),
        this.after(a.after),
        last ? '' : line,
      ]);
    });
    for (const c of dangling) parts.push(hardline, text(c), breakParent);
    const edge = spaced ? line : softline;
    return group(open, indent(edge, parts), edge, close);
  }

  protected propertyBlock(head: Doc, node: { readonly kind: keyof typeof KEYWORDS; readonly range: Range }, props: readonly Property[], comments: readonly Comment[]): Doc {
    return this.block(head, this.propertyItems(node, props, comments), comments, node.range);
  }

  /**
   * `comments`: those the block will place among its items. `foreign`: ranges of the block's
   * other items (a plan's steps), which no property spans.
   */
  protected propertyItems(
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

  /** Top-level leading comments keep a single blank line where the source had one. */
  protected topLeading(comments: readonly Comment[], next: Item, blankLines = true): Doc {
    if (comments.length === 0) return [];
    const real = blankLines && next.range !== undefined && next.range.end.offset > 0;
    return comments.map((c, i) => {
      const nextLine = comments[i + 1]?.range.start.line ?? this.firstLine(next);
      const blank = real && nextLine !== undefined && nextLine - c.range.end.line > 1;
      return [text(c), hardline, blank ? hardline : ''];
    });
  }

  /** `a, b, c` after a property keyword; one per line (indented) when too long. */
  protected wordList(words: readonly Doc[]): Doc {
    return group(indent(join([',', line], words)));
  }

  /** A property whose value is a single word or literal with no nested comments to place. */
  protected prop(keyword: string, value: Doc, range?: Range): Property {
    return { keyword, value: range ? { range } : undefined, print: (inner) => this.withTrailing([keyword, ' ', value], inner) };
  }
}

/** How many of `comments`, from the first, are block comments on one line. */
function inlineBlockCount(comments: readonly Comment[]): number {
  let n = 0;
  while (n < comments.length && comments[n]!.style === 'block' && !comments[n]!.text.includes('\n')) n++;
  return n;
}
