/**
 * Renders diagnostics for `orch check` (and any command that reports diagnostics) as text with
 * code frames or as the JSON of LANGUAGE.md §6. For CI: SARIF 2.1.0 (render-sarif.ts) and GitHub
 * Actions annotations (render-github.ts).
 */
import { readFileSync } from 'node:fs';
import { basename, isAbsolute, relative } from 'node:path';
import { createColors } from 'picocolors';
import type { Diagnostic, Severity } from '../language/index.js';
import { codeFrame, LineIndex } from '../language/index.js';
import { maskCredentialText } from '../compiler/index.js';

export type DiagnosticFormat = 'text' | 'json' | 'sarif' | 'github';
export const DIAGNOSTIC_FORMATS: readonly DiagnosticFormat[] = ['text', 'json', 'sarif', 'github'];

export interface TextOptions {
  /** Source text per file, for code frames; files without text get no frame. */
  readonly sources: ReadonlyMap<string, string>;
  readonly color: boolean;
  /** How many files were checked (for the summary line). */
  readonly fileCount: number;
}

/**
 * Whether what goes to `stream` is coloured: only on a terminal, and never when `NO_COLOR` is set
 * to anything but "" (no-color.org). Every command asks here, so none colours by a rule of its own.
 */
export function colorFor(stream: { readonly isTTY?: boolean }): boolean {
  return stream.isTTY === true && !process.env.NO_COLOR;
}

/** A file as `orch check` names it: relative to the current directory when under it, else as given. */
export function fromHere(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

/**
 * The diagnostics a command prints on stderr before it refuses its file (`run`, `verify`, `test`,
 * `compile`, …), as `orch check` shows them: files named from here, a code frame each, the summary.
 */
export function writeRefusal(diagnostics: readonly Diagnostic[], fileCount?: number): void {
  const shown = diagnostics.map((d) => ({ ...d, file: fromHere(d.file), ...(d.related ? { related: d.related.map((r) => ({ ...r, file: fromHere(r.file) })) } : {}) }));
  const sources = sourcesOf(shown);
  const count = fileCount ?? new Set(shown.map((d) => d.file)).size;
  process.stderr.write(`${renderText(shown, { sources, color: colorFor(process.stderr), fileCount: count })}\n`);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function renderText(diagnostics: readonly Diagnostic[], options: TextOptions): string {
  const c = createColors(options.color);
  const paint: Record<Severity, (s: string) => string> = { error: c.red, warning: c.yellow, info: c.blue, hint: c.cyan };
  const indexes = new Map<string, LineIndex>();
  const unreadable = new Set<string>();
  const indexOf = (file: string): LineIndex | undefined => {
    let idx = indexes.get(file);
    if (idx || unreadable.has(file)) return idx;
    // Diagnostics can point into imported files the command did not read itself.
    const text = options.sources.get(file) ?? readQuietly(file);
    if (text === undefined) {
      unreadable.add(file);
      return undefined;
    }
    // A frame in the project's config shows its lines: the credentials written there are masked.
    indexes.set(file, (idx = new LineIndex(basename(file).startsWith('orch.config') ? maskCredentialText(text) : text)));
    return idx;
  };
  const blocks: string[] = [];
  for (const d of diagnostics) {
    const { line, column } = d.range.start;
    const head = `${c.bold(`${d.file}:${line}:${column}`)}: ${paint[d.severity](c.bold(`${d.severity}[${d.code}]`))}: ${d.message}`;
    const lines = [head];
    const idx = indexOf(d.file);
    if (idx) lines.push(indent(codeFrame(idx, d.range, { highlight: paint[d.severity], dim: c.dim })));
    for (const r of d.related ?? []) {
      lines.push(`  ${c.dim('=')} note: ${r.message} (${r.file}:${r.range.start.line}:${r.range.start.column})`);
    }
    blocks.push(lines.join('\n'));
  }
  blocks.push(summary(diagnostics, options.fileCount, c));
  return `${blocks.join('\n\n')}\n`;
}

function readQuietly(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

function summary(diagnostics: readonly Diagnostic[], fileCount: number, c: ReturnType<typeof createColors>): string {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.filter((d) => d.severity === 'warning').length;
  const notes = diagnostics.length - errors - warnings;
  const files = plural(fileCount, 'file');
  if (diagnostics.length === 0) return c.green(`no problems in ${files}`);
  const parts = [plural(errors, 'error'), plural(warnings, 'warning')];
  if (notes) parts.push(plural(notes, 'note'));
  const line = `${parts.join(', ')} in ${files}`;
  return errors ? c.red(line) : c.yellow(line);
}

type RangeJson = { readonly start: { readonly line: number; readonly column: number }; readonly end: { readonly line: number; readonly column: number } };

/**
 * One diagnostic as `orch check --format json` prints it (LANGUAGE.md §6): these keys, no offsets,
 * and `related` only where the diagnostic has some (§9.3: each hop of a witness path, at its position).
 */
export interface DiagnosticJson {
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  readonly file: string;
  readonly range: RangeJson;
  readonly related?: readonly { readonly message: string; readonly file: string; readonly range: RangeJson }[];
}

const rangeJson = (r: Diagnostic['range']): RangeJson => ({
  start: { line: r.start.line, column: r.start.column },
  end: { line: r.end.line, column: r.end.column },
});

export function diagnosticJson(d: Diagnostic): DiagnosticJson {
  return {
    code: d.code,
    severity: d.severity,
    message: d.message,
    file: d.file,
    range: rangeJson(d.range),
    ...(d.related?.length ? { related: d.related.map((r) => ({ message: r.message, file: r.file, range: rangeJson(r.range) })) } : {}),
  };
}

export function renderJson(diagnostics: readonly Diagnostic[]): string {
  return `${JSON.stringify({ diagnostics: diagnostics.map(diagnosticJson) })}\n`;
}

/** The text of each file the diagnostics name, for their code frames (a file that cannot be read gets none). */
export function sourcesOf(diagnostics: readonly Diagnostic[]): Map<string, string> {
  const sources = new Map<string, string>();
  for (const d of diagnostics) {
    if (sources.has(d.file)) continue;
    try {
      sources.set(d.file, readFileSync(d.file, 'utf8'));
    } catch {
      // No code frame for a file that cannot be read; the diagnostic line still shows.
    }
  }
  return sources;
}
