/**
 * Checks one plan: declares its steps and `for each` variables, resolves and type-checks every
 * step action (capability calls against `input`, E0202 for unknown/missing arguments with a fix
 * that inserts the missing one, defaults applied), `when`, `after`, `on`, `fallback`,
 * `compensate`, success criteria, output and plan-scoped invariants. Produces `CheckedPlan`, the
 * input of the DAG, placement, estimate and guardrail stages.
 */
import type { Diagnostic, InvariantDecl, StringLit } from '../../language/index.js';
import { diagnostic } from '../../language/index.js';
import type { ExprIR } from '../ir/types.js';
import type { DeclEntry } from '../scope.js';
import { T, classOfType, formatTy, literalItems, maxClass, type Ty } from '../types/ty.js';
import { settleBlockReads } from './block-reads.js';
import type { CheckedPlan, CheckedStep, PlanCheckContext } from './checked-plan.js';
import { declarePlanBody, resolveActions, type DeclaredBody } from './declare-steps.js';
import { checkExpr, type ExprEnv, type ItemInfo, type RootInfo } from './expr.js';
import { checkInvariant, duplicateInvariantNames, RUN_TY } from './invariants.js';
import { expectTy } from './mismatch.js';
import { checkStep, type StepContext } from './step.js';
import { PlanReads } from './step-reads.js';
import { repeatedEntries } from './repeated.js';
import { declareOutputKeys } from './plan-output-keys.js';

/** Plans without loops, invariants or output reads share this empty set. */
const NO_NAMES: ReadonlySet<string> = new Set();
/** Plans without success criteria or invariants of their own share this list (frozen: it lives as long as the compile). */
const NONE = Object.freeze([]) as unknown as never[];

/** The IR of a `for each` list, with the step references it makes (the block's steps make them too). */
type ListReads = { ir: ExprIR; refs: readonly string[]; outputReads: readonly string[]; hard: readonly string[]; skip: readonly string[] };

/** What checking a plan's expressions shares: its scope roots and where they report reads. */
interface PlanScope {
  readonly cx: PlanCheckContext;
  readonly file: string;
  readonly roots: ReadonlyMap<string, RootInfo>;
  readonly body: DeclaredBody;
  readonly tracker: PlanReads;
}

export function checkPlan(entry: DeclEntry<'plan'>, cx: PlanCheckContext): CheckedPlan {
  const { scopes, model, diags } = cx;
  const mod = entry.module;
  const file = mod.file;
  const inputTy = cx.planInput(entry);
  // (set one by one: a Map built from a list of pairs costs the pairs and an iterator, per plan)
  const roots = new Map<string, RootInfo>().set('input', { ty: inputTy, ir: { op: 'var', name: 'input' } }).set('context', cx.contextRoot);

  const body = declarePlanBody(entry, model, diags);
  resolveActions(body, mod, scopes, cx.capability, cx.planOutput);

  let raceBranches: Set<string> | undefined;
  for (const b of body.blockNames.values()) if (b.kind === 'race') for (const id of b.steps) (raceBranches ??= new Set()).add(id);
  const ps: PlanScope = { cx, file, roots, body, tracker: new PlanReads(raceBranches) };
  const listIR = checkForEachLists(ps);
  const untilWaits = checkLoopConditions(ps);
  const steps = checkSteps(ps, entry, listIR, untilWaits);
  settleBlockReads(steps, body.blocks, body.blockNames, diags, file, ps.tracker.readAt);
  const { policy, guardrails, success, output, outputTy, outputUses, invariants, invariantUses } = planProperties(ps, entry);
  misfitFallbacks(steps, [outputUses, invariantUses], diags, file);
  return {
    entry, module: mod, steps, inputTy, policy, guardrails, success, output, outputTy, outputUses, invariants, invariantUses,
    blocks: body.blocks, blockRefs: body.blockNames, loopUses: ps.tracker.loopUses ?? NO_NAMES,
  };
}

/**
 * A fallback's answer stands in for its step's output. One whose type the step's output cannot be
 * is an error where that output is read (by a step, the plan's output or success, an invariant):
 * a fallback that only reports a failure (`fallback notify(…)`) on a step nobody reads is fine.
 */
function misfitFallbacks(steps: readonly CheckedStep[], planReads: readonly Iterable<string>[], diags: Diagnostic[], file: string): void {
  if (!steps.some((s) => s.fallbackMisfit !== null)) return;
  const read = new Set<string>();
  for (const s of steps) for (const id of s.outputReads) read.add(id);
  for (const uses of planReads) for (const id of uses) read.add(id);
  for (const s of steps) {
    if (s.fallbackMisfit === null || !read.has(s.id)) continue;
    const at = s.decl.fallback!.capability;
    diags.push(diagnostic('E0201', `fallback ${at.parts.map((p) => p.name).join('.')} answers ${formatTy(s.fallbackMisfit)}, but what reads step "${s.id}"'s output expects ${formatTy(s.outputTy)}`, file, at.range));
  }
}

