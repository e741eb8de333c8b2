/**
 * Offsets ↔ 1-based line/column positions, and code frames for the CLI.
 * Columns count UTF-16 code units (what editors and the LSP use); lines break at `\n`, `\r\n`
 * and a lone `\r`.
 */
import type { Position, Range } from './diagnostic.js';

/**
 * The positions a parse's `LineIndex` handed out, by the parsed module: every position of its
 * tree is one of them (each once), so the incremental parser can move them without walking the
 * tree to find them — a walk that cost more than re-parsing the edited plan.
 */
export const issuedPositions = new WeakMap<object, readonly Position[]>();

/**
 * Modules parsed with compact ranges. Their positions are computed on demand, not issued, so the
 * incremental parser cannot move them: it parses such a module's next text in full.
 */
export const compactModules = new WeakSet<object>();

/**
 * Modules whose every diagnostic left their tree whole (the parser's `wholeTree`: a `module` line
 * after the first) — the tree a clean parse would build, with diagnostics only about the items
 * at the top. The incremental parser may re-parse such a module's other items (incremental.ts).
 */
export const wholeTreeModules = new WeakSet<object>();

/** A range of a compact parse: its two offsets, line and column computed when asked. */
interface Span extends Range {
  readonly s: number;
  readonly e: number;
}

/** A name node (`Ident`, `NameExpr`) of a compact parse: its own range (see `LineIndex.named`). */
interface NamedSpan<K extends NamedKind> extends Span {
  readonly kind: K;
  readonly name: string;
  readonly range: Range;
}

/** The node kinds that are a name and a range only, the commonest nodes of a tree. */
type NamedKind = 'Ident' | 'NameExpr';

/** A node that is a name and its range. */
export interface NamedNode<K extends NamedKind> {
  readonly kind: K;
  readonly name: string;
  readonly range: Range;
}

/** The base class of a compact parse's nodes that are their own range. */
export type SpannedNodeClass = abstract new (s: number, e: number) => Range & { readonly range: Range };

type SpanClasses = {
  readonly Span: new (s: number, e: number) => Span;
  readonly SpannedNode: SpannedNodeClass;
  readonly Named: new <K extends NamedKind>(kind: K, name: string, s: number, e: number) => NamedSpan<K>;
};

/**
 * A node that is its own range keeps its offsets under symbols: what walks a node's own keys
 * (for…in, `Object.keys`/`entries`, JSON) skips them, as it skips nothing a full parse's node has.
 */
const S: unique symbol = Symbol('start offset');
const E: unique symbol = Symbol('end offset');

