/**
 * `orch preview`: what will happen when a plan runs — stages and parallel groups, each step's
 * binding with its rationale and estimate, totals against the policy budgets, guardrails with
 * their static verdicts, and the triggers that start the plan. `PreviewJson` is the
 * `--format json` shape; `renderPreviewText` the terraform-plan-like text.
 */
import { previewFlows, previewFlowsText, type PreviewFlows, type TriggerRelabels } from './preview-flows.js';
import { withRelabels } from './triggers-ir.js';
import { moneyText, round6 } from './money.js';
import { formatDuration } from './duration-text.js';
import { privacyScore } from './placement-metrics.js';
import pc from 'picocolors';
import type { TriggerDecl } from '../language/index.js';
import type { BlockIR, PlanIR, StaticVerdict } from './ir/types.js';
import type { BoundModel } from './model.js';
import { staticEval, type StaticValue } from './static-eval.js';
import { fallbackReservation, stepReservation, type StepReservation } from './reservation.js';
import { ledgerWorstCase, type LedgerOver, type LedgerStep } from './budget-ledger.js';
import { approvalOf, approvalText, type PreviewApproval } from './preview-approval.js';
import { estimatesForInput, fanOut } from './preview-estimates.js';

export interface PreviewJson {
  readonly plan: string;
  readonly module: string;
  readonly goal: string | null;
  /** The program's currency (§2), in which every amount below is; absent when none is written. */
  readonly currency?: string;
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
    /** v0.4 (§9.1): a model step's endpoint and its tier (`tier` is the higher of it and the resource's). */
    readonly endpoint?: { readonly name: string; readonly tier: string };
    readonly rationale: string;
    readonly fallbacks: readonly string[];
    /** A model step's fallback resources and the endpoint each sends the prompt to (its own, else the capability's; §9.1). */
    readonly fallback_endpoints?: readonly { readonly resource: string; readonly endpoint: { readonly name: string; readonly tier: string } | null }[];
    /** Feasible resources a blocking guardrail forbids for this step, and why (never used). */
    readonly dropped: readonly { readonly resource: string; readonly reason: string }[];
    /** The step's `fallback` call, where it runs, and what was dropped for it. */
    readonly fallback_call: {
      readonly capability: string;
      readonly resource: string | null;
      readonly dropped: readonly { readonly resource: string; readonly reason: string }[];
      /** A model call's own endpoint (§9.1: decided for the call as for a step; it may differ from the step's). */
      readonly endpoint?: { readonly name: string; readonly tier: string };
    } | null;
    /** v0.4 (§9.1): a `compensate` call answered by the model handler, with the endpoint and tier it sends its prompt to. */
    readonly compensate_call?: { readonly capability: string; readonly endpoint: { readonly name: string; readonly tier: string } };
    readonly deps: readonly string[];
    readonly conditional: boolean;
    /** With `--input`: whether its `when` holds for that input (`null`: it depends on more than the input). */
    readonly condition: boolean | null;
    readonly data: string;
    readonly estimate: { readonly cost: number; readonly duration_ms: number };
    /** v0.3 (§8.2): what each attempt reserves against a `budget cost` before it starts. */
    readonly reservation: StepReservation;
    /** The blocks around the step, outermost first (ids of `blocks`). */
    readonly blocks: readonly string[];
    /** An approval step: who decides, how many people, whether the starter is left out (§8.8); else null. */
    readonly approval: PreviewApproval | null;
  }[];
  /** `for each`, `race` and `repeat` blocks, outer first. */
  readonly blocks: readonly {
    readonly id: string;
    readonly type: BlockIR['type'];
    readonly parent: string | null;
    /** `for each team, parallel 2` · `repeat revise ×1..4` · `race reply: first of answered, reminder` */
    readonly label: string;
    readonly steps: readonly string[];
    /** for_each with `--input`: how many items in all (over every outer item); `null` when unknown. */
    readonly items: number | null;
  }[];
  /** Whether an input was given (`--input`): conditions and fan-out sizes that depend only on it are resolved. */
  readonly input_resolved: boolean;
  /** Consent scopes a run may need. */
  readonly consent: readonly string[];
  /** `cost`/`duration_ms`: best case (loops run once); `*_max`: worst case (loops run `max` times). */
  readonly estimates: {
    readonly cost: number;
    readonly duration_ms: number;
    readonly cost_max: number;
    readonly duration_ms_max: number;
    readonly critical_path: readonly string[];
    readonly local_ratio: number;
    /** Share of steps touching @personal or more sensitive data placed on local or edge tiers. */
    readonly privacy_score: number;
  };
  /** `headroom`: what the budget leaves over the (best-case) estimate; negative when over. */
  readonly budgets: {
    /**
     * `worst_case` (v0.4 §9.1): the ledger's — every step's reservation, loops at their max, a `for
     * each` of unknown length per item (`per_item`); `ok` and `headroom` take the larger of it and
     * the estimate. `over`: steps whose one reservation alone exceeds the limit (E0908).
     */
    readonly cost:
      | {
          readonly limit: number;
          readonly estimate: number;
          readonly worst_case: number;
          readonly per_item: boolean;
          readonly over: readonly LedgerOver[];
          readonly ok: boolean;
          readonly headroom: number;
          readonly warn: boolean;
        }
      | null;
    readonly duration_ms: { readonly limit: number; readonly estimate: number; readonly ok: boolean; readonly headroom: number; readonly warn: boolean } | null;
  };
  readonly guardrails: readonly { readonly name: string; readonly severity: string; readonly verdict: StaticVerdict; readonly message: string | null }[];
  readonly triggers: readonly { readonly name: string; readonly source: string; readonly detail: string }[];
  readonly subplans: readonly string[];
  /**
   * v0.4 (§9.1): the model steps of the sub-plans a run of this plan runs, named as the run names
   * them (`s/d`: step `d` of the sub-plan step `s` runs), with the endpoint and tier each sends its prompt to,
   * and the resource it is bound to with the step's own tier (the higher of the two, what §9.3 holds it to).
   */
  readonly subplan_model_steps: readonly SubplanModelStep[];
  /** v0.4 (§9.3): where each class goes and every endorsement and declassification. */
  readonly flows: PreviewFlows;
}

