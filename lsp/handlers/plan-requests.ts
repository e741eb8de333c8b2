/**
 * Orch's own requests about a plan: `orch/preview` (what a plan would do) and `orch/verify`
 * (its scenarios run on a worker thread, the findings published as diagnostics), the latter also
 * as the server command `orch.verify` for clients that cannot send custom requests; and the
 * command `orch.runTest` the "Run test" lens runs (features/plan-tests.ts).
 */
import { uriToPath } from '../convert.js';
import { planPreview, type PreviewParams } from '../features/preview.js';
import { RUN_TEST_COMMAND, runTestCommand, type RunTestsSummary } from '../features/plan-tests.js';
import {
  summarize, verifyDiagnostics, verifyDocument, verifyOptions, VERIFY_COMMAND, VERIFY_REQUEST, type VerifyOutcome, type VerifyParams, type VerifySummary,
} from '../features/verify.js';
import type { FileIndex } from '../symbol-index/model.js';
import { currencyOf } from '../units.js';
import type { VerifyRequest } from '../verify-worker.js';
import { WorkerThread } from '../worker-thread.js';
import type { ServerState } from './state.js';

export const PREVIEW_REQUEST = 'orch/preview';

/** Registers the handlers; returns the thread verification runs on. */
export function registerPlanRequests(state: ServerState): WorkerThread<VerifyRequest, VerifyOutcome> {
  const { connection, documents, workspace, checker, published, guard } = state;

  /** The parsed user modules a file's index consulted (itself first, the std library left out). */
  const userModules = (index: FileIndex) =>
    [index.module, ...[...index.tables.values()].filter((t) => t.file !== index.file && !workspace.isStd(t.file)).map((t) => t.module)];

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
    if (!stale) await published.verificationResult(uri, version, verifyDiagnostics(outcome, path, workspace.declarations(path), options));
    return summarize(uri, outcome, stale);
  };
  connection.onRequest(VERIFY_REQUEST, guard('verify', null, verifyDocumentRequest));
  // The same as a command, for clients that can run server commands but not custom requests:
  // arguments `[uri]` or `[{ uri, plan?, runs?, seed? }]`.
  connection.onExecuteCommand(guard('executeCommand', null, (p): Promise<VerifySummary | RunTestsSummary | null> | null => {
    if (p.command === RUN_TEST_COMMAND) return runTestCommand(p.arguments, uriToPath, { readFile: (f) => workspace.textOf(f) });
    if (p.command !== VERIFY_COMMAND) return null;
    const [arg] = p.arguments ?? [];
    return verifyDocumentRequest(typeof arg === 'string' ? { uri: arg } : (arg as VerifyParams));
  }));
  return verifier;
}
