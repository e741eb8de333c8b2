/**
 * The one Diagnostic type used by every phase (parser, compiler, runtime loader, LSP, CLI).
 * Codes are the stable ones of LANGUAGE.md section 5; more may be added.
 */

/** 1-based line and column (column counts UTF-16 code units, as editors do); offset is 0-based. */
export interface Position {
  readonly line: number;
  readonly column: number;
  readonly offset: number;
}

/** `end` is exclusive: the position just after the last character. */
export interface Range {
  readonly start: Position;
  readonly end: Position;
}

export type Severity = 'error' | 'warning' | 'info' | 'hint';

export type DiagnosticCode =
  | 'E0001' // syntax error
  | 'E0101' // unresolved name
  | 'E0102' // duplicate declaration
  | 'E0103' // import not found / import cycle
  | 'E0201' // type mismatch
  | 'E0202' // unknown or missing argument
  | 'E0203' // unit mismatch
  | 'E0301' // dependency cycle
  | 'E0401' // blocking guardrail violated at compile time
  | 'W0402' // warning guardrail violated at compile time
  | 'I0403' // advisory/info guardrail note (hint)
  | 'E0501' // no resource can host a step
  | 'W0502' // estimate exceeds a policy budget
  | 'W0601' // unused declaration
  | 'E0701'; // invalid trigger

export interface RelatedInformation {
  readonly message: string;
  readonly file: string;
  readonly range: Range;
}

/** A machine-applicable edit, used by `orch check` hints and LSP quick fixes. */
export interface TextEdit {
  readonly file: string;
  readonly range: Range;
  readonly newText: string;
}

export interface Fix {
  readonly title: string;
  readonly edits: readonly TextEdit[];
}

export interface Diagnostic {
  readonly code: DiagnosticCode;
  readonly severity: Severity;
  readonly message: string;
  readonly file: string;
  readonly range: Range;
  readonly related?: readonly RelatedInformation[];
  /** Quick fixes (did-you-mean, insert missing argument, remove unused declaration). */
  readonly fixes?: readonly Fix[];
}

export function severityOf(code: DiagnosticCode): Severity {
  if (code.startsWith('E')) return 'error';
  if (code.startsWith('W')) return 'warning';
  return 'hint';
}

export function diagnostic(
  code: DiagnosticCode,
  message: string,
  file: string,
  range: Range,
  extra: Pick<Diagnostic, 'related' | 'fixes'> = {},
): Diagnostic {
  return { code, severity: severityOf(code), message, file, range, ...extra };
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Stable order for output: file, then position, then code. */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return (
    a.file.localeCompare(b.file) ||
    a.range.start.offset - b.range.start.offset ||
    a.code.localeCompare(b.code)
  );
}