export interface PreviewOptions {
  /** The plan input (`orch preview --input`): `when` conditions and `for each` sizes that depend only on it are resolved. */
  readonly input?: unknown;
}

/** Each model step of the sub-plans `plan` runs (theirs too, once each along a path), by its path through the `run` steps. */
export interface SubplanModelStep {
  readonly step: string;
  readonly endpoint: { readonly name: string; readonly tier: string };
  readonly resource: string | null;
  readonly tier: string | null;
}

function subplanModelSteps(plan: PlanIR): PreviewJson['subplan_model_steps'] {
  const out: SubplanModelStep[] = [];
  const walk = (p: PlanIR, prefix: string, seen: ReadonlySet<string>): void => {
    for (const s of p.steps) {
      const endpoint = prefix ? endpointOf(s.binding) : undefined;
      if (endpoint) out.push({ step: `${prefix}${s.id}`, endpoint, resource: s.binding?.resource ?? null, tier: s.binding?.tier ?? null });
      if (s.action.type !== 'run' || seen.has(s.action.plan)) continue;
      const sub = plan.subplans[s.action.plan] ?? p.subplans?.[s.action.plan];
      if (sub) walk(sub, `${prefix}${s.id}/`, new Set([...seen, s.action.plan]));
    }
  };
  walk(plan, '', new Set([plan.plan]));
  return out;
}

/** Where a binding (or resource, or model capability) sends a prompt, as the preview names it; undefined for none. */
function endpointOf(b: { readonly endpoint?: string | null; readonly endpoint_tier?: string } | null | undefined): { name: string; tier: string } | undefined {
  return typeof b?.endpoint === 'string' ? { name: b.endpoint, tier: b.endpoint_tier ?? 'cloud' } : undefined;
}