/** `for each` lists are typed in the scope around the block; items take the element type. */
function checkForEachLists(ps: PlanScope): Map<string, ListReads> | undefined {
  const { file, roots, body, tracker } = ps;
  const { model, diags } = ps.cx;
  let listIR: Map<string, ListReads> | undefined;
  for (const g of body.groupLists) {
    const r = checkExpr(g.each.list, { file, model, diags, roots, steps: body.stepInfos, items: g.outer, onStep: tracker.onStep, blocks: body.blockNames, inside: g.inside, eachPath: g.eachPath });
    const lt = r.ty.k === 'optional' ? r.ty.inner : r.ty;
    let elem: Ty = T.any;
    if (lt.k === 'list') elem = literalItems(lt) ?? lt.elem;
    else if (lt.k !== 'any' && lt.k !== 'unknown') diags.push(diagnostic('E0201', `"for each" needs a list, not ${formatTy(r.ty)}`, file, g.each.list.range));
    const prev = g.items.get(g.each.item.name)!;
    g.items.set(g.each.item.name, { ty: elem, data: maxClass(r.data, classOfType(elem)), symbol: prev.symbol });
    if (model.recordTypes) model.typeAt(file, g.each.item.range, () => formatTy(elem));
    (listIR ??= new Map()).set(g.group, { ir: r.ir, ...tracker.reads.take() });
    const block = body.blocks.find((b) => b.id === g.group);
    if (block?.forEach) block.forEach = { ...block.forEach, list: r.ir };
  }
  return listIR;
}

/**
 * A loop's `until` is evaluated over one iteration, inside the loop: the steps it reads are loop
 * uses. A step it reads outside the loop is waited for as any read of a step is (§7.1): every step
 * of the loop depends on it, as on what a `for each` list reads, so the condition never reads a step
 * still running (a dependency cycle through it is E0301). Returns those steps by loop.
 */
function checkLoopConditions(ps: PlanScope): Map<string, readonly string[]> | undefined {
  const { file, roots, body, tracker } = ps;
  const { model, diags } = ps.cx;
  let untilWaits: Map<string, readonly string[]> | undefined;
  for (const b of body.blocks) {
    if (b.kind !== 'repeat' || b.decl.kind !== 'RepeatDecl') continue;
    const d = b.decl;
    const { items, eachPath, inside } = body.untilScopes!.get(b)!;
    const r = checkExpr(d.until, { file, model, diags, roots, steps: body.stepInfos, items, onStep: tracker.onStep, onPrevious: tracker.onPrevious, blocks: body.blockNames, inside, eachPath, group: eachPath[eachPath.length - 1] });
    expectTy(r.ty, T.bool, d.until.range, 'until', diags, file);
    b.until = r.ir;
    const refs = tracker.reads.take().refs;
    for (const id of refs) (tracker.loopUses ??= new Set()).add(id);
    const outside = refs.filter((id) => !b.steps.includes(id));
    if (outside.length > 0) (untilWaits ??= new Map()).set(b.id, outside);
  }
  return untilWaits;
}

/** Checks every step in declaration order (its reads: those of its `for each` lists too). */
function checkSteps(ps: PlanScope, entry: DeclEntry<'plan'>, listIR: ReadonlyMap<string, ListReads> | undefined, untilWaits: ReadonlyMap<string, readonly string[]> | undefined): CheckedStep[] {
  const { cx, file, roots, body, tracker } = ps;
  const { model, diags } = cx;
  const { slots, stepInfos, blockNames } = body;
  const reads = tracker.reads;
  // (sized up front: a one-step plan's list would otherwise get room for 17)
  const steps: CheckedStep[] = new Array<CheckedStep>(slots.length);
  // Steps of one `for each` block (or of the plan body) share their expression environment.
  // (The last one is kept apart: a plan without blocks has one environment and needs no map.)
  let envs: Map<ReadonlyMap<string, ItemInfo>, ExprEnv> | undefined;
  let lastEnv: ExprEnv | undefined;
  const stepCx: StepContext = { cx, file, mod: entry.module, plan: entry.node, stepInfos, reads, blockNames };
  for (let si = 0; si < slots.length; si++) {
    const s = slots[si]!;
    const groupInfo = s.group ? listIR?.get(s.group) : undefined;
    // (indexed loops: an iterator a step, where most steps have neither groups nor `after`)
    const eachPath = s.eachPath;
    for (let gi = 0; gi < eachPath.length; gi++) {
      const info = listIR?.get(eachPath[gi]!);
      if (info) reads.addGroup(info);
    }
    if (untilWaits) for (const blockId of s.blocks) {
      const waits = untilWaits.get(blockId);
      if (waits) reads.addGroup({ refs: waits, outputReads: NONE, hard: NONE, skip: NONE });
    }
    let env = lastEnv?.items === s.items ? lastEnv : envs?.get(s.items);
    if (!env || env.inside !== s.inside) {
      env = {
        file, model, diags, roots, steps: stepInfos, group: s.group, items: s.items, onStep: tracker.onStep, typesOnly: cx.typesOnly === true,
        blocks: blockNames, inside: s.inside, eachPath: s.eachPath, onBlock: tracker.onBlock, onPrevious: tracker.onPrevious,
      };
      if (lastEnv && lastEnv.items !== s.items) {
        envs ??= new Map([[lastEnv.items!, lastEnv]]);
      }
      envs?.set(s.items, env);
    }
    lastEnv = env;
    tracker.beginStep(s.id, s.decl.join === 'first');
    const checked = checkStep(s, env, groupInfo?.ir, stepCx);
    const after = s.decl.after;
    for (let ai = 0; ai < after.length; ai++) {
      const a = after[ai]!;
      const blk = blockNames.get(a.name);
      if (blk && !stepInfos.has(a.name) && !s.inside.has(a.name)) tracker.onBlock(blk.id);
    }
    checked.waitsFor = tracker.endStep();
    steps[si] = checked;
  }
  return steps;
}

