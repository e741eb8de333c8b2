/**
 * Where a model step's calls go (LANGUAGE.md §9.1), decided here and nowhere else: a step answered
 * by the built-in model handler sends its prompt to its resource's `endpoint`, else to its
 * capability's own `endpoint`. Placement sees each resource as such a step would use it — only
 * resources that decide an endpoint (when the capability names none), each at the higher of its
 * own tier and that endpoint's — so privacy_first ranking, the guardrail proofs and the preview
 * all see the tier the data reaches. The runtime reads the decision from the IR.
 */
import type { CapabilityInfo } from '../check/capability.js';
import { endpointTierFor, higherTier, type EndpointTier } from '../endpoint-tiers.js';
import type { BindingIR } from '../ir/types.js';
import type { PlacementResource } from '../placement.js';

/** The endpoint a model capability names itself (`null`: none), or undefined when it is not one. */
export interface ModelNeed {
  readonly own: { readonly name: string; readonly tier: EndpointTier } | null;
  /** Whether the capability names its own `model` (the bound resource's wins, §8.1). */
  readonly ownModel: boolean;
}

export interface ModelView {
  readonly resources: readonly PlacementResource[];
  readonly byName: ReadonlyMap<string, PlacementResource>;
}

const views = new WeakMap<readonly PlacementResource[], Map<string, ModelView>>();

/** What placement needs to know of a step's capability: undefined when no model answers it. */
export function modelNeed(cap: CapabilityInfo | undefined, file: string): ModelNeed | undefined {
  const llm = cap?.ir.llm;
  if (!llm || cap.ir.handler !== null) return undefined;
  const name = llm.endpoint ?? null;
  return { own: name === null ? null : { name, tier: endpointTierFor(name, file) }, ownModel: llm.model !== null };
}

/** A key part for placements shared between steps: model steps with the same own endpoint agree. */
export function modelKey(need: ModelNeed | undefined): string {
  return need === undefined ? '' : `llm:${need.own?.name ?? ''}:${need.ownModel ? 'model' : ''}`;
}

/** The resources as a step with `need` would use them (cached per resource list and own endpoint). */
export function modelView(resources: readonly PlacementResource[], need: ModelNeed): ModelView {
  let byOwn = views.get(resources);
  if (!byOwn) views.set(resources, (byOwn = new Map()));
  const key = need.own?.name ?? '';
  let v = byOwn.get(key);
  if (!v) {
    const list: PlacementResource[] = [];
    for (const r of resources) {
      if (r.kind === 'human') {
        list.push(r);
        continue;
      }
      const epTier = r.endpoint !== undefined ? (r.endpoint_tier ?? 'cloud') : need.own?.tier;
      if (epTier === undefined) continue; // it decides no endpoint for this step
      list.push({ ...r, tier: higherTier(r.tier, epTier) });
    }
    byOwn.set(key, (v = { resources: list, byName: new Map(list.map((r) => [r.name, r])) }));
  }
  return v;
}

/**
 * The binding with its endpoint and endpoint tier; `undefined` when no endpoint is decided (no
 * resource and no endpoint of the capability's own: E0801).
 */
export function withEndpoint(b: BindingIR, need: ModelNeed, resources: ReadonlyMap<string, PlacementResource>): BindingIR | undefined {
  const r = b.resource !== null ? resources.get(b.resource) : undefined;
  if (r?.kind === 'human') return b;
  const endpoint = r?.endpoint ?? need.own?.name;
  if (endpoint === undefined) return undefined;
  const endpoint_tier = r?.endpoint !== undefined ? (r.endpoint_tier ?? 'cloud') : need.own!.tier;
  // The view's tier already is the higher one; a step on no resource is at its endpoint's.
  return { ...b, tier: r ? r.tier : endpoint_tier, endpoint, endpoint_tier };
}
