/**
 * The resources view: for each resource the plans declare, the slots steps of runs in flight
 * hold against its concurrency limit; the rate limits of the policies with the calls counted in
 * their current window across every run of the journal (the shared limits); and, over the
 * finished steps of recent runs, the local ratio and the privacy score — computed by the same
 * functions as `orch preview` and `/metrics`.
 */
import { countsForLocality, localRatio, privacyScore, type PlacedStep } from '../compiler/index.js';
import { rateWindow } from '../runtime/index.js';
import type { RunStarter } from './run-starter.js';
import { TERMINAL_STATUSES } from './run-starter.js';

export interface ResourceRow {
  readonly name: string;
  readonly kind: string;
  readonly tier: string;
  readonly inUse: number;
  readonly limit: number | null;
}

export interface ResourcesView {
  readonly resources: readonly ResourceRow[];
  /** `used`: calls counted in the window ending now, by every run of the journal. */
  readonly rateLimits: readonly { readonly policy: string; readonly capability: string; readonly count: number; readonly perMs: number; readonly used: number }[];
  /** Share of finished machine-placed steps on the local tier (null: none yet). */
  readonly localRatio: number | null;
  /** Share of finished steps touching `@personal` or more that ran on local or edge (1 when none did, as everywhere). */
  readonly privacyScore: number;
}

const RECENT_RUNS = 200;

export async function resourceUsage(starter: RunStarter): Promise<ResourcesView> {
  const rows = new Map<string, { name: string; kind: string; tier: string; inUse: number; limit: number | null }>();
  const rates = new Map<string, Omit<ResourcesView['rateLimits'][number], 'used'>>();
  const finished: PlacedStep[] = [];
  // The list is newest first: the latest runs tell what is in use now.
  const runs = (await starter.list()).slice(0, RECENT_RUNS);
  for (const r of runs) {
    const [view, source] = await Promise.all([starter.get(r.runId), starter.source(r.runId)]);
    if (!view || !source) continue;
    const tierOf = new Map<string, string>();
    const dataOf = new Map(source.plan.steps.map((st) => [st.id, st.data]));
    for (const res of Object.values(source.plan.resources ?? {})) {
      tierOf.set(res.name, res.tier);
      if (!rows.has(res.name)) rows.set(res.name, { name: res.name, kind: res.kind, tier: res.tier, inUse: 0, limit: res.concurrency });
    }
    for (const p of source.plan.policy ? [source.plan.policy] : []) {
      for (const l of p.rate_limits) rates.set(`${p.name}/${l.capability}`, { policy: p.name, capability: l.capability, count: l.count, perMs: l.per_ms });
    }
    for (const s of view.steps) {
      if (!s.resource) continue;
      if (!TERMINAL_STATUSES.has(r.status) && s.status === 'running') {
        const row = rows.get(s.resource);
        if (row) row.inUse += 1;
      }
      if (s.status === 'completed' || s.status === 'failed') {
        // Instances (`send[2]`, `draft#1`) carry their step's data class.
        const id = s.stepId.replace(/[[#].*$/, '');
        finished.push({ tier: tierOf.get(s.resource) ?? null, data: dataOf.get(id) ?? 'public' });
      }
    }
  }
  const now = Date.now();
  return {
    resources: [...rows.values()].sort((a, b) => a.name.localeCompare(b.name)),
    rateLimits: await Promise.all([...rates.values()].map(async (l) => ({ ...l, used: await starter.rateHitsSince(rateWindow(l.policy, l.capability), now - l.perMs) }))),
    localRatio: finished.some(countsForLocality) ? localRatio(finished) : null,
    privacyScore: privacyScore(finished),
  };
}
