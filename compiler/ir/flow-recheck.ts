/**
 * LANGUAGE.md §9: a v2 IR compiled before §9.3 (its steps carry no `labels`) still runs, re-checked
 * at load against the project's config. The IR alone says what such a program could say: its
 * untrusted sources (`kind llm`, MCP tools, `http_request`), its sinks that need trust (every
 * parameter of a destructive capability, `email.to`/`email.channel`/`notify.channel`, the `when`
 * of a step that can make a destructive call — its own, its fallback's or its compensation's), the classes of its input fields, capabilities and output fields, and
 * where each step runs — the annotations that could say otherwise (`@untrusted`, `endorses`,
 * `accepts`, `endorse`/`declassify`) are §9.3's own, so a program without labels has none. Each
 * rule broken is a finding with its witness path of step ids, as the compile-time analysis would
 * report it; a project on `"flows": "warn"` turns them into run-time refusals instead.
 */
import { join as joinPath } from 'node:path';
import type { DataClass } from '../../language/index.js';
import { BLOCK_COUNTS, rank } from '../assemble/flow-labels.js';
import { channelExternal, stdSink } from '../assemble/flow-sinks.js';
import { builtinOf } from './builtin.js';
import { whenNeedsTrust } from './when-sink.js';
import { alwaysUntrusted } from './always-untrusted.js';
import { endpointTierFor } from '../endpoint-tiers.js';
import { projectConfigFor } from '../project-config.js';
import type { CapabilityIR, DataClassIR, ExprIR, FlowRefusalIR, JsonSchema, PlanIR, StepIR, TierIR } from './types.js';

const TIER_ACCEPTS: Record<TierIR, DataClass> = { local: 'secret', edge: 'personal', cloud: 'internal', human: 'personal' };

interface Flow {
  readonly cls: DataClass;
  /** Sink-first hops back to the class's source (empty: public). */
  readonly clsPath: readonly string[];
  /** Hops back to the untrusted source, or null when trusted. */
  readonly untrusted: readonly string[] | null;
}
const NONE: Flow = { cls: 'public', clsPath: [], untrusted: null };

export interface IrFlowFinding {
  readonly step: string;
  readonly refusal: FlowRefusalIR;
}

/** Whether the IR predates §9.3: no step of it, or of its sub-plans, carries labels. */
export function lacksFlowLabels(plan: PlanIR): boolean {
  return plan.steps.every((s) => s.labels === undefined) && Object.values(plan.subplans ?? {}).every(lacksFlowLabels);
}

/** The rules of §9.3 the IR's steps break (`projectFile`: a path inside the project whose config is read). */
export function recheckFlows(plan: PlanIR, projectFile: string): IrFlowFinding[] {
  return analyse(plan, projectFile, new Map(), new Set()).findings;
}

/**
 * One plan's flows. `inputs`: the labels of the arguments a `run` step passes to it as a sub-plan
 * (as the compile-time analysis analyses a sub-plan again with its call's labels); `running`: the
 * sub-plans being analysed above it, so a plan that runs itself stops.
 */
