/**
 * The `flows` stage (LANGUAGE.md §9.3): every value's class and integrity followed along the DAG
 * — arguments, `when`, interpolation, records and lists, `for each` items, race/repeat names,
 * `??`, fallbacks, compensations and sub-plans — and the two rules proved: an untrusted value never
 * reaches a sink that needs trust (E0902), a value never reaches a place, capability or channel
 * below its class (E0903). Each finding names its witness path, and each hop's position is
 * related information. `"flows": "warn"` in orch.config makes them warnings for one release.
 */
import type { CapabilityCall, DataClass, Diagnostic, Expr, Fix, Ident, Range, RepeatDecl } from '../../language/index.js';
import { diagnostic } from '../../language/index.js';
import type { CapabilityInfo } from '../check/capability.js';
import type { CheckedPlan, CheckedStep } from '../check/checked-plan.js';
import type { BindingIR } from '../ir/types.js';
import { flowsWarn, projectConfigFor } from '../project-config.js';
import { classOfType, untrustedInType } from '../types/ty.js';
import {
  BLOCK_COUNTS, BOTTOM, exprLabel, inputFieldLabels, join, pathHops, pathText, rank, unwitnessed,
  type FieldLabel, type FlowFinding, type GivenFlows, type Label, type LabelEnv, type Path, type PlanFlows, type Relabel, type StepLabel,
} from './flow-labels.js';
import { estimateAgain } from './estimates.js';
import { fallbacksFor, placeForClass } from './flow-placement.js';
import { channelExternal, declaredFlow, endorses, mcpAccepts, needsTrust, placeAccepts, stdSink, untrustedSource } from './flow-sinks.js';
import { builtinOf } from '../ir/builtin.js';
import { whenNeedsTrust } from '../ir/when-sink.js';
import type { CallBindings, PlanFacts } from './plan-facts.js';

/**
 * What a plan's analysis needs again when another plan runs it as a sub-plan. Only plans a `run`
 * step names are kept: holding every plan's facts to the end of the compile kept ~1 KB per small
 * plan alive (~110 MB of a 10 MB file of them), which the collector copied and marked for nothing.
 */
interface PlanFlowInfo {
  readonly f: PlanFacts;
}
const infos = new WeakMap<CheckedPlan, PlanFlowInfo>();


/** The stage: the plan analysed with its inputs as declared; its findings reported. */
export function analyzeFlows(f: PlanFacts): void {
  if (f.cx.runTargets.has(f.cp.entry) || f.cx.watched.has(f.cp.entry)) infos.set(f.cp, { f });
  // What the triggers that start it bring in (§9.1's paths in), whatever the plan's own labels.
  let started = startedFindings(f, !f.cx.checkOnly);
  if (f.cx.checkOnly && started.length > 0) started = startedFindings(f, true);
  // A check reads only the findings and the bindings the analysis may move: a plan where no value
  // can carry a label has neither (every label is ⊥), so its walk is skipped. A compile walks it
  // all the same — the IR records each step's labels.
  if (f.cx.checkOnly && !mayCarryLabels(f)) return report(f, started);
  const input = inputFieldLabels(f.plan.input?.fields ?? [], f.cp.inputTy, f.file);
  const before = f.bindings.slice();
  // A check walks the plan without witness paths first (flow-labels.ts `UNREAD`): only the findings
  // need them, and most plans have none. A walk that finds one is done again with them, from the
  // bindings it started with — what it moves, as whether it finds, follows from the labels' classes
  // and trust alone, which the two walks compute alike.
  let flows = planFlows(f, input, true, !f.cx.checkOnly);
  if (f.cx.checkOnly && flows.findings.length > 0) {
    for (let i = 0; i < before.length; i++) f.bindings[i] = before[i]!;
    flows = planFlows(f, input, true, true);
  }
  // Only the IR reads the labels again (a check's would be kept to the end of the plan's stages for nothing).
  if (!f.cx.checkOnly) f.flows = flows;
  // A step moved where its class may go costs and takes what its new resource does (the preview's estimates, the IR's, the budgets').
  if (f.bindings.some((b, i) => b !== before[i])) {
    estimateAgain(f);
  }
  report(f, [...flows.findings, ...started]);
}

/**
 * Each step's class as §9.3 defines it (the `step.data` guardrails read), by step index: the
 * highest of its capability's `data`, what its arguments read and its output fields' classes — a
 * read of a step's output carrying that step's, lowered by `declassify` — as the flows stage
 * labels it. Undefined where no value of the plan can carry a class or distrust.
 */
