/**
 * What the `flows` stage hands the run time (LANGUAGE.md §9.3), added to each step of the IR: the
 * labels of what it reads (`step_started.data.labels`), the `endorse`/`declassify` calls in its
 * arguments (journaled as `endorsed`/`declassified` when it starts) and the rules its arguments
 * break that a `"flows": "warn"` compile let through (refused at run time before the handler).
 */
import type { ExprIR, FlowRefusalIR, PlanIR, RelabelIR, StepIR, StepLabelsIR } from '../ir/types.js';
import { rank, type FieldLabel, type FlowFinding, type GivenFlows, type PlanFlows } from './flow-labels.js';

/** A step's §9.3 fields, the last of its IR (in this order). */
export type StepFlowFields = Pick<StepIR, 'labels' | 'relabels' | 'flow_refusals' | 'subplan_labels'>;

/** What the analysis reads of a step: its id, its IR's arguments, its action (a sub-plan's arguments) and `for_each`. */
export type FlowStep = Pick<StepIR, 'id' | 'args' | 'for_each' | 'action'>;

/**
 * The §9.3 fields of each step the analysis labelled (steps in DAG order: a step's sources
 * include those of the steps it reads). They are handed to the step's IR literal rather than
 * spread onto a finished step: on Node 20's V8 `{ ...step, labels }` gives every object a hidden
 * class of its own (a detached map with its descriptors and, once enumerated, their enum cache),
 * ~1.1 KB a step that a run keeps alive with its IR.
 */
export function stepFlowFields(
  steps: Iterable<FlowStep>, blocks: PlanIR['blocks'], flows: PlanFlows, input: ReadonlyMap<string, FieldLabel>,
): Map<string, StepFlowFields> {
  const labelled = (id: string): boolean => {
    const s = flows.step(id);
    return s !== undefined && (s.untrusted || rank(s.cls) > 0);
  };
  const read = readSources(steps, blockShape(blocks), flows, input, labelled);
  closeOverPrevious(read, labelled);
  const refusals = byStep(flows.findings);
  const relabels = relabelsByStep(flows.relabels);
  const out = new Map<string, StepFlowFields>();
  for (const id of read.order) {
    const r = flows.read(id)!;
    const labels: StepLabelsIR = { class: r.cls, trusted: r.untrusted === null, sources: [...read.found.get(id)!].sort() };
    const rl = relabels.get(id);
    const rf = refusals.get(id);
    out.set(id, { labels, ...(rl ? { relabels: rl } : {}), ...(rf ? { flow_refusals: rf } : {}) });
  }
  return out;
}

/** What a step's expressions reach through the plan's blocks: a `for each` item's list, the steps of a race or repeat. */
interface BlockShape {
  readonly itemLists: ReadonlyMap<string, ExprIR>;
  readonly blockSteps: ReadonlyMap<string, readonly string[]>;
}

function blockShape(blocks: PlanIR['blocks']): BlockShape {
  const itemLists = new Map<string, ExprIR>();
  const blockSteps = new Map<string, readonly string[]>();
  for (const b of blocks ?? []) {
    if (b.type === 'for_each') itemLists.set(b.item, b.list);
    else blockSteps.set(b.id, b.type === 'race' ? b.branches : b.steps);
  }
  return { itemLists, blockSteps };
}

/** Each labelled step's sources as read in DAG order, and the steps each reads through a loop's `previous`. */
interface ReadSources {
  /** The labelled steps, in DAG order. */
  readonly order: string[];
  /** Each step's sources so far (labelled inputs and steps, transitively). */
  readonly found: Map<string, Set<string>>;
  /** Each step's sources as found in DAG order, before any loop's `previous` added to them. */
  readonly sources: Map<string, readonly string[]>;
  /**
   * Steps read through a loop's `previous` (the last iteration's), by reader: they may come later
   * in DAG order, so their own sources are added once every step's are known.
   */
  readonly previous: Map<string, Set<string>>;
}

function readSources(steps: Iterable<FlowStep>, shape: BlockShape, flows: PlanFlows, input: ReadonlyMap<string, FieldLabel>, labelled: (id: string) => boolean): ReadSources {
  const { itemLists, blockSteps } = shape;
  const sources = new Map<string, readonly string[]>();
  const found = new Map<string, Set<string>>();
  const previous = new Map<string, Set<string>>();
  const order: string[] = [];
  for (const s of steps) {
    if (!flows.read(s.id)) continue;
    order.push(s.id);
    const mine = new Set<string>();
    found.set(s.id, mine);
    const back = new Set<string>();
    const seen = new Set<ExprIR>();
    const addStep = (id: string): void => {
      if (!labelled(id)) return;
      mine.add(id);
      for (const t of sources.get(id) ?? []) mine.add(t);
    };
    const visit = (e: unknown): void => {
      if (e === null || typeof e !== 'object') return;
      if (Array.isArray(e)) {
        for (const x of e) visit(x);
        return;
      }
      const x = e as ExprIR;
      if (seen.has(x)) return;
      seen.add(x);
      switch (x.op) {
        case 'get':
          if (x.object.op === 'var' && x.object.name === 'input') {
            if (isLabelled(input.get(x.key))) mine.add(`input.${x.key}`);
            return;
          }
          if (x.object.op === 'previous' && blockSteps.get(x.object.loop)?.includes(x.key)) {
            back.add(x.key);
            return;
          }
          return visit(x.object);
        case 'previous':
          for (const id of blockSteps.get(x.loop) ?? []) back.add(id);
          return;
        case 'var':
          if (x.name === 'input') for (const [k, f] of input) if (isLabelled(f)) mine.add(`input.${k}`);
          return;
        case 'step':
          return addStep(x.id);
        case 'block':
          for (const id of blockSteps.get(x.id) ?? []) addStep(id);
          return;
        case 'item':
          return visit(itemLists.get(x.name));
        default:
          for (const v of Object.values(x)) visit(v);
      }
    };
    visit(Object.values(s.args));
    // A sub-plan step's arguments are its action's: what it reads comes from there (§9.3).
    if (s.action.type === 'run') visit(Object.values(s.action.args));
    if (s.for_each) visit(s.for_each.list);
    if (back.size > 0) previous.set(s.id, back);
    sources.set(s.id, [...mine]);
  }
  return { order, found, sources, previous };
}

