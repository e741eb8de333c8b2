/**
 * Consent (LANGUAGE.md §7.2): under `require_consent true`, every scope any step may need — its
 * calls, fallbacks, compensations and sub-plans, as the compiler collected them in `plan.consent`
 * — must be granted before the run starts. A missing scope fails the run before any step with
 * `consent_denied` naming what is missing. Sub-plans run under their parent's check, which covers
 * a sub-plan's own `require_consent` too.
 */
import type { PlanIR } from '../../../compiler/index.js';
import { finish } from './endings.js';
import type { RunState } from './run-state.js';

/** The scopes a run of `plan` may need: the v2 IR's list, or (v1) every declared capability's. */
export function neededScopes(plan: PlanIR): readonly string[] {
  if (plan.consent) return plan.consent;
  return [...new Set(Object.values(plan.capabilities).flatMap((cap) => cap.consent))].sort();
}

export function grantedScopes(c: RunState): readonly string[] {
  return [...new Set(c.opts.consent ?? [])].sort();
}

/**
 * The scopes a top-level run of `plan` must be granted: those of every plan under
 * `require_consent true` among it and the sub-plans it may run, at any depth — a sub-plan keeps
 * its own policy's promise whoever runs it, and its run starts long after the check could stop it.
 */
export function consentRequired(plan: PlanIR): readonly string[] {
  const needed = new Set<string>();
  const seen = new Set<PlanIR>();
  const visit = (p: PlanIR): void => {
    if (seen.has(p)) return;
    seen.add(p);
    if (p.policy?.require_consent) for (const s of neededScopes(p)) needed.add(s);
    for (const sub of Object.values(p.subplans ?? {})) visit(sub);
  };
  visit(plan);
  return [...needed].sort();
}

/** Checks the grants of a fresh run; false when it was failed for missing consent. */
export function consentHolds(c: RunState): boolean {
  if (c.opts.parentRunId) return true;
  const needed = consentRequired(c.plan);
  if (needed.length === 0) return true;
  const granted = new Set(grantedScopes(c));
  const missing = needed.filter((s) => !granted.has(s));
  if (missing.length === 0) return true;
  c.emit('consent_denied', null, { missing, needed, granted: [...granted].sort() });
  finish(c, 'failed', `consent not granted: ${missing.join(', ')} (grant with --consent, config "consent" or "consent" in POST /runs)`);
  return false;
}
