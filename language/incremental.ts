/**
 * Incremental re-parse for editors: after an edit, only the top-level items (module header,
 * imports, declarations) the edit touches are parsed again; the others are reused — as the same
 * objects when nothing before them moved, otherwise as position-shifted copies or, when the
 * caller gives up the previous parse (`consume`), as the same objects moved in place.
 *
 * Each top-level item owns the text from the end of the item before it to its own end (its
 * leading whitespace, comments and `///` docs). The items whose owned text touches the edit form
 * a window; the window is parsed alone (after as many spaces as its first column, so columns
 * come out right) and its positions are then moved into place.
 *
 * The result must equal a full parse, so anything that could make them differ takes the full
 * parse instead: syntax errors before or after the edit (recovery is a whole-file matter), a
 * window that reaches the module header or imports (their order rules are file-wide), a doc
 * comment left over in the window (it may document the next item), and a window boundary where
 * two tokens could run together.
 */
import type { Declaration, ImportDecl, Module, ModuleDecl } from './ast.js';
import type { Position, Range } from './diagnostic.js';
import { parse, type ParseInput, type ParseOutput } from './parse.js';
import { compactModules, issuedPositions, LineIndex, wholeTreeModules } from './source.js';

/** A previous parse and the text it was made from. */
export interface ParsedText {
  readonly text: string;
  readonly output: ParseOutput;
}

export interface ReparseInput extends ParseInput {
  /** The parse of the same file's previous text; none means a full parse. */
  readonly previous?: ParsedText;
  /**
   * Move the previous parse's nodes in place rather than copying them: much cheaper after an
   * edit near the top of a large file, but the previous parse's nodes then belong to this one —
   * only a caller that keeps nothing else of the previous parse (a cache replacing it) may ask.
   */
  readonly consume?: boolean;
}

/** How `reparse` got its answer (for tests and the benchmark). */
export type ReparseMode = 'unchanged' | 'incremental' | 'full';

export interface ReparseOutput extends ParseOutput {
  readonly mode: ReparseMode;
  /** How the previous parse maps onto this one; absent after a full parse. */
  readonly edit?: ModuleEdit;
}

/**
 * The previous parse's text outside [start, end) is unchanged in the new text: positions up to
 * `start` hold, positions at or after `end` moved by `delta` characters. Top-level nodes outside
 * that range are the previous parse's own objects (moved in place when `consume` was asked),
 * or copies `movedFrom` tells the origin of.
 *
 * What links two versions of a file belongs to the edit between them, never to their nodes: a
 * copy's origin is known only through this edit, so an editor that keeps the newest parse (and
 * drops the edit) keeps no earlier version reachable — a table from copy to origin kept beside
 * the nodes chained every version to the one before it (issue #47 item 13).
 */
export interface ModuleEdit {
  readonly previous: Module;
  readonly start: number;
  readonly end: number;
  readonly delta: number;
  /** Where a position of the previous parse is now; undefined inside the re-parsed range. */
  readonly move: (p: Position) => Position | undefined;
  /** The node of the previous parse that a top-level `node` of this one is a moved copy of, if it is one. */
  readonly movedFrom: <T extends object>(node: T) => T | undefined;
}

const notMoved = <T extends object>(): T | undefined => undefined;

type Item = ModuleDecl | ImportDecl | Declaration;

/** Parses `text`, reusing what it can of `previous`. Never throws (like `parse`). */
export function reparse(input: ReparseInput): ReparseOutput {
  const prev = input.previous;
  if (prev && prev.text === input.text && prev.output.module.file === input.file) {
    const end = input.text.length;
    return { ...prev.output, mode: 'unchanged', edit: { previous: prev.output.module, start: end, end, delta: 0, move: (p) => p, movedFrom: notMoved } };
  }
  try {
    const reusable = prev && prev.output.module.file === input.file && !input.compact && !compactModules.has(prev.output.module);
    const out = reusable ? incremental(input.file, prev, input.text, input.consume ?? false) : undefined;
    if (out) return { ...out, mode: 'incremental' };
  } catch {
    // Falls through to the full parse, which reports whatever the problem is.
  }
  return { ...parse(input), mode: 'full' };
}

