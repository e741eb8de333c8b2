/**
 * What `orch preview` says of an approval step (LANGUAGE.md §8.8): who decides, how many distinct
 * people, and whether the person who started the run is left out — read from its arguments as far
 * as the file (and `--input`) tells them.
 */
import type { PlanIR, StepIR } from './ir/types.js';
import { UNKNOWN, staticEval, type StaticValue } from './static-eval.js';
import { builtinOf } from './ir/builtin.js';

export interface PreviewApproval {
  /** A user, `group:NAME`, or null when it is computed at run time. */
  readonly approver: string | null;
  /** Distinct people who must approve; null when computed at run time. */
  readonly approvals: number | null;
  /** Whether the starter (and everyone in the run's chain) may not decide; null when computed at run time. */
  readonly not_starter: boolean | null;
}

/** The approval of `step`, or null when it is not one (`std.capabilities.approval`). */
export function approvalOf(plan: PlanIR, step: StepIR, vars: Readonly<Record<string, StaticValue>>): PreviewApproval | null {
  const cap = step.capability ? plan.capabilities[step.capability] : undefined;
  if (builtinOf(cap) !== 'approval' || step.action.type !== 'call') return null;
  const arg = (name: string, absent: StaticValue): StaticValue => {
    const e = step.args[name];
    return e ? staticEval(e, vars) : absent;
  };
  const approver = arg('approver', UNKNOWN);
  const approvals = arg('approvals', 1);
  const notStarter = arg('not_starter', false);
  return {
    approver: typeof approver === 'string' ? approver : null,
    approvals: typeof approvals === 'number' ? approvals : null,
    not_starter: typeof notStarter === 'boolean' ? notStarter : null,
  };
}

/** `approval by group:finance: 2 distinct people, not the one who started the run` */
export function approvalText(a: PreviewApproval): string {
  const who = a.approver ?? '(decided at run time)';
  const n = a.approvals === null ? 'a number of people decided at run time' : a.approvals === 1 ? 'one person' : `${a.approvals} distinct people`;
  const starter = a.not_starter === true ? ', not the one who started the run' : a.not_starter === null ? ', the starter excluded or not at run time' : '';
  return `approval by ${who}: ${n}${starter}`;
}