function analyse(plan: PlanIR, projectFile: string, inputs: ReadonlyMap<string, Flow>, running: ReadonlySet<string>): { findings: IrFlowFinding[]; output: Flow } {
  const out: IrFlowFinding[] = [];
  const inputProps = (plan.input as { properties?: Record<string, JsonSchema> } | null)?.properties ?? {};
  const outputs = new Map<string, Flow>();
  const byId = new Map(plan.steps.map((s) => [s.id, s]));
  const blockSteps = new Map((plan.blocks ?? []).flatMap((b) => (b.type === 'for_each' ? [] : [[b.id, b.type === 'race' ? b.branches : b.steps] as const])));
  const itemLists = new Map((plan.blocks ?? []).flatMap((b) => (b.type === 'for_each' ? [[b.item, b.list] as const] : [])));
  const visiting = new Set<string>();

  const stepOut = (id: string): Flow => {
    const done = outputs.get(id);
    if (done) return done;
    const s = byId.get(id);
    if (!s || visiting.has(id)) return NONE;
    visiting.add(id);
    const sub = subRun(s);
    if (sub) {
      const o = sub.output;
      const flow: Flow = {
        cls: o.cls,
        clsPath: o.clsPath.length ? [`${id}.output (sub-plan, ${o.cls})`, ...o.clsPath] : [],
        untrusted: o.untrusted ? [`${id}.output (sub-plan, untrusted)`, ...o.untrusted] : null,
      };
      outputs.set(id, flow);
      visiting.delete(id);
      return flow;
    }
    const cap = s.capability ? plan.capabilities[s.capability] : undefined;
    let flow = callOut(id, cap, readsOf(s));
    // The fallback's answer is the step's output when it runs (as the compile-time analysis joins it).
    const fb = s.fallback ? plan.capabilities[s.fallback.capability] : undefined;
    if (s.fallback && fb) flow = join(flow, callOut(id, fb, Object.values(s.fallback.args).map(exprFlow).reduce(join, NONE)));
    outputs.set(id, flow);
    visiting.delete(id);
    return flow;
  };

  /** What a call of `cap` that read `read` answers, as step `id`'s output. */
  const callOut = (id: string, cap: CapabilityIR | undefined, read: Flow): Flow => {
    const why = cap ? sourceKind(cap) : null;
    const untrusted = why ? [`${id}.output (${why}, untrusted)`, ...(read.untrusted ?? [])] : read.untrusted && !endorses(cap) ? [`${id}.output (reads untrusted, untrusted)`, ...read.untrusted] : null;
    const own = highest(cap?.data ?? 'public', outputClass(cap));
    const cls = rank(own) > rank(read.cls) ? own : read.cls;
    const clsPath = rank(own) > rank(read.cls) ? [`${id}.output (data ${own})`] : read.clsPath.length ? [`${id}.output (${cls})`, ...read.clsPath] : [];
    return { cls, clsPath, untrusted };
  };

  const exprFlow = (e: ExprIR | null | undefined): Flow => {
    if (!e || typeof e !== 'object') return NONE;
    switch (e.op) {
      case 'get':
        if (e.object.op === 'var' && e.object.name === 'input') {
          const cls: DataClassIR = inputProps[e.key] ? schemaClass(inputProps[e.key]!) : 'public';
          const own: Flow = rank(cls) > 0 ? { cls, clsPath: [`input.${e.key} @${cls}`], untrusted: null } : NONE;
          const arg = inputs.get(e.key);
          return arg ? join(own, { cls: arg.cls, clsPath: arg.clsPath.length ? [`input.${e.key}`, ...arg.clsPath] : [], untrusted: arg.untrusted ? [`input.${e.key}`, ...arg.untrusted] : null }) : own;
        }
        // `loop.previous.STEP`: that step's output in the last iteration (as the compile-time analysis reads it).
        if (e.object.op === 'previous' && blockSteps.get(e.object.loop)?.includes(e.key)) return stepOut(e.key);
        // A race's winner, a loop's index or iterations: a step name or a count — the distrust of what decided it, no class (as the compile-time analysis reads it).
        if (e.object.op === 'block' && BLOCK_COUNTS.has(e.key)) {
          const f = exprFlow(e.object);
          return f.untrusted ? { cls: 'public', clsPath: [], untrusted: f.untrusted } : NONE;
        }
        return exprFlow(e.object);
      case 'previous':
        return (blockSteps.get(e.loop) ?? []).map(stepOut).reduce(join, NONE);
      case 'step':
        return stepOut(e.id);
      case 'block':
        return (blockSteps.get(e.id) ?? []).map(stepOut).reduce(join, NONE);
      case 'item':
        return exprFlow(itemLists.get(e.name));
      default: {
        let f = NONE;
        for (const v of Object.values(e)) {
          if (Array.isArray(v)) for (const x of v) f = join(f, typeof x === 'object' && x && 'op' in x ? exprFlow(x as ExprIR) : exprFlow((x as { value?: ExprIR }).value));
          else if (v && typeof v === 'object' && 'op' in v) f = join(f, exprFlow(v as ExprIR));
        }
        return f;
      }
    }
  };

  /** A `run` step's sub-plan analysed with the labels of its arguments (once per step), or null. */
  const subRuns = new Map<string, { findings: IrFlowFinding[]; output: Flow } | null>();
  const subRun = (s: StepIR): { findings: IrFlowFinding[]; output: Flow } | null => {
    if (subRuns.has(s.id)) return subRuns.get(s.id)!;
    subRuns.set(s.id, null);
    const action = s.action;
    const sub = action.type === 'run' ? plan.subplans?.[action.plan] : undefined;
    if (action.type !== 'run' || !sub || running.has(sub.plan)) return null;
    const args = new Map(Object.entries(action.args).map(([k, e]) => [k, exprFlow(e)] as const));
    const result = analyse(sub, projectFile, args, new Set([...running, sub.plan]));
    subRuns.set(s.id, result);
    return result;
  };

  const readsOf = (s: StepIR): Flow => {
    let f = Object.values(s.args).map(exprFlow).reduce(join, NONE);
    if (s.for_each) f = join(f, exprFlow(s.for_each.list));
    return f;
  };

  /** What a sub-plan breaks on its own (no caller's labels), once per sub-plan however many steps run it. */
  const aloneKeys = new Map<string, ReadonlySet<string>>();
  const alone = (name: string): ReadonlySet<string> => {
    let keys = aloneKeys.get(name);
    if (!keys) aloneKeys.set(name, (keys = new Set(analyse(plan.subplans![name]!, projectFile, new Map(), new Set([...running, name])).findings.map(key))));
    return keys;
  };

  for (const s of plan.steps) {
    const sub = subRun(s);
    if (sub && s.action.type === 'run') {
      // What the sub-plan breaks only with these arguments is this step's (refused before the
      // sub-plan starts, as the compiler reports it at the call); what it breaks on its own is
      // its own steps', found when it is checked alone below.
      const own = alone(s.action.plan);
      for (const x of sub.findings)
        if (!own.has(key(x))) out.push({ step: s.id, refusal: { ...x.refusal, message: `in sub-plan ${s.action.plan} (run by step ${s.id}): ${x.refusal.message}` } });
      continue;
    }
    const cap = s.capability ? plan.capabilities[s.capability] : undefined;
    if (!cap) continue;
    let which: 'fallback' | 'compensate' | undefined;
    const add = (code: 'E0902' | 'E0903', sink: string, path: readonly string[], message: string) =>
      out.push({ step: s.id, refusal: { code, sink, source: path.at(-1) ?? sink, message: `${message}: ${[sink, ...path].join(' ← ')}`, ...(which ? { call: which } : {}) } });
    // The step's own call, then its fallback and its compensation, each against its capability's
    // sinks and where it runs (as the compile-time analysis checks them).
    const calls = [
      { cap, args: s.args, binding: s.binding, which: undefined },
      ...([['fallback', s.fallback], ['compensate', s.compensate]] as const).flatMap(([w, c]) => {
        const cc = c ? plan.capabilities[c.capability] : undefined;
        return c && cc ? [{ cap: cc, args: c.args, binding: c.binding ?? s.binding, which: w }] : [];
      }),
    ];
    for (const call of calls) {
      which = call.which;
      checkCall(call.cap, call.args, modelBinding(call.cap, call.binding, plan), s.id, exprFlow, projectFile, add);
    }
    which = undefined;
    if (s.when && whenNeedsTrust(calls.map((c) => c.cap))) {
      const w = exprFlow(s.when);
      if (w.untrusted) add('E0902', `${s.id}.when`, w.untrusted, `untrusted value reaches ${s.id}.when, which needs a trusted one`);
    }
  }
  // Each sub-plan on its own, once, at the top: a finding there is its own step's.
  if (inputs.size === 0 && running.size === 0)
    for (const sub of Object.values(plan.subplans ?? {}))
      out.push(...recheckFlows(sub, projectFile).map((x) => ({ ...x, refusal: { ...x.refusal, message: `${OWN_PREFIX(sub.plan)}${x.refusal.message}` } })));
  return { findings: out, output: outputFlow(plan.output, exprFlow) };
}