/** One class per index: a range reaches its index through its prototype, not a field of its own. */
function spanClasses(index: LineIndex): SpanClasses {
  const Span = class {
    // Assigned, not declared as class fields: a field is defined with its own initializer, a
    // measurable share of a 10 MB parse that makes millions of ranges.
    declare readonly s: number;
    declare readonly e: number;
    constructor(s: number, e: number) {
      (this as { s: number }).s = s;
      (this as { e: number }).e = e;
    }
    get start(): Position {
      return index.positionAt(this.s);
    }
    get end(): Position {
      return index.positionAt(this.e);
    }
    /** The line of one of its offsets, without making (and keeping) a position. */
    lineOf(offset: number): number {
      return index.lineAt(offset);
    }
    // JSON sees a plain range.
    toJSON(): Range {
      return { start: this.start, end: this.end };
    }
  };
  /**
   * The base of a compact parse's nodes that are their own range (compact-nodes.ts): one object
   * where a node and its range were two. Its `range` is itself: an own field each subclass sets
   * last (a field load, as on a full parse's node — a getter there cost the checker ~7 % of a 10k
   * check's CPU), so its own keys are a full parse's node's, in the same order; every walk of a
   * tree skips `range` keys. The offsets are under symbols (`S`, `E`), which those walks and JSON
   * skip too.
   */
  const SpannedNode = class {
    declare readonly [S]: number;
    declare readonly [E]: number;
    /** Set by each subclass, last: itself. */
    declare readonly range: Range;
    // Assigned, not private class fields: those are defined by an initializer function, a
    // measurable share of a parse that makes millions of nodes.
    constructor(s: number, e: number) {
      (this as { [S]: number })[S] = s;
      (this as { [E]: number })[E] = e;
    }
    get s(): number {
      return this[S];
    }
    get e(): number {
      return this[E];
    }
    get start(): Position {
      return index.positionAt(this[S]);
    }
    get end(): Position {
      return index.positionAt(this[E]);
    }
    lineOf(offset: number): number {
      return index.lineAt(offset);
    }
    // As a node, JSON sees the node a full parse makes (its `range` last, as every such node has
    // it); as a range (`range`, `nameRange`, …) a plain range.
    toJSON(key?: string): unknown {
      const range = { start: this.start, end: this.end };
      if (typeof key === 'string' && (key === 'range' || key.endsWith('Range'))) return range;
      return { ...this, range };
    }
  };
  /** A name node (`Ident`, `NameExpr`): 64 bytes where the node and its range were 88. */
  const Named = class<K extends NamedKind> extends SpannedNode {
    declare readonly kind: K;
    declare readonly name: string;
    constructor(kind: K, name: string, s: number, e: number) {
      super(s, e);
      (this as { kind: K }).kind = kind;
      (this as { name: string }).name = name;
      (this as { range: unknown }).range = this;
    }
  };
  return { Span, SpannedNode, Named };
}

export class LineIndex {
  /** Offset at which each line starts; `lineStarts[0] === 0`. */
  readonly lineStarts: number[];
  /**
   * Compact ranges (a parse for the CLI, never edited): two offsets per range instead of a range
   * and its two position objects — about a third of the AST of a large file. Positions are made
   * (and shared) only for the ranges something reads.
   */
  private readonly Span: (new (s: number, e: number) => Span) | undefined;
  private readonly Named: SpanClasses['Named'] | undefined;
  /** With compact ranges: the base class of nodes that are their own range (compact-nodes.ts). */
  readonly SpannedNode: SpannedNodeClass | undefined;