export function stepDataClasses(f: PlanFacts): (DataClass | undefined)[] | undefined {
  if (!mayCarryLabels(f)) return undefined;
  const flows = planFlows(f, inputFieldLabels(f.plan.input?.fields ?? [], f.cp.inputTy, f.file), false, false);
  return f.cp.steps.map((s) => {
    const out = flows.step(s.id)?.cls;
    const read = flows.read(s.id)?.cls;
    // A `run` step's output is its sub-plan's; what it handles includes what it passes in.
    return out === undefined || read === undefined || rank(out) >= rank(read) ? out : read;
  });
}

function report(f: PlanFacts, findings: readonly FlowFinding[]): void {
  if (findings.length === 0) return;
  const warn = flowsWarn(projectConfigFor(f.file), f.cx.diags, f.file);
  for (const x of findings) f.cx.diags.push(findingDiagnostic(x, warn));
}

/** The findings of the plan's triggers: only a labelled context or a watched run's output can bring any. */
function startedFindings(f: PlanFacts, witness: boolean): FlowFinding[] {
  const triggers = f.cx.triggersOf(f.cp.entry);
  if (triggers.length === 0 || (!contextLabelled(f.cx.flowContext) && !triggers.some((t) => t.watches))) return [];
  return triggerFlows(f, witness);
}

/**
 * Whether some value of the plan may carry a label: every label starts at a labelled input or
 * `context` field or at a step whose capability is a source (§9.3: untrusted, a data class, a
 * classed output field) and only joins from there; a `run` step brings its sub-plan's.
 */
function mayCarryLabels(f: PlanFacts): boolean {
  if (contextLabelled(f.cx.flowContext)) return true;
  const fields = f.plan.input?.fields;
  if (fields) {
    for (let k = 0; k < fields.length; k++) if (fields[k]!.trust === 'untrusted' || (fields[k]!.dataClass ?? 'public') !== 'public') return true;
    if (classOfType(f.cp.inputTy) !== 'public' || untrustedInType(f.cp.inputTy)) return true;
  }
  const steps = f.cp.steps;
  // Steps in a row mostly call one capability: it is looked up once.
  let clean: CapabilityInfo | undefined;
  for (let k = 0; k < steps.length; k++) {
    const s = steps[k]!;
    const kind = s.decl.action.kind;
    if (kind === 'RunAction') return true;
    if (kind !== 'CapabilityCall' || !s.capability) continue;
    if (s.capability !== clean) {
      if (isLabelSource(s.capability)) return true;
      clean = s.capability;
    }
    // A compensation's output is read by nothing; a fallback's is the step's.
    if (s.decl.fallback) {
      const fb = f.cx.capabilityByName(s.fallback?.capability ?? '');
      if (fb && isLabelSource(fb)) return true;
    }
  }
  return false;
}

/** The highest class its output's fields declare: asked once per capability, not once per step. */
function outputClass(cap: CapabilityInfo): DataClass {
  let cls = outputClasses.get(cap);
  if (cls === undefined) outputClasses.set(cap, (cls = classOfType(cap.output)));
  return cls;
}
const outputClasses = new WeakMap<CapabilityInfo, DataClass>();

function isLabelSource(cap: CapabilityInfo): boolean {
  let source = labelSources.get(cap);
  if (source === undefined) {
    source = untrustedSource(cap) !== null || (declaredFlow(cap, 'data') ?? 'public') !== 'public' || outputClass(cap) !== 'public';
    labelSources.set(cap, source);
  }
  return source;
}
const labelSources = new WeakMap<CapabilityInfo, boolean>();

// A compile has one `context` (its labels a map of a few fields, no tree): the last answer is
// kept, where a file of 100,000 small plans would ask a table once per plan.
let lastContext: ReadonlyMap<string, FieldLabel> | undefined;
let lastContextLabelled = false;
function contextLabelled(context: ReadonlyMap<string, FieldLabel>): boolean {
  if (context !== lastContext) {
    lastContextLabelled = false;
    for (const l of context.values()) if (l.untrusted || l.cls !== 'public' || l.given !== undefined) lastContextLabelled = true;
    lastContext = context;
  }
  return lastContextLabelled;
}

export function findingDiagnostic(x: FlowFinding, warn: boolean): Diagnostic {
  const related = pathHops(x.path).map((h) => ({ message: h.text, file: h.file, range: h.range }));
  const fixes = x.relabel ? [relabelFix(x, x.relabel.to)] : undefined;
  const d = diagnostic(x.code, x.message, x.file, x.range, { ...(related.length ? { related } : {}), ...(fixes ? { fixes } : {}) });
  return warn ? { ...d, severity: 'warning' } : d;
}