/**
 * A model call's binding with the endpoint its prompt goes to: an IR compiled before §9.1 records
 * none on the binding, and the runtime then sends it to the bound resource's `endpoint`, else the
 * capability's own — so that one is judged, at the tier the config gives it now.
 */
function modelBinding(cap: CapabilityIR, binding: StepIR['binding'], plan: PlanIR): StepIR['binding'] {
  if (!cap.llm || binding.endpoint !== undefined) return binding;
  const endpoint = (binding.resource !== null ? plan.resources[binding.resource]?.endpoint : undefined) ?? cap.llm.endpoint ?? undefined;
  return endpoint === undefined ? binding : { ...binding, endpoint };
}

/** One call's arguments against its capability's sinks and where the call runs (E0902, E0903). */
function checkCall(
  cap: CapabilityIR, args: StepIR['args'], binding: StepIR['binding'], stepId: string,
  exprFlow: (e: ExprIR) => Flow, projectFile: string,
  add: (code: 'E0902' | 'E0903', sink: string, path: readonly string[], message: string) => void,
): void {
  const short = cap.name.split('.').at(-1)!;
  const builtin = builtinOf(cap);
  const rule = stdSink(builtin);
  const argsLimit: DataClass | null = rule?.args === 'channel' ? null : (rule?.args ?? (cap.data === 'public' ? null : cap.data));
  for (const [name, e] of Object.entries(args)) {
    const f = exprFlow(e);
    const sink = `${short}.${name}`;
    const needsTrust = cap.destructive === true || (rule?.trusted.includes(name) ?? false);
    if (f.untrusted && needsTrust) add('E0902', sink, f.untrusted, `untrusted value reaches ${sink}, which needs a trusted one`);
    if (rank(f.cls) < rank('personal')) continue;
    const place = placeOf(binding, projectFile);
    if (rank(f.cls) > rank(place.cls)) add('E0903', sink, f.clsPath, `${f.cls} data reaches ${place.what} in step ${stepId}`);
    else if (argsLimit !== null && rank(f.cls) > rank(argsLimit)) add('E0903', sink, f.clsPath, `${f.cls} data reaches capability ${short} (data ${argsLimit}) in step ${stepId}`);
    else if (rule?.channel && !rule.channel.exempt.includes(name) && rank(f.cls) > rank('internal')) {
      const ch = args.channel;
      const channel = ch?.op === 'lit' && typeof ch.value === 'string' ? ch.value : ch ? null : rule.channel.default;
      if (channelExternal(builtin, channel, projectFile)) add('E0903', sink, f.clsPath, `${f.cls} data reaches external channel ${channel === null ? '(named by an expression)' : `"${channel}"`} in step ${stepId}`);
    }
  }
}

