/**
 * `orch test`'s reporters (LANGUAGE.md §9.2): text (each result; for a failure the `expect` that
 * failed with a code frame, the values it read and the run's timeline), JSON and JUnit XML.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { codeFrame, LineIndex } from '../../language/index.js';
import { moneyText } from '../../compiler/index.js';
import type { TraceEvent } from '../trace.js';
import type { TestFailure, TestResult } from './run-test.js';
import type { CoverageReport } from './coverage-report.js';

export interface TextStyle {
  readonly red: (s: string) => string;
  readonly green: (s: string) => string;
  readonly dim: (s: string) => string;
  readonly bold: (s: string) => string;
}

const PLAIN: TextStyle = { red: (s) => s, green: (s) => s, dim: (s) => s, bold: (s) => s };
/** Timeline lines shown for a failure (the last ones: where it went wrong). */
const TIMELINE_LINES = 30;

export function textReport(results: readonly TestResult[], cwd: string, style: TextStyle = PLAIN): string {
  const sources = new Map<string, LineIndex | null>();
  const indexOf = (file: string): LineIndex | null => {
    if (!sources.has(file)) {
      try {
        sources.set(file, new LineIndex(readFileSync(file, 'utf8')));
      } catch {
        sources.set(file, null);
      }
    }
    return sources.get(file)!;
  };
  const out: string[] = [];
  for (const r of results) {
    const where = `${relative(cwd, r.file) || r.file}:${r.line}`;
    out.push(`${r.passed ? style.green('✓') : style.red('✗')} ${r.name} ${style.dim(`(${where}, plan ${r.plan})`)}`);
    if (r.passed) continue;
    for (const f of r.failures) out.push(...failureLines(f, r, cwd, indexOf, style));
    if (r.timeline.length > 0) {
      out.push(style.dim('    timeline (virtual time):'));
      const shown = r.timeline.slice(-TIMELINE_LINES);
      if (shown.length < r.timeline.length) out.push(style.dim(`      … ${r.timeline.length - shown.length} earlier events`));
      for (const e of shown) out.push(style.dim(`      ${timelineLine(e)}`));
    }
  }
  const failed = results.filter((r) => !r.passed).length;
  out.push('', failed === 0 ? style.green(`${results.length} passed`) : style.red(`${failed} failed`) + `, ${results.length - failed} passed`);
  return out.join('\n');
}

function failureLines(f: TestFailure, r: TestResult, cwd: string, indexOf: (file: string) => LineIndex | null, style: TextStyle): string[] {
  const out: string[] = [];
  const file = f.file ?? r.file;
  const at = f.line !== undefined ? `${relative(cwd, file) || file}:${f.line}: ` : '';
  // A message of several lines (a stale test's changes) keeps its own indentation under the first.
  out.push(...`${at}${f.message}`.split('\n').map((l) => `    ${style.red(l)}`));
  const index = f.range ? indexOf(file) : null;
  if (index && f.range) for (const l of codeFrame(index, f.range, { highlight: style.red, dim: style.dim }).split('\n')) out.push(`      ${l}`);
  for (const l of failureValues(f, r.currency)) out.push(`      ${l}`);
  return out;
}

/** What a failed condition read, one `READ = VALUE` line each (the text reporter's and the editor's). */
export function failureValues(f: TestFailure, currency?: string): string[] {
  return Object.entries(f.values ?? {}).map(([read, value]) => `${read} = ${shownValue(read, value, currency)}`);
}

/** What a run spent (`run.cost`, `plan.cost`, a step's `.cost`): money, not a field of that name. */
const SPEND = /^(?!input\.|context\.|event\.)[A-Za-z_]\w*\.cost$/;

/**
 * A value an expect read; `run.elapsed` (ms) also as the duration an expect compares it with, and
 * what the run spent with its currency, as it is written (`0.002usd`).
 */
function shownValue(read: string, value: unknown, currency?: string): string {
  if (read === 'run.elapsed' && typeof value === 'number') return `${value} (${formatMs(value)})`;
  if (currency !== undefined && typeof value === 'number' && SPEND.test(read)) return moneyText(value, currency);
  return JSON.stringify(value);
}

