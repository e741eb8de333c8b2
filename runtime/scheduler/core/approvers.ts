/**
 * Who may decide an approval step (LANGUAGE.md §8.8), as one pure rule the scheduler core applies
 * to every decision and the runtime applies before accepting one (so a refused decision is an
 * error to the caller and changes nothing).
 *
 * A decision made without an identity (no people configured: `orch signal`, the bootstrap token)
 * is not checked: `approver` is then a label, and the first decision decides, as before §8.8 —
 * unless the run is bound to people (§9.1: it started where an `auth` block is configured); then
 * it is refused.
 */
import type { StepIR } from '../../../compiler/index.js';
import { evaluate } from '../../evaluate.js';
import { type Identity, LOCAL_ISSUER, type PersonRef, type RecordedIdentity, samePerson, startedAs } from './identity.js';

/** What an approval step's arguments ask of its deciders. */
export interface ApprovalRule {
  /** A user (`alice`: the identity's subject) or a group (`group:finance`); null: anyone with the role. */
  readonly approver: string | null;
  /** Distinct people who must approve (≥ 1). */
  readonly approvals: number;
  /** The person who started the run — and everyone in the chain it came from (§9.1) — may not decide. */
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

export { samePerson };

/**
 * Whether `who` is, or belongs to, the step's `approver`. A user's name names a user of the
 * config (issuer `local`): an OpenID account whose `sub` happens to be that name is someone else
 * (§9.1: identities are (issuer, subject)), and so is the bootstrap token.
 */
export function matchesApprover(approver: string | null, who: Identity): boolean {
  if (approver === null) return true;
  if (approver.startsWith(GROUP_PREFIX)) return who.groups.includes(approver.slice(GROUP_PREFIX.length));
  return who.issuer === LOCAL_ISSUER && who.method !== 'bootstrap' && who.subject === approver;
}

/** What the step knows when a decision arrives. */
export interface DecisionState {
  /** The people who approved so far, in order. */
  readonly approvedBy: readonly RecordedIdentity[];
  /** Who started the run (absent in journals before v0.4 for anything but `POST /runs`). */
  readonly startedBy: PersonRef | null;
  /** §9.1: everyone else in the run's chain: who caused it, who started or caused a run it came from. */
  readonly chain?: readonly PersonRef[];
}

/**
 * §9.1: why a decision without an authenticated person is refused on a run bound to people, or
 * null (the run is not bound, or a person decides).
 */
export function unboundRefusal(peopleBound: boolean, identity: Identity | null): string | null {
  if (identity !== null || !peopleBound) return null;
  return (
    'the approvals of this run are bound to people (it started where an "auth" block is configured): only a signed-in person, ' +
    'on a server that knows them (one started with the project\'s config), may decide them; this decision comes from no authenticated person'
  );
}

/** Why `who` may not make `decision` on a step with `rule`, or null when they may. */
export function refusal(rule: ApprovalRule, who: Identity, decision: 'approve' | 'reject', state: DecisionState): string | null {
  const name = who.name && who.name !== who.subject ? `${who.subject} (${who.name})` : who.subject;
  if (!who.roles.includes('approver') && !who.roles.includes('admin')) return `${name} may not decide approvals (needs the approver role)`;
  if (!matchesApprover(rule.approver, who)) {
    const target = rule.approver!.startsWith(GROUP_PREFIX) ? `members of ${rule.approver}` : rule.approver;
    return `this approval is for ${target}; ${name} may not decide it`;
  }
  if (rule.notStarter && state.startedBy !== null && startedAs(state.startedBy, who)) return `${name} started this run and may not decide its approval (not_starter)`;
  if (rule.notStarter && state.chain?.some((p) => startedAs(p, who)))
    return `${name} started, caused or asked for this run or a run it came from, and may not decide its approval (not_starter)`;
  if (decision === 'approve' && state.approvedBy.some((p) => samePerson(p, who)))
    return `${name} has already approved; ${rule.approvals} distinct people must approve`;
  return null;
}