  constructor(
    readonly text: string,
    compact = false,
    /** With `compact`: the commonest nodes are their own range (`named`, compact-nodes.ts). */
    ownRanges = false,
  ) {
    if (compact) {
      const classes = spanClasses(this);
      this.Span = classes.Span;
      if (ownRanges) ({ SpannedNode: this.SpannedNode, Named: this.Named } = classes);
      this.sparse = new Map();
    }
    const starts = [0];
    if (text.indexOf('\r') < 0) {
      // Only `\n` breaks lines (nearly every file): the engine's search finds them faster than
      // a loop over every character of a 10 MB file.
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
    } else {
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c === 10) starts.push(i + 1);
        else if (c === 13) {
          if (text.charCodeAt(i + 1) === 10) i++;
          starts.push(i + 1);
        }
      }
    }
    this.lineStarts = starts;
  }

  get lineCount(): number {
    return this.lineStarts.length;
  }

  /** Line of the previous lookup: the AST builder asks for positions in nearly increasing order. */
  private lastLine = 0;
  /**
   * Positions already handed out, by offset. Adjacent AST nodes share boundaries (a member
   * access ends where its property ends, an argument starts where its name starts), so sharing
   * the (immutable) Position objects saves a large share of the AST's memory on big files.
   */
  private readonly positions: Position[] = [];
  /** offset → 1 + index into `positions` (0 = not computed yet); allocated on first use. */
  private slots: Int32Array | undefined;
  /**
   * A compact index's positions by offset: only the few ranges something reads make one (a
   * diagnostic's), where `slots` would cost 4 bytes per character of the text — 26 MB for a
   * 100,000-step file, for a handful of positions.
   */
  private readonly sparse: Map<number, Position> | undefined;

  /** Every position `positionAt` (and so `range`) has handed out, each once. */
  get issued(): readonly Position[] {
    return this.positions;
  }

  /** Position of a 0-based offset; offsets outside the text are clamped. */
  positionAt(offset: number): Position {
    const len = this.text.length;
    const o = offset >= 0 && offset <= len ? Math.trunc(offset) : offset > len || Number.isNaN(offset) ? len : 0;
    const sparse = this.sparse;
    if (sparse !== undefined) {
      let p = sparse.get(o);
      if (p === undefined) sparse.set(o, (p = this.locate(o)));
      return p;
    }
    const slots = (this.slots ??= new Int32Array(this.text.length + 1));
    const slot = slots[o]!;
    if (slot !== 0) return this.positions[slot - 1]!;
    const p = this.locate(o);
    slots[o] = this.positions.push(p);
    return p;
  }

  /** The 1-based line of an offset inside the text (what `positionAt(o).line` says), no position made. */
  lineAt(offset: number): number {
    const o = Math.min(Math.max(offset, 0), this.text.length);
    const starts = this.lineStarts;
    const l = this.lastLine;
    if (starts[l]! <= o && (l + 1 >= starts.length || starts[l + 1]! > o)) return l + 1;
    return this.locate(o).line;
  }

  /**
   * A new position object for an offset inside the text, not shared and not cached (for callers
   * that rewrite positions, like the incremental parser). Lookups in increasing order are cheap.
   */
  locate(o: number): Position {
    const starts = this.lineStarts;
    const l = this.lastLine;
    if (starts[l]! <= o && (l + 1 >= starts.length || starts[l + 1]! > o)) {
      return { line: l + 1, column: o - starts[l]! + 1, offset: o };
    }
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= o) lo = mid;
      else hi = mid - 1;
    }
    this.lastLine = lo;
    return { line: lo + 1, column: o - this.lineStarts[lo]! + 1, offset: o };
  }

  /** Offset of a 1-based line/column; clamped to the text. */
  offsetAt(line: number, column: number): number {
    const l = Math.max(1, Math.min(line, this.lineStarts.length));
    const start = this.lineStarts[l - 1]!;
    const lineEnd = this.lineEndOffset(l);
    return Math.max(start, Math.min(start + column - 1, lineEnd));
  }

  /** Range from a start offset (inclusive) to an end offset (exclusive). */
  range(start: number, end: number): Range {
    if (this.Span) return new this.Span(start, Math.max(start, end));
    return { start: this.positionAt(start), end: this.positionAt(Math.max(start, end)) };
  }

  /**
   * A name node (`Ident`, `NameExpr`) over `[start, end)`: with compact ranges, one object that is
   * also its own range.
   */
  named<K extends NamedKind>(kind: K, name: string, start: number, end: number): NamedNode<K> {
    if (this.Named) return new this.Named(kind, name, start, Math.max(start, end));
    return { kind, name, range: this.range(start, end) };
  }

  /** From the start of `a` to the end of `b` (compact when both are this index's ranges). */
  join(a: Range, b: Range): Range {
    if (this.Span && this.isSpan(a) && this.isSpan(b)) return new this.Span(a.s, Math.max(a.s, b.e));
    return { start: a.start, end: b.end };
  }

  /** Whether `r` is one of this index's compact ranges (a name node of it is its own range). */
  private isSpan(r: Range): r is Span {
    return r instanceof this.Span! || (this.SpannedNode !== undefined && r instanceof this.SpannedNode);
  }

  /** Whether this index makes compact ranges. */
  get compact(): boolean {
    return this.Span !== undefined;
  }

  /** Offset just before the line break that ends 1-based `line`. */
  lineEndOffset(line: number): number {
    const next = this.lineStarts[line];
    if (next === undefined) return this.text.length;
    let end = next;
    if (end > 0 && this.text.charCodeAt(end - 1) === 10) end--;
    if (end > 0 && this.text.charCodeAt(end - 1) === 13) end--;
    return end;
  }

  /** The text of 1-based `line` without its line break. */
  lineText(line: number): string {
    if (line < 1 || line > this.lineStarts.length) return '';
    return this.text.slice(this.lineStarts[line - 1], this.lineEndOffset(line));
  }
}

