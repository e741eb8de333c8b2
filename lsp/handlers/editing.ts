/** Changing code: formatting a document or a range, quick fixes, and the code lenses that run a plan or a test. */
import { uriToPath } from '../convert.js';
import { codeActions } from '../features/code-actions.js';
import { codeLenses } from '../features/code-lens.js';
import { documentEdits, formatDocument, formatRange } from '../features/formatting.js';
import { testLenses } from '../features/plan-tests.js';
import type { ServerState } from './state.js';

export function registerEditing(state: ServerState): void {
  const { connection, documents, workspace, checker, guard } = state;
  // A file with a syntax error is never formatted: when the last check of this very text found
  // one, the answer is known without parsing it again (a 10 MB file: seconds of this thread).
  // The check worker formats from the parse its check of this text made; without a worker, this
  // thread parses and formats.
  connection.onDocumentFormatting(guard('formatting', [], async (p) => {
    const doc = documents.get(p.textDocument.uri);
    const path = uriToPath(p.textDocument.uri);
    if (!doc || checker.knownSyntaxErrors(path)) return [];
    const text = doc.getText();
    const answer = await checker.formatAsync(path, text);
    return answer ? documentEdits(text, answer) : formatDocument(path, text);
  }));
  // A range likewise: the worker prints the touched items from the parse its check kept (a
  // 100,000-step plan is one item, the whole file).
  connection.onDocumentRangeFormatting(guard('rangeFormatting', [], async (p) => {
    const doc = documents.get(p.textDocument.uri);
    const path = uriToPath(p.textDocument.uri);
    if (!doc || checker.knownSyntaxErrors(path)) return [];
    const text = doc.getText();
    return (await checker.formatRangeAsync(path, text, p.range)) ?? formatRange(path, text, p.range);
  }));
  connection.onCodeLens(guard('codeLens', [], (p) => {
    const path = uriToPath(p.textDocument.uri);
    return [...codeLenses(workspace.declarations(path), p.textDocument.uri), ...testLenses(workspace.parsed(path)?.module, p.textDocument.uri)];
  }));
  connection.onCodeAction(guard('codeAction', [], (p) => codeActions(p.context.diagnostics)));
}
