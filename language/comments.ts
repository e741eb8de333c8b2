/**
 * Comment placement for the printer. The AST keeps comments only as a flat list with ranges, so
 * the printer decides, container by container, which printed item each comment belongs to:
 * a comment inside an item's range goes down into that item; one on the same line as the end of
 * the previous item trails it; own-line comments directly below an item and followed by a blank
 * line close that item; any other comment leads the next item; what is left after the last item
 * dangles at the end of the container.
 */
import type { Comment, Range } from './ast.js';
import { lex } from './lexer.js';
import { LineIndex } from './source.js';

export interface Attached {
  readonly leading: Comment[];
  /** On the item's last line, after it. */
  readonly trailing: Comment[];
  /** On their own lines right below the item, with a blank line after them: they close it. */
  readonly after: Comment[];
  /** Comments inside the item's own range, for the item to place among its parts. */
  readonly inner: Comment[];
}

export interface Distribution {
  readonly items: Attached[];
  /** Own-line comments after the last item (or every comment when no item has a range). */
  readonly dangling: Comment[];
}

export function contains(outer: Range, inner: Range): boolean {
  return outer.start.offset <= inner.start.offset && inner.end.offset <= outer.end.offset;
}

function isRealRange(range: Range | undefined): range is Range {
  return range !== undefined && range.end.offset > range.start.offset;
}

/**
 * Splits `comments` (sorted by offset) among items; items without a range receive none.
 * `startLines` are the lines items really start on when that is above their range (`///` docs).
 */
export function distribute(
  ranges: readonly (Range | undefined)[],
  comments: readonly Comment[],
  startLines: readonly (number | undefined)[] = [],
): Distribution {
  // Nothing to place (most blocks of most files): one shared, frozen attachment for every item
  // — a 10 MB file has a million items, and four empty arrays each were a large share of what
  // printing it allocated.
  if (comments.length === 0) return { items: ranges.map(() => NOTHING_ATTACHED), dangling: [] };
  const items: Attached[] = ranges.map(() => ({ leading: [], trailing: [], after: [], inner: [] }));
  const dangling: Comment[] = [];
  const located = ranges
    .map((range, index) => ({ range, index }))
    .filter((x): x is { range: Range; index: number } => isRealRange(x.range))
    .sort((a, b) => a.range.start.offset - b.range.start.offset);
  const prevOf = new Map<number, number>();
  for (let k = 1; k < located.length; k++) prevOf.set(located[k]!.index, located[k - 1]!.index);
  const find = disjoint(located) ? neighboursBySearch(located) : neighboursByScan(located);
  for (const c of comments) {
    const { holder, prev, next } = find(c.range);
    if (holder) {
      items[holder.index]!.inner.push(c);
      continue;
    }
    if (prev && prev.range.end.line === c.range.start.line) items[prev.index]!.trailing.push(c);
    else if (next) items[next.index]!.leading.push(c);
    else dangling.push(c);
  }
  // A run of leading comments directly below the previous item and followed by a blank line
  // belongs to the previous item (`after`), so a blank line printed before the next item does
  // not move it.
  for (const x of located) {
    const prevIndex = prevOf.get(x.index);
    const attached = items[x.index]!;
    if (prevIndex === undefined || attached.leading.length === 0) continue;
    const prev = items[prevIndex]!;
    let lastLine = prev.trailing.at(-1)?.range.end.line ?? ranges[prevIndex]!.end.line;
    let run = 0;
    while (run < attached.leading.length && attached.leading[run]!.range.start.line === lastLine + 1) {
      lastLine = attached.leading[run]!.range.end.line;
      run++;
    }
    const nextLine = attached.leading[run]?.range.start.line ?? startLines[x.index] ?? x.range.start.line;
    if (run > 0 && nextLine - lastLine > 1) prev.after.push(...attached.leading.splice(0, run));
  }
  return { items, dangling };
}

const NOTHING: Comment[] = Object.freeze([]) as unknown as Comment[];
const NOTHING_ATTACHED: Attached = Object.freeze({ leading: NOTHING, trailing: NOTHING, after: NOTHING, inner: NOTHING });

interface Located {
  readonly range: Range;
  readonly index: number;
}

/** For a comment: the item holding it, else the nearest item ending before it and starting after it. */
type Neighbours = (c: Range) => { holder?: Located; prev?: Located; next?: Located };

/** Items in source order that do not overlap (nearly always: the items of one block). */
function disjoint(located: readonly Located[]): boolean {
  for (let k = 1; k < located.length; k++) if (located[k - 1]!.range.end.offset > located[k]!.range.start.offset) return false;
  return true;
}

/**
 * `neighboursByScan`'s answers by binary search, for disjoint items (their ends are then in
 * order too): a block of 100,000 items with a comment on each is not 10¹⁰ range tests.
 */