function timelineLine(e: TraceEvent): string {
  const step = e.step === null ? '' : ` ${e.item === null ? e.step : `${e.step}[${e.item}]`}`;
  const attempt = e.attempt !== null && e.attempt > 1 ? ` (attempt ${e.attempt})` : '';
  return `${formatMs(e.at_ms).padStart(8)}  ${e.type}${step}${attempt}${e.detail ? `: ${e.detail}` : ''}`;
}

function formatMs(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${+(ms / 1000).toFixed(3)}s`;
  if (ms < 3_600_000) return `${+(ms / 60_000).toFixed(2)}m`;
  if (ms < 86_400_000) return `${+(ms / 3_600_000).toFixed(2)}h`;
  return `${+(ms / 86_400_000).toFixed(2)}d`;
}

/** `--reporter json`: every result, its failures and timeline; with `--coverage`, the coverage report and what each test covered. */
export function jsonReport(results: readonly TestResult[], cwd: string, coverage?: CoverageReport): string {
  const failed = results.filter((r) => !r.passed).length;
  // Files as the text and JUnit reports (and `orch check --format json`) name them: from cwd.
  const shown = (file: string) => relative(cwd, file) || file;
  const tests = results.map(({ covered, covered_subplans, ...r }) => ({
    ...r,
    file: shown(r.file),
    failures: r.failures.map((f) => (f.file === undefined ? f : { ...f, file: shown(f.file) })),
    ...(coverage ? { covered } : {}),
    ...(coverage && covered_subplans ? { covered_subplans: covered_subplans.map((s) => ({ ...s, file: shown(s.file) })) } : {}),
  }));
  const plans = coverage?.plans.map((p) => ({ ...p, file: shown(p.file) }));
  return JSON.stringify({ ok: failed === 0, passed: results.length - failed, failed, tests, ...(coverage ? { coverage: { ...coverage, plans } } : {}) }, null, 2);
}

/**
 * A test that could not be judged (its run broke: `error`) is a JUnit error, not a failure: CI
 * tools count the two apart.
 */
const isError = (r: TestResult): boolean => !r.passed && r.failures.some((f) => f.kind === 'error');
const isFailure = (r: TestResult): boolean => !r.passed && !isError(r);
/** Seconds, as JUnit's `time` attributes read them: the real time the tests took, not virtual time. */
const seconds = (rs: readonly TestResult[]): string => (rs.reduce((t, r) => t + (r.duration_ms ?? 0), 0) / 1000).toFixed(3);

/** `--reporter junit`: one `<testsuite>` per file, one `<testcase>` per test. */
export function junitReport(results: readonly TestResult[], cwd: string): string {
  const byFile = new Map<string, TestResult[]>();
  for (const r of results) byFile.set(r.file, [...(byFile.get(r.file) ?? []), r]);
  const counts = (rs: readonly TestResult[]) =>
    `tests="${rs.length}" failures="${rs.filter(isFailure).length}" errors="${rs.filter(isError).length}" time="${seconds(rs)}"`;
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="orch test" ${counts(results)}>`];
  for (const [file, rs] of byFile) {
    const name = relative(cwd, file) || file;
    out.push(`  <testsuite name="${xml(name)}" ${counts(rs)}>`);
    for (const r of rs) {
      const head = `    <testcase name="${xml(r.name)}" classname="${xml(r.plan)}" file="${xml(name)}" line="${r.line}" time="${seconds([r])}"`;
      if (r.passed) {
        out.push(`${head}/>`);
        continue;
      }
      const body = r.failures.map((f) => `${f.line !== undefined ? `${f.file === undefined ? name : relative(cwd, f.file) || f.file}:${f.line}: ` : ''}${f.message}`).join('\n');
      const tag = isError(r) ? 'error' : 'failure';
      out.push(`${head}>`, `      <${tag} message="${xml(r.failures[0]?.message ?? 'failed')}">${xml(body)}</${tag}>`, '    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return out.join('\n');
}

/**
 * Text for an XML attribute or element. XML 1.0 has no way to write most C0 controls (not even as
 * `&#1;`) nor a lone surrogate: a test name or a message carrying one is written as `\uXXXX`, so
 * the report stays well-formed for the CI that parses it.
 */
function xml(s: string): string {
  let out = '';
  for (const ch of s) out += xmlChar(ch.codePointAt(0)!) ? ch : `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
  return out.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** XML 1.0's Char production (a lone surrogate comes out of a string's iterator alone). */
export function xmlChar(c: number): boolean {
  return c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || c >= 0x10000;
}
