/**
 * The `emit-ir` stage (`orch compile`; `orch check` stops before it): the plan's IR,
 * `orch.plan/v3` (../ir/types.ts), from the facts the stages before it added — the capabilities
 * and resources the steps use, the steps in DAG order with their bindings and estimates, the
 * blocks, consent scopes, estimates, guardrail verdicts, invariants and sub-plans.
 */
import { dirname, relative, resolve, sep } from 'node:path';
import type { Expr, PlanDecl } from '../../language/index.js';
import type { CapabilityInfo } from '../check/capability.js';
import type { CheckedPlan, CheckedStep } from '../check/checked-plan.js';
import { ms } from '../check/lower.js';
import type { BindingIR, BlockIR, CapabilityIR, PlanIR, ResourceIR, SimulateIR, StepIR } from '../ir/types.js';
import { IR_VERSION } from '../ir/types.js';
import { round6 } from '../money.js';
import { toJsonSchema } from '../types/json-schema.js';
import { outputRelabels, stepFlowFields, subplanLabels, untilRelabels, type FlowStep, type StepFlowFields } from './flow-ir.js';
import { inputFieldLabels, type FieldLabel } from './flow-labels.js';
import type { PlanFacts } from './plan-facts.js';

function inputLabels(f: PlanFacts): Map<string, FieldLabel> {
  return inputFieldLabels(f.plan.input?.fields ?? [], f.cp.inputTy);
}

export function emitIR(f: PlanFacts): void {
  const { cp, cx, plan, file, dag } = f;
  const baseDir = dirname(resolve(file));
  const capabilities = capabilitiesOf(f, baseDir);
  const resources: Record<string, ResourceIR> = {};
  for (const r of cx.resources) {
    const { energy: _energy, accepts: _accepts, ...ir } = r;
    resources[r.name] = ir;
  }
  const simulations: Record<string, SimulateIR> = {};
  for (const name of Object.keys(capabilities)) {
    const sim = cx.simulations.get(name);
    if (sim) simulations[name] = sim;
  }
  const blocks = cp.blocks.map((b) => blockIR(b, f));
  f.ir = {
    version: IR_VERSION,
    plan: plan.name.name,
    module: cp.module.name,
    goal: plan.goal ? plan.goal.parts.filter((p) => typeof p === 'string').join('') : null,
    base_dir: baseDir,
    source_file: resolve(file),
    input: toJsonSchema(cp.inputTy, true, literalDefaults(plan)),
    context: toJsonSchema(cx.contextTy, false),
    ...(Object.keys(cx.contextSignals).length > 0 ? { context_signals: cx.contextSignals } : {}),
    ...(Object.keys(cx.contextSources).length > 0 ? { sources: cx.contextSources } : {}),
    policy: f.policy,
    priority: ({ critical: 0, high: 1, normal: 2, low: 3, info: 4 } as const)[plan.priority ?? 'normal'],
    deadline_ms: ms(plan.deadline),
    concurrency: plan.concurrency ? Math.max(1, Math.floor(plan.concurrency.value)) : null,
    on_failure: plan.onFailure ?? 'abort',
    capabilities,
    resources,
    steps: stepIRs(f, blocks),
    stages: dag.stages.map((st) => [...st]),
    blocks,
    consent: consentOf(capabilities, f.subplans),
    estimates: {
      cost: round6(f.cost), duration_ms: f.duration, cost_max: round6(f.costMax), duration_ms_max: f.durationMax,
      critical_path: [...(f.criticalPath ?? dag.criticalPath)], local_ratio: f.localRatio,
    },
    guardrails: f.guardrails,
    success: cp.success,
    output: cp.output,
    ...outputRelabels(f),
    invariants: [...cp.invariants, ...(cx.topInvariants.get(cp) ?? [])],
    simulations,
    subplans: f.subplans,
  };
}

/** The capabilities the steps and their fallback and compensate calls use, handlers relative to `baseDir`. */
function capabilitiesOf(f: PlanFacts, baseDir: string): Record<string, CapabilityIR> {
  const capabilities: Record<string, CapabilityIR> = {};
  const addCap = (info: CapabilityInfo | undefined): void => {
    if (!info || capabilities[info.name]) return;
    const h = info.ir.handler;
    capabilities[info.name] = h && 'module' in h ? { ...info.ir, handler: { module: relativeModule(baseDir, h.module), export: h.export } } : info.ir;
  };
  for (const s of f.steps) {
    addCap(s.capability);
    for (const c of [s.fallback, s.compensate]) if (c) addCap(f.cx.capabilityByName(c.capability));
  }
  return capabilities;
}

/** The steps in DAG order, each with its §9.3 fields when the flow analysis ran and labelled it. */
function stepIRs(f: PlanFacts, blocks: BlockIR[]): StepIR[] {
  const { steps, dag } = f;
  const indexOf = new Map<string, number>();
  steps.forEach((s, i) => indexOf.set(s.id, i));
  const flows = f.flows ? stepFlowFields(flowSteps(steps, indexOf, dag.order), blocks, f.flows, inputLabels(f)) : null;
  return dag.order.map((id) => {
    const i = indexOf.get(id)!;
    const b = f.bindings[i] ?? { resource: null, tier: null, rationale: 'unplaced', fallbacks: [] };
    return stepIR(steps[i]!, b, f.callBindings.get(id) ?? {}, [...f.depsOf[i]!], { cost: f.costs[i]!, duration_ms: f.durations[i]! }, dag.stageOf.get(id)!, withSubplanLabels(f, steps[i]!, flows?.get(id)));
  });
}

