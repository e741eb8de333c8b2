/** Folding ranges: every multi-line node with a body, block comments and runs of imports. */
import { FoldingRangeKind, type FoldingRange } from 'vscode-languageserver';
import type { Module } from '../../language/index.js';
import { walk } from '../ast-walk.js';

const FOLDABLE = new Set([
  'CapabilityDecl', 'ResourceDecl', 'PolicyDecl', 'GuardrailDecl', 'ContextDecl', 'PlanDecl', 'TriggerDecl',
  'InvariantDecl', 'SimulateDecl', 'TypeAliasDecl', 'StepDecl', 'ForEachDecl', 'RaceDecl', 'RepeatDecl', 'RecordType', 'RecordLit', 'ListLit',
  'TestDecl', 'SourceDecl', 'SimulateContextDecl', 'MockDecl',
]);

export function foldingRanges(module: Module): FoldingRange[] {
  const out: FoldingRange[] = [];
  const seen = new Set<number>();
  /** 1-based lines in; the closing line (`}`) stays visible. */
  const add = (startLine: number, endLine: number, kind?: FoldingRangeKind): void => {
    // LSP lines are 0-based; keep the closing line visible.
    const s = startLine - 1;
    const e = endLine - 2;
    if (e > s && !seen.has(s)) {
      seen.add(s);
      out.push(kind ? { startLine: s, endLine: e, kind } : { startLine: s, endLine: e });
    }
  };
  walk(module, (n) => {
    if (FOLDABLE.has(n.kind)) {
      const r = (n as Module).range;
      add(r.start.line, r.end.line);
    }
  });
  for (const c of module.comments) if (c.style === 'block') add(c.range.start.line, c.range.end.line + 1, FoldingRangeKind.Comment);
  if (module.imports.length > 1) {
    add(module.imports[0]!.range.start.line, module.imports[module.imports.length - 1]!.range.end.line + 1, FoldingRangeKind.Imports);
  }
  return out.sort((a, b) => a.startLine - b.startLine);
}
