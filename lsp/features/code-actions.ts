/**
 * Quick fixes. The compiler attaches machine-applicable `fixes` to its diagnostics (did-you-mean,
 * insert a missing argument, remove an unused declaration); the server ships them to the client
 * in each LSP diagnostic's `data`, and this turns them back into code actions.
 */
import { CodeActionKind, type CodeAction, type Diagnostic as LspDiagnostic, type TextEdit } from 'vscode-languageserver';
import type { Diagnostic, Fix } from '../../language/index.js';
import { pathToUri, toLspRange } from '../convert.js';

export interface DiagnosticData {
  readonly fixes?: readonly Fix[];
}

export function toLspDiagnostic(d: Diagnostic): LspDiagnostic {
  const severity = d.severity === 'error' ? 1 : d.severity === 'warning' ? 2 : d.severity === 'info' ? 3 : 4;
  const out: LspDiagnostic = {
    range: toLspRange(d.range),
    severity,
    code: d.code,
    source: 'orch',
    message: d.message,
  };
  if (d.related?.length) {
    out.relatedInformation = d.related.map((r) => ({ message: r.message, location: { uri: pathToUri(r.file), range: toLspRange(r.range) } }));
  }
  if (d.code === 'W0601') out.tags = [1]; // Unnecessary: editors fade unused declarations.
  if (d.fixes?.length) out.data = { fixes: d.fixes } satisfies DiagnosticData;
  return out;
}

export function codeActions(diagnostics: readonly LspDiagnostic[]): CodeAction[] {
  const actions: CodeAction[] = [];
  for (const diag of diagnostics) {
    const fixes = (diag.data as DiagnosticData | undefined)?.fixes;
    if (!Array.isArray(fixes)) continue;
    fixes.forEach((fix, i) => {
      const changes: Record<string, TextEdit[]> = {};
      for (const e of fix.edits ?? []) (changes[pathToUri(e.file)] ??= []).push({ range: toLspRange(e.range), newText: e.newText });
      actions.push({
        title: fix.title,
        kind: CodeActionKind.QuickFix,
        diagnostics: [diag],
        isPreferred: i === 0 && fixes.length === 1,
        edit: { changes },
      });
    });
  }
  return actions;
}
