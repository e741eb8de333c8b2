/**
 * Placement: binds each step to a resource. Feasible = provides every tag the capability
 * `requires` (or the step's `on` resource, which must itself be feasible). Among feasible
 * resources the policy strategy ranks: privacy_first → lowest trust tier, then cost;
 * cost → lowest cost; latency → lowest latency; balanced/comfort → weighted score of normalised
 * cost, latency, energy and unreliability. `prefer` breaks ties. The rest of the ranking, up to
 * `max_fallbacks`, are the rebinding alternatives.
 *
 * No resource is needed by built-in forms (wait, wait until, run) and by `human` capabilities
 * unless a `human` resource provides what they require. A program that declares no resources at
 * all runs tag-free capabilities on the local host (resource null).
 */
import type { BindingIR, DataClassIR, PolicyIR, ResourceIR, TierIR } from './ir/types.js';

export interface PlacementStep {
  readonly id: string;
  /** `null` for built-in forms (no capability). */
  readonly kind: 'tool' | 'agent' | 'llm' | 'service' | 'human' | null;
  readonly builtin: 'wait' | 'wait_until' | 'run' | null;
  readonly requires: readonly string[];
  readonly pinned: string | undefined;
}

export interface PlacementResource extends ResourceIR {
  readonly energy: number;
  /** §9.3: `accepts CLASS` — the highest class it takes, whatever its tier says (the flows stage reads it; not in the IR). */
  readonly accepts?: DataClassIR;
}

export type PlacementResult =
  | { readonly ok: true; readonly binding: BindingIR }
  /** `code`: a step placement cannot host for another reason than resources (E0801: no model endpoint decided). */
  | {
      readonly ok: false;
      readonly reason: string;
      readonly code?: 'E0801';
      /** E0801: the resources that would host the step but for its model: not unused (W0601), only undecided. */
      readonly hosts?: readonly string[];
    };

const TIER_RANK: Record<TierIR, number> = { local: 0, edge: 1, cloud: 2, human: 3 };
const PREFER_TIER = { local: 'local', edge: 'edge', cloud: 'cloud' } as const;

export function defaultPolicy(): PolicyIR {
  return {
    name: '(default)',
    strategy: 'privacy_first',
    weights: {},
    budgets: { cost: null, duration_ms: null },
    prefer: null,
    max_fallbacks: 3,
    require_consent: false,
    rate_limits: [],
  };
}

function provides(r: ResourceIR, tags: readonly string[]): boolean {
  return tags.every((t) => r.provides.includes(t));
}

export function place(
  step: PlacementStep,
  resources: readonly PlacementResource[],
  policy: PolicyIR,
  money: (n: number) => string,
): PlacementResult {
  if (step.builtin) {
    const what = step.builtin === 'run' ? 'sub-plan step: its own steps are placed' : `${step.builtin.replace('_', ' ')} step: runs in the scheduler`;
    return { ok: true, binding: { resource: null, tier: null, rationale: `${what}, no resource needed`, fallbacks: [] } };
  }
  const need = step.requires.length ? ` (requires ${step.requires.join(', ')})` : '';
  if (step.pinned !== undefined) {
    const r = resources.find((x) => x.name === step.pinned);
    if (!r) return { ok: false, reason: `pinned resource "${step.pinned}" is not declared` };
    if (!provides(r, step.requires)) {
      const missing = step.requires.filter((t) => !r.provides.includes(t));
      return { ok: false, reason: `pinned resource "${r.name}" does not provide ${missing.join(', ')}${need}` };
    }
    return { ok: true, binding: { resource: r.name, tier: r.tier, rationale: `pinned with "on ${r.name}" (${r.tier})`, fallbacks: [] } };
  }
  const human = step.kind === 'human';
  const candidates = resources.filter((r) => (human ? r.kind === 'human' : r.kind !== 'human') && provides(r, step.requires));
  if (!candidates.length) {
    if (human) return { ok: true, binding: { resource: null, tier: 'human', rationale: 'human task: handled by a person through the approval inbox, no resource needed', fallbacks: [] } };
    const pool = resources.filter((r) => r.kind !== 'human');
    // A plan that declares no machine runs its steps here, as `log` does: `requires` chooses among
    // declared machines, it does not ask for one to be declared (std `http_request` requires http).
    if (!pool.length)
      return { ok: true, binding: { resource: null, tier: null, rationale: `no machine resources declared: runs on the local host${need}`, fallbacks: [] } };
    const missing = step.requires.filter((t) => !pool.some((r) => r.provides.includes(t)));
    const first = pool[0]!;
    const add = missing.length
      ? `; add ${missing.map((t) => `"${t}"`).join(', ')} to the provides of a resource (e.g. resource ${first.name} { … provides ${[...first.provides, ...missing].join(', ')} })`
      : '';
    return {
      ok: false,
      reason: `no resource provides ${step.requires.join(', ')} (declared: ${pool.map((r) => `${r.name} [${r.provides.join(', ') || 'nothing'}]`).join('; ')})${add}`,
    };
  }
  const ranked = rank(candidates, policy);
  const best = ranked[0]!;
  const others = ranked.length - 1;
  const fallbacks = ranked.slice(1, 1 + Math.max(0, policy.max_fallbacks)).map((r) => r.name);
  return {
    ok: true,
    binding: { resource: best.name, tier: best.tier, rationale: rationale(best, policy, others, money), fallbacks },
  };
}

