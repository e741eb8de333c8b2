/**
 * Checks one step of a plan: its action (a capability call's or run plan's arguments, a wait's
 * duration, a wait until's condition), `when`, `after`, `on`, `fallback` and `compensate`.
 */
import type { CapabilityCall, DataClass, Diagnostic, QualifiedName, Range, StepDecl } from '../../language/index.js';
import { diagnostic } from '../../language/index.js';
import type { CallIR, CapabilityKindIR, ExprIR, StepActionIR } from '../ir/types.js';
import type { LoadedModule } from '../loaded-module.js';
import { closest } from '../suggest.js';
import { T, assignable, formatTy, maxClass, type Ty } from '../types/ty.js';
import { approvalArgWarnings } from './approval-args.js';
import { checkArgs } from './call-args.js';
import { channelWarnings } from './channels.js';
import type { CheckedStep, PlanCheckContext } from './checked-plan.js';
import type { StepSlot } from './declare-steps.js';
import { checkExpr, type BlockRefInfo, type ExprEnv, type StepRefInfo } from './expr.js';
import { secretArgsToModel } from './llm.js';
import { NO_RETRY, PRIORITY_INDEX, ms, retryIR } from './lower.js';
import { expectTy } from './mismatch.js';
import type { StepReads } from './step-reads.js';
import { repeatedEntries } from './repeated.js';
import { builtinOf } from '../ir/builtin.js';
import type { PlanDecl } from '../../language/index.js';

/** The action of every capability-call step (read-only: shared). */
const CALL_ACTION: StepActionIR = Object.freeze({ type: 'call' });
const NO_AFTER = Object.freeze([]) as unknown as string[];

/** What checking one step needs of its plan (one object per plan, not per step). */
export interface StepContext {
  readonly cx: PlanCheckContext;
  readonly file: string;
  readonly mod: LoadedModule;
  readonly plan: PlanDecl;
  readonly stepInfos: ReadonlyMap<string, StepRefInfo>;
  readonly reads: StepReads;
  /** `race`/`repeat` names: `after NAME` waits for the block. */
  readonly blockNames: ReadonlyMap<string, BlockRefInfo>;
}

/**
 * Checks one step's action, `when`, `after`, `on`, `fallback` and `compensate`. A function of its
 * own (not the body of checkPlan's loop) so a 10k-step plan runs it optimized after a few calls.
 * `groupList`: the IR of the step's `for each` list, if it is in one.
 */