/**
 * Where a model call rebound to `resource` sends its prompt: the resource's endpoint, else the
 * capability's own (the rule the runtime follows, §9.1), with the tier the IR recorded for it.
 */
function reboundEndpoint(plan: PlanIR, capability: string | null, resource: string): { name: string; tier: string } | null {
  const llm = capability ? plan.capabilities[capability]?.llm : undefined;
  return endpointOf(plan.resources[resource]) ?? (llm?.endpoint ? endpointOf(llm) : undefined) ?? null;
}

export function preview(plan: PlanIR, model?: BoundModel, options: PreviewOptions = {}): PreviewJson {
  const hasInput = options.input !== undefined;
  const vars: Record<string, StaticValue> = hasInput ? { input: options.input as StaticValue } : {};
  const irBlocks = plan.blocks ?? legacyBlocks(plan);
  const stepsIn = (b: BlockIR): string[] => plan.steps.filter((s) => (s.blocks ?? (s.for_each ? [s.for_each.group] : [])).includes(b.id)).map((s) => s.id);
  const groups = new Map<string, { group: string; item: string; parallel: number | null; steps: string[] }>();
  for (const s of plan.steps)
    if (s.for_each) {
      const g = groups.get(s.for_each.group) ?? { group: s.for_each.group, item: s.for_each.item, parallel: s.for_each.parallel, steps: [] };
      g.steps.push(s.id);
      groups.set(s.for_each.group, g);
    }
  const b = plan.policy?.budgets;
  // `--input` sizes the `for each` blocks over its lists: their steps' estimates and the totals follow.
  const sized = hasInput ? estimatesForInput(plan, irBlocks, vars) : null;
  const estimates = sized ?? {
    ...plan.estimates,
    cost_max: plan.estimates.cost_max ?? plan.estimates.cost,
    duration_ms_max: plan.estimates.duration_ms_max ?? plan.estimates.duration_ms,
  };
  const currency = model?.currency ?? plan.policy?.currency;
  return {
    plan: plan.plan,
    module: plan.module,
    goal: plan.goal,
    ...(currency !== undefined ? { currency } : {}),
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
      ...(s.binding.endpoint !== undefined ? { endpoint: endpointOf(s.binding)! } : {}),
      rationale: s.binding.rationale,
      fallbacks: s.binding.fallbacks,
      ...(s.binding.endpoint !== undefined ? { fallback_endpoints: s.binding.fallbacks.map((r) => ({ resource: r, endpoint: reboundEndpoint(plan, s.capability, r) })) } : {}),
      dropped: s.binding.dropped ?? [],
      fallback_call: s.fallback
        ? {
            capability: s.fallback.capability,
            resource: s.fallback.binding?.resource ?? null,
            dropped: s.fallback.binding?.dropped ?? [],
            ...(s.fallback.binding?.endpoint !== undefined ? { endpoint: endpointOf(s.fallback.binding)! } : {}),
          }
        : null,
      ...(s.compensate?.binding?.endpoint !== undefined ? { compensate_call: { capability: s.compensate.capability, endpoint: endpointOf(s.compensate.binding)! } } : {}),
      deps: s.deps,
      conditional: s.when !== null,
      condition: s.when !== null && hasInput ? known(staticEval(s.when, vars)) : null,
      data: s.data,
      estimate: sized?.steps.get(s.id) ?? s.estimates,
      reservation: stepReservation(plan, s),
      blocks: s.blocks ?? (s.for_each ? [s.for_each.group] : []),
      approval: approvalOf(plan, s, vars),
    })),
    blocks: irBlocks.map((b) => ({
      id: b.id,
      type: b.type,
      parent: b.parent,
      label: blockLabel(b),
      steps: stepsIn(b),
      items: b.type === 'for_each' && hasInput ? (fanOut(b, irBlocks, vars)?.items ?? null) : null,
    })),
    input_resolved: hasInput,
    consent: plan.consent ?? [],
    estimates: {
      cost: estimates.cost,
      duration_ms: estimates.duration_ms,
      cost_max: estimates.cost_max,
      duration_ms_max: estimates.duration_ms_max,
      critical_path: estimates.critical_path,
      local_ratio: plan.estimates.local_ratio,
      privacy_score: privacyScore(plan.steps.map((s) => ({ tier: s.binding.tier, data: s.data }))),
    },
    budgets: {
      cost: b && b.cost !== null ? costVerdict(plan, irBlocks, b.cost, b.cost_warn === true, vars, estimates.cost) : null,
      duration_ms:
        b && b.duration_ms !== null
          ? { limit: b.duration_ms, estimate: estimates.duration_ms, ok: estimates.duration_ms <= b.duration_ms, headroom: b.duration_ms - estimates.duration_ms, warn: b.duration_warn === true }
          : null,
    },
    guardrails: plan.guardrails.map((g) => ({ name: g.name, severity: g.severity, verdict: g.static_verdict, message: g.message })),
    triggers: model ? triggersOf(plan, model) : [],
    subplans: Object.keys(plan.subplans),
    subplan_model_steps: subplanModelSteps(plan),
    flows: previewFlows(plan, model ? triggerRelabels(plan, model) : []),
  };
}

