/**
 * Who may decide an approval step (LANGUAGE.md §8.8), as one pure rule the scheduler core applies
 * to every decision and the runtime applies before accepting one (so a refused decision is an
 * error to the caller and changes nothing).
 *
 * A decision made without an identity (no people configured: `orch signal`, the bootstrap token)
 * is not checked: `approver` is then a label, and the first decision decides, as before §8.8.
 */
import type { StepIR } from '../../compiler/index.js';
import { evaluate } from '../evaluate.js';
import type { Identity, RecordedIdentity } from './identity.js';

/** What an approval step's arguments ask of its deciders. */
export interface ApprovalRule {
  /** A user (`alice`: the identity's subject) or a group (`group:finance`); null: anyone with the role. */
  readonly approver: string | null;
  /** Distinct people who must approve (≥ 1). */
  readonly approvals: number;
  /** The person who started the run may not decide. */
  readonly notStarter: boolean;
}

export const GROUP_PREFIX = 'group:';

/** The rule of an approval step's evaluated arguments (bad values were refused by the compiler; defaults otherwise). */
export function approvalRule(args: { readonly [name: string]: unknown }): ApprovalRule {
  const n = args.approvals;
  return {
    approver: typeof args.approver === 'string' && args.approver.trim() !== '' ? args.approver.trim() : null,
    approvals: typeof n === 'number' && Number.isInteger(n) && n >= 1 ? n : 1,
    notStarter: args.not_starter === true,
  };
}

/**
 * The rule of approval step `step` as known before it starts (a decision sent early): its
 * `approver`, `approvals` and `not_starter` evaluated against the run's input alone. Null when one
 * of them needs what only the step's start knows (another step's output, a `for each` item, the
 * context): such a decision is checked when the step starts.
 */
export function ruleBeforeStart(step: StepIR, input: unknown): ApprovalRule | null {
  const args: { [name: string]: unknown } = {};
  try {
    for (const name of ['approver', 'approvals', 'not_starter']) if (step.args[name]) args[name] = evaluate(step.args[name], { vars: { input } });
  } catch {
    return null;
  }
  return approvalRule(args);
}

/** The same person: subject and issuer (two providers may both have a `sub` "42"). */
export function samePerson(a: RecordedIdentity, b: RecordedIdentity): boolean {
  return a.subject === b.subject && a.issuer === b.issuer;
}

/** Whether `who` is, or belongs to, the step's `approver`. */
export function matchesApprover(approver: string | null, who: Identity): boolean {
  if (approver === null) return true;
  if (approver.startsWith(GROUP_PREFIX)) return who.groups.includes(approver.slice(GROUP_PREFIX.length));
  return who.subject === approver;
}

/** What the step knows when a decision arrives. */
export interface DecisionState {
  /** The people who approved so far, in order. */
  readonly approvedBy: readonly RecordedIdentity[];
  /** Who started the run, when a person did. */
  readonly startedBy: RecordedIdentity | null;
}

/** Why `who` may not make `decision` on a step with `rule`, or null when they may. */
export function refusal(rule: ApprovalRule, who: Identity, decision: 'approve' | 'reject', state: DecisionState): string | null {
  const name = who.name && who.name !== who.subject ? `${who.subject} (${who.name})` : who.subject;
  if (!who.roles.includes('approver') && !who.roles.includes('admin')) return `${name} may not decide approvals (needs the approver role)`;
  if (!matchesApprover(rule.approver, who)) {
    const target = rule.approver!.startsWith(GROUP_PREFIX) ? `members of ${rule.approver}` : rule.approver;
    return `this approval is for ${target}; ${name} may not decide it`;
  }
  if (rule.notStarter && state.startedBy !== null && samePerson(state.startedBy, who)) return `${name} started this run and may not decide its approval (not_starter)`;
  if (decision === 'approve' && state.approvedBy.some((p) => samePerson(p, who)))
    return `${name} has already approved; ${rule.approvals} distinct people must approve`;
  return null;
}