function neighboursBySearch(located: readonly Located[]): Neighbours {
  /** The number of items whose `key` is ≤ `at` (`key` non-decreasing along `located`). */
  const countUpTo = (key: (x: Located) => number, at: number): number => {
    let lo = 0;
    let hi = located.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (key(located[mid]!) <= at) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return (c) => {
    const last = located[countUpTo((x) => x.range.start.offset, c.start.offset) - 1];
    if (last && contains(last.range, c)) return { holder: last };
    const prev = located[countUpTo((x) => x.range.end.offset, c.start.offset) - 1];
    const next = located[countUpTo((x) => x.range.start.offset, c.end.offset - 1)];
    return { prev, next };
  };
}

/** The general case (overlapping items): the first item holding it, else a scan in source order. */
function neighboursByScan(located: readonly Located[]): Neighbours {
  return (c) => {
    const holder = located.find((x) => contains(x.range, c));
    if (holder) return { holder };
    let prev: Located | undefined;
    let next: Located | undefined;
    for (const x of located) {
      if (x.range.end.offset <= c.start.offset) prev = x;
      else if (x.range.start.offset >= c.end.offset) {
        next = x;
        break;
      }
    }
    return { prev, next };
  };
}

/** Comments whose range lies inside `range`. */
export function commentsWithin(comments: readonly Comment[], range: Range): Comment[] {
  return comments.filter((c) => contains(range, c.range));
}

// ───────────────────────── locating keyword properties in the source ─────────────────────────

/**
 * Some properties (`kind agent`, `data internal`, `priority high`, …) are stored as plain values
 * without a range. To keep comments next to them, the formatter finds where each property starts
 * in the source: a keyword token at the top nesting level of the block, not part of a member
 * access (`step.data`). A property spans from its keyword to the last token before the next
 * keyword (or the closing brace). Only used to place comments, so a miss is harmless.
 */
export interface PropertySpan {
  readonly keyword: string;
  readonly range: Range;
}

interface Token {
  readonly text: string;
  readonly start: number;
  readonly end: number;
  /** Bracket nesting depth at the token, relative to the start of the file. */
  readonly depth: number;
}

const OPENERS = new Set(['{', '(', '[']);
const CLOSERS = new Set(['}', ')', ']']);

/**
 * The tokens of `text[from, to)` with their bracket depth relative to `from`, offsets in `text`.
 * `from` is where a declaration or block starts, a token boundary outside any string, so the
 * slice lexes to the same tokens as the whole file does there.
 */
function tokensWithDepth(text: string, from: number, to: number): Token[] {
  let depth = 0;
  return lex(text.slice(from, to)).tokens.map((t) => {
    const image = t.image;
    if (CLOSERS.has(image)) depth--;
    const start = from + t.startOffset;
    const token = { text: image, start, end: start + image.length, depth };
    if (OPENERS.has(image)) depth++;
    return token;
  });
}

export class SourceIndex {
  /** Made on first use: only blocks with comments look for their properties. */
  private lineIndex: LineIndex | undefined;
  constructor(readonly text: string) {}

  private get lines(): LineIndex {
    return (this.lineIndex ??= new LineIndex(this.text));
  }

  /**
   * Tokens inside `range`, lexed from the range alone. Lexing the whole file once and keeping its
   * tokens cost a second token array as large as the parse's (~100 bytes a token: 250 MB for a
   * 10 MB file) held through the whole print; blocks nest only a few levels deep, so lexing each
   * block's own text stays linear.
   */
  private tokensWithin(range: Range): Token[] {
    return tokensWithDepth(this.text, range.start.offset, Math.min(range.end.offset, this.text.length));
  }

  /**
   * Spans of the keyword properties directly inside the block `{ … }` that `range` covers.
   * Words inside `opaque` ranges (property values, rules — except their first token) never start
   * a property (`for each x in output` is not the `output` property); `foreign` ranges are other
   * items of the block (steps): they end the property before them and belong to none.
   */
  propertySpans(
    range: Range,
    keywords: ReadonlySet<string>,
    opaque: readonly Range[] = [],
    foreign: readonly Range[] = [],
  ): PropertySpan[] {
    const toks = this.tokensWithin(range);
    const base = toks[0]?.depth ?? 0;
    const open = toks.findIndex((t) => t.text === '{' && t.depth === base);
    if (open < 0) return [];
    const spans: PropertySpan[] = [];
    let current: { keyword: string; start: number; end: number } | undefined;
    const close = (): void => {
      if (current) {
        spans.push({
          keyword: current.keyword,
          range: { start: this.lines.positionAt(current.start), end: this.lines.positionAt(current.end) },
        });
      }
      current = undefined;
    };
    // Tokens come in source order: each range list is walked once (a block of 20,000 steps must
    // not cost 20,000 range tests per token).
    const inForeign = rangeCursor(foreign);
    const inOpaque = rangeCursor(opaque);
    for (let k = open + 1; k < toks.length; k++) {
      const t = toks[k]!;
      if (t.depth <= base) break; // the closing brace
      if (inForeign(t, false)) {
        close();
        continue;
      }
      const inValue = inOpaque(t, true);
      const isWordAtTop =
        !inValue && t.depth === base + 1 && /^[A-Za-z_]/.test(t.text) && toks[k - 1]?.text !== '.' && toks[k + 1]?.text !== '.';
      if (isWordAtTop && keywords.has(t.text)) {
        close();
        current = { keyword: t.text, start: t.start, end: t.end };
      } else if (current) {
        current.end = t.end;
      }
    }
    close();
    return spans;
  }
}

/**
 * For tokens visited in source order: is the token inside one of `ranges` (after its first
 * character when `afterStart`)? Ranges are sorted once and passed once.
 */
function rangeCursor(ranges: readonly Range[]): (t: Token, afterStart: boolean) => boolean {
  const sorted = [...ranges].sort((a, b) => a.start.offset - b.start.offset);
  let from = 0;
  return (t, afterStart) => {
    while (from < sorted.length && sorted[from]!.end.offset <= t.start) from++;
    for (let j = from; j < sorted.length && sorted[j]!.start.offset <= t.start; j++) {
      const r = sorted[j]!;
      if (t.end <= r.end.offset && (!afterStart || t.start > r.start.offset)) return true;
    }
    return false;
  };
}