/**
 * The honest way to silence a finding (§9.3), written around the value for its author to give the
 * reason: `endorse(V, reason: "…")`, `declassify(V, to: CLASS, reason: "…")`.
 */
function relabelFix(x: FlowFinding, to: DataClass | undefined): Fix {
  const [title, open, close] = x.code === 'E0902'
    ? ['Endorse this value (endorse, with a reason)', 'endorse(', ', reason: "…")']
    : [`Declassify this value to ${to ?? 'internal'} (declassify, with a reason)`, 'declassify(', `, to: ${to ?? 'internal'}, reason: "…")`];
  const at = (p: Range['start']): Range => ({ start: p, end: p });
  return { title, edits: [{ file: x.file, range: at(x.range.start), newText: open }, { file: x.file, range: at(x.range.end), newText: close }] };
}

/**
 * The plan's labels and findings, with `input` labelled as given (a sub-plan's by its caller).
 * `own`: the plan's own analysis, which may move a step where its class may go (./flow-placement.ts);
 * a sub-plan analysed again for a caller leaves its bindings alone.
 */
export function planFlows(f: PlanFacts, input: ReadonlyMap<string, FieldLabel>, own = false, witness = true): PlanFlows {
  return new FlowWalk(f, input, own, witness).run();
}

type CheckedBlock = PlanFacts['cp']['blocks'][number];

/** One analysis of a plan's flows: the labels of its steps, walked in DAG order, with what the walk is at. */
class FlowWalk {
  // By step index, found through the DAG's table: two maps of every step's name cost a tenth of
  // a labelled 100,000-step plan's walk.
  private steps: (StepLabel | undefined)[];
  private readonly reads: (Label | undefined)[];
  // A `repeat` name read before all of its steps are walked (`loop.previous.review.output` in a
  // step before `review`) reads the previous iteration's: the walk is done again with the last
  // walk's labels standing in for those not yet walked, until they no longer change (a back edge
  // of the loop; the labels only rise, so this ends).
  private before: (StepLabel | undefined)[] | undefined;
  private ahead = false;
  /** The step being walked (its index; -1 outside): a read names one of its own dependencies (found among them), else any step. */
  private at = -1;
  private current: CheckedStep | undefined;
  /** The block whose list is being labelled, if any. */
  private listOf: string | null = null;
  private readonly findings: FlowFinding[] = [];
  private readonly relabels: Relabel[] = [];
  private readonly given = new Map<string, GivenFlows>();
  private readonly blocks: Map<string, CheckedBlock>;
  private readonly blockByName = new Map<string, CheckedBlock>();
  private readonly itemLabels = new Map<string, Label>();
  // Only a `race`/`repeat` name read as a value needs its steps' names: built then (a 100,000-step
  // plan without one made a map of every step for nothing, ~10 % of its flows stage).
  private byDecl: Map<string, Ident> | undefined;
  private readonly env: LabelEnv;

  constructor(
    private readonly f: PlanFacts,
    input: ReadonlyMap<string, FieldLabel>,
    private readonly own: boolean,
    private readonly witness: boolean,
  ) {
    const { cp, file } = f;
    this.steps = new Array<StepLabel | undefined>(cp.steps.length);
    this.reads = new Array<Label | undefined>(cp.steps.length);
    this.blocks = new Map(cp.blocks.map((b) => [b.id, b]));
    for (const b of cp.blocks) if (b.kind !== 'for_each') this.blockByName.set((b.decl as { name: { name: string } }).name.name, b);
    this.env = {
      file,
      input,
      context: f.cx.flowContext,
      witness,
      step: (id) => this.stepLabel(id),
      local: (name, then) => this.local(name, then),
      onRelabel: (kind, range, reason, to) => this.relabels.push({ kind, file, range, reason, ...(to ? { to } : {}) }),
    };
  }

  run(): PlanFlows {
    while (this.walk()) {
      this.before = this.steps;
      this.steps = new Array<StepLabel | undefined>(this.f.cp.steps.length);
      this.ahead = false;
      this.findings.length = 0;
      this.relabels.length = 0;
      this.itemLabels.clear();
    }
    this.current = undefined;
    this.at = -1;
    const { dag } = this.f;
    // A loop's `until` is no sink, but its endorse/declassify calls are uses the journal and the preview list (§9.3).
    for (const b of this.f.cp.blocks) {
      if (b.kind !== 'repeat') continue;
      const from = this.relabels.length;
      exprLabel((b.decl as RepeatDecl).until, this.env);
      for (let k = from; k < this.relabels.length; k++) this.relabels[k] = { ...this.relabels[k]!, loop: b.id };
    }
    const output = this.f.plan.output ? exprLabel(this.f.plan.output, this.env) : BOTTOM;
    return {
      step: (id) => this.stepLabel(id),
      read: (id) => {
        const i = dag.indexOf(id);
        return i === undefined ? undefined : this.reads[i];
      },
      output,
      findings: this.findings,
      relabels: this.relabels,
      ...(this.given.size > 0 ? { given: this.given } : {}),
    };
  }

