/**
 * Where is the cursor, lexically? A forward scan of the text up to the cursor that tracks open
 * brackets (skipping strings and comments) and remembers the word that introduced each block.
 * Works on broken code, needs no parse, and costs about a millisecond on a 5,000-line file —
 * completion answers from it without waiting for the parser.
 */

export interface Frame {
  readonly bracket: '{' | '(' | '[';
  readonly offset: number;
  /** First word of the line that opened the block: `capability`, `step`, `input`, `for`, … */
  readonly header: string;
  /** The word right before the bracket (`send_email` in `send_email(`), if any. */
  readonly wordBefore: string;
  /** A `{` in value position (after `:` `=` `(` `,` `[` `<` `with`): a record, not a block. */
  readonly record: boolean;
}

export interface CursorContext {
  /** Innermost last. */
  readonly frames: readonly Frame[];
  readonly inString: boolean;
  readonly inComment: boolean;
  /** Text of the current line before the cursor. */
  readonly linePrefix: string;
}

const IDENT_START = /[A-Za-z_]/;

export function scanContext(text: string, offset: number): CursorContext {
  const end = Math.min(offset, text.length);
  const frames: Frame[] = [];
  let inString = false;
  let inComment = false;
  /** Interpolation depth inside strings: `${` opens an expression frame that `}` closes. */
  const interpolations: number[] = [];
  let i = 0;
  while (i < end) {
    const c = text[i]!;
    if (inString) {
      if (c === '\\') {
        i += 2;
        continue;
      }
      if (c === '"') inString = false;
      else if (c === '$' && text[i + 1] === '{') {
        interpolations.push(frames.length);
        frames.push({ bracket: '{', offset: i + 1, header: '${', wordBefore: '', record: false });
        inString = false;
        i += 2;
        continue;
      }
      i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      const nl = text.indexOf('\n', i);
      if (nl === -1 || nl >= end) {
        inComment = true;
        break;
      }
      i = nl + 1;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      if (close === -1 || close + 2 > end) {
        inComment = true;
        break;
      }
      i = close + 2;
      continue;
    }
    if (c === '"') {
      inString = true;
    } else if (c === '{' || c === '(' || c === '[') {
      frames.push(frameAt(text, i, c, frames[frames.length - 1]));
    } else if (c === '}' || c === ')' || c === ']') {
      const open = c === '}' ? '{' : c === ')' ? '(' : '[';
      // Pop to the matching opener; unmatched closers in broken code are ignored.
      const at = lastIndex(frames, (f) => f.bracket === open);
      if (at !== -1) {
        frames.length = at;
        if (c === '}' && interpolations.length && interpolations[interpolations.length - 1] === at) {
          interpolations.pop();
          inString = true;
        }
      }
    }
    i++;
  }
  const lineStart = Math.max(text.lastIndexOf('\n', end - 1) + 1, 0);
  return { frames, inString, inComment, linePrefix: text.slice(lineStart, end) };
}

function lastIndex<T>(xs: readonly T[], pred: (x: T) => boolean): number {
  for (let i = xs.length - 1; i >= 0; i--) if (pred(xs[i]!)) return i;
  return -1;
}

/** The blocks of a declaration that hold a record type (what `inTypeRecord` reads from a header). */
const TYPE_BLOCKS = new Set(['input', 'output', 'context']);

function frameAt(text: string, at: number, bracket: '{' | '(' | '[', parent?: Frame): Frame {
  let j = at - 1;
  while (j >= 0 && (text[j] === ' ' || text[j] === '\t')) j--;
  const prevChar = j >= 0 ? text[j]! : '';
  let w = j;
  while (w >= 0 && /[A-Za-z0-9_]/.test(text[w]!)) w--;
  const wordBefore = text.slice(w + 1, j + 1);
  const lineStart = text.lastIndexOf('\n', at - 1) + 1;
  let header = firstWord(text.slice(lineStart, at));
  if (!header) {
    // `{` alone on its line: the header is on the previous non-blank line.
    let prevEnd = lineStart - 1;
    while (prevEnd > 0) {
      const prevStart = text.lastIndexOf('\n', prevEnd - 1) + 1;
      const w2 = firstWord(text.slice(prevStart, prevEnd));
      if (w2) {
        header = w2;
        break;
      }
      prevEnd = prevStart - 1;
    }
  }
  // A declaration on one line (`capability c { kind tool  output { … } }`): the block's own word, not the line's first.
  if (bracket === '{' && parent?.bracket === '{' && parent.offset >= lineStart && TYPE_BLOCKS.has(wordBefore)) header = wordBefore;
  const record = bracket === '{' && (/[:=(,[<{]/.test(prevChar) || wordBefore === 'with' || (prevChar === '' && !header));
  return { bracket, offset: at, header, wordBefore, record };
}

function firstWord(s: string): string {
  const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)/.exec(s);
  return m && IDENT_START.test(m[1]!) ? m[1]! : '';
}