function incremental(file: string, prev: ParsedText, text: string, consume: boolean): (ParseOutput & { edit: ModuleEdit }) | undefined {
  const kept = prev.output.diagnostics;
  // Diagnostics that left the tree whole (a repeated `module` line) and all lie before the
  // window are what a full parse of the new text reports too: the window brings no `module`
  // line (checked below) and changes nothing before it. Any other keeps the full parse.
  if (kept.length > 0 && !wholeTreeModules.has(prev.output.module)) return undefined;
  const old = prev.text;
  const oldModule = prev.output.module;

  // The edit: [start, oldEnd) of the old text became [start, oldEnd + delta) of the new one.
  const max = Math.min(old.length, text.length);
  const start = commonPrefix(old, text, max);
  const tail = commonSuffix(old, text, max - start);
  const oldEnd = old.length - tail;
  const delta = text.length - old.length;

  // Item k owns (end of item k-1, end of item k]. The window is every item whose owned text
  // touches the edit (touching counts: an edit at a boundary may join or split tokens there),
  // and the text after the last item when the window reaches it.
  const items = itemsOf(oldModule);
  const n = items.length;
  const ends = items.map((it) => it.range.end.offset);
  const ownedStart = (k: number): number => (k === 0 ? 0 : ends[k - 1]!);
  let first = n;
  while (first > 0 && ends[first - 1]! >= start - 1) first--;
  let last = first - 1;
  while (last + 1 < n && ownedStart(last + 1) <= oldEnd + 1) last++;
  const windowStart = first < n ? ownedStart(first) : n > 0 ? ends[n - 1]! : 0;
  const windowEndOld = last >= n - 1 ? old.length : ends[last]!;
  const windowEnd = windowEndOld + delta;

  if (items.slice(first).some(isHeader)) return undefined;
  if (kept.some((d) => d.range.end.offset >= windowStart)) return undefined;
  if (!separated(text, windowStart) || !separated(text, windowEnd)) return undefined;

  // The window is parsed alone, after as many spaces as its first column, then moved into place:
  // its line starts are the file's, so only offsets and line numbers move.
  const at = first === 0 ? { line: 1, column: 1 } : items[first - 1]!.range.end;
  const pad = at.column - 1;
  const window = parse({ file, text: ' '.repeat(pad) + text.slice(windowStart, windowEnd) });
  if (window.diagnostics.length > 0) return undefined;
  const w = window.module;
  // Every position of the window's parse, also the few outside its declarations and comments
  // (the window module's own range): moving those too is harmless, they belong to no kept node.
  const windowPositions = [...(issuedPositions.get(w) ?? positionsIn([w.declarations, w.comments]))] as MutablePosition[];
  for (const p of windowPositions) {
    p.offset += windowStart - pad;
    p.line += at.line - 1;
  }
  if (w.module || w.imports.length > 0) return undefined;
  // A `///` comment no declaration of the window took may belong to the item after the window.
  if (w.comments.some((c) => c.text.startsWith('///') && !c.text.startsWith('////'))) return undefined;

  const before = (x: { readonly range: { readonly end: Position } }): boolean => x.range.end.offset <= windowStart;
  const after = (x: { readonly range: { readonly start: Position } }): boolean => x.range.start.offset >= windowEndOld;
  // Split first: moving in place rewrites the offsets these compare.
  const declarations = { before: oldModule.declarations.filter(before), after: oldModule.declarations.filter(after) };
  const comments = { before: oldModule.comments.filter(before), after: oldModule.comments.filter(after) };
  const linesMoved = hasBreak(old, start, oldEnd) || hasBreak(text, start, oldEnd + delta);
  const shift = consume ? inPlace(oldModule, text, { start, delta, linesMoved }, windowStart, windowEndOld) : shifter(text, delta, linesMoved);
  const move = (p: Position): Position | undefined =>
    p.offset <= windowStart ? p : p.offset >= windowEndOld ? shift.position(p) : undefined;
  // The end of the text lies after the window: moved like the items there (in place, it already is).
  const endOfText = consume ? oldModule.range.end : shift.position(oldModule.range.end);
  const module: Module = {
    ...oldModule,
    range: { start: oldModule.range.start, end: endOfText },
    declarations: [...declarations.before, ...w.declarations, ...declarations.after.map(shift.node)],
    comments: [...comments.before, ...w.comments, ...comments.after.map(shift.node)],
  };
  if (consume) {
    const positions = shift.kept();
    for (const p of windowPositions) positions.push(p);
    positionsByModule.set(module, positions);
  }
  if (kept.length > 0) wholeTreeModules.add(module);
  return { module, diagnostics: kept, edit: { previous: oldModule, start: windowStart, end: windowEndOld, delta, move, movedFrom: shift.movedFrom } };
}

/** Chunks first: comparing 4 KiB substrings runs natively, a character loop over a big file does not. */
const CHUNK = 4096;