  /** One walk over the plan's steps; whether it must be walked again (a loop's back edge moved a label). */
  private walk(): boolean {
    const { cp } = this.f;
    // The DAG's steps are the plan's, index for index (./dag.ts). Any order with each step after what
    // it reads gives the same labels; this one reads the tree front to back.
    const order = this.f.dag.walkIndexes;
    const { findings, relabels } = this;
    for (let k = 0; k < order.length; k++) {
      const i = order[k]!;
      const s = cp.steps[i]!;
      this.current = s;
      this.at = i;
      const nf = findings.length;
      const nr = relabels.length;
      const r = stepFlows(this.f, s, i, this.env, findings, relabels, this.own);
      for (let j = nf; j < findings.length; j++) findings[j] = { ...findings[j]!, step: s.id };
      for (let j = nr; j < relabels.length; j++) relabels[j] = { ...relabels[j]!, step: s.id };
      this.steps[i] = r.out;
      this.reads[i] = r.read;
      if (r.given) this.given.set(s.id, r.given);
    }
    return this.ahead && !(this.before !== undefined && sameLabels(this.before, this.steps));
  }

  private stepLabel(id: string): StepLabel | undefined {
    const { dag } = this.f;
    const j = this.at < 0 ? -1 : dag.depIndex(this.at, id);
    const i = j >= 0 ? j : dag.indexOf(id);
    return i === undefined ? undefined : this.steps[i];
  }

  /** A name in scope at the step being walked: a `for each` item, or a `race`/`repeat` read as a value. */
  private local(name: string, then: Parameters<LabelEnv['local']>[1]): Label | undefined {
    if (this.current) {
      // A `for each` list is read in the scope around its block: an inner item of the same name
      // (`for each x in x`) is not yet in scope there.
      const around = this.listOf === null ? this.current.blocks : this.ancestorsOf(this.listOf);
      for (let k = around.length - 1; k >= 0; k--) {
        const b = this.blocks.get(around[k]!)!;
        if (b.kind === 'for_each' && (b.decl as { item: { name: string } }).item.name === name) return this.itemLabel(b.id);
      }
    }
    const named = this.blockByName.get(name);
    if (!named) return undefined;
    const { cp, dag, file } = this.f;
    let l = BOTTOM;
    const byDecl = (this.byDecl ??= new Map(cp.steps.map((s) => [s.id, s.decl.name])));
    // `loop.previous.STEP` reads that one step of the previous iteration.
    const one = named.kind === 'repeat' && then?.[0] === 'previous' ? named.steps.find((id) => byDecl.get(id)?.name === then[1]) : undefined;
    for (const id of one ? [one] : named.steps) {
      let s = this.stepLabel(id);
      if (!s) {
        this.ahead = true;
        const j = dag.indexOf(id);
        s = j === undefined ? undefined : this.before?.[j];
      }
      const decl = byDecl.get(id);
      if (s && decl) l = join(l, stepAsLabel(s, `${id}.output`, file, decl.range, this.witness));
    }
    // Which branch won, which iteration, how many ran: a step's name or a count, none of the
    // branches' data. Their distrust stays (what decided the race or the loop, as a `wait until`'s
    // does); their class is no value's here (implicit flows are not tracked, §9.3).
    if (then?.[0] !== undefined && BLOCK_COUNTS.has(then[0]) && rank(l.cls) > 0) {
      if (l.untrusted === null) return BOTTOM;
      return this.witness ? { cls: 'public', clsPath: null, untrusted: l.untrusted } : unwitnessed('public', false, true);
    }
    return l;
  }

  private ancestorsOf(blockId: string): string[] {
    const out: string[] = [];
    for (let p = this.blocks.get(blockId)!.parent; p !== null; p = this.blocks.get(p)!.parent) out.unshift(p);
    return out;
  }

  private itemLabel(blockId: string): Label {
    let l = this.itemLabels.get(blockId);
    if (!l) {
      const b = this.blocks.get(blockId)!;
      const outer = this.listOf;
      this.listOf = blockId;
      try {
        l = exprLabel((b.decl as { list: Expr }).list, this.env);
      } finally {
        this.listOf = outer;
      }
      this.itemLabels.set(blockId, l);
    }
    return l;
  }
}

