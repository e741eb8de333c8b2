/**
 * What the editor draws over the text: inlay hints (each step's estimates, computed on a worker
 * thread), semantic tokens, folding ranges and document links.
 */
import { uriToPath } from '../convert.js';
import { documentLinks, readTextFile } from '../features/document-links.js';
import { foldingRanges } from '../features/folding.js';
import { hintTable, type HintTable } from '../features/inlay-hints.js';
import { semanticTokens } from '../features/semantic-tokens.js';
import { summarizePlans, type EstimateRequest, type PlanSteps } from '../estimate-worker.js';
import { StepEstimates } from '../step-estimates.js';
import { currencyOf } from '../units.js';
import { WorkerThread } from '../worker-thread.js';
import type { ServerState } from './state.js';

/** Registers the handlers; returns the step estimates (a closed document forgets its own) and the thread computing them. */
export function registerDecorations(state: ServerState): { estimates: StepEstimates; estimator: WorkerThread<EstimateRequest, PlanSteps[] | null> } {
  const { connection, documents, workspace, checker, settings, guard } = state;

  /** The parsed modules of a file and of the files it imports directly (for the currency). */
  const ownAndImported = (path: string) =>
    [path, ...workspace.importsOf(path)].flatMap((f) => (workspace.isStd(f) ? [] : (workspace.parsed(f)?.module ?? [])));

  const estimator = new WorkerThread<EstimateRequest, PlanSteps[] | null>('estimate-worker');
  const estimates = new StepEstimates(
    (path, prior) => {
      const files: Record<string, string> = {};
      for (const doc of documents.all()) files[uriToPath(doc.uri)] = doc.getText();
      // `null`: the worker's last result for this file, which is `prior` — unchanged.
      const asked = estimator.request({ entry: path, files, known: prior !== undefined })?.then((plans) => plans ?? prior!);
      // In-process only when no worker thread can run (same answer, just blocking).
      return asked ?? Promise.resolve(summarizePlans(checker.check(path).plans));
    },
    () => workspace.generation,
    () => void connection.languages.inlayHint.refresh().catch(() => undefined),
  );

  /** Each document's hints for the compile, parse, currency and text they were made from. */
  const tables = new Map<string, { plans: readonly PlanSteps[]; module: object; currency: string; text: string; table: HintTable }>();
  connection.languages.inlayHint.on(guard('inlayHint', [], async (p) => {
    const doc = documents.get(p.textDocument.uri);
    if (!settings.inlayHintsEnabled || !doc) return [];
    const path = uriToPath(p.textDocument.uri);
    const plans = await estimates.get(path);
    // The current parse (no symbol tables, no references): where every step is now.
    const parsed = workspace.parsed(path);
    const now = documents.get(p.textDocument.uri);
    if (!parsed || plans.length === 0 || !now) {
      tables.delete(path);
      return [];
    }
    const currency = currencyOf(ownAndImported(path));
    const text = now.getText();
    let hit = tables.get(path);
    if (!hit || hit.plans !== plans || hit.module !== parsed.module || hit.currency !== currency || hit.text !== text) {
      const table = hintTable({ module: parsed.module, plans, currency, lines: text.split(/\r\n|\r|\n/) });
      tables.set(path, (hit = { plans, module: parsed.module, currency, text, table }));
    }
    return hit.table.inRange(p.range);
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
  connection.languages.semanticTokens.on(guard('semanticTokens', { data: [] }, (p) => {
    const index = workspace.index(uriToPath(p.textDocument.uri));
    return index ? semanticTokens(index) : { data: [] };
  }));
  documents.onDidClose((e) => tables.delete(uriToPath(e.document.uri)));
  return { estimates, estimator };
}
