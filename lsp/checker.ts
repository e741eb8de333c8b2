/**
 * Runs the compiler over a document (with unsaved buffers of imported files) and keeps the
 * latest result per file for hover facts and the plan preview.
 */
import type { Diagnostic } from '../language/diagnostic.js';
import type { Workspace } from './workspace.js';

export interface CheckResult {
  readonly path: string;
  readonly text: string;
  readonly diagnostics: readonly Diagnostic[];
}

export class Checker {
  private readonly results = new Map<string, CheckResult>();

  constructor(private readonly workspace: Workspace) {}

  /** Diagnostics of `path` itself (imported files' problems surface in those files). */
  check(path: string): CheckResult {
    const parsed = this.workspace.parsed(path);
    const text = parsed?.text ?? '';
    const diagnostics = parsed ? parsed.diagnostics.filter((d) => d.file === path) : [];
    const result: CheckResult = { path, text, diagnostics };
    this.results.set(path, result);
    return result;
  }

  latest(path: string): CheckResult | undefined {
    return this.results.get(path);
  }

  forget(path: string): void {
    this.results.delete(path);
  }
}
