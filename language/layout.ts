/**
 * A small Wadler-style layout algebra for the printer: a document is built from text, line
 * breaks and groups; a group is printed on one line when it fits in the width, otherwise every
 * `line` directly inside it becomes a newline. Keeping this separate lets the printer say *what*
 * can break and leave *when* to this module.
 */

export type Doc = string | readonly Doc[] | Group | Indent | Line | IfBreak | LineSuffix | BreakParent;

/**
 * A group and an `ifBreak` carry, from their construction, what layout asks of them: whether
 * they must break (a hard line, a `breakParent` or a line break in a string anywhere inside) and
 * their width laid out flat (meaningful only when they need not break). Documents are immutable
 * and built bottom-up, so each node is measured once, by the nearest group above it — no caches
 * keyed by node, no walks into nested groups (long expression chains nest thousands deep).
 */
interface Group {
  readonly t: 'group';
  readonly doc: Doc;
  readonly breaks: boolean;
  readonly width: number;
}
interface Indent {
  readonly t: 'indent';
  readonly doc: Doc;
}
/** `flat`: text used when the enclosing group is flat (' ' for line, '' for softline). */
interface Line {
  readonly t: 'line';
  readonly flat: string;
  readonly hard: boolean;
}
interface IfBreak {
  readonly t: 'ifBreak';
  readonly broken: Doc;
  readonly flat: Doc;
  /** Whether either branch must break. */
  readonly breaks: boolean;
  /** The flat branch's width. */
  readonly width: number;
}
/** Text deferred to the end of the current line (trailing `//` comments). */
interface LineSuffix {
  readonly t: 'suffix';
  readonly text: string;
}
interface BreakParent {
  readonly t: 'breakParent';
}

export const line: Doc = { t: 'line', flat: ' ', hard: false };
export const softline: Doc = { t: 'line', flat: '', hard: false };
export const hardline: Doc = { t: 'line', flat: '', hard: true };
export const breakParent: Doc = { t: 'breakParent' };

export function group(...docs: Doc[]): Doc {
  const breaks = measure(docs);
  return { t: 'group', doc: docs, breaks, width: measuredWidth };
}
export function indent(...docs: Doc[]): Doc {
  return { t: 'indent', doc: docs };
}
export function ifBreak(broken: Doc, flat: Doc = ''): Doc {
  const brokenBreaks = measure(broken);
  const flatBreaks = measure(flat);
  return { t: 'ifBreak', broken, flat, breaks: brokenBreaks || flatBreaks, width: measuredWidth };
}
/** A trailing line comment: printed at the end of the line, and forces the enclosing groups to break. */
export function lineSuffix(text: string): Doc {
  return [{ t: 'suffix', text }, breakParent];
}
export function join(separator: Doc, docs: readonly Doc[]): Doc[] {
  const out: Doc[] = [];
  docs.forEach((d, i) => {
    if (i > 0) out.push(separator);
    out.push(d);
  });
  return out;
}

/** The flat width found by the last `measure` (a second result without an object per call). */
let measuredWidth = 0;
/** `measure`'s work list, reused: a loop, not recursion, for documents nested any depth. */
const measuring: Doc[] = [];

/**
 * Whether `root` must break; its flat width is left in `measuredWidth`. Both are order-free
 * (a sum, an or), so the walk needs no post-order; it stops at groups and `ifBreak`s (measured
 * when built) and as soon as a break is found (a breaking document's width is never asked for).
 */