/** Whether two walks gave every step the same class and integrity (their witnesses may differ). */
function sameLabels(a: readonly (StepLabel | undefined)[], b: readonly (StepLabel | undefined)[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i]?.cls !== b[i]?.cls || a[i]?.untrusted !== b[i]?.untrusted) return false;
  return true;
}

/** A step's output as a value read at `range` (a race's or loop's name stands for its steps). */
function stepAsLabel(s: StepLabel, text: string, file: string, range: Range, witness: boolean): Label {
  if (!s.untrusted && rank(s.cls) === 0) return BOTTOM;
  if (!witness) return unwitnessed(s.cls, rank(s.cls) > 0, s.untrusted);
  return {
    cls: s.cls,
    clsPath: rank(s.cls) > 0 ? { hop: { text: `${text} (${s.clsWhy})`, file, range }, next: s.clsTail } : null,
    untrusted: s.untrusted ? { hop: { text: `${text} (${s.why}, untrusted)`, file, range }, next: s.tail } : null,
  };
}

/** One step: its sinks checked, its output's labels. */
function stepFlows(
  f: PlanFacts, s: CheckedStep, i: number, env: LabelEnv, findings: FlowFinding[], relabels: Relabel[], own: boolean,
): { out: StepLabel; read: Label; given?: GivenFlows } {
  const action = s.decl.action;
  if (action.kind === 'RunAction') return runFlows(f, s, env, findings);
  // Any step's `when` is walked, a sink or not: its endorse/declassify calls are uses the preview
  // lists and the journal records (§9.3) — one of a non-destructive step's was neither.
  if (action.kind !== 'CapabilityCall' && s.decl.when) exprLabel(s.decl.when, env);
  // A `wait until` ends when its condition holds: whether and when it completes (a race it wins)
  // is that condition's say, so its distrust goes with it — not its class (implicit flows are not tracked).
  if (action.kind === 'WaitUntilAction') {
    const c = exprLabel(action.condition, env);
    return { out: c.untrusted ? { ...NOTHING, untrusted: true, why: 'waits on untrusted', tail: c.untrusted } : NOTHING, read: BOTTOM };
  }
  if (action.kind !== 'CapabilityCall' || !s.capability) {
    return { out: NOTHING, read: BOTTOM };
  }
  const cap = s.capability;
  const moves = own && f.bindings[i]?.resource != null ? { s, i } : undefined;
  const read = callFlows(f, cap, action, f.bindings[i], s.id, env, findings, moves);
  const fb = s.decl.fallback ? f.cx.capabilityByName(s.fallback?.capability ?? '') : undefined;
  const cc = s.decl.compensate ? f.cx.capabilityByName(s.compensate?.capability ?? '') : undefined;
  if (s.decl.when) {
    const w = exprLabel(s.decl.when, env);
    if (w.untrusted && whenNeedsTrust([cap.ir, fb?.ir, cc?.ir])) findings.push(trustFinding(env.file, s.decl.when.range, `${s.id}.when`, w.untrusted));
  }
  let out = outputOf(cap, read);
  const calls = f.callBindings.get(s.id);
  // The run time refuses only the call whose arguments break a rule (a compensation's never stops the step's own call).
  // So are its endorse/declassify calls journaled when that call runs.
  const tag = (call: 'fallback' | 'compensate', from: number, fromRelabel: number): void => {
    for (let k = from; k < findings.length; k++) findings[k] = { ...findings[k]!, call };
    for (let k = fromRelabel; k < relabels.length; k++) relabels[k] = { ...relabels[k]!, call };
  };
  let [from, fromRelabel] = [findings.length, relabels.length];
  if (s.decl.fallback && fb) {
    out = joinStep(out, outputOf(fb, callFlows(f, fb, s.decl.fallback, bindingOf(calls, 'fallback', f.bindings[i]), s.id, env, findings)));
    tag('fallback', from, fromRelabel);
  }
  [from, fromRelabel] = [findings.length, relabels.length];
  if (s.decl.compensate && cc) {
    callFlows(f, cc, s.decl.compensate, bindingOf(calls, 'compensate', f.bindings[i]), s.id, env, findings);
    tag('compensate', from, fromRelabel);
  }
  return { out, read };
}

const NOTHING: StepLabel = { cls: 'public', clsWhy: '', clsTail: null, untrusted: false, why: '', tail: null };

function bindingOf(calls: CallBindings | undefined, which: keyof CallBindings, step: BindingIR | undefined): BindingIR | undefined {
  return calls?.[which] ?? step;
}

