/**
 * Incremental re-parse for editors: after an edit, only the top-level items (module header,
 * imports, declarations) the edit touches are parsed again; the others are reused — as the same
 * objects when nothing before them moved, as position-shifted copies otherwise.
 *
 * Each top-level item owns the text from the end of the item before it to its own end (its
 * leading whitespace, comments and `///` docs). The items whose owned text touches the edit form
 * a window; the window is parsed alone, as a copy of the new text blanked outside the window
 * (line breaks kept), so every range in the result is already right for the new text.
 *
 * The result must equal a full parse, so anything that could make them differ takes the full
 * parse instead: syntax errors before or after the edit (recovery is a whole-file matter), a
 * window that reaches the module header or imports (their order rules are file-wide), a doc
 * comment left over in the window (it may document the next item), and a window boundary where
 * two tokens could run together.
 */
import type { Comment, Declaration, ImportDecl, Module, ModuleDecl } from './ast.js';
import type { Position, Range } from './diagnostic.js';
import { parse, type ParseInput, type ParseOutput } from './index.js';
import { LineIndex } from './source.js';

/** A previous parse and the text it was made from. */
export interface ParsedText {
  readonly text: string;
  readonly output: ParseOutput;
}

export interface ReparseInput extends ParseInput {
  /** The parse of the same file's previous text; none means a full parse. */
  readonly previous?: ParsedText;
}

/** How `reparse` got its answer (for tests and the benchmark). */
export type ReparseMode = 'unchanged' | 'incremental' | 'full';

export interface ReparseOutput extends ParseOutput {
  readonly mode: ReparseMode;
}

type Item = ModuleDecl | ImportDecl | Declaration;


/** Parses `text`, reusing what it can of `previous`. Never throws (like `parse`). */
export function reparse(input: ReparseInput): ReparseOutput {
  const prev = input.previous;
  if (prev && prev.text === input.text && prev.output.module.file === input.file) return { ...prev.output, mode: 'unchanged' };
  try {
    const out = prev && prev.output.module.file === input.file ? incremental(input.file, prev, input.text) : undefined;
    if (out) return { ...out, mode: 'incremental' };
  } catch {
    // Falls through to the full parse, which reports whatever the problem is.
  }
  return { ...parse(input), mode: 'full' };
}

function incremental(file: string, prev: ParsedText, text: string): ParseOutput | undefined {
  if (prev.output.diagnostics.length > 0) return undefined;
  const old = prev.text;
  const oldModule = prev.output.module;

  // The edit: [start, oldEnd) of the old text became [start, oldEnd + delta) of the new one.
  let start = 0;
  const max = Math.min(old.length, text.length);
  while (start < max && old.charCodeAt(start) === text.charCodeAt(start)) start++;
  let tail = 0;
  while (tail < max - start && old.charCodeAt(old.length - 1 - tail) === text.charCodeAt(text.length - 1 - tail)) tail++;
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
  if (!separated(text, windowStart) || !separated(text, windowEnd)) return undefined;

  const window = parse({ file, text: blankOutside(text, windowStart, windowEnd) });
  if (window.diagnostics.length > 0) return undefined;
  const w = window.module;
  if (w.module || w.imports.length > 0) return undefined;
  // A `///` comment no declaration of the window took may belong to the item after the window.
  if (w.comments.some((c) => c.text.startsWith('///') && !c.text.startsWith('////'))) return undefined;

  const before = (x: { readonly range: { readonly end: Position } }): boolean => x.range.end.offset <= windowStart;
  const after = (x: { readonly range: { readonly start: Position } }): boolean => x.range.start.offset >= windowEndOld;
  const shift = shifter(text, delta, hasBreak(old, start, oldEnd) || hasBreak(text, start, oldEnd + delta));
  const module: Module = {
    ...oldModule,
    range: w.range,
    declarations: [...oldModule.declarations.filter(before), ...w.declarations, ...oldModule.declarations.filter(after).map(shift)],
    comments: [...oldModule.comments.filter(before), ...w.comments, ...oldModule.comments.filter(after).map(shift)],
  };
  return { module, diagnostics: [] };
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
 * A text as long as `text`, equal to it in [from, to) and blank elsewhere, with as many line
 * breaks before `from` and after `to` as `text` has, and `from` and `text.length` on the same
 * columns — so every position inside the window, and the end of the file, are those of `text`.
 * (Blanking character by character with a regular expression costs more than parsing the window.)
 */
function blankOutside(text: string, from: number, to: number): string {
  return blank(text, 0, from) + text.slice(from, to) + blank(text, to, text.length);
}

function blank(text: string, from: number, to: number): string {
  let breaks = 0;
  let lastBreakEnd = from;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) {
      breaks++;
      lastBreakEnd = i + 1;
    }
  }
  const column = to - lastBreakEnd;
  return ' '.repeat(to - from - breaks - column) + '\n'.repeat(breaks) + ' '.repeat(column);
}

/**
 * Moves a node that lay after the edit in the old text to its place in the new text: every
 * position's offset moves by `delta`, its line and column are those of the new text. Returns the
 * node itself when nothing moved, a copy otherwise.
 */
function shifter(text: string, delta: number, linesMoved: boolean): <T extends { readonly range: Range }>(node: T) => T {
  if (delta === 0 && !linesMoved) return (node) => node;
  const index = new LineIndex(text);
  const copy = (v: unknown): unknown => {
    if (typeof v !== 'object' || v === null) return v;
    if (Array.isArray(v)) return v.map(copy);
    if (isPosition(v)) return index.positionAt(v.offset + delta);
    const obj: Record<string, unknown> = {};
    for (const key in v) obj[key] = copy((v as Record<string, unknown>)[key]);
    return obj;
  };
  return (node) => copy(node) as typeof node;
}

/** AST nodes have a `kind`, ranges `start`/`end`; only positions have a numeric `offset`. */
function isPosition(v: object): v is Position {
  return typeof (v as Position).offset === 'number';
}