function measure(root: Doc): boolean {
  const stack = measuring;
  const base = stack.length;
  stack.push(root);
  let width = 0;
  let breaks = false;
  while (stack.length > base) {
    const d = stack.pop()!;
    if (typeof d === 'string') {
      width += d.length;
      if (d.includes('\n')) breaks = true;
    } else if (Array.isArray(d)) {
      const docs = d as readonly Doc[];
      for (let i = 0; i < docs.length; i++) stack.push(docs[i]!);
    } else {
      const x = d as Exclude<Doc, string | readonly Doc[]>;
      switch (x.t) {
        case 'group':
        case 'ifBreak':
          width += x.width;
          if (x.breaks) breaks = true;
          break;
        case 'indent':
          stack.push(x.doc);
          break;
        case 'line':
          width += x.flat.length;
          if (x.hard) breaks = true;
          break;
        case 'breakParent':
          breaks = true;
          break;
        case 'suffix':
          break;
      }
    }
    if (breaks) stack.length = base;
  }
  measuredWidth = width;
  return breaks;
}

/**
 * The layout's work lists, as parallel arrays (a document and its indentation × 2 + 1 when in
 * break mode): an object per visited node was most of what rendering a 10 MB file allocated.
 */
const BREAK = 1;

/** Does `doc` in `mode` (then the rest of the current line, from `rest`) fit in `width` columns? */
function fits(doc: Doc, mode: number, restDocs: readonly Doc[], restModes: readonly number[], width: number): boolean {
  const docs = fitting;
  const modes = fittingModes;
  docs.length = 0;
  modes.length = 0;
  docs.push(doc);
  modes.push(mode);
  let restIndex = restDocs.length - 1;
  let remaining = width;
  while (remaining >= 0) {
    let d: Doc;
    let m: number;
    if (docs.length > 0) {
      d = docs.pop()!;
      m = modes.pop()!;
    } else {
      if (restIndex < 0) return true;
      d = restDocs[restIndex]!;
      m = restModes[restIndex--]! & BREAK;
    }
    if (typeof d === 'string') {
      const nl = d.indexOf('\n');
      if (nl >= 0) return remaining - nl >= 0;
      remaining -= d.length;
    } else if (Array.isArray(d)) {
      const parts = d as readonly Doc[];
      for (let i = parts.length - 1; i >= 0; i--) {
        docs.push(parts[i]!);
        modes.push(m);
      }
    } else {
      const x = d as Exclude<Doc, string | readonly Doc[]>;
      switch (x.t) {
        case 'group':
          if (x.breaks && m === BREAK) return true;
          // Laid out flat with no hard break inside: its width, without walking into it.
          if (!x.breaks && m !== BREAK) remaining -= x.width;
          else {
            docs.push(x.doc);
            modes.push(x.breaks ? BREAK : m);
          }
          break;
        case 'indent':
          docs.push(x.doc);
          modes.push(m);
          break;
        case 'line':
          if (m === BREAK || x.hard) return true;
          remaining -= x.flat.length;
          break;
        case 'ifBreak':
          docs.push(m === BREAK ? x.broken : x.flat);
          modes.push(m);
          break;
        case 'suffix':
        case 'breakParent':
          break;
      }
    }
  }
  return false;
}
const fitting: Doc[] = [];
const fittingModes: number[] = [];

