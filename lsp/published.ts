/**
 * What the server publishes for a document: the compiler's diagnostics plus those of its last
 * verification (`orch/verify`). Verification diagnostics hold only for the text they were
 * computed on, so every edit of the document (or of a file it imports) drops them at once, and
 * a verification that was running meanwhile must not publish: each invalidation starts a new
 * epoch, and a result is kept only if its epoch is still the current one.
 */
import type { Diagnostic as LspDiagnostic, PublishDiagnosticsParams } from 'vscode-languageserver';

export class PublishedDiagnostics {
  private readonly compiler = new Map<string, LspDiagnostic[]>();
  private readonly verified = new Map<string, { version: number | undefined; diagnostics: LspDiagnostic[] }>();
  private readonly epochs = new Map<string, number>();

  constructor(private readonly send: (params: PublishDiagnosticsParams) => Promise<void>) {}

  /** The compiler's diagnostics of `version`, published with the verification's if it is of that version. */
  compilerResult(uri: string, version: number | undefined, diagnostics: LspDiagnostic[]): Promise<void> {
    this.compiler.set(uri, diagnostics);
    return this.publish(uri, version);
  }

  /** Starts a verification: its result counts only if nothing invalidates it meanwhile. */
  begin(uri: string): number {
    return this.bump(uri);
  }

  isCurrent(uri: string, epoch: number): boolean {
    return this.epochs.get(uri) === epoch;
  }

  /** A (current) verification's diagnostics; none means it passed, clearing earlier ones. */
  verificationResult(uri: string, version: number | undefined, diagnostics: LspDiagnostic[]): Promise<void> {
    if (diagnostics.length > 0) this.verified.set(uri, { version, diagnostics });
    else this.verified.delete(uri);
    return this.publish(uri, version);
  }

  /** The text changed: verification diagnostics are stale and go now, not at the next check. */
  invalidate(uri: string): void {
    this.bump(uri);
    if (!this.verified.delete(uri)) return;
    // Unversioned: these are the last compiler diagnostics, not a check of the new version.
    void this.publish(uri, undefined).catch(() => undefined);
  }

  forget(uri: string): void {
    this.bump(uri);
    this.compiler.delete(uri);
    this.verified.delete(uri);
  }

  private bump(uri: string): number {
    const epoch = (this.epochs.get(uri) ?? 0) + 1;
    this.epochs.set(uri, epoch);
    return epoch;
  }

  private publish(uri: string, version: number | undefined): Promise<void> {
    const verified = this.verified.get(uri);
    const extra = verified && verified.version === version ? verified.diagnostics : [];
    return this.send({ uri, ...(version !== undefined ? { version } : {}), diagnostics: [...(this.compiler.get(uri) ?? []), ...extra] });
  }
}
