/**
 * One explanation of a diagnostic code (`orch explain CODE`), and the snippet most share. The
 * explanations live in one file per family; catalog.ts joins them.
 */
import type { DiagnosticCode, Severity } from '../../language/index.js';

export interface Explanation {
  readonly code: DiagnosticCode;
  readonly severity: Severity;
  /** One line, lower case, as in the LANGUAGE.md §5 table. */
  readonly title: string;
  /** Paragraphs separated by blank lines. */
  readonly details: string;
  /** A small module that produces the diagnostic. */
  readonly trigger: string;
  /** The same module, corrected. */
  readonly fix: string;
  /** Where LANGUAGE.md describes the rule. */
  readonly reference: string;
}

/** An explanation as a family file writes it: its code is its key. */
export type Entry = Omit<Explanation, 'code'>;

/** The explanations of some codes, by code. */
export type Entries = Partial<Record<DiagnosticCode, Entry>>;

/** The tiny capability most snippets share, so each example shows only what matters. */
export const ECHO = `capability echo {
  kind tool
  input { text: string }
  output { text: string }
}
`;
