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

type CompiledStep = PlanSteps['steps'][number];

/**
 * Labels by compiled step, per currency. A compile's step summaries are immutable and answer
 * every hint request until the next compile, so each label is formatted once per compile rather
 * than once per request (editors ask again on every scroll and after every edit).
 */
const labels = new Map<string, WeakMap<CompiledStep, string>>();

function labelOf(step: CompiledStep, currency: string): string {
  let byStep = labels.get(currency);
  if (!byStep) labels.set(currency, (byStep = new WeakMap()));
  let label = byStep.get(step);
  if (label === undefined) {
    const parts = [
      ...(step.resource ? [step.resource] : []),
      ...(step.capability ? [formatMoney(step.estimates.cost, currency)] : []),
      formatDuration(step.estimates.duration_ms),
    ];
    label = `→ ${parts.join(' · ')}`;
    byStep.set(step, label);
  }
  return label;
}

export function inlayHints(input: InlayHintInput, range?: LspRange): InlayHint[] {
  const hints: InlayHint[] = [];
  const compiled = new Map(input.plans.map((p) => [p.plan, p]));
  for (const d of input.module.declarations) {
    if (d.kind !== 'PlanDecl') continue;
    // A screen's request need not look at the steps of the plans off screen.
    if (range && (d.range.end.line - 1 < range.start.line || d.range.start.line - 1 > range.end.line)) continue;
    const ir = compiled.get(d.name?.name);
    if (!ir) continue;
    const lines = stepLines(d.body, new Map());
    for (const step of ir.steps) {
      const line = lines.get(step.id);
      if (line === undefined) continue;
      if (range && (line < range.start.line || line > range.end.line)) continue;
      hints.push({
        position: { line, character: (input.lines[line] ?? '').length },
        label: labelOf(step, input.currency),
        kind: InlayHintKind.Type,
        paddingLeft: true,
      });
    }
  }
  return hints;
}
