/**
 * What a test sees of the plan it tests (LANGUAGE.md §9.2): its steps with the types of their
 * inputs, the capabilities it can call — its steps' calls, fallbacks and compensations, and those
 * of its sub-plans, at any depth — and which of those never reach the network in a test.
 */
import type { CapabilityIR } from '../ir/types.js';
import type { CapabilityInfo } from '../check/capability.js';
import type { CheckedPlan, CheckedStep } from '../check/checked-plan.js';
import type { DeclEntry } from '../scope.js';
import { listOf, record, type Ty } from '../types/ty.js';
import { builtinOf } from '../ir/builtin.js';

export interface PlanFacts {
  readonly plan: CheckedPlan;
  /** The plan's own steps by id. */
  readonly steps: ReadonlyMap<string, CheckedStep>;
  /** What `STEP.input` is: its call's, approval's or sub-plan's input. */
  readonly inputOf: (step: CheckedStep) => Ty;
  /** Every capability a run of the plan can call, by IR name. */
  readonly callable: ReadonlyMap<string, CapabilityInfo>;
  /** Per step of the plan: the capabilities it can call, its sub-plans' included. */
  readonly callsOf: (step: CheckedStep) => readonly CapabilityInfo[];
}

export interface FactsContext {
  readonly checked: ReadonlyMap<DeclEntry<'plan'>, CheckedPlan>;
  readonly capabilityByName: (name: string) => CapabilityInfo | undefined;
}

const EMPTY: Ty = record([]);

export function planFacts(plan: CheckedPlan, cx: FactsContext): PlanFacts {
  const steps = new Map(plan.steps.map((s) => [s.id, s]));
  const perPlan = new Map<CheckedPlan, Map<string, CapabilityInfo>>();
  /** Every capability `p` can call (sub-plans included); a sub-plan cycle is the plan's E0301. */
  const reach = (p: CheckedPlan, seen: Set<CheckedPlan>): Map<string, CapabilityInfo> => {
    const known = perPlan.get(p);
    if (known) return known;
    const out = new Map<string, CapabilityInfo>();
    if (seen.has(p)) return out;
    seen.add(p);
    for (const s of p.steps) for (const c of stepCalls(s, seen)) out.set(c.name, c);
    perPlan.set(p, out);
    return out;
  };
  const stepCalls = (s: CheckedStep, seen: Set<CheckedPlan>): CapabilityInfo[] => {
    const out: CapabilityInfo[] = [];
    if (s.capability && s.action.type === 'call') out.push(s.capability);
    for (const call of [s.fallback, s.compensate]) {
      const c = call ? cx.capabilityByName(call.capability) : undefined;
      if (c) out.push(c);
    }
    const sub = s.runPlan ? cx.checked.get(s.runPlan) : undefined;
    if (sub) out.push(...reach(sub, seen).values());
    return out;
  };
  const callable = reach(plan, new Set());
  const inputOf = (s: CheckedStep): Ty => {
    const one = s.runPlan ? (cx.checked.get(s.runPlan)?.inputTy ?? EMPTY) : s.action.type === 'call' && s.capability ? s.capability.input : EMPTY;
    // A step inside `for each` blocks, read from the test (outside every block): a list per block.
    let ty = one;
    for (let i = 0; i < s.eachPath.length; i++) ty = listOf(ty);
    return ty;
  };
  return { plan, steps, inputOf, callable, callsOf: (s) => stepCalls(s, new Set()) };
}

/**
 * What a capability reaches that a test never lets it reach (§9.2): a model, an MCP tool, a
 * channel or the network; null for a capability whose own handler runs in a test.
 */
export function boundaryOf(cap: CapabilityIR): string | null {
  if (cap.llm) return 'a model';
  const h = cap.handler;
  if (h === null) return null;
  if ('mcp' in h) return 'an MCP tool';
  if ('builtin' in h) {
    if (h.builtin === 'notify' || h.builtin === 'email') return 'a channel';
    if (h.builtin === 'http_request') return 'the network';
  }
  return null;
}

/** The std approval: decided by `approve` / `reject` lines, never mocked. */
export function isApprovalCapability(cap: CapabilityIR): boolean {
  return builtinOf(cap) === 'approval';
}
