/**
 * The Orch language server. Transport-agnostic: `startServer(connection)` wires every feature
 * onto a connection; `stdio.ts` makes one over stdin/stdout for `orch lsp --stdio` and the
 * VS Code extension. Every handler is wrapped so a bug or a broken file yields an empty answer
 * and a log line, never a dead server.
 */
import {
  TextDocuments, TextDocumentSyncKind, type Connection, type InitializeParams, type InitializeResult,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { STD_DIR } from '../compiler/index.js';
import { Checker } from './checker.js';
import { uriToPath } from './convert.js';
import { DiagnosticsScheduler } from './diagnostics.js';
import { codeActions, toLspDiagnostic } from './features/code-actions.js';
import { complete } from './features/completion.js';
import { foldingRanges } from './features/folding.js';
import { codeLenses } from './features/code-lens.js';
import { RUN_TEST_COMMAND, runTestCommand, testLenses, type RunTestsSummary } from './features/plan-tests.js';
import { documentLinks, readTextFile } from './features/document-links.js';
import { formatDocument, formatRange } from './features/formatting.js';
import { inlayHints } from './features/inlay-hints.js';
import { hover } from './features/hover.js';
import { planPreview, type PreviewParams } from './features/preview.js';
import { definition, highlights, prepareRename, references, rename, REQUEST_FAILED } from './features/navigation.js';
import { CompilerNames, IndexNames, LayeredNames } from './names.js';
import { SEMANTIC_TOKENS_LEGEND, semanticTokens } from './features/semantic-tokens.js';
import { signatureHelp } from './features/signature-help.js';
import { documentSymbols, workspaceSymbols } from './features/symbols.js';
import {
  summarize, verifyDiagnostics, verifyDocument, verifyOptions, VERIFY_COMMAND, VERIFY_REQUEST, type VerifyOutcome, type VerifyParams, type VerifySummary,
} from './features/verify.js';
import type { VerifyRequest } from './verify-worker.js';
import { WorkerThread } from './worker-thread.js';
import { summarizePlans, type EstimateRequest, type PlanSteps } from './estimate-worker.js';
import { StepEstimates } from './step-estimates.js';
import { Workspace, type ParsedFile } from './workspace.js';
import type { FileIndex } from './symbol-index/model.js';
import { PublishedDiagnostics } from './published.js';
import { currencyOf } from './units.js';
import { serverVersion } from './version.js';

export interface ServerOptions {
  /** Debounce before re-checking after an edit (ms). Overridable by initializationOptions.diagnosticsDelay. */
  readonly diagnosticsDelayMs?: number;
}

export const PREVIEW_REQUEST = 'orch/preview';
export { VERIFY_REQUEST };

/** What an embedder sees of a running server (the memory tests look at what it holds). */
export interface RunningServer {
  /** The parse the server's main thread holds for a file, if any (never parses). */
  readonly heldParse: (path: string) => ParsedFile | undefined;
}

export function startServer(connection: Connection, options: ServerOptions = {}): RunningServer {
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
  /** Runs a handler; any exception becomes `fallback` and a log line. */
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
  /** An edit of `uri` makes its verification stale, and its importers' too. */
  const invalidateVerification = (uri: string): void => {
    published.invalidate(uri);
    try {
      for (const importer of workspace.importersOf(uriToPath(uri))) published.invalidate(workspace.uriOf(importer));
    } catch (err) {
      log(`orch lsp: import graph failed: ${String(err)}`);
    }
  };

  /** Per document: a check is running, and whether another was asked for meanwhile. */
  /** Inlay hints on/off: `initializationOptions.inlayHints` or the `orch.inlayHints.enabled` setting. */
  let inlayHintsEnabled = true;

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
    options.diagnosticsDelayMs ?? 150,
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

  connection.onInitialize((params: InitializeParams): InitializeResult => {
    const roots = (params.workspaceFolders ?? []).map((f) => uriToPath(f.uri));
    if (roots.length === 0 && params.rootUri) roots.push(uriToPath(params.rootUri));
    workspace.roots = roots;
    const init = (params.initializationOptions ?? {}) as { diagnosticsDelay?: unknown; inlayHints?: unknown };
    if (typeof init.diagnosticsDelay === 'number' && init.diagnosticsDelay >= 0) scheduler.delayMs = init.diagnosticsDelay;
    if (typeof init.inlayHints === 'boolean') inlayHintsEnabled = init.inlayHints;
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
        hoverProvider: true,
        completionProvider: { triggerCharacters: ['.', ':', ' ', '(', ','], resolveProvider: false },
        signatureHelpProvider: { triggerCharacters: ['(', ','], retriggerCharacters: [':'] },
        definitionProvider: true,
        referencesProvider: true,
        documentHighlightProvider: true,
        renameProvider: { prepareProvider: true },
        documentSymbolProvider: true,
        workspaceSymbolProvider: true,
        documentFormattingProvider: true,
        documentRangeFormattingProvider: true,
        codeLensProvider: { resolveProvider: false },
        inlayHintProvider: { resolveProvider: false },
        documentLinkProvider: { resolveProvider: false },
        foldingRangeProvider: true,
        codeActionProvider: { codeActionKinds: ['quickfix'] },
        semanticTokensProvider: { legend: SEMANTIC_TOKENS_LEGEND, full: true },
        executeCommandProvider: { commands: [VERIFY_COMMAND, RUN_TEST_COMMAND] },
      },
      serverInfo: { name: 'orch-lsp', version: serverVersion() },
    };
  });
  connection.onInitialized(() => {
    const roots = workspace.roots.length ? workspace.roots.join(', ') : '(no workspace folder)';
    try {
      connection.console.info(`Orch language server ${serverVersion()} started (Node ${process.version}, pid ${process.pid}); workspace: ${roots}; std library: ${STD_DIR}`);
    } catch {
      // A client that closed at once hears nothing.
    }
  });
  connection.onDidChangeConfiguration(guard('configuration', undefined, (p) => {
    const enabled = (p.settings as { orch?: { inlayHints?: { enabled?: unknown } } } | null)?.orch?.inlayHints?.enabled;
    if (typeof enabled !== 'boolean' || enabled === inlayHintsEnabled) return;
    inlayHintsEnabled = enabled;
    // Clients that support it ask again; the others on their next edit or scroll.
    void connection.languages.inlayHint.refresh().catch(() => undefined);
  }));

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
  });
  connection.onDidChangeWatchedFiles(guard('watched files', undefined, (p) => {
    workspace.touch();
    for (const change of p.changes) {
      const path = uriToPath(change.uri);
      if (!documents.get(change.uri)) workspace.forget(path);
      invalidateVerification(change.uri);
      for (const importer of workspace.importersOf(path)) scheduler.schedule(workspace.uriOf(importer));
    }
  }));

  /** The parsed modules of a file and of the files it imports directly (for the currency). */
  const ownAndImported = (path: string) =>
    [path, ...workspace.importsOf(path)].flatMap((f) => (workspace.isStd(f) ? [] : (workspace.parsed(f)?.module ?? [])));

  const estimator = new WorkerThread<EstimateRequest, PlanSteps[]>('estimate-worker');
  const estimates = new StepEstimates(
    (path) => {
      const files: Record<string, string> = {};
      for (const doc of documents.all()) files[uriToPath(doc.uri)] = doc.getText();
      // In-process only when no worker thread can run (same answer, just blocking).
      return estimator.request({ entry: path, files }) ?? Promise.resolve(summarizePlans(checker.check(path).plans));
    },
    () => workspace.generation,
    () => void connection.languages.inlayHint.refresh().catch(() => undefined),
  );

  /** The parsed user modules a file's index consulted (itself first, the std library left out). */
  const userModules = (index: FileIndex) =>
    [index.module, ...[...index.tables.values()].filter((t) => t.file !== index.file && !workspace.isStd(t.file)).map((t) => t.module)];

  const docContext = (uri: string, position: { line: number; character: number }) => {
    const doc = documents.get(uri);
    const path = uriToPath(uri);
    return { doc, path, offset: doc ? doc.offsetAt(position) : 0 };
  };

  connection.onCompletion(guard('completion', [], (p) => {
    const { doc, path, offset } = docContext(p.textDocument.uri, p.position);
    if (!doc) return [];
    return complete(doc.getText(), offset, { index: workspace.index(path, { stale: true }), stdModules: () => workspace.stdModules() });
  }));
  connection.onSignatureHelp(guard('signatureHelp', null, (p) => {
    const { doc, path, offset } = docContext(p.textDocument.uri, p.position);
    if (!doc) return null;
    return signatureHelp(doc.getText(), offset, workspace.index(path, { stale: true }));
  }));
  connection.onHover(guard('hover', null, (p) => {
    const { doc, path, offset } = docContext(p.textDocument.uri, p.position);
    if (!doc) return null;
    const result = checker.check(path);
    return hover({
      names,
      indexed: (key, file) => workspace.index(file)?.byKey.get(key),
      model: result.model,
      plans: result.plans,
    }, path, doc.getText(), offset);
  }));
  connection.onDefinition(guard('definition', [], (p) => {
    const { path, offset } = docContext(p.textDocument.uri, p.position);
    return definition(names, path, offset);
  }));
  connection.onReferences(guard('references', [], (p) => {
    const { path, offset } = docContext(p.textDocument.uri, p.position);
    return references(names, path, offset, p.context.includeDeclaration);
  }));
  connection.onDocumentHighlight(guard('documentHighlight', [], (p) => {
    const { path, offset } = docContext(p.textDocument.uri, p.position);
    return highlights(names, path, offset);
  }));
  connection.onPrepareRename(guard('prepareRename', null, (p) => {
    const { path, offset } = docContext(p.textDocument.uri, p.position);
    return prepareRename(names, path, offset);
  }));
  connection.onRenameRequest(guard('rename', null, (p) => {
    const { path, offset } = docContext(p.textDocument.uri, p.position);
    return rename(names, path, offset, p.newName);
  }));
  connection.onDocumentSymbol(guard('documentSymbol', [], (p) => {
    const table = workspace.declarations(uriToPath(p.textDocument.uri));
    return table ? documentSymbols(table) : [];
  }));
  connection.onWorkspaceSymbol(guard('workspaceSymbol', [], (p) => {
    const tables = workspace.allFiles().flatMap((f) => workspace.declarations(f) ?? []);
    return workspaceSymbols(tables, p.query);
  }));
  connection.onDocumentFormatting(guard('formatting', [], (p) => {
    const doc = documents.get(p.textDocument.uri);
    return doc ? formatDocument(uriToPath(p.textDocument.uri), doc.getText()) : [];
  }));
  connection.onDocumentRangeFormatting(guard('rangeFormatting', [], (p) => {
    const doc = documents.get(p.textDocument.uri);
    return doc ? formatRange(uriToPath(p.textDocument.uri), doc.getText(), p.range) : [];
  }));
  connection.onCodeLens(guard('codeLens', [], (p) => {
    const path = uriToPath(p.textDocument.uri);
    return [...codeLenses(workspace.declarations(path), p.textDocument.uri), ...testLenses(workspace.parsed(path)?.module, p.textDocument.uri)];
  }));
  connection.languages.inlayHint.on(guard('inlayHint', [], async (p) => {
    const doc = documents.get(p.textDocument.uri);
    if (!inlayHintsEnabled || !doc) return [];
    const path = uriToPath(p.textDocument.uri);
    const plans = await estimates.get(path);
    // The current parse (no symbol tables, no references): where every step is now.
    const parsed = workspace.parsed(path);
    const now = documents.get(p.textDocument.uri);
    if (!parsed || plans.length === 0 || !now) return [];
    return inlayHints({ module: parsed.module, plans, currency: currencyOf(ownAndImported(path)), lines: now.getText().split(/\r\n|\r|\n/) }, p.range);
  }));
  connection.onDocumentLinks(guard('documentLinks', [], (p) => {
    const path = uriToPath(p.textDocument.uri);
    const parsed = workspace.parsed(path);
    return parsed ? documentLinks(parsed.module, workspace.index(path), path, readTextFile) : [];
  }));
  connection.onFoldingRanges(guard('folding', [], (p) => {
    const parsed = workspace.parsed(uriToPath(p.textDocument.uri));
    return parsed ? foldingRanges(parsed.module) : [];
  }));
  connection.onCodeAction(guard('codeAction', [], (p) => codeActions(p.context.diagnostics)));
  connection.languages.semanticTokens.on(guard('semanticTokens', { data: [] }, (p) => {
    const index = workspace.index(uriToPath(p.textDocument.uri));
    return index ? semanticTokens(index) : { data: [] };
  }));

  connection.onRequest(PREVIEW_REQUEST, guard('preview', null, (p: PreviewParams) => {
    if (!p || typeof p.uri !== 'string') return null;
    const path = uriToPath(p.uri);
    const result = checker.check(path);
    const plans = (workspace.declarations(path)?.symbols ?? []).filter((s) => s.kind === 'plan').map((s) => s.name);
    const index = workspace.index(path);
    return planPreview(result, p.uri, plans, typeof p.plan === 'string' ? p.plan : undefined, {
      currency: currencyOf(index ? userModules(index) : []),
      steps: index,
    });
  }));

  const verifier = new WorkerThread<VerifyRequest, VerifyOutcome>('verify-worker');
  const verifyDocumentRequest = async (p: VerifyParams): Promise<VerifySummary | null> => {
    if (!p || typeof p.uri !== 'string') return null;
    const uri = p.uri;
    const path = uriToPath(uri);
    // A newer request, an edit of the document or of an import, or closing it, makes this one stale.
    const epoch = published.begin(uri);
    const version = documents.get(uri)?.version;
    const options = verifyOptions(p);
    const files: Record<string, string> = {};
    for (const doc of documents.all()) files[uriToPath(doc.uri)] = doc.getText();
    // In-process only when no worker thread can run it (the answer is the same, just blocking).
    const onWorker = verifier.request({ entry: path, files, ...options });
    const outcome = onWorker ? await onWorker : await verifyDocument(path, { readFile: (f) => workspace.textOf(f) }, options);
    const stale = !published.isCurrent(uri, epoch) || documents.get(uri)?.version !== version;
    if (!stale) await published.verificationResult(uri, version, verifyDiagnostics(outcome, path, workspace.declarations(path)));
    return summarize(uri, outcome, stale);
  };
  connection.onRequest(VERIFY_REQUEST, guard('verify', null, verifyDocumentRequest));
  // The same as a command, for clients that can run server commands but not custom requests:
  // arguments `[uri]` or `[{ uri, plan?, runs?, seed? }]`.
  connection.onExecuteCommand(guard('executeCommand', null, (p): Promise<VerifySummary | RunTestsSummary | null> | null => {
    if (p.command !== VERIFY_COMMAND) return p.command === RUN_TEST_COMMAND ? runTestCommand(p.arguments, uriToPath) : null;
    const [arg] = p.arguments ?? [];
    return verifyDocumentRequest(typeof arg === 'string' ? { uri: arg } : (arg as VerifyParams));
  }));

  connection.onShutdown(() => {
    verifier.dispose();
    estimator.dispose();
    scheduler.dispose();
    checker.dispose();
  });
  documents.listen(connection);
  connection.listen();
  return { heldParse: (path) => workspace.held(path) };
}
