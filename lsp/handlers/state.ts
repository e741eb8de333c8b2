/**
 * What every group of LSP handlers shares: the connection, the open documents, the workspace
 * index, the checker, the name layers, the published diagnostics, the settings the client can
 * change, and `guard`, which turns a handler's exception into an empty answer and a log line.
 */
import { TextDocuments, type Connection } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { STD_DIR } from '../../compiler/index.js';
import { Checker } from '../checker.js';
import { uriToPath } from '../convert.js';
import { REQUEST_FAILED } from '../features/navigation.js';
import { CompilerNames, IndexNames, LayeredNames } from '../names.js';
import { PublishedDiagnostics } from '../published.js';
import { Workspace } from '../workspace.js';

export interface ServerState {
  readonly connection: Connection;
  readonly documents: TextDocuments<TextDocument>;
  readonly workspace: Workspace;
  readonly checker: Checker;
  readonly names: LayeredNames;
  readonly published: PublishedDiagnostics;
  /** What the client set: `initializationOptions`, then `workspace/didChangeConfiguration`. */
  readonly settings: {
    /** Inlay hints on/off: `initializationOptions.inlayHints` or the `orch.inlayHints.enabled` setting. */
    inlayHintsEnabled: boolean;
  };
  readonly log: (msg: string) => void;
  /** Runs a handler; any exception becomes `fallback` and a log line. */
  readonly guard: <P, R>(name: string, fallback: R, fn: (params: P) => R | Promise<R>) => (params: P) => Promise<R>;
  /** The file at `uri` and the offset of `position` in its open document (0 when it is not open). */
  readonly docContext: (uri: string, position: { line: number; character: number }) => { doc: TextDocument | undefined; path: string; offset: number };
  /** An edit of `uri` makes its verification stale, and its importers' too. */
  readonly invalidateVerification: (uri: string) => void;
}

export function serverState(connection: Connection): ServerState {
  const documents = new TextDocuments(TextDocument);
  // The compiler's std library folder, so the editor's index and the compiler agree.
  const workspace = new Workspace(documents, () => STD_DIR);
  const checker = new Checker(workspace);
  const names = new LayeredNames(
    new CompilerNames({ model: (p) => checker.model(p), filesReferencing: (f) => workspace.filesReferencing(f) }),
    new IndexNames({ index: (p) => workspace.index(p), allFiles: () => workspace.allFiles(), isStd: (p) => workspace.isStd(p) }),
    (p) => checker.model(p) !== undefined,
  );

  const log = (msg: string): void => {
    try {
      connection.console.error(msg);
    } catch {
      // The connection may be closing; nothing else to tell.
    }
  };
  function guard<P, R>(name: string, fallback: R, fn: (params: P) => R | Promise<R>): (params: P) => Promise<R> {
    return async (params: P) => {
      try {
        return await fn(params);
      } catch (err) {
        if (err && typeof err === 'object' && 'code' in err && (err as { code: unknown }).code === REQUEST_FAILED) throw err;
        log(`orch lsp: ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        return fallback;
      }
    };
  }

  const published = new PublishedDiagnostics((p) => connection.sendDiagnostics(p));
  const invalidateVerification = (uri: string): void => {
    published.invalidate(uri);
    try {
      for (const importer of workspace.importersOf(uriToPath(uri))) published.invalidate(workspace.uriOf(importer));
    } catch (err) {
      log(`orch lsp: import graph failed: ${String(err)}`);
    }
  };

  const docContext = (uri: string, position: { line: number; character: number }) => {
    const doc = documents.get(uri);
    const path = uriToPath(uri);
    return { doc, path, offset: doc ? doc.offsetAt(position) : 0 };
  };

  return {
    connection, documents, workspace, checker, names, published,
    settings: { inlayHintsEnabled: true },
    log, guard, docContext, invalidateVerification,
  };
}
