/**
 * Where the sink and the source of a generated plan stand. The generator writes the plan's text
 * with two pairs of marker characters around the sink (the argument, or the `when`) and the
 * source; `unmark` removes them and turns what they enclosed into 1-based positions, so an
 * expectation's line and column are those of the text as written to disk, whatever was composed
 * around them.
 */

const SINK_OPEN = '\u2983';
const SINK_CLOSE = '\u2984';
const SOURCE_OPEN = '\u27e6';
const SOURCE_CLOSE = '\u27e7';
const CALLER_OPEN = '\u2985';
const CALLER_CLOSE = '\u2986';

export const markSink = (text: string): string => `${SINK_OPEN}${text}${SINK_CLOSE}`;
export const markSource = (text: string): string => `${SOURCE_OPEN}${text}${SOURCE_CLOSE}`;
/**
 * The `run` argument that carries a value into a sub-plan whose sink it reaches: the finding
 * stands there, in the caller, not at the sink inside the sub-plan (docs/language.md, §9.3's
 * `flows` stage), so this span wins over the sink's.
 */
export const markCaller = (text: string): string => `${CALLER_OPEN}${text}${CALLER_CLOSE}`;

export interface Pos {
  readonly line: number;
  readonly column: number;
  readonly offset: number;
}

export interface Span {
  readonly start: Pos;
  /** Exclusive, as a diagnostic's range end. */
  readonly end: Pos;
}

export interface Unmarked {
  readonly text: string;
  readonly sink?: Span;
  readonly source?: Span;
  readonly caller?: Span;
}

/** The text without markers, and the spans they enclosed (the first of each kind). */
export function unmark(marked: string): Unmarked {
  let text = '';
  let line = 1;
  let column = 1;
  const opened: { sink?: Pos; source?: Pos; caller?: Pos } = {};
  const spans: { sink?: Span; source?: Span; caller?: Span } = {};
  const here = (): Pos => ({ line, column, offset: text.length });
  for (const ch of marked) {
    if (ch === SINK_OPEN) opened.sink ??= here();
    else if (ch === SOURCE_OPEN) opened.source ??= here();
    else if (ch === SINK_CLOSE) spans.sink ??= { start: opened.sink!, end: here() };
    else if (ch === SOURCE_CLOSE) spans.source ??= { start: opened.source!, end: here() };
    else if (ch === CALLER_OPEN) opened.caller ??= here();
    else if (ch === CALLER_CLOSE) spans.caller ??= { start: opened.caller!, end: here() };
    else {
      text += ch;
      if (ch === '\n') {
        line++;
        column = 1;
      } else column += ch.length;
    }
  }
  return { text, ...spans };
}
