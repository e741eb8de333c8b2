/**
 * A small Wadler-style layout algebra for the printer: a document is built from text, line
 * breaks and groups; a group is printed on one line when it fits in the width, otherwise every
 * `line` directly inside it becomes a newline. Keeping this separate lets the printer say *what*
 * can break and leave *when* to this module.
 */

export type Doc = string | readonly Doc[] | Group | Indent | Line | IfBreak | LineSuffix | BreakParent;

interface Group {
  readonly t: 'group';
  readonly doc: Doc;
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
  return { t: 'group', doc: docs };
}
export function indent(...docs: Doc[]): Doc {
  return { t: 'indent', doc: docs };
}
export function ifBreak(broken: Doc, flat: Doc = ''): Doc {
  return { t: 'ifBreak', broken, flat };
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

/**
 * The caches of `mustBreak` and `flatWidth`, one pair per `render`: plain maps dropped when it
 * returns — for the collector, cheaper than WeakMaps of millions of entries (a 10 MB file).
 */
let mustBreakCache = new Map<object, boolean>();
let flatWidthCache = new Map<object, number>();

/**
 * A group breaks when anything inside it is a hard line or asks its parents to break. Worked out
 * by recursion, or with an explicit stack for documents that nest deeper (long expression
 * chains nest thousands deep).
 */
function mustBreak(doc: Doc): boolean {
  if (typeof doc === 'string') return doc.includes('\n');
  const known = mustBreakCache.get(doc);
  if (known !== undefined) return known;
  return breaksShallow(doc, 0) ?? mustBreakDeep(doc);
}

/** Depth up to which `breaksShallow` and `flatWidthShallow` recurse; deeper documents take the loops. */
const SHALLOW = 200;

/**
 * `mustBreak` by recursion, undefined when the document nests deeper than SHALLOW: nearly every
 * document of a real file is shallow, and the recursion makes no stack entries (the loop below
 * made an object per node: most of what rendering a 10 MB file allocated). Compound results are
 * cached as the loop caches them.
 */
function breaksShallow(doc: Exclude<Doc, string>, depth: number): boolean | undefined {
  const known = mustBreakCache.get(doc);
  if (known !== undefined) return known;
  if (depth > SHALLOW) return undefined;
  let breaks = ownBreak(doc);
  if (Array.isArray(doc)) {
    const docs = doc as readonly Doc[];
    for (let i = 0; i < docs.length; i++) {
      const k = docs[i]!;
      const b = typeof k === 'string' ? k.includes('\n') : breaksShallow(k, depth + 1);
      if (b === undefined) return undefined;
      if (b) breaks = true;
    }
  } else {
    const d = doc as Exclude<Doc, string | readonly Doc[]>;
    const first = d.t === 'group' || d.t === 'indent' ? d.doc : d.t === 'ifBreak' ? d.broken : undefined;
    if (first !== undefined) {
      const b = typeof first === 'string' ? first.includes('\n') : breaksShallow(first, depth + 1);
      if (b === undefined) return undefined;
      if (b) breaks = true;
    }
    if (d.t === 'ifBreak') {
      const b = typeof d.flat === 'string' ? d.flat.includes('\n') : breaksShallow(d.flat, depth + 1);
      if (b === undefined) return undefined;
      if (b) breaks = true;
    }
  }
  mustBreakCache.set(doc, breaks);
  return breaks;
}

/** `mustBreak` with an explicit stack, for documents of any depth. */
function mustBreakDeep(doc: Exclude<Doc, string>): boolean {
  // Post-order: a compound is decided once its children are.
  const stack: { doc: Exclude<Doc, string>; expanded: boolean }[] = [{ doc, expanded: false }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (mustBreakCache.has(top.doc)) {
      stack.pop();
      continue;
    }
    const kids = childDocs(top.doc);
    if (!top.expanded) {
      top.expanded = true;
      for (const k of kids) if (typeof k !== 'string' && !mustBreakCache.has(k)) stack.push({ doc: k, expanded: false });
      continue;
    }
    stack.pop();
    mustBreakCache.set(top.doc, ownBreak(top.doc) || kids.some((k) => (typeof k === 'string' ? k.includes('\n') : mustBreakCache.get(k) === true)));
  }
  return mustBreakCache.get(doc)!;
}


/**
 * The width of `doc` laid out flat, for a document without hard breaks (`!mustBreak(doc)`).
 * Cached, so `fits` measures a nested group in one step instead of walking into it again for
 * every enclosing group (which made long expression chains quadratic).
 */
function flatWidth(doc: Doc): number {
  if (typeof doc === 'string') return doc.length;
  const known = flatWidthCache.get(doc);
  if (known !== undefined) return known;
  return flatWidthShallow(doc, 0) ?? flatWidthDeep(doc);
}

/** `flatWidth` by recursion (see `breaksShallow`); undefined when deeper than SHALLOW. */
function flatWidthShallow(doc: Exclude<Doc, string>, depth: number): number | undefined {
  const known = flatWidthCache.get(doc);
  if (known !== undefined) return known;
  if (depth > SHALLOW) return undefined;
  let width = ownFlatWidth(doc);
  if (Array.isArray(doc)) {
    const docs = doc as readonly Doc[];
    for (let i = 0; i < docs.length; i++) {
      const k = docs[i]!;
      const w = typeof k === 'string' ? k.length : flatWidthShallow(k, depth + 1);
      if (w === undefined) return undefined;
      width += w;
    }
  } else {
    const d = doc as Exclude<Doc, string | readonly Doc[]>;
    const k = d.t === 'group' || d.t === 'indent' ? d.doc : d.t === 'ifBreak' ? d.flat : undefined;
    if (k !== undefined) {
      const w = typeof k === 'string' ? k.length : flatWidthShallow(k, depth + 1);
      if (w === undefined) return undefined;
      width += w;
    }
  }
  flatWidthCache.set(doc, width);
  return width;
}

/** `flatWidth` with an explicit stack, for documents of any depth. */
function flatWidthDeep(doc: Exclude<Doc, string>): number {
  const stack: { doc: Exclude<Doc, string>; expanded: boolean }[] = [{ doc, expanded: false }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (flatWidthCache.has(top.doc)) {
      stack.pop();
      continue;
    }
    const kids = flatChildren(top.doc);
    if (!top.expanded) {
      top.expanded = true;
      for (const k of kids) if (typeof k !== 'string' && !flatWidthCache.has(k)) stack.push({ doc: k, expanded: false });
      continue;
    }
    stack.pop();
    let width = ownFlatWidth(top.doc);
    for (const k of kids) width += typeof k === 'string' ? k.length : flatWidthCache.get(k)!;
    flatWidthCache.set(top.doc, width);
  }
  return flatWidthCache.get(doc)!;
}

/** The parts of `doc` that are printed when it is laid out flat. */
function flatChildren(doc: Exclude<Doc, string>): readonly Doc[] {
  if (Array.isArray(doc)) return doc as readonly Doc[];
  const d = doc as Exclude<Doc, string | readonly Doc[]>;
  switch (d.t) {
    case 'group':
    case 'indent':
      return [d.doc];
    case 'ifBreak':
      return [d.flat];
    default:
      return [];
  }
}

function ownFlatWidth(doc: Exclude<Doc, string>): number {
  if (Array.isArray(doc)) return 0;
  const d = doc as Exclude<Doc, string | readonly Doc[]>;
  return d.t === 'line' ? d.flat.length : 0;
}

function childDocs(doc: Exclude<Doc, string>): readonly Doc[] {
  if (Array.isArray(doc)) return doc as readonly Doc[];
  const d = doc as Exclude<Doc, string | readonly Doc[]>;
  switch (d.t) {
    case 'group':
    case 'indent':
      return [d.doc];
    case 'ifBreak':
      return [d.broken, d.flat];
    default:
      return [];
  }
}

function ownBreak(doc: Exclude<Doc, string>): boolean {
  if (Array.isArray(doc)) return false;
  const d = doc as Exclude<Doc, string | readonly Doc[]>;
  return (d.t === 'line' && d.hard) || d.t === 'breakParent';
}

type Mode = 'flat' | 'break';
interface Cmd {
  readonly indent: number;
  readonly mode: Mode;
  readonly doc: Doc;
}

/** Does `next` (then the rest of the current line) fit in `width` columns? */
function fits(next: Cmd, rest: readonly Cmd[], width: number): boolean {
  const stack: Cmd[] = [next];
  let restIndex = rest.length - 1;
  let remaining = width;
  while (remaining >= 0) {
    let cmd = stack.pop();
    if (!cmd) {
      if (restIndex < 0) return true;
      cmd = rest[restIndex--]!;
    }
    const { doc, mode, indent: ind } = cmd;
    if (typeof doc === 'string') {
      const nl = doc.indexOf('\n');
      if (nl >= 0) return remaining - nl >= 0;
      remaining -= doc.length;
    } else if (mode === 'flat' && !mustBreak(doc)) {
      // Laid out flat with no hard break inside: its width, without walking into it.
      remaining -= flatWidth(doc);
    } else if (Array.isArray(doc)) {
      for (let i = doc.length - 1; i >= 0; i--) stack.push({ indent: ind, mode, doc: doc[i]! });
    } else {
      const d = doc as Exclude<Doc, string | readonly Doc[]>;
      switch (d.t) {
        case 'group':
          if (mustBreak(d) && mode === 'break') return true;
          stack.push({ indent: ind, mode: mustBreak(d) ? 'break' : mode, doc: d.doc });
          break;
        case 'indent':
          stack.push({ indent: ind + 2, mode, doc: d.doc });
          break;
        case 'line':
          if (mode === 'break' || d.hard) return true;
          remaining -= d.flat.length;
          break;
        case 'ifBreak':
          stack.push({ indent: ind, mode, doc: mode === 'break' ? d.broken : d.flat });
          break;
        case 'suffix':
        case 'breakParent':
          break;
      }
    }
  }
  return false;
}

/** Lays `doc` out in `width` columns. Lines never end in spaces. */
export function render(doc: Doc, width = 100): string {
  try {
    return renderWith(doc, width);
  } finally {
    mustBreakCache = new Map();
    flatWidthCache = new Map();
  }
}

function renderWith(doc: Doc, width: number): string {
  const out: string[] = [];
  let column = 0;
  let suffixes: string[] = [];
  const stack: Cmd[] = [{ indent: 0, mode: 'break', doc }];
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
  while (stack.length > 0) {
    const cmd = stack.pop()!;
    const { doc: d0, mode, indent: ind } = cmd;
    if (typeof d0 === 'string') {
      out.push(d0);
      const nl = d0.lastIndexOf('\n');
      column = nl >= 0 ? d0.length - nl - 1 : column + d0.length;
      continue;
    }
    if (Array.isArray(d0)) {
      for (let i = d0.length - 1; i >= 0; i--) stack.push({ indent: ind, mode, doc: d0[i]! });
      continue;
    }
    const d = d0 as Exclude<Doc, string | readonly Doc[]>;
    switch (d.t) {
      case 'group': {
        const flat: Cmd = { indent: ind, mode: 'flat', doc: d.doc };
        const broken = mustBreak(d);
        if (mode === 'flat' && !broken) stack.push(flat);
        else if (!broken && fits(flat, stack, width - column)) stack.push(flat);
        else stack.push({ indent: ind, mode: 'break', doc: d.doc });
        break;
      }
      case 'indent':
        stack.push({ indent: ind + 2, mode, doc: d.doc });
        break;
      case 'line':
        if (mode === 'flat' && !d.hard) {
          out.push(d.flat);
          column += d.flat.length;
        } else {
          flushSuffixes(ind);
          trimTrailingSpaces();
          out.push('\n' + ' '.repeat(ind));
          column = ind;
        }
        break;
      case 'ifBreak':
        stack.push({ indent: ind, mode, doc: mode === 'break' ? d.broken : d.flat });
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

/** `text` without its trailing spaces (a loop: the regular expression / +$/ is quadratic on long runs of spaces). */
export function trimSpacesEnd(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 32) end--;
  return end === text.length ? text : text.slice(0, end);
}