type PlanProperties = Pick<CheckedPlan, 'policy' | 'guardrails' | 'success' | 'output' | 'outputTy' | 'outputUses' | 'invariants' | 'invariantUses'>;

/** The plan's policy and guardrails, success criteria, output and its own invariants. */
function planProperties(ps: PlanScope, entry: DeclEntry<'plan'>): PlanProperties {
  const { cx, file, roots, body } = ps;
  const { scopes, model, diags } = cx;
  const mod = entry.module;
  const plan = entry.node;
  const policy = plan.policy ? scopes.resolve(mod, plan.policy, 'policy') : undefined;
  // A plan without guardrails (most) shares the empty list.
  let guardrails: DeclEntry<'guardrail'>[] = NONE;
  const listed = plan.guardrails.map((g) => {
    const ge = scopes.resolve(mod, g, 'guardrail');
    if (ge) guardrails = withGuardrail(guardrails, ge);
    return { key: ge?.qualifiedName, range: g.range };
  });
  repeatedEntries(listed, (q, line) => `guardrail "${q.slice(q.lastIndexOf('.') + 1)}" is listed twice in plan ${plan.name.name} (first on line ${line})`, file, diags);
  // Guardrails declared in the plan's own module apply to every plan of it (rules are not opt-in).
  for (const ge of scopes.entries(mod, 'guardrail')) guardrails = withGuardrail(guardrails, ge);

  // A list, not a set: most plans' output reads a step or two, and the plan keeps this to the end of
  // the compile (a set of one is four times the memory). A name read again in a row is not repeated.
  let outputUses: string[] = NONE;
  const planEnv: ExprEnv = {
    file, model, diags, roots, steps: body.stepInfos, blocks: body.blockNames,
    onStep: (id) => {
      if (outputUses === NONE) outputUses = [id];
      else if (outputUses[outputUses.length - 1] !== id) outputUses.push(id);
    },
    // The success criteria's and output's IR is read only when the plan's IR is built.
    typesOnly: cx.typesOnly === true,
  };
  // Labels name the criteria in a run's result: two of one label could not be told apart.
  repeatedEntries(plan.success.map((c) => ({ key: c.label ? labelOf(c.label) : undefined, range: c.label?.range ?? c.range })),
    (label, line) => `duplicate success label "${label}" (first on line ${line})`, file, diags);
  const success = plan.success.length === 0 ? NONE : plan.success.map((c) => {
    const r = checkExpr(c.condition, planEnv);
    expectTy(r.ty, T.bool, c.condition.range, 'success', diags, file);
    return { label: c.label ? labelOf(c.label) : null, condition: r.ir };
  });
  const checkedOutput = plan.output ? checkExpr(plan.output, planEnv) : null;
  const output = checkedOutput?.ir ?? null;
  const outputTy = checkedOutput ? declareOutputKeys(plan.output!, checkedOutput.ty, entry, file, model) : null;

  let invariantUses: Set<string> | undefined;
  let invariants: CheckedPlan['invariants'] = NONE;
  if (plan.body.some((b) => b.kind === 'InvariantDecl')) {
    const invariantDecls = plan.body.filter((b): b is InvariantDecl => b.kind === 'InvariantDecl');
    const invEnv: ExprEnv = {
      ...planEnv,
      typesOnly: false,
      roots: new Map([...roots, ['run', { ty: RUN_TY, ir: { op: 'var', name: 'run' } }]]),
      onStep: (id) => void (invariantUses ??= new Set()).add(id),
    };
    invariants = invariantDecls.map((inv) => checkInvariant(inv, invEnv, diags, file));
    duplicateInvariantNames(invariantDecls, file, diags, false);
  }
  return { policy, guardrails, success, output, outputTy, outputUses, invariants, invariantUses: invariantUses ?? NO_NAMES };
}

function labelOf(label: StringLit): string {
  return label.parts.filter((p) => typeof p === 'string').join('');
}

/** `list` with `ge` added unless present (`NONE` is replaced, never pushed to). */
function withGuardrail(list: DeclEntry<'guardrail'>[], ge: DeclEntry<'guardrail'>): DeclEntry<'guardrail'>[] {
  if (list === NONE) return [ge];
  if (!list.includes(ge)) list.push(ge);
  return list;
}
