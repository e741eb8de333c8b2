/**
 * `orch preview`: what will happen when a plan runs — stages and parallel groups, each step's
 * binding with its rationale and estimate, totals against the policy budgets, guardrails with
 * their static verdicts, and the triggers that start the plan. `PreviewJson` is the
 * `--format json` shape; `renderPreviewText` the terraform-plan-like text.
 */
import pc from 'picocolors';
import type { TriggerDecl } from '../language/ast.js';
import type { PlanIR, StaticVerdict } from './ir/types.js';
import type { BoundModel } from './model.js';

export interface PreviewJson {
  readonly plan: string;
  readonly module: string;
  readonly goal: string | null;
  readonly policy: { readonly name: string; readonly strategy: string } | null;
  readonly stages: readonly { readonly index: number; readonly steps: readonly string[] }[];
  readonly parallel_groups: readonly { readonly group: string; readonly item: string; readonly parallel: number | null; readonly steps: readonly string[] }[];
  readonly steps: readonly {
    readonly id: string;
    readonly stage: number;
    readonly action: string;
    readonly capability: string | null;
    readonly kind: string | null;
    readonly resource: string | null;
    readonly tier: string | null;
    readonly rationale: string;
    readonly fallbacks: readonly string[];
    readonly deps: readonly string[];
    readonly conditional: boolean;
    readonly data: string;
    readonly estimate: { readonly cost: number; readonly duration_ms: number };
  }[];
  readonly estimates: { readonly cost: number; readonly duration_ms: number; readonly critical_path: readonly string[]; readonly local_ratio: number };
  readonly budgets: {
    readonly cost: { readonly limit: number; readonly estimate: number; readonly ok: boolean } | null;
    readonly duration_ms: { readonly limit: number; readonly estimate: number; readonly ok: boolean } | null;
  };
  readonly guardrails: readonly { readonly name: string; readonly severity: string; readonly verdict: StaticVerdict; readonly message: string | null }[];
  readonly triggers: readonly { readonly name: string; readonly source: string; readonly detail: string }[];
  readonly subplans: readonly string[];
}

export function preview(plan: PlanIR, model?: BoundModel): PreviewJson {
  const groups = new Map<string, { group: string; item: string; parallel: number | null; steps: string[] }>();
  for (const s of plan.steps)
    if (s.for_each) {
      const g = groups.get(s.for_each.group) ?? { group: s.for_each.group, item: s.for_each.item, parallel: s.for_each.parallel, steps: [] };
      g.steps.push(s.id);
      groups.set(s.for_each.group, g);
    }
  const b = plan.policy?.budgets;
  return {
    plan: plan.plan,
    module: plan.module,
    goal: plan.goal,
    policy: plan.policy ? { name: plan.policy.name, strategy: plan.policy.strategy } : null,
    stages: plan.stages.map((steps, index) => ({ index, steps })),
    parallel_groups: [...groups.values()],
    steps: plan.steps.map((s) => ({
      id: s.id,
      stage: s.stage,
      action: s.action.type,
      capability: s.capability,
      kind: s.kind,
      resource: s.resource,
      tier: s.binding.tier,
      rationale: s.binding.rationale,
      fallbacks: s.binding.fallbacks,
      deps: s.deps,
      conditional: s.when !== null,
      data: s.data,
      estimate: s.estimates,
    })),
    estimates: plan.estimates,
    budgets: {
      cost: b && b.cost !== null ? { limit: b.cost, estimate: plan.estimates.cost, ok: plan.estimates.cost <= b.cost + 1e-12 } : null,
      duration_ms: b && b.duration_ms !== null ? { limit: b.duration_ms, estimate: plan.estimates.duration_ms, ok: plan.estimates.duration_ms <= b.duration_ms } : null,
    },
    guardrails: plan.guardrails.map((g) => ({ name: g.name, severity: g.severity, verdict: g.static_verdict, message: g.message })),
    triggers: model ? triggersOf(plan, model) : [],
    subplans: Object.keys(plan.subplans),
  };
}

function text(parts: readonly unknown[]): string {
  return parts.filter((p) => typeof p === 'string').join('');
}

function triggersOf(plan: PlanIR, model: BoundModel): PreviewJson['triggers'] {
  const out: { name: string; source: string; detail: string }[] = [];
  for (const m of model.modules) {
    if (m.std) continue;
    for (const d of m.ast.declarations) {
      if (d.kind !== 'TriggerDecl') continue;
      const t = d as TriggerDecl;
      if (t.plan.parts[t.plan.parts.length - 1]?.name !== plan.plan) continue;
      const s = t.source;
      let source: string = s.kind;
      let detail = '';
      switch (s.kind) {
        case 'ScheduleSource': source = 'schedule'; detail = `${text(s.cron.parts)}${s.timezone ? ` (${text(s.timezone.parts)})` : ''}`; break;
        case 'EventSource': source = 'event'; detail = text(s.eventType.parts) + (s.where ? ' (filtered)' : ''); break;
        case 'ManualSource': source = 'manual'; break;
        case 'ApiSource': source = 'api'; detail = `POST ${text(s.path.parts)}`; break;
        case 'ConditionSource': source = 'when'; detail = 'rising edge of a context condition'; break;
        case 'ChainSource': source = 'after'; detail = `${s.plan.parts.map((p) => p.name).join('.')} ${s.outcome}`; break;
      }
      if (t.debounce) detail += `${detail ? ', ' : ''}debounce ${t.debounce.value}${t.debounce.unit}`;
      out.push({ name: t.name.name, source, detail });
    }
  }
  return out;
}

