/**
 * `orch check --format github`: GitHub Actions workflow commands (`::error file=…,line=…::…`), which
 * the runner turns into annotations on the pull request's lines, as ESLint's and Ruff's GitHub
 * formatters print. GitHub shows only the first 10 errors, 10 warnings and 10 notices of a step,
 * so the output ends with the totals and, past that limit, points to the SARIF report.
 */
import type { Diagnostic, Severity } from '../language/index.js';
import { pathUnder } from './report-paths.js';

/** Annotations of one kind GitHub shows per step (the rest stay in the log only). */
export const ANNOTATIONS_SHOWN_PER_KIND = 10;

type Kind = 'error' | 'warning' | 'notice';

const KIND: Record<Severity, Kind> = { error: 'error', warning: 'warning', info: 'notice', hint: 'notice' };

/** A command's message: `%`, CR and LF escaped, as the runner unescapes them. */
export function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** A property value: the message's escapes plus `:` and `,`, which end a property. */
export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export interface GithubOptions {
  /** What `file=` is relative to: the repository root (see report-paths.ts). */
  readonly root: string;
  readonly fileCount: number;
}

function annotation(d: Diagnostic, root: string): string {
  const { start, end } = d.range;
  const file = pathUnder(d.file, root) ?? d.file;
  const props = [
    `file=${escapeProperty(file)}`,
    `line=${start.line}`,
    `endLine=${end.line}`,
    `col=${start.column}`,
    `endColumn=${end.line === start.line ? Math.max(end.column, start.column + 1) : end.column}`,
    `title=${escapeProperty(d.code)}`,
  ];
  const notes = (d.related ?? []).map((r) => `\nnote: ${r.message} (${pathUnder(r.file, root) ?? r.file}:${r.range.start.line}:${r.range.start.column})`);
  return `::${KIND[d.severity]} ${props.join(',')}::${escapeData(d.message + notes.join(''))}`;
}

function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function renderGithub(diagnostics: readonly Diagnostic[], options: GithubOptions): string {
  const lines = diagnostics.map((d) => annotation(d, options.root));
  const totals: Record<Kind, number> = { error: 0, warning: 0, notice: 0 };
  for (const d of diagnostics) totals[KIND[d.severity]]++;
  const files = count(options.fileCount, 'file');
  lines.push(
    diagnostics.length === 0
      ? `orch check: no problems in ${files}`
      : `orch check: ${count(totals.error, 'error')}, ${count(totals.warning, 'warning')}, ${count(totals.notice, 'note')} in ${files}`,
  );
  const hidden = (Object.keys(totals) as Kind[]).filter((k) => totals[k] > ANNOTATIONS_SHOWN_PER_KIND);
  if (hidden.length > 0) {
    const which = hidden.map((k) => `${totals[k] - ANNOTATIONS_SHOWN_PER_KIND} of the ${count(totals[k], k === 'notice' ? 'note' : k)}`).join(' and ');
    lines.push(
      `orch check: GitHub annotates at most ${ANNOTATIONS_SHOWN_PER_KIND} of each kind per step, so ${which} are only in this log;` +
        ' upload `orch check --format sarif` to code scanning to see every one on its line.',
    );
  }
  return `${lines.join('\n')}\n`;
}
