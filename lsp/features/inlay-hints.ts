/**
 * Inlay hints: after each step of a compiled plan, the resource the compiler bound it to and its
 * estimate — `→ edge_mailer · 0.0005usd · 340ms` — at the end of the step's first line. Lines
 * come from the current parse, values (looked up by plan and step name) from the latest compile.
 *
 * The hints of a whole file are a function of (compile, parse, currency, text): `hintTable`
 * computes them once for that version and answers every range by filtering the table (editors ask
 * again on every scroll, re-render and edit, for a screen or for the whole file).
 */
import { InlayHintKind, type InlayHint, type Range as LspRange } from 'vscode-languageserver';
import type { ForEachDecl, Module, StepDecl } from '../../language/index.js';
import { toLspPosition } from '../convert.js';
import type { PlanSteps } from '../estimate-worker.js';
import { formatDuration, moneyText } from '../../compiler/index.js';

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
 * Labels by value (currency, whether the step has a capability, resource, cost, duration): a
 * file's thousands of steps share a few distinct estimates, and a new compile (new step objects
 * after every edit) finds its labels here instead of formatting each again. Bounded: cleared when
 * it grows past what any real workspace shows.
 */
const labels = new Map<string, string>();
const LABELS_KEPT = 50_000;

function labelOf(step: CompiledStep, currency: string): string {
  // Without a capability the label has no money part: every cost gives the same label.
  const cost = step.capability ? step.estimates.cost : 0;
  const duration = step.estimates.duration_ms;
  const key = `${currency}\0${step.capability ? 'c' : 'n'}${step.resource || ''}\0${cost}\0${duration}`;
  let label = labels.get(key);
  if (label === undefined) {
    const parts = [
      ...(step.resource ? [step.resource] : []),
      ...(step.capability ? [moneyText(step.estimates.cost, currency)] : []),
      formatDuration(duration),
    ];
    label = `→ ${parts.join(' · ')}`;
    if (labels.size >= LABELS_KEPT) labels.clear();
    labels.set(key, label);
  }
  return label;
}

/** The hints of one plan, with the plan's lines (0-based, inclusive) for skipping it by range. */
interface PlanHints {
  readonly first: number;
  readonly last: number;
  readonly hints: readonly InlayHint[];
}

/** Every hint of one version of a document, in the order a whole-file request returns them. */
export class HintTable {
  constructor(private readonly plans: readonly PlanHints[]) {}

  /** The hints on the lines of `range` (all of them without one), in the table's order. */
  inRange(range?: LspRange): InlayHint[] {
    const out: InlayHint[] = [];
    for (const p of this.plans) {
      if (range && (p.last < range.start.line || p.first > range.end.line)) continue;
      for (const h of p.hints) if (!range || (h.position.line >= range.start.line && h.position.line <= range.end.line)) out.push(h);
    }
    return out;
  }
}

export function hintTable(input: InlayHintInput): HintTable {
  const compiled = new Map(input.plans.map((p) => [p.plan, p]));
  const plans: PlanHints[] = [];
  for (const d of input.module.declarations) {
    if (d.kind !== 'PlanDecl') continue;
    const ir = compiled.get(d.name?.name);
    if (!ir) continue;
    const lines = stepLines(d.body, new Map());
    const hints: InlayHint[] = [];
    for (const step of ir.steps) {
      const line = lines.get(step.id);
      if (line === undefined) continue;
      hints.push({
        position: { line, character: (input.lines[line] ?? '').length },
        label: labelOf(step, input.currency),
        kind: InlayHintKind.Type,
        paddingLeft: true,
      });
    }
    plans.push({ first: d.range.start.line - 1, last: d.range.end.line - 1, hints });
  }
  return new HintTable(plans);
}

export function inlayHints(input: InlayHintInput, range?: LspRange): InlayHint[] {
  return hintTable(input).inRange(range);
}