export function formatDuration(ms: number): string {
  if (ms >= 3_600_000) return `${+(ms / 3_600_000).toFixed(2)}h`;
  if (ms >= 60_000) return `${+(ms / 60_000).toFixed(2)}m`;
  if (ms >= 1000) return `${+(ms / 1000).toFixed(2)}s`;
  return `${Math.round(ms)}ms`;
}

function formatMoney(n: number): string {
  return `${+n.toFixed(6)}`;
}

/** Text like `terraform plan`; colours only when `color` (the CLI passes `isTTY`). */
export function renderPreviewText(p: PreviewJson, color: boolean): string {
  const c = pc.createColors(color);
  const lines: string[] = [];
  lines.push(c.bold(`Plan ${p.plan}`) + (p.goal ? ` — ${p.goal}` : ''));
  lines.push(`  module ${p.module}, policy ${p.policy ? `${p.policy.name} (${p.policy.strategy})` : '(default: privacy_first)'}`);
  lines.push('');
  const byId = new Map(p.steps.map((s) => [s.id, s]));
  const groupOf = new Map<string, PreviewJson['parallel_groups'][number]>();
  for (const g of p.parallel_groups) for (const s of g.steps) groupOf.set(s, g);
  for (const st of p.stages) {
    lines.push(c.cyan(`Stage ${st.index}`) + c.dim(st.steps.length > 1 ? `  (${st.steps.length} steps in parallel)` : ''));
    for (const id of st.steps) {
      const s = byId.get(id)!;
      const g = groupOf.get(id);
      const what = s.capability ? s.capability.split('.').pop()! : s.action.replace('_', ' ');
      const where = s.resource ? `on ${s.resource} (${s.tier})` : s.tier === 'human' ? 'by a person' : 'no resource';
      lines.push(`  ${c.green('+')} ${c.bold(id)} = ${what}${s.conditional ? c.yellow(' [conditional]') : ''}${g ? c.magenta(` [for each ${g.item}${g.parallel ? `, parallel ${g.parallel}` : ''}]`) : ''}`);
      lines.push(`      ${where} — ${c.dim(s.rationale)}`);
      if (s.fallbacks.length) lines.push(`      fallbacks: ${s.fallbacks.join(', ')}`);
      lines.push(`      estimate: ${formatMoney(s.estimate.cost)} cost, ${formatDuration(s.estimate.duration_ms)}${s.data !== 'public' ? `, data ${s.data}` : ''}`);
    }
  }
  lines.push('');
  const e = p.estimates;
  const budget = (label: string, value: string, b: { limit: number; ok: boolean } | null, fmt: (n: number) => string): string =>
    `  ${label}: ${value}${b ? ` / budget ${fmt(b.limit)} ${b.ok ? c.green('ok') : c.red('OVER BUDGET')}` : ''}`;
  lines.push(c.bold('Estimates'));
  lines.push(budget('cost', formatMoney(e.cost), p.budgets.cost, formatMoney));
  lines.push(budget('duration', formatDuration(e.duration_ms), p.budgets.duration_ms, formatDuration));
  lines.push(`  critical path: ${e.critical_path.join(' → ') || '(none)'}`);
  lines.push(`  local ratio: ${Math.round(e.local_ratio * 100)}%`);
  if (p.guardrails.length) {
    lines.push('');
    lines.push(c.bold('Guardrails'));
    for (const g of p.guardrails) {
      const v = g.verdict === 'holds' ? c.green('holds') : g.verdict === 'violated' ? c.red('VIOLATED') : c.yellow(g.verdict === 'runtime' ? 'checked at run time' : 'unknown');
      lines.push(`  ${g.name} (${g.severity}): ${v}${g.message ? c.dim(` — ${g.message}`) : ''}`);
    }
  }
  if (p.triggers.length) {
    lines.push('');
    lines.push(c.bold('Triggers'));
    for (const t of p.triggers) lines.push(`  ${t.name}: ${t.source}${t.detail ? ` ${t.detail}` : ''}`);
  }
  if (p.subplans.length) {
    lines.push('');
    lines.push(`Sub-plans: ${p.subplans.join(', ')}`);
  }
  const steps = p.steps.length;
  lines.push('');
  lines.push(`Plan: ${steps} step${steps === 1 ? '' : 's'} in ${p.stages.length} stage${p.stages.length === 1 ? '' : 's'}.`);
  return `${lines.join('\n')}\n`;
}
