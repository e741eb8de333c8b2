/**
 * Worker thread that runs the compiler's `check` for the language server, so a long check of a
 * large file never keeps the server from answering completion, hover or symbols meanwhile.
 * Messages in: `{ id, entry, files }` (unsaved buffers by path); out: `{ id, result: { diagnostics,
 * imports } }` or `{ id, error }`. It also formats a document (`{ id, format: file, text }`) or a
 * range of it (`{ id, formatRange: file, text, range }`): the check keeps the last parse of each
 * file, so formatting the text just checked does not parse it again (of a 100,000-step plan,
 * ~1.5 s of the ~3 s).
 */
import { readFileSync } from 'node:fs';
import type { Range as LspRange, TextEdit } from 'vscode-languageserver';
import { parentPort } from 'node:worker_threads';
import { check } from '../compiler/index.js';
import { PlanMemo } from '../compiler/index.js';
import { format, type Diagnostic } from '../language/index.js';
import { formatRange } from './features/formatting.js';
import { ParseCache } from './parse-cache.js';
import { fileImportsOf } from './symbol-index/references.js';
import { bufferHost, serveWorker } from './worker-thread.js';

export interface CheckRequest {
  readonly entry: string;
  readonly files: Readonly<Record<string, string>>;
}

/** Format `text` of `format` as `orch fmt` would. */
export interface FormatRequest {
  readonly format: string;
  readonly text: string;
}

/** `format`'s answer, without its diagnostics (the server has them from the check). */
export interface FormatAnswer {
  readonly text: string;
  readonly changed: boolean;
}

/** The edits that format the items of `text` of `formatRange` that lines `range` touch (`formatRange`'s). */
export interface RangeFormatRequest {
  readonly formatRange: string;
  readonly text: string;
  readonly range: LspRange;
}

export type CheckWorkerRequest = CheckRequest | FormatRequest | RangeFormatRequest;

/** The answer to each kind of request: the worker's dispatch below and `Checker.ask` both follow it. */
export type CheckWorkerAnswer<Q extends CheckWorkerRequest> = Q extends RangeFormatRequest ? TextEdit[] : Q extends FormatRequest ? FormatAnswer : CheckResult;

export interface CheckResult {
  readonly diagnostics: Diagnostic[];
  /**
   * The files the entry imports directly (absolute paths), from the parse the check made: the
   * server re-checks those that are open (their W0601 depends on the entry's uses) without
   * parsing the entry again on its main thread.
   */
  readonly imports: string[];
  /**
   * Whether the parse of the entry found a syntax error: the formatter then leaves the file alone,
   * and the server answers its formatting requests without parsing a large file again.
   */
  readonly syntaxErrors: boolean;
}

/**
 * Successive checks mostly differ by one edit: each file is parsed incrementally, and the plans
 * the edit did not touch are not checked again (one memo per checked file).
 */
const parses = new ParseCache();
const memos = new Map<string, PlanMemo>();

if (parentPort) {
  serveWorker<CheckWorkerRequest, CheckWorkerAnswer<CheckWorkerRequest>>(parentPort, (req) => {
    if ('formatRange' in req) return formatRange(req.formatRange, req.text, req.range, undefined, parses.outputFor(req.formatRange, req.text));
    if ('format' in req) {
      const { text, changed } = format(req.format, req.text, { parsed: parses.outputFor(req.format, req.text) });
      return { text: changed ? text : '', changed };
    }
    let memo = memos.get(req.entry);
    if (!memo) memos.set(req.entry, (memo = new PlanMemo()));
    const diagnostics = check({ entry: req.entry, host: { ...bufferHost(req.files, (p) => readFileSync(p, 'utf8')), parse: parses.parse }, memo });
    const module = parses.moduleOf(req.entry);
    return { diagnostics, imports: module ? fileImportsOf(module, req.entry) : [], syntaxErrors: parses.syntaxErrorsIn(req.entry) ?? false };
  });
}