/** A capability call's arguments against its sinks and its place; the join of what it reads. */
function callFlows(
  f: PlanFacts, cap: CapabilityInfo, call: CapabilityCall, binding: BindingIR | undefined, stepId: string, env: LabelEnv, findings: FlowFinding[],
  moves?: { readonly s: CheckedStep; readonly i: number },
): Label {
  let read = BOTTOM;
  const short = cap.entry.node.name.name;
  const builtin = builtinOf(cap.ir);
  const rule = stdSink(builtin);
  const declared = rule?.args === 'channel' ? undefined : (rule?.args ?? declaredFlow(cap, 'data'));
  for (const a of call.args) {
    const l = exprLabel(a.value, env);
    read = join(read, l);
    if (l.untrusted && needsTrust(cap, a.name.name)) findings.push(trustFinding(env.file, a.value.range, `${short}.${a.name.name}`, l.untrusted));
    if (rank(l.cls) < PERSONAL) continue;
    const sink = `${short}.${a.name.name}`;
    let place = placeAccepts(binding, f.cx.resourceByName, f.file);
    let noOther = '';
    if (rank(l.cls) > rank(place.cls) && moves) {
      const moved = placeForClass(f, moves.s, l.cls);
      if (moved) {
        binding = f.bindings[moves.i] = moved;
        place = placeAccepts(binding, f.cx.resourceByName, f.file);
      } else noOther = moves.s.pinned ? '; the step is pinned to it' : `; no resource that can host the step takes ${l.cls} data`;
    }
    const server = mcpAccepts(cap, f.file);
    let where: string | undefined;
    let to: DataClass = 'internal';
    if (rank(l.cls) > rank(place.cls)) [where, to] = [place.what, place.cls];
    else if (server && rank(l.cls) > rank(server.cls)) [where, to] = [server.what, server.cls];
    else if (declared && rank(l.cls) > rank(declared)) [where, to] = [`capability ${short} (data ${declared})`, declared];
    else if (rule?.channel && !rule.channel.exempt.includes(a.name.name) && rank(l.cls) > rank('internal')) {
      const channel = channelOf(call, rule.channel.default);
      if (channelExternal(builtin, channel, f.file)) where = `external channel ${channel === null ? '(named by an expression)' : `"${channel}"`}`;
    }
    if (where)
      findings.push({ code: 'E0903', file: env.file, range: a.value.range, sink, message: `${l.cls} data reaches ${where} in step ${stepId}: ${sink} ← ${pathText(l.clsPath)}${where === place.what ? noOther : ''}`, path: l.clsPath, relabel: { to } });
  }
  if (moves && binding && rank(read.cls) >= PERSONAL) f.bindings[moves.i] = fallbacksFor(f, moves.s, binding, read.cls);
  return read;
}
const PERSONAL = rank('personal');

function channelOf(call: CapabilityCall, unnamed: string | null): string | null {
  const arg = call.args.find((a) => a.name.name === 'channel')?.value;
  if (!arg) return unnamed;
  if (arg.kind !== 'StringLit' || arg.parts.some((p) => typeof p !== 'string')) return null;
  return arg.parts.join('');
}

function trustFinding(file: string, range: Range, sink: string, path: Path): FlowFinding {
  return { code: 'E0902', file, range, sink, message: `untrusted value reaches ${sink}, which needs a trusted one: ${sink} ← ${pathText(path)}`, path, relabel: {} };
}

/**
 * A call's output: a source's or a validator's integrity, else what it read; the highest class. A
 * source that read untrusted values keeps their path behind its own hop (§9.3's witness runs back
 * to `input.body @untrusted` through the model that read it).
 */
function outputOf(cap: CapabilityInfo, read: Label): StepLabel {
  const source = untrustedSource(cap);
  const untrusted = source !== null || (read.untrusted !== null && !endorses(cap));
  const own = declaredFlow(cap, 'data') ?? 'public';
  const fields = outputClass(cap);
  let cls: DataClass = read.cls;
  let clsWhy = 'reads';
  let clsTail = read.clsPath;
  if (rank(own) > rank(cls)) [cls, clsWhy, clsTail] = [own, `data ${own}`, null];
  if (rank(fields) > rank(cls)) [cls, clsWhy, clsTail] = [fields, `output @${fields}`, null];
  if (rank(cls) > 0 && clsWhy === 'reads') clsWhy = cls;
  return { cls, clsWhy, clsTail, untrusted, why: source ?? 'reads untrusted', tail: read.untrusted };
}

function joinStep(a: StepLabel, b: StepLabel): StepLabel {
  const cls = rank(b.cls) > rank(a.cls) ? b : a;
  const tr = a.untrusted ? a : b;
  return { cls: cls.cls, clsWhy: cls.clsWhy, clsTail: cls.clsTail, untrusted: tr.untrusted, why: tr.why, tail: tr.tail };
}