/** Lays `doc` out in `width` columns. Lines never end in spaces. */
export function render(doc: Doc, width = 100): string {
  const out: string[] = [];
  let column = 0;
  let suffixes: string[] = [];
  // `codes[i]`: indentation × 2, plus BREAK when `docs[i]` is laid out in break mode.
  const docs: Doc[] = [doc];
  const codes: number[] = [BREAK];
  const trimTrailingSpaces = (): void => {
    while (out.length > 0) {
      const last = out[out.length - 1]!;
      const trimmed = trimSpacesEnd(last);
      if (trimmed.length > 0 || last.length === 0) {
        out[out.length - 1] = trimmed;
        return;
      }
      out.pop();
    }
  };
  // Only one `//` comment fits at the end of a line: later ones go on lines of their own.
  const flushSuffixes = (ind: number): void => {
    suffixes.forEach((s, i) => out.push(i === 0 ? s : `\n${' '.repeat(ind)}${s.trimStart()}`));
    suffixes = [];
  };
  while (docs.length > 0) {
    const d0 = docs.pop()!;
    const code = codes.pop()!;
    if (typeof d0 === 'string') {
      out.push(d0);
      const nl = d0.lastIndexOf('\n');
      column = nl >= 0 ? d0.length - nl - 1 : column + d0.length;
      continue;
    }
    if (Array.isArray(d0)) {
      const parts = d0 as readonly Doc[];
      for (let i = parts.length - 1; i >= 0; i--) {
        docs.push(parts[i]!);
        codes.push(code);
      }
      continue;
    }
    const d = d0 as Exclude<Doc, string | readonly Doc[]>;
    const mode = code & BREAK;
    const ind = code >> 1;
    switch (d.t) {
      case 'group': {
        // The group itself, not its document: laid out flat it is its measured width, not walked.
        const flat = mode !== BREAK ? !d.breaks : !d.breaks && fits(d, 0, docs, codes, width - column);
        if (flat) {
          // All of it on this line: its texts in order, without a work-list entry per node.
          column += writeFlat(d.doc, out, suffixes);
          break;
        }
        docs.push(d.doc);
        codes.push(code | BREAK);
        break;
      }
      case 'indent':
        docs.push(d.doc);
        codes.push(code + 4);
        break;
      case 'line':
        if (mode !== BREAK && !d.hard) {
          out.push(d.flat);
          column += d.flat.length;
        } else {
          if (suffixes.length > 0) flushSuffixes(ind);
          // Trimming changes nothing unless the last text ends in a space (an empty one stops it).
          const last = out.length > 0 ? out[out.length - 1]! : '';
          if (last.charCodeAt(last.length - 1) === 32) trimTrailingSpaces();
          out.push(newline(ind));
          column = ind;
        }
        break;
      case 'ifBreak':
        docs.push(mode === BREAK ? d.broken : d.flat);
        codes.push(code);
        break;
      case 'suffix':
        suffixes.push(d.text);
        break;
      case 'breakParent':
        break;
    }
  }
  flushSuffixes(0);
  trimTrailingSpaces();
  return out.join('');
}

/**
 * `doc` laid out flat (a group that does not break: no line break anywhere inside), its texts
 * appended to `out` joined in runs — but an empty text stays an entry of its own, for it stops
 * `render`'s trimming of trailing spaces — and its line suffixes to `suffixes`. Returns the
 * width written.
 */
function writeFlat(doc: Doc, out: string[], suffixes: string[]): number {
  const stack = flatStack;
  const base = stack.length;
  stack.push(doc);
  let run = '';
  let width = 0;
  while (stack.length > base) {
    const d = stack.pop()!;
    if (typeof d === 'string') {
      if (d.length === 0) {
        if (run.length > 0) out.push(run);
        out.push('');
        run = '';
      } else {
        run += d;
        width += d.length;
      }
    } else if (Array.isArray(d)) {
      const parts = d as readonly Doc[];
      for (let i = parts.length - 1; i >= 0; i--) stack.push(parts[i]!);
    } else {
      const x = d as Exclude<Doc, string | readonly Doc[]>;
      switch (x.t) {
        case 'group':
        case 'indent':
          stack.push(x.doc);
          break;
        case 'line':
        case 'ifBreak':
          // A softline's flat text is empty: an entry of its own, as `render` makes it.
          stack.push(x.flat);
          break;
        case 'suffix':
          suffixes.push(x.text);
          break;
        case 'breakParent':
          break;
      }
    }
  }
  if (run.length > 0) out.push(run);
  return width;
}
const flatStack: Doc[] = [];

/** A line break and `ind` spaces: one string per indentation, not one per line. */
function newline(ind: number): string {
  return (newlines[ind] ??= `\n${' '.repeat(ind)}`);
}
const newlines: string[] = [];

/** `text` without its trailing spaces (a loop: the regular expression / +$/ is quadratic on long runs of spaces). */
export function trimSpacesEnd(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 32) end--;
  return end === text.length ? text : text.slice(0, end);
}