/** How a sub-plan's own finding is named in its caller's list (`withRefusals` routes it back by it). */
const OWN_PREFIX = (plan: string): string => `in sub-plan ${plan}: `;
const OWN_FINDING = /^in sub-plan [^\s:]+: /;

/** A finding's identity across two analyses of one plan (its witness path aside). */
const key = (x: IrFlowFinding): string => `${x.step}\u0000${x.refusal.code}\u0000${x.refusal.sink}`;

/** The flow of a plan's `output` (an expression, or a record of them). */
function outputFlow(output: unknown, exprFlow: (e: ExprIR) => Flow): Flow {
  if (output === null || typeof output !== 'object') return NONE;
  if ('op' in output) return exprFlow(output as ExprIR);
  return Object.values(output as Record<string, unknown>).reduce<Flow>((f, v) => join(f, outputFlow(v, exprFlow)), NONE);
}

/** The IR with each finding as a run-time refusal of its step (a project on `"flows": "warn"`). */
export function withRefusals(plan: PlanIR, findings: readonly IrFlowFinding[]): PlanIR {
  const mine = new Map<string, FlowRefusalIR[]>();
  // A sub-plan's own findings go to its steps; one caused by a `run` step's arguments ("in sub-plan P (run by step S): …") is S's.
  for (const x of findings) if (!OWN_FINDING.test(x.refusal.message)) mine.set(x.step, [...(mine.get(x.step) ?? []), x.refusal]);
  const steps = plan.steps.map((s) => (mine.has(s.id) ? { ...s, flow_refusals: [...(s.flow_refusals ?? []), ...mine.get(s.id)!] } : s));
  const subplans = Object.fromEntries(Object.entries(plan.subplans ?? {}).map(([k, p]) => [k, withRefusals(p, findings.filter((x) => x.refusal.message.startsWith(`in sub-plan ${p.plan}: `)).map((x) => ({ ...x, refusal: { ...x.refusal, message: x.refusal.message.slice(`in sub-plan ${p.plan}: `.length) } })))]));
  return { ...plan, steps, ...(plan.subplans ? { subplans } : {}) };
}

