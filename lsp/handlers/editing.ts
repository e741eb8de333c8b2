/** Changing code: formatting a document or a range, quick fixes, and the code lenses that run a plan or a test. */
import { uriToPath } from '../convert.js';
import { codeActions } from '../features/code-actions.js';
import { codeLenses } from '../features/code-lens.js';
import { formatDocument, formatRange } from '../features/formatting.js';
import { testLenses } from '../features/plan-tests.js';
import type { ServerState } from './state.js';

export function registerEditing(state: ServerState): void {
  const { connection, documents, workspace, guard } = state;
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
  connection.onCodeAction(guard('codeAction', [], (p) => codeActions(p.context.diagnostics)));
}
