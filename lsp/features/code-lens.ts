/**
 * CodeLens above every plan: Run | Verify | Preview. The commands are the VS Code extension's
 * (`orch.runPlan`, `orch.verifyPlan`, `orch.showPreview`) with `[uri, plan]` as arguments; other
 * clients show the lenses and may bind the same names.
 */
import type { CodeLens } from 'vscode-languageserver';
import { toLspRange } from '../convert.js';
import type { DeclarationTable } from '../symbol-index/model.js';

export const PLAN_COMMANDS = [
  { title: '$(play) Run', command: 'orch.runPlan' },
  { title: '$(verified) Verify', command: 'orch.verifyPlan' },
  { title: '$(open-preview) Preview', command: 'orch.showPreview' },
] as const;

export function codeLenses(table: DeclarationTable | undefined, uri: string): CodeLens[] {
  const lenses: CodeLens[] = [];
  for (const sym of table?.symbols ?? []) {
    if (sym.kind !== 'plan') continue;
    const range = toLspRange(sym.nameRange);
    for (const { title, command } of PLAN_COMMANDS) {
      lenses.push({ range, command: { title, command, arguments: [uri, sym.name] } });
    }
  }
  return lenses;
}
