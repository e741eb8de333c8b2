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
  | 'E0104' // handler module or export not found
  | 'W0105' // a handler module's folder does not exist (did-you-mean for a mistyped folder)
  | 'E0201' // type mismatch
  | 'E0202' // unknown or missing argument
  | 'E0203' // unit mismatch
  | 'E0301' // dependency cycle
  | 'E0302' // repeat without a valid max (1..1000)
  | 'E0303' // race with fewer than two branches; a branch that waits for a sibling
  | 'E0401' // blocking guardrail violated at compile time
  | 'W0402' // warning guardrail violated at compile time
  | 'I0403' // advisory/info guardrail note (hint)
  | 'E0501' // no resource can host a step
  | 'W0502' // estimate exceeds a policy budget
  | 'W0601' // unused declaration
  | 'E0701' // invalid trigger
  | 'E0801' // kind llm capability: prompt/handler, prompt reads, temperature/max_tokens range
  | 'E0802' // MCP server not configured or not locked; a tool the lock file does not list
  | 'W0803' // an endpoint, model price or notify/email channel the project's config does not define
  | 'E0901' // a test names an unknown plan, step, capability or person; a negative virtual time
  | 'E0902' // an untrusted value reaches a sink that needs trust (§9.3, with the witness path)
  | 'E0903' // a value reaches a tier, capability, endpoint or channel below its class (§9.3)
  | 'E0905' // a derived-signal cycle; a source mapping to an unknown signal or of the wrong type (§9.4)
  | 'E0906' // a step under test can reach a model, MCP tool, channel or the network with no mock
  | 'W0907' // a stale captured test: it names a step or capability its plan no longer has
  | 'E0908'; // one step's budget reservation alone exceeds its policy's enforced budget (§9.1)

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
  const d: Diagnostic = { code, severity: severityOf(code), message, file, range: plainRange(range) };
  if (!extra.related && !extra.fixes) return d;
  return {
    ...d,
    ...(extra.related ? { related: extra.related.map((r) => ({ ...r, range: plainRange(r.range) })) } : {}),
    ...(extra.fixes ? { fixes: extra.fixes.map((f) => ({ ...f, edits: f.edits.map((e) => ({ ...e, range: plainRange(e.range) })) })) } : {}),
  };
}

/**
 * A diagnostic is plain data (cloned to other threads, printed as JSON): a compact range of the
 * AST (`LineIndex`) becomes an ordinary one.
 */
export function plainRange(range: Range): Range {
  return Object.getPrototypeOf(range) === Object.prototype ? range : { start: range.start, end: range.end };
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

/** At most this many diagnostics are reported per file; one more says how many were left out. */
export const MAX_DIAGNOSTICS_PER_FILE = 100;

/**
 * The first MAX_DIAGNOSTICS_PER_FILE diagnostics of each file (in the given order), then one
 * that counts the rest: a file of garbage must not bury the first real error or stall an editor.
 */
export function capDiagnostics(diagnostics: readonly Diagnostic[], max = MAX_DIAGNOSTICS_PER_FILE): Diagnostic[] {
  if (diagnostics.length <= max) return diagnostics as Diagnostic[];
  const kept = new Map<string, number>();
  const dropped = new Map<string, { first: Diagnostic; count: number; errors: number }>();
  const out: Diagnostic[] = [];
  for (const d of diagnostics) {
    const n = kept.get(d.file) ?? 0;
    if (n < max) {
      kept.set(d.file, n + 1);
      out.push(d);
      continue;
    }
    const x = dropped.get(d.file);
    if (x) {
      x.count++;
      if (d.severity === 'error') x.errors++;
    } else dropped.set(d.file, { first: d, count: 1, errors: d.severity === 'error' ? 1 : 0 });
  }
  for (const { first, count, errors } of dropped.values()) {
    const what = errors === count ? (count === 1 ? 'error' : 'errors') : count === 1 ? 'problem' : 'problems';
    out.push({
      code: first.code,
      severity: errors > 0 ? 'error' : first.severity,
      message: `${count} more ${what} not shown (at most ${max} per file); fix the ones above first`,
      file: first.file,
      range: first.range,
    });
  }
  return out;
}
