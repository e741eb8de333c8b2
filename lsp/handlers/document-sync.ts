/**
 * Open, edited, closed and watched files: each change re-checks the file and the files importing
 * it (debounced by the `DiagnosticsScheduler`), one check per document at a time, and publishes
 * the compiler's diagnostics when the document is still at the version that was checked.
 */
import { isProjectFile } from '../../compiler/index.js';
import { uriToPath } from '../convert.js';
import { DiagnosticsScheduler } from '../diagnostics.js';
import { toLspDiagnostic } from '../features/code-actions.js';
import type { StepEstimates } from '../step-estimates.js';
import type { ServerState } from './state.js';

export function registerDocumentSync(state: ServerState, estimates: StepEstimates, delayMs: number): DiagnosticsScheduler {
  const { connection, documents, workspace, checker, published, guard, log, invalidateVerification } = state;

  /** Per document: a check is running, and whether another was asked for meanwhile. */
  const inFlight = new Map<string, { again: boolean }>();
  /**
   * Documents opened or edited since their last check began. Whether the declarations of an open
   * file they import are used (W0601) depends on them, so once their check has said what they
   * import, those files are checked again — from the worker's parse: parsing the edited text on
   * this thread after every keystroke was most of typing's cost (issue #47 item 13).
   */
  const importsChanged = new Set<string>();
  const publish = async (uri: string, isCurrent: () => boolean): Promise<void> => {
    const doc = documents.get(uri);
    if (!doc) return;
    const running = inFlight.get(uri);
    if (running) {
      // One check per document at a time; the newest state is checked when this one ends.
      running.again = true;
      return;
    }
    const state = { again: false };
    inFlight.set(uri, state);
    try {
      const version = doc.version;
      const edited = importsChanged.delete(uri);
      const { diagnostics, imports } = await checker.diagnosticsAsync(uriToPath(uri));
      if (edited) for (const imported of imports) if (documents.get(workspace.uriOf(imported))) scheduler.schedule(workspace.uriOf(imported));
      const now = documents.get(uri);
      if (now && now.version === version && isCurrent()) {
        await published.compilerResult(uri, version, diagnostics.map(toLspDiagnostic));
      } else {
        state.again = true;
      }
    } finally {
      inFlight.delete(uri);
      if (state.again && documents.get(uri)) scheduler.schedule(uri, 0);
    }
  };
  const scheduler = new DiagnosticsScheduler(
    (uri, isCurrent) => guard('diagnostics', undefined, () => publish(uri, isCurrent))(undefined),
    delayMs,
  );

  const scheduleWithImporters = (uri: string, delay?: number): void => {
    importsChanged.add(uri);
    scheduler.schedule(uri, delay);
    try {
      for (const importer of workspace.importersOf(uriToPath(uri))) scheduler.schedule(workspace.uriOf(importer), delay);
    } catch (err) {
      log(`orch lsp: import graph failed: ${String(err)}`);
    }
  };

  documents.onDidOpen((e) => {
    workspace.touch();
    scheduleWithImporters(e.document.uri, 0);
  });
  documents.onDidChangeContent((e) => {
    workspace.touch();
    invalidateVerification(e.document.uri);
    scheduleWithImporters(e.document.uri);
  });
  documents.onDidClose((e) => {
    scheduler.cancel(e.document.uri);
    importsChanged.delete(e.document.uri);
    workspace.forget(uriToPath(e.document.uri));
    checker.forget(uriToPath(e.document.uri));
    estimates.forget(uriToPath(e.document.uri));
    published.forget(e.document.uri);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
    // Importers now see the file on disk instead of the closed buffer.
    for (const importer of workspace.importersOf(uriToPath(e.document.uri))) scheduler.schedule(workspace.uriOf(importer));
    scheduleImported(uriToPath(e.document.uri));
  });
  /** The open files `path` imports: a test of `path` reports E0906 in them (`Checker.withTestFindings`). */
  const scheduleImported = (path: string): void => {
    for (const imported of workspace.importsOf(path)) if (documents.get(workspace.uriOf(imported))) scheduler.schedule(workspace.uriOf(imported));
  };
  connection.onDidChangeWatchedFiles(guard('watched files', undefined, (p) => {
    workspace.touch();
    for (const change of p.changes) {
      const path = uriToPath(change.uri);
      if (!documents.get(change.uri)) workspace.forget(path);
      invalidateVerification(change.uri);
      // orch.config.json / orch.lock.json: every open file's verdict may depend on it, none imports it.
      const dependents = isProjectFile(path) ? documents.all().map((d) => uriToPath(d.uri)) : workspace.importersOf(path);
      for (const dependent of dependents) scheduler.schedule(workspace.uriOf(dependent));
      if (!isProjectFile(path)) scheduleImported(path);
    }
  }));
  return scheduler;
}