function commonPrefix(a: string, b: string, max: number): number {
  let i = 0;
  while (i + CHUNK <= max && a.slice(i, i + CHUNK) === b.slice(i, i + CHUNK)) i += CHUNK;
  while (i < max && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

function commonSuffix(a: string, b: string, max: number): number {
  let n = 0;
  while (n + CHUNK <= max && a.slice(a.length - n - CHUNK, a.length - n) === b.slice(b.length - n - CHUNK, b.length - n)) n += CHUNK;
  while (n < max && a.charCodeAt(a.length - 1 - n) === b.charCodeAt(b.length - 1 - n)) n++;
  return n;
}

function isHeader(it: Item): boolean {
  return it.kind === 'ModuleDecl' || it.kind === 'StdImport' || it.kind === 'FileImport';
}

function itemsOf(m: Module): Item[] {
  const out: Item[] = [];
  if (m.module) out.push(m.module);
  out.push(...m.imports, ...m.declarations);
  return out.sort((a, b) => a.range.start.offset - b.range.start.offset);
}

function hasBreak(text: string, from: number, to: number): boolean {
  for (let i = Math.max(0, from - 1); i < Math.min(text.length, to + 1); i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) return true;
  }
  return false;
}

const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13 || Number.isNaN(c);

/** True when the tokens on either side of `offset` cannot run together into one token. */
function separated(text: string, offset: number): boolean {
  return offset <= 0 || offset >= text.length || isSpace(text.charCodeAt(offset - 1)) || isSpace(text.charCodeAt(offset));
}

/**
 * Moves a node that lay after the edit in the old text to its place in the new text: every
 * position's offset moves by `delta`, its line and column are those of the new text. Returns the
 * node itself when nothing moved, a copy otherwise.
 */
function shifter(text: string, delta: number, linesMoved: boolean): Shifter {
  if (delta === 0 && !linesMoved) return { node: (n) => n, position: (p) => p, kept: () => [], movedFrom: notMoved };
  let index: LineIndex | undefined;
  const position = (p: Position): Position => (index ??= new LineIndex(text)).positionAt(p.offset + delta);
  const copy = (v: unknown): unknown => {
    if (typeof v !== 'object' || v === null) return v;
    if (Array.isArray(v)) return v.map(copy);
    if (isPosition(v)) return position(v);
    const obj: Record<string, unknown> = {};
    for (const key in v) obj[key] = copy((v as Record<string, unknown>)[key]);
    return obj;
  };
  const origins = new WeakMap<object, object>();
  return {
    node: (n) => {
      const moved = copy(n) as typeof n;
      origins.set(moved, n);
      return moved;
    },
    position,
    kept: () => [],
    movedFrom: <T extends object>(node: T) => origins.get(node) as T | undefined,
  };
}

interface Shifter {
  readonly node: <T extends { readonly range: Range }>(node: T) => T;
  /** A previous position, moved: a new object (the previous one is left as it was). */
  readonly position: (p: Position) => Position;
  /** In-place moves only: the previous parse's positions still in use (its list, reused). */
  readonly kept: () => Position[];
  readonly movedFrom: ModuleEdit['movedFrom'];
}

/** Every position object of a parse, for in-place moves (collected on first need). */
const positionsByModule = new WeakMap<Module, Position[]>();

function positionsIn(root: unknown): Position[] {
  const seen = new Set<Position>();
  const visit = (v: unknown): void => {
    if (typeof v !== 'object' || v === null) return;
    if (Array.isArray(v)) {
      for (const x of v) visit(x);
      return;
    }
    if (isPosition(v)) {
      seen.add(v);
      return;
    }
    for (const key in v) visit((v as Record<string, unknown>)[key]);
  };
  visit(root);
  return [...seen];
}

type MutablePosition = { -readonly [K in keyof Position]: Position[K] };

/**
 * Moves the previous parse's positions after the window by rewriting them: the parser shares one
 * position object per offset among the nodes that start or end there, so rewriting each once
 * moves every node after the edit without copying a single node. The previous parse's list of
 * positions becomes this parse's (window positions dropped, the new window's added by the caller).
 */
function inPlace(previous: Module, text: string, edit: { start: number; delta: number; linesMoved: boolean }, windowStart: number, windowEnd: number): Shifter {
  const { start, delta, linesMoved } = edit;
  // A full parse's own list is taken over (a copy: it is rewritten below).
  const issued = issuedPositions.get(previous);
  const all = positionsByModule.get(previous) ?? (issued ? [...issued] : positionsIn([previous.range, previous.module, previous.imports, previous.declarations, previous.comments]));
  let index: LineIndex | undefined;
  const at = (offset: number): Position => (index ??= new LineIndex(text)).locate(offset);
  // With no line break written or removed, only offsets move, and the columns of positions on
  // the edited line (those whose line starts at or before the edit).
  let n = 0;
  for (const p of all as MutablePosition[]) {
    if (p.offset > windowStart && p.offset < windowEnd) continue; // the old window's: dropped
    if (p.offset >= windowEnd && (delta !== 0 || linesMoved)) {
      if (linesMoved) {
        const q = at(p.offset + delta);
        p.line = q.line;
        p.column = q.column;
      } else if (p.offset - p.column + 1 <= start) p.column += delta;
      p.offset += delta;
    }
    all[n++] = p;
  }
  all.length = n;
  return { node: (node) => node, position: (p) => at(p.offset + delta), kept: () => all, movedFrom: notMoved };
}

/** AST nodes have a `kind`, ranges `start`/`end`; only positions have a numeric `offset`. */
function isPosition(v: object): v is Position {
  return typeof (v as Position).offset === 'number';
}