/** The cost budget's verdict on the ledger's worst case and the estimate, whichever is more. */
function costVerdict(plan: PlanIR, blocks: readonly BlockIR[], limit: number, warn: boolean, vars: Record<string, StaticValue>, estimate: number): NonNullable<PreviewJson['budgets']['cost']> {
  const ledger = ledgerWorstCase(ledgerSteps(plan, blocks, vars), limit);
  const worst = Math.max(ledger.cost, estimate);
  return { limit, estimate, worst_case: ledger.cost, per_item: ledger.per_item, over: ledger.over, ok: worst <= limit + 1e-12 && ledger.over.length === 0, headroom: round6(limit - worst), warn };
}

/**
 * What each step of the IR reserves, as the check's `budgets` stage counts it: loops at their
 * max, a `run` step's sub-plan's worst case (it reserves in this run's ledger), each fallback call.
 */
function ledgerSteps(plan: PlanIR, blocks: readonly BlockIR[], vars: Record<string, StaticValue>, seen: ReadonlySet<string> = new Set([plan.plan])): LedgerStep[] {
  return plan.steps.map((s) => {
    const ids = s.blocks ?? (s.for_each ? [s.for_each.group] : []);
    const around = blocks.filter((b) => ids.includes(b.id));
    // How many times its innermost `for each` runs in all — a list the file writes out, or with
    // `--input` one the input gives (as check counts the first, assemble/budgets.ts); any other
    // list makes the step's figure per item.
    const inner = [...ids].reverse().map((id) => blocks.find((b) => b.id === id)).find((b) => b?.type === 'for_each');
    const items = inner?.type === 'for_each' ? (fanOut(inner, blocks, vars)?.items ?? null) : 1;
    const times = around.reduce((n, b) => (b.type === 'repeat' ? n * b.max : n), items ?? 1);
    const subPlan = s.action.type === 'run' && !seen.has(s.action.plan) ? plan.subplans?.[s.action.plan] : undefined;
    // A sub-plan's input is not the run's: only the lists its file writes out count there.
    const sub = subPlan ? ledgerWorstCase(ledgerSteps({ ...subPlan, subplans: { ...plan.subplans, ...subPlan.subplans } }, subPlan.blocks ?? legacyBlocks(subPlan), {}, new Set([...seen, subPlan.plan])), null) : undefined;
    const fb = fallbackReservation(plan, s);
    const calls = fb ? [{ what: `fallback ${s.fallback!.capability}`, reservation: fb.cost }] : undefined;
    return { id: s.id, reservation: stepReservation(plan, s).cost, times, perItem: items === null, ...(sub ? { sub } : {}), ...(calls ? { calls } : {}) };
  });
}

function known(v: StaticValue): boolean | null {
  return typeof v === 'boolean' ? v : null;
}