/** A `run` step's flow fields with the labels its arguments give the sub-plan's steps. */
function withSubplanLabels(f: PlanFacts, s: CheckedStep, fields: StepFlowFields | undefined): StepFlowFields | undefined {
  const given = f.flows?.given?.get(s.id);
  const sub = s.action.type === 'run' ? f.subplans[s.action.plan] : undefined;
  if (!fields || !given || !sub) return fields;
  const labels = subplanLabels(sub, given);
  return labels.subplan_labels ? { ...fields, ...labels } : fields;
}

/** What the flow analysis reads of each step, as its IR will hold it, in DAG order. */
function* flowSteps(steps: readonly CheckedStep[], indexOf: ReadonlyMap<string, number>, order: readonly string[]): Generator<FlowStep> {
  for (const id of order) {
    const s = steps[indexOf.get(id)!]!;
    yield { id: s.id, args: irArgs(s), for_each: s.forEach, action: s.action };
  }
}

const irArgs = (s: CheckedStep): StepIR['args'] => (s.action.type === 'call' ? s.args : {});

function literalDefaults(plan: PlanDecl): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const f of plan.input?.fields ?? []) {
    const value = f.default ? literalValue(f.default) : NOT_LITERAL;
    if (value !== NOT_LITERAL) out.set(f.name.name, value);
  }
  return out;
}

const NOT_LITERAL = Symbol('not a literal');

/** The JSON value of a literal default (`3`, `"a"`, `[]`, `{ k: [1, 2] }`), or NOT_LITERAL. */
function literalValue(e: Expr): unknown {
  switch (e.kind) {
    case 'NumberLit':
    case 'BoolLit':
      return e.value;
    case 'NullLit':
      return null;
    case 'StringLit':
      return e.parts.every((p) => typeof p === 'string') ? e.parts.join('') : NOT_LITERAL;
    case 'ParenExpr':
      return literalValue(e.inner);
    case 'ListLit': {
      const items = e.items.map(literalValue);
      return items.includes(NOT_LITERAL) ? NOT_LITERAL : items;
    }
    case 'RecordLit': {
      const fields = e.fields.map((f) => [f.key.name, literalValue(f.value)] as const);
      return fields.some(([, v]) => v === NOT_LITERAL) ? NOT_LITERAL : Object.fromEntries(fields);
    }
    default:
      return NOT_LITERAL;
  }
}

function relativeModule(baseDir: string, abs: string): string {
  const rel = relative(baseDir, abs).split(sep).join('/');
  return rel.startsWith('.') || rel.startsWith('/') ? rel : `./${rel}`;
}

function stepIR(
  s: CheckedStep, binding: StepIR['binding'], calls: { fallback?: BindingIR; compensate?: BindingIR }, deps: string[], est: { cost: number; duration_ms: number }, stage: number,
  flow: StepFlowFields | undefined,
): StepIR {
  // One literal, the flow fields spread last: a spread *of* a finished step (`{ ...ir, labels }`)
  // would give each step a hidden class of its own on Node 20 (flow-ir.ts).
  return {
    id: s.id,
    capability: s.capability?.name ?? null,
    // (a call's action is one frozen object shared by the checked steps: the IR gets its own)
    action: s.action.type === 'call' ? { type: 'call' } : s.action,
    args: irArgs(s),
    deps,
    after: [...s.after].sort(),
    resource: binding.resource,
    binding,
    timeout_ms: s.action.type === 'wait_until' ? s.action.timeout_ms : s.timeout_ms,
    retry: s.retry,
    when: s.when,
    join: s.join,
    skip_if_skipped: sortedIds(s.skipIfSkipped, (x) => x !== s.id),
    soft_reads: sortedIds(s.outputReads, (x) => x !== s.id && !s.hardReads.includes(x)),
    blocks: [...s.blocks],
    waits_for: [...s.waitsFor].sort(),
    on_failure: s.on_failure,
    priority: s.priority,
    for_each: s.forEach,
    fallback: s.fallback && calls.fallback ? { ...s.fallback, binding: calls.fallback } : s.fallback,
    compensate: s.compensate && calls.compensate ? { ...s.compensate, binding: calls.compensate } : s.compensate,
    data: s.data,
    kind: s.kind,
    estimates: { cost: round6(est.cost), duration_ms: est.duration_ms },
    stage,
    ...flow,
  };
}

/**
 * The ids `keep` keeps, sorted, in an array as long as they are: `filter`'s array keeps room for
 * 17, and an IR lives as long as its run (~130 bytes a step of a 100,000-step run).
 */
function sortedIds(ids: readonly string[], keep: (id: string) => boolean): string[] {
  const out = ids.filter(keep);
  return (out.length === 0 ? out : out.slice()).sort();
}

function blockIR(b: CheckedPlan['blocks'][number], f: PlanFacts): BlockIR {
  switch (b.kind) {
    case 'for_each': {
      const fe = b.forEach!;
      return { type: 'for_each', id: b.id, parent: b.parent, item: fe.item, list: fe.list, parallel: fe.parallel };
    }
    case 'race':
      return { type: 'race', id: b.id, parent: b.parent, branches: [...b.steps] };
    case 'repeat':
      return { type: 'repeat', id: b.id, parent: b.parent, max: b.max ?? 1, until: b.until ?? { op: 'lit', value: true }, on_failure: b.onFailure ?? 'abort', steps: [...b.steps], ...untilRelabels(f, b.id) };
  }
}

/** Every consent scope a run may need: its capabilities (fallbacks and compensations included) and its sub-plans'. */
function consentOf(capabilities: Record<string, CapabilityIR>, subplans: Record<string, PlanIR>): string[] {
  const out = new Set<string>();
  for (const c of Object.values(capabilities)) for (const scope of c.consent) out.add(scope);
  for (const sp of Object.values(subplans)) for (const scope of sp.consent ?? []) out.add(scope);
  return [...out].sort();
}
