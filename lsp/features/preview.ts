/**
 * `orch/preview`: what `orch preview` shows, for the editor's webview — the preview JSON of one
 * plan and an SVG of its DAG, compiled from the unsaved buffers.
 */
import { preview, renderGraph, type PreviewJson } from '../../compiler/index.js';
import type { Checker } from '../checker.js';

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
}

export function planPreview(checker: Checker, path: string, uri: string, declaredPlans: readonly string[], plan?: string): PreviewResult {
  const wanted = plan && declaredPlans.includes(plan) ? plan : undefined;
  const out = checker.compilePlan(path, wanted);
  const ir = (wanted ? out.plans.find((p) => p.plan === wanted) : undefined) ?? out.plans[0];
  const errors = out.diagnostics
    .filter((d) => d.severity === 'error')
    .map((d) => `${d.file === path ? '' : `${d.file}:`}${d.range.start.line}:${d.range.start.column} ${d.code} ${d.message}`);
  if (!ir) return { uri, plan: null, plans: declaredPlans, preview: null, svg: null, errors };
  return { uri, plan: ir.plan, plans: declaredPlans, preview: preview(ir, out.model), svg: renderGraph(ir, 'svg'), errors };
}
