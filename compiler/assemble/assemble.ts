/**
 * The `assemble` stage of the program: a plan's stages run over each checked plan, the plans a
 * plan runs first (their estimates feed its `run` steps; a sub-plan cycle is E0301). A compiled
 * plan is `ok` when neither its check nor its stages reported an error, nor did any of its
 * guardrails' or sub-plans' (the IR embeds them).
 */
import { diagnostic } from '../../language/index.js';
import type { CheckedPlan } from '../check/checked-plan.js';
import type { PlanIR } from '../ir/types.js';
import { round6 } from '../money.js';
import type { ProgramFacts } from '../program-facts.js';
import type { DeclEntry } from '../scope.js';
import { runStages, type Stage } from '../stages.js';
import { checkBudgets } from './budgets.js';
import { collectBoundResources } from './bound-resources.js';
import { propagateDataClasses } from './data-classes.js';
import { orderSteps } from './dag.js';
import { contextLabels, type ContextField } from './context-labels.js';
import type { FieldLabel } from './flow-labels.js';
import { analyzeFlows } from './flows.js';
import { emitIR } from './emit-ir.js';
import { estimatePlan, estimateSteps } from './estimates.js';
import { placeSteps } from './placement.js';
import { PlanFacts, type AssembleContext, type AssembledFacts, type CompiledPlan, type Estimate } from './plan-facts.js';
import { judgeGuardrails, proveGuardrails } from './proofs.js';

/** A plan's stages in `orch check`: everything that can report a diagnostic. */
export const PLAN_CHECK_STAGES: readonly Stage<PlanFacts>[] = [
  { name: 'subplans', run: assembleSubplans },
  { name: 'placement', run: placeSteps },
  { name: 'step-estimates', run: estimateSteps },
  { name: 'dag', run: orderSteps },
  { name: 'data-classes', run: propagateDataClasses },
  { name: 'estimates', run: estimatePlan },
  { name: 'proofs', run: proveGuardrails },
  // After proofs: a guardrail may have moved a step off a forbidden resource.
  { name: 'flows', run: analyzeFlows },
  // After both: the estimates, tiers and costs of a step they moved are its new resource's.
  { name: 'verdicts', run: judgeGuardrails },
  { name: 'budgets', run: checkBudgets },
  { name: 'bound-resources', run: collectBoundResources },
];

/** A plan's stages in a compile: the IR too (nothing after the check stages reports a diagnostic). */
export const PLAN_COMPILE_STAGES: readonly Stage<PlanFacts>[] = [...PLAN_CHECK_STAGES, { name: 'emit-ir', run: emitIR }];

/**
 * A plan whose error was reported outside its own check has no IR either: a call of a tool whose
 * `import mcp` failed (reported at the import) has no capability, and a race of one branch
 * (reported by the parser, which counts for no plan) has too few branches for the IR's schema.
 */
function lacksIrParts(cp: CheckedPlan): boolean {
  return cp.steps.some((s) => s.action.type === 'call' && !s.capability && !s.runPlan) || cp.blocks.some((b) => b.kind === 'race' && b.steps.length < 2);
}

export function assemblePlans(f: ProgramFacts): void {
  const { diags, memo, useLog } = f;
  const inProgress: DeclEntry<'plan'>[] = [];
  const compilePlan = (e: DeclEntry<'plan'>): CompiledPlan | undefined => {
    const done = f.compiled.get(e);
    if (done) return done;
    const cp = f.checked.get(e);
    if (!cp) return undefined;
    if (inProgress.includes(e)) return undefined;
    inProgress.push(e);
    const before = diags.length;
    const assembled = assemblePlan(cp, cx);
    inProgress.pop();
    const ok =
      assembled !== undefined && f.errorsSince(before) === 0 && (f.planErrors.get(e) ?? 0) === 0 &&
      cp.guardrails.every((g) => f.guardrails.get(g)!.ok) && cp.steps.every((s) => !s.runPlan || f.compiled.get(s.runPlan)?.ok === true) &&
      !lacksIrParts(cp);
    const c: CompiledPlan = { checked: cp, ir: assembled?.ir, assembled: assembled?.facts, ok };
    f.compiled.set(e, c);
    return c;
  };
  // A `run` step is asked for its sub-plan again by later stages and by its parents (whose rules
  // reach into sub-plans), when less of the cycle is in progress: the first time names the cycle.
  const cycleAt = new Set<string>();
  const cx = assembleContext(
    f,
    (target, range, file) => {
      if (inProgress.includes(target)) {
        const at = `${file}\u0000${range.start.offset}`;
        if (cycleAt.has(at)) return undefined;
        cycleAt.add(at);
        const cycle = [...inProgress.slice(inProgress.indexOf(target)), target].map((p) => p.node.name.name);
        diags.push(diagnostic('E0301', `sub-plan cycle: ${cycle.join(' → ')}`, file, range));
        return undefined;
      }
      return compilePlan(target);
    },
    (target) => (inProgress.includes(target) ? undefined : compilePlan(target)),
  );
  for (const e of f.checked.keys()) {
    memo?.start(diags, useLog);
    const c = compilePlan(e);
    memo?.end(e.module.file, e.node, diags, useLog, c?.assembled?.boundResources);
  }
}

