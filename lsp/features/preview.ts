/**
 * `orch/preview`: what `orch preview` shows, for the editor's webview — the preview JSON of one
 * plan and an SVG of its DAG, from the latest compilation of the unsaved buffers.
 */
import { preview, renderGraph, type PreviewJson } from '../../compiler/index.js';
import type { Position as LspPosition } from 'vscode-languageserver';
import type { CheckResult } from '../checker.js';
import { toLspPosition } from '../convert.js';
import type { DeclarationTable } from '../symbol-index/model.js';

export interface PreviewParams {
  readonly uri: string;
  /** Plan name; default: the first plan of the file that compiles. */
  readonly plan?: string;
}

export interface PreviewResult {
  readonly uri: string;
  /** The plan shown, or null when none compiled. */
  readonly plan: string | null;
  /** Every plan declared in the file, for the webview's plan picker. */
  readonly plans: readonly string[];
  readonly preview: PreviewJson | null;
  readonly svg: string | null;
  /** Errors that kept the plan from compiling (`line:col CODE message`). */
  readonly errors: readonly string[];
  /** The program's currency, for estimates with a unit. */
  readonly currency: string;
  /** Where each step of the plan shown is declared (0-based), so a click in the DAG can reveal it. */
  readonly locations: Readonly<Record<string, LspPosition>>;
}

export interface PreviewContext {
  readonly currency: string;
  /** The file's declarations, for step locations. */
  readonly steps?: DeclarationTable;
}

function stepLocations(table: DeclarationTable | undefined, plan: string): Record<string, LspPosition> {
  const out: Record<string, LspPosition> = {};
  const sym = table?.symbols.find((s) => s.kind === 'plan' && s.name === plan);
  const steps = sym ? table?.steps.get(sym.key) : undefined;
  for (const [name, step] of steps ?? []) out[name] = toLspPosition(step.nameRange.start);
  return out;
}

export function planPreview(result: CheckResult, uri: string, declaredPlans: readonly string[], plan?: string, context: PreviewContext = { currency: 'usd' }): PreviewResult {
  const wanted = plan && declaredPlans.includes(plan) ? plan : undefined;
  const ir = wanted ? result.plans.find((p) => p.plan === wanted) : result.plans[0];
  const errors = result.diagnostics
    .filter((d) => d.severity === 'error')
    .map((d) => `${d.range.start.line}:${d.range.start.column} ${d.code} ${d.message}`);
  if (!ir) {
    const why = errors.length ? errors : [declaredPlans.length ? 'no plan compiled (see the problems of the imported files)' : 'this file declares no plan'];
    return { uri, plan: null, plans: declaredPlans, preview: null, svg: null, errors: why, currency: context.currency, locations: {} };
  }
  return {
    uri, plan: ir.plan, plans: declaredPlans, preview: preview(ir, result.model), svg: renderGraph(ir, 'svg'), errors,
    currency: context.currency, locations: stepLocations(context.steps, ir.plan),
  };
}