/**
 * The line a range starts (ends) on. A compact range computes it from its offset: reading its
 * `start` would make a position and keep it for the rest of the parse's life — the printer asks
 * for the lines of a million ranges of a 10 MB file, for blank lines and comments.
 */
export function startLine(r: Range): number {
  const span = r as Partial<Span> & { lineOf?: (o: number) => number };
  return span.lineOf !== undefined && span.s !== undefined ? span.lineOf(span.s) : r.start.line;
}

export function endLine(r: Range): number {
  const span = r as Partial<Span> & { lineOf?: (o: number) => number };
  return span.lineOf !== undefined && span.e !== undefined ? span.lineOf(span.e) : r.end.line;
}

/** A range's start offset, without making a position for a compact range. */
export function startOffset(r: Range): number {
  const s = (r as Partial<Span>).s;
  return typeof s === 'number' && (r as Partial<Span> & { lineOf?: unknown }).lineOf !== undefined ? s : r.start.offset;
}

/** A range's end offset, without making a position for a compact range. */
export function endOffset(r: Range): number {
  const e = (r as Partial<Span>).e;
  return typeof e === 'number' && (r as Partial<Span> & { lineOf?: unknown }).lineOf !== undefined ? e : r.end.offset;
}

/**
 * Terminal columns a character takes: columns count UTF-16 units (as editors and SARIF do), but a
 * terminal draws a CJK ideograph or an emoji two cells wide and a combining mark in none, so a
 * caret placed by units alone points at the wrong character on such a line.
 */
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\u200B-\u200F\u2060\uFEFF]$/u;
const WIDE = /^[\u1100-\u115F\u2E80-\u303E\u3041-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6\u{1F300}-\u{1F64F}\u{1F900}-\u{1FAFF}\u{20000}-\u{3FFFD}]$/u;

function cellsOf(ch: string): number {
  if (ZERO_WIDTH.test(ch)) return 0;
  return WIDE.test(ch) ? 2 : 1;
}

function columnsOf(text: string): number {
  let n = 0;
  for (const ch of text) n += cellsOf(ch);
  return n;
}

/** Blank cells as wide as `text` on a terminal, tabs kept so the carets line up after them. */
function padTo(text: string): string {
  let out = '';
  for (const ch of text) out += ch === '\t' ? '\t' : ' '.repeat(cellsOf(ch));
  return out;
}

export interface CodeFrameOptions {
  /** Wraps the caret underline (e.g. with a colour); identity by default. */
  readonly highlight?: (s: string) => string;
  /** Wraps the line-number gutter; identity by default. */
  readonly dim?: (s: string) => string;
}

/**
 * A code frame: the first line of `range` with a gutter and a caret underline, e.g.
 * ```
 *   12 |   kind robot
 *      |        ^^^^^
 * ```
 * A range spanning several lines is underlined to the end of its first line. Tabs are kept in
 * the underline and wide characters (CJK, emoji) padded by two cells so the carets line up in a
 * terminal.
 */
export function codeFrame(index: LineIndex, range: Range, options: CodeFrameOptions = {}): string {
  const highlight = options.highlight ?? ((s: string) => s);
  const dim = options.dim ?? ((s: string) => s);
  const line = range.start.line;
  const text = index.lineText(line);
  const startCol = Math.max(1, range.start.column);
  const endCol = range.end.line === line ? Math.max(range.end.column, startCol + 1) : Math.max(text.length + 1, startCol + 1);
  const gutter = String(line);
  const pad = ' '.repeat(gutter.length);
  const lead = padTo(text.slice(0, startCol - 1));
  const carets = '^'.repeat(Math.max(1, columnsOf(text.slice(startCol - 1, Math.min(endCol, text.length + 1) - 1))));
  return [
    `${dim(`${gutter} |`)} ${text}`,
    `${dim(`${pad} |`)} ${lead}${highlight(carets)}`,
  ].join('\n');
}