/** What a plan's stages read of the program (every capability and plan is checked by now). */
export function assembleContext(f: ProgramFacts, subplan: AssembleContext['subplan'], assembled: AssembleContext['assembled']): AssembleContext {
  const triggers = triggersOf(f);
  const byName = f.capabilities.byName();
  return {
    checkOnly: f.checkOnly, diags: f.diags, resources: f.resources, policies: f.policies, guardrails: f.guardrails, money: f.money,
    topInvariants: f.topInvariants, simulations: f.simulations, contextTy: f.contextRoot.ty, contextSignals: f.contextSignals, contextSources: f.contextSources, flowContext: programContextLabels(f),
    capabilityByName: (name) => byName.get(name),
    resourceByName: new Map(f.resources.map((r) => [r.name, r])),
    placements: new Map(),
    subplan,
    runTargets: runTargets(f.checked.values()),
    triggersOf: triggers.of,
    watched: triggers.watched,
    assembled,
    timer: f.opts.timer,
  };
}

function runTargets(plans: Iterable<CheckedPlan>): Set<DeclEntry<'plan'>> {
  const out = new Set<DeclEntry<'plan'>>();
  for (const cp of plans) {
    const steps = cp.steps;
    for (let i = 0; i < steps.length; i++) if (steps[i]!.runPlan) out.add(steps[i]!.runPlan!);
  }
  return out;
}

/**
 * The triggers with a `with { … }` or a `when` condition, by the plan they start (an unknown plan
 * is E0701, reported by the trigger check), and the plans `after` triggers with a `with` watch.
 */
function triggersOf(f: ProgramFacts): { of: AssembleContext['triggersOf']; watched: Set<DeclEntry<'plan'>> } {
  type Entry = ReturnType<AssembleContext['triggersOf']>[number];
  const by = new Map<DeclEntry<'plan'>, Entry[]>();
  const watched = new Set<DeclEntry<'plan'>>();
  for (const m of f.program.modules) {
    if (m.std) continue;
    for (const e of f.scopes.entries(m, 'trigger')) {
      const src = e.node.source;
      if (!e.node.with && src.kind !== 'ConditionSource') continue;
      const plan = f.scopes.lookup(m, 'plan', e.node.plan.parts.map((p) => p.name));
      if (!plan) continue;
      const watches = src.kind === 'ChainSource' && e.node.with ? f.scopes.lookup(m, 'plan', src.plan.parts.map((p) => p.name)) : undefined;
      if (watches) watched.add(watches);
      by.set(plan, [...(by.get(plan) ?? []), { trigger: e.node, file: m.file, ...(watches ? { watches } : {}) }]);
    }
  }
  return { of: (e) => by.get(e) ?? [], watched };
}

/** Undefined when the plan has a dependency cycle (reported); `ir` is undefined in check-only mode. */
function assemblePlan(cp: CheckedPlan, cx: AssembleContext): { ir: PlanIR | undefined; facts: AssembledFacts } | undefined {
  const f = new PlanFacts(cp, cx);
  if (!runStages(cx.checkOnly ? PLAN_CHECK_STAGES : PLAN_COMPILE_STAGES, f, cx.timer)) return undefined;
  return { ir: f.ir, facts: { estimates: { cost: round6(f.cost), duration_ms: f.duration }, boundResources: f.boundResources, guard: f.guardFacts, ledger: f.ledger } };
}

/** The `subplans` stage: the plans the `run` steps run, assembled first; their estimates feed those steps'. */
function assembleSubplans(f: PlanFacts): void {
  const { steps } = f;
  if (!steps.some((s) => s.runPlan)) return;
  const subEstimates = new Map<string, Estimate>();
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    if (!s.runPlan || s.decl.action.kind !== 'RunAction') continue;
    const sub = f.cx.subplan(s.runPlan, s.decl.action.plan.range, f.file);
    if (sub?.assembled) {
      // Keyed as the step names it (a plan of a name taken first is qualified: check/step.ts).
      if (sub.ir && s.action.type === 'run') f.subplans[s.action.plan] = sub.ir;
      subEstimates.set(s.id, { cost: sub.assembled.estimates.cost, duration_ms: sub.assembled.estimates.duration_ms });
      if (sub.assembled.guard) f.subGuards.set(s.id, sub.assembled.guard);
    }
  }
  f.subEstimates = subEstimates;
}


/** The labels of every `context` field of the program's modules (§9.3: `@untrusted` context is a source). */
function programContextLabels(f: ProgramFacts): ReadonlyMap<string, FieldLabel> {
  const fields: ContextField[] = [];
  for (const m of f.program.modules)
    for (const d of m.ast.declarations) if (d.kind === 'ContextDecl') for (const field of d.fields) fields.push({ field, file: m.file });
  return contextLabels(fields, f.contextRoot.ty);
}
