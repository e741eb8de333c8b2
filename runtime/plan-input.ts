/**
 * The input a run of a plan starts with, as `orch run`, the server and `orch preview --input` all
 * read it: unit literals read (`"5m"`, `"12.50usd"`), defaults filled, checked against the plan's
 * input type. A preview of an input the run would refuse would describe a run that never starts.
 */
import type { PlanIR } from '../compiler/index.js';
import { describeValueErrors, validateValue } from '../compiler/index.js';
import { MAX_OUTPUT_DEPTH, nestsDeeperThan } from './executor/json-output.js';
import { readUnitLiterals } from './executor/unit-literals.js';
import { fillDefaults } from './executor/value-defaults.js';
import { RuntimeUsageError } from './usage-error.js';

/** `raw` as the run of `plan` keeps it; a RuntimeUsageError (exit 2) when it does not match. */
export function planInput(plan: Pick<PlanIR, 'plan' | 'input' | 'policy'>, raw: unknown): unknown {
  refuseTooDeep(raw, 'the input');
  const input = fillDefaults(plan.input, readUnitLiterals(plan.input, raw ?? {}, plan.policy?.currency));
  const check = validateValue(plan.input, input);
  if (!check.ok) throw new RuntimeUsageError(`input does not match plan ${plan.plan}: ${describeValueErrors(check.errors)}`);
  return input;
}

export function refuseTooDeep(value: unknown, what: string): void {
  if (nestsDeeperThan(value, MAX_OUTPUT_DEPTH)) throw new RuntimeUsageError(`${what} nests more than ${MAX_OUTPUT_DEPTH} levels deep`);
}