/** A `run` step: the sub-plan analysed again with its inputs labelled by this call's arguments. */
function runFlows(f: PlanFacts, s: CheckedStep, env: LabelEnv, findings: FlowFinding[]): { out: StepLabel; read: Label; given?: GivenFlows } {
  const action = s.decl.action as Extract<typeof s.decl.action, { kind: 'RunAction' }>;
  const sub = s.runPlan ? f.cx.subplan(s.runPlan, action.plan.range, f.file)?.checked : undefined;
  const info = sub ? infos.get(sub) : undefined;
  let read = BOTTOM;
  const given = new Map<string, Label>();
  for (const a of action.args) {
    const l = exprLabel(a.value, env);
    read = join(read, l);
    given.set(a.name.name, l);
  }
  if (s.decl.when) {
    const w = exprLabel(s.decl.when, env);
    if (w.untrusted && info && runsDestructive(info.f)) findings.push(trustFinding(env.file, s.decl.when.range, `${s.id}.when`, w.untrusted));
  }
  if (!info) return { out: outputOf0(read), read };
  findings.push(...trustedInputs(info.f, action.args.map((a) => ({ name: a.name.name, range: a.value.range })), given, env.file));
  const inner = givenFlows(info.f, given, new Map(action.args.map((a) => [a.name.name, a.value.range])), env.witness);
  for (const x of inner.findings) findings.push({ ...x, file: f.file, message: `in sub-plan ${info.f.plan.name.name} (run by step ${s.id}): ${x.message}` });
  return { out: outputOf0(inner.flows.output), read, given: { flows: inner.flows, input: inner.input } };
}

/**
 * Whether a run of the plan can make a destructive call — a step's, a fallback's or a
 * compensation's, in it or in a plan it runs: then the `when` of a `run` step of it decides
 * whether those calls happen, as a destructive step's own `when` does (§9.3).
 */
function runsDestructive(pf: PlanFacts, seen = new Set<CheckedPlan>()): boolean {
  const known = destructivePlans.get(pf.cp);
  if (known !== undefined) return known;
  if (seen.has(pf.cp)) return false;
  seen.add(pf.cp);
  let found = false;
  for (const s of pf.cp.steps) {
    const action = s.decl.action;
    if (action.kind === 'RunAction') {
      const sub = s.runPlan ? pf.cx.subplan(s.runPlan, action.plan.range, pf.file)?.checked : undefined;
      const info = sub ? infos.get(sub) : undefined;
      found = info !== undefined && runsDestructive(info.f, seen);
    } else if (s.capability) {
      const fb = s.decl.fallback ? pf.cx.capabilityByName(s.fallback?.capability ?? '') : undefined;
      const cc = s.decl.compensate ? pf.cx.capabilityByName(s.compensate?.capability ?? '') : undefined;
      found = whenNeedsTrust([s.capability.ir, fb?.ir, cc?.ir]);
    }
    if (found) break;
  }
  destructivePlans.set(pf.cp, found);
  return found;
}
const destructivePlans = new WeakMap<CheckedPlan, boolean>();

/**
 * A plan input marked `@trusted` is a parameter that needs trust, as a capability's is: an
 * untrusted value a caller (a `run` step, a trigger's `with`) gives it is E0902 at that value.
 */
function trustedInputs(pf: PlanFacts, values: readonly { readonly name: string; readonly range: Range }[], given: ReadonlyMap<string, Label>, file: string): FlowFinding[] {
  const out: FlowFinding[] = [];
  for (const v of values) {
    const l = given.get(v.name);
    if (l?.untrusted && pf.plan.input?.fields.find((x) => x.name.name === v.name)?.trust === 'trusted')
      out.push(trustFinding(file, v.range, `${pf.plan.name.name}.${v.name}`, l.untrusted));
  }
  return out;
}

/**
 * Plan `f` analysed again with its inputs labelled by a caller (a `run` step's arguments, a
 * trigger's `with`): its flows, and only the findings those labels brought in (the plan's own are
 * its own check's), each at the caller's hop on its path. Without witnesses every path is
 * `UNREAD`, so every finding counts: the walk is then done again with them.
 */
