/**
 * Reading and moving through code: completion, signature help, hover, go to definition,
 * references, highlights, rename, and the document's and workspace's symbols.
 */
import { uriToPath } from '../convert.js';
import { complete } from '../features/completion.js';
import { hover } from '../features/hover.js';
import { definition, highlights, prepareRename, references, rename } from '../features/navigation.js';
import { signatureHelp } from '../features/signature-help.js';
import { documentSymbols, workspaceSymbols } from '../features/symbols.js';
import type { ServerState } from './state.js';

export function registerNavigation(state: ServerState): void {
  const { connection, workspace, checker, names, guard, docContext } = state;
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
      module: workspace.declarations(path)?.module,
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
}