export function checkStep(s: StepSlot, env: ExprEnv, groupList: ExprIR | undefined, sc: StepContext): CheckedStep {
  const { cx, file, mod, plan, stepInfos, reads } = sc;
  const { scopes, model, diags } = cx;
  const d = s.decl;
  const id = d.name.name;
  let ownData: DataClass = 'public';
  let action: StepActionIR = CALL_ACTION;
  let args: Record<string, ExprIR> = {};
  let waitMs: number | null = null;
  const cap = s.capability;
  const runPlan = s.runPlan;
  const a = d.action;
  if (a.kind === 'CapabilityCall') {
    if (cap && !cap.baseless) {
      const r = checkArgs(a, cap.input, cap.defaults, env, cap.entry, a.capability.range);
      args = r.args;
      ownData = r.data;
      const builtin = builtinOf(cap.ir);
      channelWarnings(builtin, a, file, diags);
      approvalArgWarnings(builtin, a, file, diags);
      secretArgsToModel(cap.ir, a, file, diags);
    } else for (const arg of a.args) checkExpr(arg.value, env);
  } else if (a.kind === 'WaitAction') {
    // The duration's IR feeds the estimates (a literal wait is its duration): always built.
    const r = checkExpr(a.duration, env.typesOnly ? { ...env, typesOnly: false } : env);
    expectTy(r.ty, T.duration, a.duration.range, 'wait', diags, file);
    action = { type: 'wait', duration_ms: r.ir };
    if (r.ir.op === 'lit' && typeof r.ir.value === 'number') waitMs = r.ir.value;
    // Time only passes forward: `wait -5s` is a value out of range (as in check/bounds.ts). Only a
    // literal is judged; a computed duration is the run's.
    const negated = r.ir.op === 'neg' && r.ir.arg.op === 'lit' && typeof r.ir.arg.value === 'number' && r.ir.arg.value > 0;
    if (negated || (waitMs !== null && waitMs < 0)) diags.push(diagnostic('E0201', 'a wait lasts 0s or longer: time only passes forward', file, a.duration.range));
  } else if (a.kind === 'WaitUntilAction') {
    const r = checkExpr(a.condition, env);
    expectTy(r.ty, T.bool, a.condition.range, 'wait until', diags, file);
    // `timeout` among the step's options is the wait's own, as after the condition (the IR keeps
    // one): written in both places it is given twice.
    if (a.timeout && d.timeout) diags.push(diagnostic('E0102', `'timeout' is given twice in step '${id}' (after "wait until" and among its options)`, file, d.timeout.range));
    action = { type: 'wait_until', condition: r.ir, timeout_ms: ms(a.timeout ?? d.timeout) };
  } else {
    let planArgs: Record<string, ExprIR> = {};
    if (runPlan) {
      const inTy = cx.planInput(runPlan);
      if (inTy.k === 'record') {
        const r = checkArgs(a, inTy, new Map(), env, runPlan, a.plan.range);
        planArgs = r.args;
        ownData = r.data;
      }
    } else for (const arg of a.args) checkExpr(arg.value, env);
    // Keyed by its IR name: `run x.sub()` and `run y.sub()` do not both run one `sub`.
    action = { type: 'run', plan: runPlan ? cx.scopes.irName(runPlan) : partsOf(a.plan), args: planArgs };
  }
  if (a.kind === 'WaitAction' || a.kind === 'WaitUntilAction') waitOptions(d, a.kind === 'WaitAction', file, diags);
  let when: ExprIR | null = null;
  if (d.when) {
    // Built where guardrails may compare it (PlanCheckContext.conditionsIR), placeholder or not.
    const r = checkExpr(d.when, env.typesOnly && cx.conditionsIR !== false ? { ...env, typesOnly: false } : env);
    expectTy(r.ty, T.bool, d.when.range, 'when', diags, file);
    when = r.ir;
  }
  // Most steps have no `after`: those share one frozen empty list (it lives as long as the compile).
  let after: string[] = NO_AFTER;
  // A name given twice is most likely a typo for another step; the run would wait on it once.
  if (d.after.length > 1)
    repeatedEntries(d.after.map((a) => ({ key: a.name, range: a.range })), (n, line) => `"${n}" is listed twice in after (first on line ${line})`, file, diags);
  for (let k = 0; k < d.after.length; k++) {
    const ai = d.after[k]!;
    const target = stepInfos.get(ai.name);
    const blockTarget = target ? undefined : sc.blockNames.get(ai.name);
    if (blockTarget) {
      model.refer(file, ai.range, blockTarget.symbol);
      continue;
    }
    if (!target) {
      const best = closest(ai.name, [...stepInfos.keys(), ...sc.blockNames.keys()]);
      diags.push(diagnostic('E0101', `unknown step "${ai.name}" in after${best ? `; did you mean "${best}"?` : ''}`, file, ai.range,
        best ? { fixes: [{ title: `Change to "${best}"`, edits: [{ file, range: ai.range, newText: best }] }] } : {}));
      continue;
    }
    model.refer(file, ai.range, target.symbol);
    if (after === NO_AFTER) after = [ai.name];
    else if (!after.includes(ai.name)) after.push(ai.name);
  }
  const pinned = d.on ? scopes.resolve(mod, d.on, 'resource') : undefined;
  const fallback = d.fallback ? checkCall(d.fallback, env, cx, mod) : null;
  // A compensation runs only once its step completed: its own output (`undo(id: send.output.id)`)
  // is there to read, and no dependency of the step on itself.
  const compensate = d.compensate ? checkCall(d.compensate, env.onStep ? { ...env, onStep: (sid, ...rest) => sid !== id && env.onStep!(sid, ...rest) } : env, cx, mod) : null;
  if (fallback) ownData = maxClass(ownData, fallback.data);
  const kind: CapabilityKindIR | null = cap ? cap.ir.kind : null;
  const capTimeout = cap ? cap.ir.timeout_ms : null;
  const { refs, outputReads, hard, skip } = reads.take();
  const checked: CheckedStep = {
    id, decl: d, symbol: s.declared, capability: cap, runPlan, action, args, ownData, data: ownData, outputReads, refs,
    after, skipIfSkipped: skip, hardReads: hard, when,
    forEach: s.forEach && groupList ? { ...s.forEach, list: groupList } : s.forEach,
    // (checkSteps sets waitsFor once the step's reads are known)
    blocks: s.blocks, eachPath: s.eachPath, waitsFor: NO_AFTER,
    fallback: fallback?.call ?? null, compensate: compensate?.call ?? null, pinned,
    fallbackMisfit: fallback && !assignable(fallback.output, s.outputTy) ? fallback.output : null,
    timeout_ms: ms(d.timeout) ?? capTimeout,
    retry: retryIR(d.retry, cap ? cap.ir.retry : NO_RETRY),
    join: d.join ?? 'none_failed',
    on_failure: d.onFailure ?? 'abort',
    priority: PRIORITY_INDEX[d.priority ?? plan.priority ?? 'normal'],
    kind, outputTy: s.outputTy, waitMs, itemCount: s.itemCount, itemWaves: s.itemWaves,
  };
  if (model.recordTypes) model.typeAt(file, d.name.range, () => `step ${id}: ${cap ? cap.entry.node.name.name : action.type} → ${formatTy(s.outputTy)}`);
  return checked;
}

function partsOf(q: QualifiedName): string {
  return q.parts.map((p) => p.name).join('.');
}

function checkCall(call: CapabilityCall, env: ExprEnv, cx: PlanCheckContext, mod: LoadedModule): { call: CallIR; data: DataClass; output: Ty } | null {
  const ce = cx.scopes.resolve(mod, call.capability, 'capability');
  if (!ce) {
    for (const a of call.args) checkExpr(a.value, env);
    return null;
  }
  const info = cx.capability(ce);
  if (info.baseless) {
    for (const a of call.args) checkExpr(a.value, env);
    return null;
  }
  const r = checkArgs(call, info.input, info.defaults, env, ce, call.capability.range);
  secretArgsToModel(info.ir, call, env.file, env.diags);
  return { call: { capability: info.name, args: r.args }, data: r.data, output: info.output };
}

/**
 * Options a `wait` step would silently ignore: it makes no call, so nothing is retried and there
 * is nothing to fall back from, and `wait D` ends by itself (a `wait until` takes `timeout`).
 */
function waitOptions(d: StepDecl, plainWait: boolean, file: string, diags: Diagnostic[]): void {
  const refuse = (what: string, why: string, range: Range) => diags.push(diagnostic('E0201', `'${what}' does not apply to a wait step: ${why}`, file, range));
  if (plainWait && d.timeout) refuse('timeout', 'it ends after its duration (write a shorter wait)', d.timeout.range);
  if (d.retry) refuse('retry', 'it makes no call that could be tried again', d.retry.range);
  if (d.fallback)
    refuse('fallback', 'it makes no call to fall back from (for what to do when a wait until times out, add a step after it that reads its .status)', d.fallback.range);
}
