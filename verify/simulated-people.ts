/**
 * The people of a simulated run (LANGUAGE.md §8.8), so invariants about who approved — "approved
 * by someone other than the starter" — are proved or refuted like any other.
 *
 * Verify plays the worst case: the run is started by someone who may decide its approvals
 * whenever the plan lets them (the user an approval names, or a member of every group named),
 * and that person decides first; distinct colleagues give the remaining approvals. So `not_starter`
 * is what keeps the starter out, and `approvals: N` what brings in N people; a step that no
 * eligible person can complete (a single named user asked for two approvals, or the only named
 * user started the run) waits until its timeout, as it would in production.
 *
 * Only plans that use these features get people (an approval step with `approvals` > 1 or
 * `not_starter`, or an invariant reading `run.started_by` or `.approvers`); the others are
 * decided as before, by a label.
 */
import type { ExprIR, PlanIR, StepIR } from '../compiler/index.js';
import { approvalRule, GROUP_PREFIX, LOCAL_ISSUER, type Identity } from '../runtime/index.js';
import { isApprovalStep } from './scenario.js';

export interface SimulatedPeople {
  /** Who starts the run. */
  readonly starter: Identity;
  /** Who answers approval `step`, in the order they try: the starter first, then colleagues. */
  deciders(step: StepIR): readonly Identity[];
}

/** How many colleagues besides the starter may answer one approval step. */
const COLLEAGUES = 4;

const literal = (e: ExprIR | undefined): unknown => (e && e.op === 'lit' ? e.value : undefined);

function person(subject: string, groups: readonly string[]): Identity {
  return { subject, issuer: LOCAL_ISSUER, name: subject, method: 'password', roles: ['operator', 'approver'], groups };
}

export function simulatedPeople(plan: PlanIR): SimulatedPeople | null {
  const approvals = plan.steps.filter((s) => isApprovalStep(s, plan));
  if (approvals.length === 0) return null;
  const rules = approvals.map((s) => approvalRule({ approver: literal(s.args.approver), approvals: literal(s.args.approvals), not_starter: literal(s.args.not_starter) }));
  const reads = JSON.stringify(plan.invariants);
  const uses = rules.some((r) => r.approvals > 1 || r.notStarter) || reads.includes('"key":"started_by"') || reads.includes('"key":"approvers"');
  if (!uses) return null;
  const groups = [...new Set(rules.map((r) => r.approver).filter((a): a is string => a !== null && a.startsWith(GROUP_PREFIX)).map((a) => a.slice(GROUP_PREFIX.length)))];
  const users = rules.map((r) => r.approver).filter((a): a is string => a !== null && !a.startsWith(GROUP_PREFIX));
  const starter = person(users[0] ?? 'starter', groups);
  const colleagues = Array.from({ length: COLLEAGUES }, (_, i) => person(`colleague-${i + 1}`, groups));
  return {
    starter,
    deciders(step) {
      const approver = literal(step.args.approver);
      // A named user: only that person (the starter, when they are the same).
      if (typeof approver === 'string' && approver !== '' && !approver.startsWith(GROUP_PREFIX)) return [approver === starter.subject ? starter : person(approver, groups)];
      return [starter, ...colleagues];
    },
  };
}