function sourceKind(cap: CapabilityIR): string | null {
  if (cap.handler && 'mcp' in cap.handler) return 'mcp';
  return alwaysUntrusted(cap);
}

/** The std approval returns what a person saw and approved: trusted. */
function endorses(cap: CapabilityIR | undefined): boolean {
  return builtinOf(cap) === 'approval';
}

function outputClass(cap: CapabilityIR | undefined): DataClass {
  const props = (cap?.output as { properties?: Record<string, JsonSchema> } | undefined)?.properties ?? {};
  return Object.values(props).reduce<DataClass>((c, p) => highest(c, schemaClass(p)), 'public');
}

/** The highest class a schema declares, at any depth (nested records, list items, map values, unions). */
export function schemaClass(s: JsonSchema, depth = 0): DataClass {
  let cls = (s['x-orch-data'] as DataClass | undefined) ?? 'public';
  if (depth > 8) return cls;
  const inner: unknown[] = [
    ...Object.values((s.properties as Record<string, unknown> | undefined) ?? {}),
    s.items, s.additionalProperties, ...((s.anyOf as unknown[] | undefined) ?? []), ...((s.oneOf as unknown[] | undefined) ?? []),
  ];
  for (const x of inner) if (x && typeof x === 'object' && !Array.isArray(x)) cls = highest(cls, schemaClass(x as JsonSchema, depth + 1));
  return cls;
}

function placeOf(b: StepIR['binding'], projectFile: string): { cls: DataClass; what: string } {
  let cls: DataClass = 'secret';
  let what = 'the local host';
  if (b.resource !== null && b.tier !== null) {
    cls = TIER_ACCEPTS[b.tier];
    what = `resource ${b.resource} (${b.tier})`;
  }
  if (b.endpoint !== undefined) {
    // The project's config now, not the tier the IR was compiled with.
    const tier = endpointTierFor(b.endpoint, projectFile);
    if (rank(TIER_ACCEPTS[tier]) < rank(cls)) {
      cls = TIER_ACCEPTS[tier];
      what = `model endpoint ${b.endpoint} (${tier})`;
    }
  }
  return { cls, what };
}

function highest(a: DataClass, b: DataClass): DataClass {
  return rank(b) > rank(a) ? b : a;
}

function join(a: Flow, b: Flow): Flow {
  if (b === NONE) return a;
  if (a === NONE) return b;
  return { cls: highest(a.cls, b.cls), clsPath: rank(b.cls) > rank(a.cls) ? b.clsPath : a.clsPath, untrusted: a.untrusted ?? b.untrusted };
}

/**
 * What `orch run plan.json` does with an IR at load: one with labels is the current compiler's
 * (checked when it was compiled) and is left as it is; one without is re-checked — refused with
 * its findings, or, in a project on `"flows": "warn"`, given them as run-time refusals.
 */
export function recheckAtLoad(plan: PlanIR, projectRoot: string): { readonly plan: PlanIR } | { readonly refused: string } {
  if (!lacksFlowLabels(plan)) return { plan };
  const file = joinPath(projectRoot, 'orch.config.json');
  const findings = recheckFlows(plan, file);
  if (!findings.length) return { plan };
  const config = projectConfigFor(file);
  if (config.kind === 'json' && config.raw.flows === 'warn') return { plan: withRefusals(plan, findings) };
  const lines = findings.map((x) => `  ${x.refusal.code} in step ${x.step}: ${x.refusal.message}`);
  return {
    refused:
      `plan "${plan.plan}" was compiled before LANGUAGE.md §9.3 (its IR carries no flow labels) and, re-checked at load, breaks its rules:\n${lines.join('\n')}\n` +
      'recompile it with this orch (orch check shows each finding at its source), or set "flows": "warn" in orch.config.json to refuse those steps at run time instead',
  };
}