/** The `for each` blocks of a v1 IR (one level, from the steps' groups). */
function legacyBlocks(plan: PlanIR): BlockIR[] {
  const out = new Map<string, BlockIR>();
  for (const s of plan.steps)
    if (s.for_each && !out.has(s.for_each.group))
      out.set(s.for_each.group, { type: 'for_each', id: s.for_each.group, parent: null, item: s.for_each.item, list: s.for_each.list, parallel: s.for_each.parallel });
  return [...out.values()];
}

export function blockLabel(b: BlockIR): string {
  switch (b.type) {
    case 'for_each':
      return `for each ${b.item}${b.parallel ? `, parallel ${b.parallel}` : ''}`;
    case 'repeat':
      return `repeat ${b.id} ×1..${b.max}${b.on_failure === 'continue' ? ', on_failure continue' : ''}`;
    case 'race':
      return `race ${b.id}: first of ${b.branches.join(', ')}`;
  }
}

function text(parts: readonly unknown[]): string {
  return parts.filter((p) => typeof p === 'string').join('');
}

/** The trigger declarations that start `plan`, with their files. */
function triggerDecls(plan: PlanIR, model: BoundModel): { t: TriggerDecl; file: string }[] {
  const out: { t: TriggerDecl; file: string }[] = [];
  for (const m of model.modules) {
    if (m.std) continue;
    for (const d of m.ast.declarations) {
      if (d.kind !== 'TriggerDecl') continue;
      const t = d as TriggerDecl;
      if (t.plan.parts[t.plan.parts.length - 1]?.name === plan.plan) out.push({ t, file: m.file });
    }
  }
  return out;
}

/** §9.3: the endorse/declassify calls of the `with` of each trigger that starts the plan. */
function triggerRelabels(plan: PlanIR, model: BoundModel): TriggerRelabels {
  return triggerDecls(plan, model).flatMap(({ t, file }) => (withRelabels(t, file).relabels ?? []).map((r) => ({ trigger: t.name.name, ...r })));
}

