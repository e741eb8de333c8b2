/**
 * The mutants of the examples no test can kill because they change nothing a run can show
 * (equivalent mutants), each with the reason. score.ts leaves them out of the score, prints them
 * with their reason, still runs them, and fails if one is killed (then it was not equivalent) or
 * if an entry names no mutant (the example changed: the entry is out of date).
 */
export interface EquivalentMutant {
  /** The plan's IR name, the step, and the operator's name as operators.ts gives them. */
  readonly plan: string;
  readonly step: string;
  readonly operator: string;
  readonly reason: string;
}

export const EQUIVALENT: readonly EquivalentMutant[] = [
  {
    plan: 'campaign_launch',
    step: 'approve',
    operator: 'timeout ÷ 10',
    reason: "the plan's 2 h deadline ends every wait for the approval before its timeout, 24 h or 2.4 h",
  },
  {
    plan: 'gas_leak_response',
    step: 'reporter_clear',
    operator: 'timeout ÷ 10',
    reason: 'its race sibling `wait 2s` ends the race before either timeout (10 min or 1 min) can fire',
  },
  {
    plan: 'wcp16_deferred_choice',
    step: 'approval',
    operator: 'timeout ÷ 10',
    reason: 'its race sibling `wait 50ms` ends the race before either timeout (1 h or 6 min) can fire',
  },
  {
    plan: 'wcp18_milestone',
    step: 'reached',
    operator: 'timeout ÷ 10',
    reason: 'its race sibling `wait 50ms` ends the race before either timeout (1 h or 6 min) can fire',
  },
];

export function equivalentOf(plan: string, step: string, operator: string): EquivalentMutant | undefined {
  return EQUIVALENT.find((e) => e.plan === plan && e.step === step && e.operator === operator);
}
