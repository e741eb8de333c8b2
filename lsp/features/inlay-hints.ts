/**
 * Inlay hints: after each step of a compiled plan, the resource the compiler bound it to and its
 * estimate — `→ edge_mailer · 0.0005usd · 340ms` — at the end of the step's first line. Lines
 * come from the current parse, values (looked up by plan and step name) from the latest compile.
 */
import { InlayHintKind, type InlayHint, type Range as LspRange } from 'vscode-languageserver';
import type { ForEachDecl, Module, StepDecl } from '../../language/index.js';
import { toLspPosition } from '../convert.js';
import type { PlanSteps } from '../estimate-worker.js';
import { formatDuration, formatMoney } from '../units.js';

export interface InlayHintInput {
  /** The document's current parse. */
  readonly module: Module;
  /** The plans compiled from this file (possibly from a moment ago). */
  readonly plans: readonly PlanSteps[];
  readonly currency: string;
  /** The document's lines (without line breaks). */
  readonly lines: readonly string[];
}

/** The 0-based line of each step name of a plan body, loops included. */
function stepLines(body: readonly (StepDecl | ForEachDecl | { kind: string })[], out: Map<string, number>): Map<string, number> {
  for (const item of body) {
    if (item.kind === 'StepDecl') {
      const step = item as StepDecl;
      if (typeof step.name?.name === 'string' && !out.has(step.name.name)) out.set(step.name.name, toLspPosition(step.name.range.start).line);
    } else if (item.kind === 'ForEachDecl') {
      stepLines((item as ForEachDecl).body, out);
    }
  }
  return out;
}

export function inlayHints(input: InlayHintInput, range?: LspRange): InlayHint[] {
  const hints: InlayHint[] = [];
  const compiled = new Map(input.plans.map((p) => [p.plan, p]));
  for (const d of input.module.declarations) {
    if (d.kind !== 'PlanDecl') continue;
    const ir = compiled.get(d.name?.name);
    if (!ir) continue;
    const lines = stepLines(d.body, new Map());
    for (const step of ir.steps) {
      const line = lines.get(step.id);
      if (line === undefined) continue;
      if (range && (line < range.start.line || line > range.end.line)) continue;
      const parts = [
        ...(step.resource ? [step.resource] : []),
        ...(step.capability ? [formatMoney(step.estimates.cost, input.currency)] : []),
        formatDuration(step.estimates.duration_ms),
      ];
      hints.push({
        position: { line, character: (input.lines[line] ?? '').length },
        label: `→ ${parts.join(' · ')}`,
        kind: InlayHintKind.Type,
        paddingLeft: true,
      });
    }
  }
  return hints;
}