function preferRank(r: ResourceIR, policy: PolicyIR): number {
  if (!policy.prefer) return 0;
  return r.tier === PREFER_TIER[policy.prefer] ? 0 : 1;
}

function rank(rs: readonly PlacementResource[], policy: PolicyIR): PlacementResource[] {
  const byName = (a: ResourceIR, b: ResourceIR): number => a.name.localeCompare(b.name);
  const sorted = [...rs];
  switch (policy.strategy) {
    case 'privacy_first':
      return sorted.sort((a, b) => TIER_RANK[a.tier] - TIER_RANK[b.tier] || preferRank(a, policy) - preferRank(b, policy) || a.cost - b.cost || a.latency_ms - b.latency_ms || byName(a, b));
    case 'cost':
      return sorted.sort((a, b) => a.cost - b.cost || preferRank(a, policy) - preferRank(b, policy) || a.latency_ms - b.latency_ms || byName(a, b));
    case 'latency':
      return sorted.sort((a, b) => a.latency_ms - b.latency_ms || preferRank(a, policy) - preferRank(b, policy) || a.cost - b.cost || byName(a, b));
    case 'balanced':
    case 'comfort': {
      const scores = new Map(sorted.map((r) => [r, score(r, sorted, policy)]));
      return sorted.sort((a, b) => scores.get(a)! - scores.get(b)! || preferRank(a, policy) - preferRank(b, policy) || byName(a, b));
    }
  }
}

const DEFAULT_WEIGHTS = { cost: 0.25, latency: 0.25, energy: 0.25, reliability: 0.25 };

/** Lower is better: each factor normalised to [0, 1] over the feasible set. */
export function score(r: PlacementResource, all: readonly PlacementResource[], policy: PolicyIR): number {
  const w = Object.keys(policy.weights).length ? policy.weights : DEFAULT_WEIGHTS;
  const norm = (v: number, max: number): number => (max > 0 ? v / max : 0);
  const maxCost = Math.max(...all.map((x) => x.cost));
  const maxLatency = Math.max(...all.map((x) => x.latency_ms));
  const maxEnergy = Math.max(...all.map((x) => x.energy));
  const unreliability = 1 - (r.reliability ?? 1);
  const maxUnrel = Math.max(...all.map((x) => 1 - (x.reliability ?? 1)));
  return (
    (w.cost ?? 0) * norm(r.cost, maxCost) +
    (w.latency ?? 0) * norm(r.latency_ms, maxLatency) +
    (w.energy ?? 0) * norm(r.energy, maxEnergy) +
    (w.reliability ?? 0) * norm(unreliability, maxUnrel)
  );
}

function rationale(r: PlacementResource, policy: PolicyIR, others: number, money: (n: number) => string): string {
  const among = others ? ` among ${others + 1} feasible` : ' (the only feasible resource)';
  switch (policy.strategy) {
    case 'privacy_first':
      return `privacy_first: lowest trust tier (${r.tier}), then cost ${money(r.cost)}${among}`;
    case 'cost':
      return `cost: cheapest at ${money(r.cost)} per step${among}`;
    case 'latency':
      return `latency: fastest at ${r.latency_ms}ms added${among}`;
    default:
      return `${policy.strategy}: best weighted score of cost, latency, energy, reliability${among}`;
  }
}