function givenFlows(
  f: PlanFacts, given: ReadonlyMap<string, Label>, values: ReadonlyMap<string, Range>, witness: boolean,
): { flows: PlanFlows; input: ReadonlyMap<string, FieldLabel>; findings: FlowFinding[] } {
  const input = new Map<string, FieldLabel>();
  const own0 = inputFieldLabels(f.plan.input?.fields ?? [], f.cp.inputTy, f.file);
  for (const fd of f.plan.input?.fields ?? []) {
    const own = own0.get(fd.name.name)!;
    const g = given.get(fd.name.name);
    const declared = stepAsLabel({ ...NOTHING, cls: own.cls, clsWhy: `@${own.cls}`, untrusted: own.untrusted, why: '@untrusted' }, `input.${fd.name.name}`, f.file, fd.name.range, witness);
    input.set(fd.name.name, g ? { ...own, given: join(g, declared) } : own);
  }
  const flows = planFlows(f, input, false, witness);
  // Each path the caller gave, with the value that gave it: a path's own hops may point anywhere
  // (an input's at its declaration), the finding belongs at the caller's value.
  const mine = new Map<Path, Range>();
  for (const [name, l] of given) {
    const at = values.get(name);
    if (!at) continue;
    if (l.untrusted) mine.set(l.untrusted, at);
    if (l.clsPath) mine.set(l.clsPath, at);
  }
  const findings: FlowFinding[] = [];
  for (const x of flows.findings) {
    let at: Path | null = x.path;
    while (at && !mine.has(at)) at = at.next;
    // Reported at the caller's value: the sink itself, elsewhere, becomes the path's first hop (once).
    if (at) findings.push({ ...x, range: mine.get(at)!, sinkLed: true, path: x.sinkLed ? x.path : { hop: { text: x.sink, file: x.file, range: x.range }, next: x.path } });
  }
  return { flows, input, findings };
}

/**
 * §9.1's paths in: a trigger's `with { … }` gives the plan input what it reads (`context.X`,
 * `event.X`), so the plan is analysed again under each such trigger's labels, as under a `run`
 * step's; a finding is reported at the trigger's value, naming the trigger. A `when` trigger's
 * condition decides whether the plan runs at all: where the plan can make a destructive call, it
 * is a sink that needs trust, as a `run` step's `when` is.
 */
function triggerFlows(f: PlanFacts, witness: boolean): FlowFinding[] {
  const out: FlowFinding[] = [];
  for (const { trigger, file, watches } of f.cx.triggersOf(f.cp.entry)) {
    // An `after` trigger's `event` is the watched run (`event.output` its output): it carries that output's labels.
    const event = watches ? watchedOutput(f, watches, witness) : BOTTOM;
    const env: LabelEnv = { file, input: NO_INPUT, context: f.cx.flowContext, witness, step: () => undefined, local: (name) => (name === 'event' ? event : undefined) };
    const src = trigger.source;
    if (src.kind === 'ConditionSource' && runsDestructive(f)) {
      const w = exprLabel(src.condition, env);
      const sink = `${trigger.name.name}.when`;
      if (w.untrusted)
        out.push({ code: 'E0902', file, range: src.condition.range, sink, path: w.untrusted, relabel: {},
          message: `untrusted value reaches ${sink}, which needs a trusted one (it starts plan ${f.plan.name.name}, which can make a destructive call): ${sink} ← ${pathText(w.untrusted)}` });
    }
    if (!trigger.with) continue;
    const given = new Map<string, Label>();
    for (const fd of trigger.with!.fields) given.set(fd.key.name, exprLabel(fd.value, env));
    if ([...given.values()].every((l) => l === BOTTOM)) continue;
    out.push(...trustedInputs(f, trigger.with.fields.map((fd) => ({ name: fd.key.name, range: fd.value.range })), given, file));
    for (const x of givenFlows(f, given, new Map(trigger.with.fields.map((fd) => [fd.key.name, fd.value.range])), witness).findings)
      out.push({ ...x, file, message: `in plan ${f.plan.name.name} (started by trigger ${trigger.name.name}): ${x.message}` });
  }
  return out;
}
const NO_INPUT: ReadonlyMap<string, FieldLabel> = new Map();

/** The labels of plan `e`'s output, its inputs as declared (⊥ while it is being assembled: a chain back to it, E0701). */
function watchedOutput(f: PlanFacts, e: PlanFacts['cp']['entry'], witness: boolean): Label {
  const c = f.cx.assembled(e);
  const info = c ? infos.get(c.checked) : undefined;
  if (!info) return BOTTOM;
  const w = info.f;
  return planFlows(w, inputFieldLabels(w.plan.input?.fields ?? [], w.cp.inputTy, w.file), false, witness).output;
}

function outputOf0(l: Label): StepLabel {
  return { cls: l.cls, clsWhy: l.cls, clsTail: l.clsPath, untrusted: l.untrusted !== null, why: 'sub-plan', tail: l.untrusted };
}
