/**
 * Where steps run, as ratios: one definition for `orch preview` (over the plan's bindings), the
 * run statistics and `/metrics` (over the resources steps actually ran on), so they agree.
 */

/** A step as placed (or as it ran): its tier (`null`: no resource) and data class. */
export interface PlacedStep {
  readonly tier: string | null;
  readonly data: string;
}

const SENSITIVE = new Set(['personal', 'sensitive', 'secret']);
const NEAR = new Set(['local', 'edge']);

/** Whether a step counts for the privacy score: placed on a machine, touching `@personal` or more. */
export function countsForPrivacy(s: PlacedStep): boolean {
  return SENSITIVE.has(s.data) && !!s.tier && s.tier !== 'human';
}

/** Whether a step counts for the local ratio: placed on a machine. */
export function countsForLocality(s: PlacedStep): boolean {
  return !!s.tier && s.tier !== 'human';
}

/** Share of machine-placed steps on the local tier (1 when none is placed). Humans do not count. */
export function localRatio(steps: Iterable<PlacedStep>): number {
  let placed = 0;
  let local = 0;
  for (const s of steps) {
    if (!countsForLocality(s)) continue;
    placed++;
    if (s.tier === 'local') local++;
  }
  return placed ? local / placed : 1;
}

/**
 * Privacy score: the share of steps touching `@personal` or more sensitive data that run on the
 * local or edge tiers (1 when no such step is placed on a machine).
 */
export function privacyScore(steps: Iterable<PlacedStep>): number {
  let touching = 0;
  let near = 0;
  for (const s of steps) {
    if (!countsForPrivacy(s)) continue;
    touching++;
    if (NEAR.has(s.tier ?? "")) near++;
  }
  return touching ? near / touching : 1;
}