/** Round the loop until nothing is added (a step read through `previous` may itself read one). */
function closeOverPrevious({ order, found, sources, previous }: ReadSources, labelled: (id: string) => boolean): void {
  for (let grew = previous.size > 0; grew; ) {
    grew = false;
    for (const [id, back] of previous) {
      const mine = found.get(id)!;
      const n = mine.size;
      for (const b of back) {
        if (!labelled(b)) continue;
        mine.add(b);
        for (const t of found.get(b) ?? []) mine.add(t);
      }
      if (mine.size !== n) grew = true;
    }
    // What a reader gained reaches the steps that read it within the iteration in a later round too.
    if (grew) for (const id of order) for (const b of sources.get(id) ?? []) for (const t of found.get(b) ?? []) found.get(id)!.add(t);
  }
}

/** The `endorse`/`declassify` calls of each step's arguments (and its fallback's, compensation's), for its IR. */
function relabelsByStep(all: PlanFlows['relabels']): Map<string, RelabelIR[]> {
  const relabels = new Map<string, RelabelIR[]>();
  for (const r of all) {
    if (r.step === undefined) continue;
    const list = relabels.get(r.step) ?? [];
    list.push({ kind: r.kind, reason: r.reason, ...(r.to ? { to: r.to } : {}), ...(r.call ? { call: r.call } : {}) });
    relabels.set(r.step, list);
  }
  return relabels;
}

/** The `endorse`/`declassify` calls of the plan's `output` (no step holds them), for the IR. */
export function outputRelabels(f: { readonly flows?: PlanFlows }): Pick<PlanIR, 'output_relabels'> {
  const out: RelabelIR[] = [];
  for (const r of f.flows?.relabels ?? []) if (r.step === undefined && r.loop === undefined) out.push({ kind: r.kind, reason: r.reason, ...(r.to ? { to: r.to } : {}) });
  return out.length > 0 ? { output_relabels: out } : {};
}

/** The `endorse`/`declassify` calls of loop `id`'s `until`, for its block's IR (journaled each time it is evaluated). */
export function untilRelabels(f: { readonly flows?: PlanFlows }, id: string): { until_relabels?: RelabelIR[] } {
  const out: RelabelIR[] = [];
  for (const r of f.flows?.relabels ?? []) if (r.loop === id) out.push({ kind: r.kind, reason: r.reason, ...(r.to ? { to: r.to } : {}) });
  return out.length > 0 ? { until_relabels: out } : {};
}

function isLabelled(f: FieldLabel | undefined): boolean {
  if (f?.given) return f.given.untrusted !== null || rank(f.given.cls) > 0;
  return f !== undefined && (f.untrusted || rank(f.cls) > 0);
}

/**
 * A `run` step's sub-plan steps' labels under the call's arguments, where they differ from the
 * sub-plan's own IR (labelled with its inputs as declared): the run time journals these for the
 * steps of the sub-plan run this step starts.
 */
export function subplanLabels(sub: PlanIR, given: GivenFlows): Pick<StepIR, 'subplan_labels'> {
  const fields = stepFlowFields(sub.steps, sub.blocks, given.flows, given.input);
  const changed: Record<string, StepLabelsIR> = {};
  let any = false;
  for (const st of sub.steps) {
    const l = fields.get(st.id)?.labels;
    const own = st.labels;
    if (l && (!own || own.class !== l.class || own.trusted !== l.trusted || own.sources.join('\u0000') !== l.sources.join('\u0000'))) {
      changed[st.id] = l;
      any = true;
    }
  }
  return any ? { subplan_labels: changed } : {};
}

/** The findings (only a warn-mode compile has any and still emits) by the step whose arguments break them. */
function byStep(findings: readonly FlowFinding[]): Map<string, FlowRefusalIR[]> {
  const out = new Map<string, FlowRefusalIR[]>();
  for (const x of findings) {
    if (x.step === undefined) continue;
    let last = x.path;
    while (last?.next) last = last.next;
    const list = out.get(x.step) ?? [];
    list.push({ code: x.code, sink: x.sink, source: last?.hop.text ?? x.sink, message: x.message, ...(x.call ? { call: x.call } : {}) });
    out.set(x.step, list);
  }
  return out;
}