function triggersOf(plan: PlanIR, model: BoundModel): PreviewJson['triggers'] {
  const out: { name: string; source: string; detail: string }[] = [];
  for (const { t } of triggerDecls(plan, model)) {
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
  return out;
}

type Colors = ReturnType<typeof pc.createColors>;
type PreviewStep = PreviewJson['steps'][number];

/** Text like `terraform plan`; colours only when `color` (the CLI passes `isTTY`). */
export function renderPreviewText(p: PreviewJson, color: boolean): string {
  const c = pc.createColors(color);
  const lines: string[] = [];
  lines.push(c.bold(`Plan ${p.plan}`) + (p.goal ? ` — ${p.goal}` : ''));
  lines.push(`  module ${p.module}, policy ${p.policy ? `${p.policy.name} (${p.policy.strategy})` : '(default: privacy_first)'}`);
  lines.push('');
  lines.push(...stagesText(p, c));
  lines.push('');
  lines.push(...controlFlowText(p, c));
  lines.push(...estimatesText(p, c));
  lines.push(...closingText(p, c));
  return `${lines.join('\n')}\n`;
}

/** Each stage with its steps: what each calls, where and why, its fallbacks, approval, estimate and reservation. */
function stagesText(p: PreviewJson, c: Colors): string[] {
  const lines: string[] = [];
  const byId = new Map(p.steps.map((s) => [s.id, s]));
  const blockById = new Map(p.blocks.map((b) => [b.id, b]));
  const blockTag = (id: string): string => {
    const b = blockById.get(id);
    if (!b) return id;
    return b.items === null ? b.label : `${b.label} (${b.items} item${b.items === 1 ? '' : 's'})`;
  };
  for (const st of p.stages) {
    lines.push(c.cyan(`Stage ${st.index}`) + c.dim(st.steps.length > 1 ? `  (${st.steps.length} steps in parallel)` : ''));
    for (const id of st.steps) {
      const s = byId.get(id)!;
      const tags = s.blocks.length ? c.magenta(` [${s.blocks.map(blockTag).join(' › ')}]`) : '';
      lines.push(...stepText(p, s, tags, c));
    }
  }
  return lines;
}

function conditionTag(s: PreviewStep, c: Colors): string {
  if (!s.conditional) return '';
  if (s.condition === true) return c.green(' [when: holds for this input]');
  if (s.condition === false) return c.yellow(' [skipped for this input: when is false]');
  return c.yellow(' [conditional]');
}

function stepText(p: PreviewJson, s: PreviewStep, tags: string, c: Colors): string[] {
  const lines: string[] = [];
  const what = s.capability ? s.capability.split('.').pop()! : s.action.replace('_', ' ');
  const model = s.endpoint ? `model endpoint ${s.endpoint.name} (${s.endpoint.tier})` : '';
  const where = s.resource ? `on ${s.resource} (${s.tier})${model ? `, ${model}` : ''}` : s.tier === 'human' ? 'by a person' : model || 'no resource';
  lines.push(`  ${c.green('+')} ${c.bold(s.id)} = ${what}${conditionTag(s, c)}${tags}`);
  lines.push(`      ${where} — ${c.dim(s.rationale)}`);
  if (s.fallbacks.length) {
    const at = new Map((s.fallback_endpoints ?? []).map((f) => [f.resource, f.endpoint]));
    const shown = s.fallbacks.map((r) => {
      const e = at.get(r);
      return e ? `${r} (model endpoint ${e.name}, ${e.tier})` : r;
    });
    lines.push(`      fallbacks: ${shown.join(', ')}`);
  }
  for (const d of s.dropped) lines.push(c.yellow(`      dropped ${d.resource}: ${d.reason}`));
  if (s.fallback_call) {
    const fc = s.fallback_call;
    const fcModel = fc.endpoint ? `, model endpoint ${fc.endpoint.name} (${fc.endpoint.tier})` : '';
    lines.push(`      fallback call ${fc.capability.split('.').pop()!}${fc.resource ? ` on ${fc.resource}` : ''}${fcModel}`);
    for (const d of fc.dropped) lines.push(c.yellow(`        dropped ${d.resource}: ${d.reason}`));
  }
  if (s.compensate_call) lines.push(`      compensate call ${s.compensate_call.capability.split('.').pop()!}, model endpoint ${s.compensate_call.endpoint.name} (${s.compensate_call.endpoint.tier})`);
  if (s.approval) lines.push(`      ${approvalText(s.approval)}`);
  const money = (n: number) => moneyText(n, p.currency);
  lines.push(`      estimate: ${money(s.estimate.cost)} cost, ${formatDuration(s.estimate.duration_ms)}${s.data !== 'public' ? `, data ${s.data}` : ''}`);
  const r = s.reservation;
  // Under a cost budget every step says what it reserves (§8.2), its estimate included; without
  // one, only a model step's worst case is news.
  if (r.model !== null || p.budgets.cost !== null)
    lines.push(`      reserves: ${reservesText(r, money)}`);
  return lines;
}

/**
 * What one attempt reserves (§8.2): the more of the estimate and the model's worst case, so a
 * per-KB figure is added only to the worst case — under an estimate that wins it adds nothing
 * until the input is long enough to pass it.
 */
function reservesText(r: StepReservation, money: (n: number) => string): string {
  const perKb = r.per_input_byte ? ` + ${money(r.per_input_byte * 1000)} per KB of input in the prompt` : '';
  if (r.model === null || r.worst_case === null || r.worst_case >= r.cost) return `${money(r.cost)} per attempt${r.model ? ` (${r.model}, max_tokens)` : ''}${perKb}`;
  return perKb
    ? `${money(r.cost)} per attempt (the estimate, or ${r.model}'s worst case with max_tokens when more: ${money(r.worst_case)}${perKb})`
    : `${money(r.cost)} per attempt (the estimate, more than ${r.model}'s worst case with max_tokens: ${money(r.worst_case)})`;
}

/** The races and repeats, each with what it does. */
function controlFlowText(p: PreviewJson, c: Colors): string[] {
  const flow = p.blocks.filter((b) => b.type !== 'for_each');
  if (!flow.length) return [];
  const lines = [c.bold('Control flow')];
  for (const b of flow) {
    const what = b.type === 'race' ? 'the first to complete wins, the others are cancelled' : `runs ${b.steps.join(', ')} until its condition holds`;
    lines.push(`  ${b.label} — ${what}`);
  }
  lines.push('');
  return lines;
}

/** Cost and duration against their budgets, the critical path, the local ratio and the privacy score. */
function estimatesText(p: PreviewJson, c: Colors): string[] {
  const lines: string[] = [];
  const e = p.estimates;
  const money = (n: number) => moneyText(n, p.currency);
  const budget = (label: string, value: string, b: { limit: number; ok: boolean; headroom: number; warn: boolean } | null, fmt: (n: number) => string): string =>
    `  ${label}: ${value}${
      b
        ? ` / budget ${fmt(b.limit)}${b.warn ? ' (warn)' : ''} ${b.ok ? `${c.green('ok')}, ${fmt(b.headroom)} headroom` : `${c.red('OVER BUDGET')} by ${fmt(-b.headroom)}`}`
        : ''
    }`;
  const loops = p.blocks.some((b) => b.type === 'repeat');
  const worst = (best: string, max: string): string => (loops && best !== max ? `${best} .. ${max} (loops run once .. max times)` : best);
  lines.push(c.bold('Estimates'));
  const bc = p.budgets.cost;
  // A `for each` over a list known only at run time counts one item: the verdict says so (§9.1).
  const ledger = bc && bc.worst_case > e.cost + 1e-12 ? ` (budget ledger's worst case ${money(bc.worst_case)}${bc.per_item ? ' per for-each item' : ''})` : bc?.per_item ? ' per for-each item' : '';
  lines.push(budget('cost', worst(money(e.cost), money(e.cost_max)) + ledger, bc, money));
  for (const o of bc?.over ?? []) lines.push(c.red(`    step ${o.step}${o.call ? ` (its ${o.call})` : ''} alone reserves ${money(o.reservation)} per attempt, more than the budget`));
  lines.push(budget('duration', worst(formatDuration(e.duration_ms), formatDuration(e.duration_ms_max)), p.budgets.duration_ms, formatDuration));
  lines.push(`  critical path: ${e.critical_path.join(' → ') || '(none)'}`);
  lines.push(`  local ratio: ${Math.round(e.local_ratio * 100)}%`);
  const personal = p.steps.some((s) => s.data === 'personal' || s.data === 'sensitive' || s.data === 'secret');
  lines.push(
    personal
      ? `  privacy score: ${Math.round(e.privacy_score * 100)}% of steps on personal or more sensitive data run on local/edge`
      : `  privacy score: ${Math.round(e.privacy_score * 100)}% (no step touches personal or more sensitive data)`,
  );
  return lines;
}

/** Guardrail verdicts, triggers, flows, sub-plans, consent and the step count. */
function closingText(p: PreviewJson, c: Colors): string[] {
  const lines: string[] = [];
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
  const flowLines = previewFlowsText(p.flows);
  if (flowLines.length) lines.push('', c.bold(flowLines[0]!), ...flowLines.slice(1));
  if (p.subplans.length) {
    lines.push('');
    lines.push(`Sub-plans: ${p.subplans.join(', ')}`);
    // As a step of this plan is printed: a cloud resource makes a local endpoint's step a cloud one.
    for (const m of p.subplan_model_steps ?? [])
      lines.push(`  ${m.step}: ${m.resource ? `on ${m.resource} (${m.tier}), ` : ''}model endpoint ${m.endpoint.name} (${m.endpoint.tier})`);
  }
  if (p.consent.length) {
    lines.push('');
    lines.push(`Consent needed: ${p.consent.join(', ')}`);
  }
  const steps = p.steps.length;
  lines.push('');
  lines.push(`Plan: ${steps} step${steps === 1 ? '' : 's'} in ${p.stages.length} stage${p.stages.length === 1 ? '' : 's'}.`);
  return lines;
}
