/**
 * Gets the plans `orch verify` works on: compiles an `.orch` file (or reads an emitted IR
 * `.json`), and tells where each invariant is declared so results can point at the source.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Diagnostic, Range } from '../../language/diagnostic.js';
import type { PlanIR } from '../ir/types.js';
import { formatPathErrors, validatePlanIR } from '../ir/validate.js';

export interface VerifiablePlan {
  readonly plan: PlanIR;
  readonly locate: (invariantName: string) => { file: string; range: Range } | undefined;
}

export type LoadedPlans =
  | { readonly kind: 'plans'; readonly plans: readonly VerifiablePlan[] }
  | { readonly kind: 'errors'; readonly diagnostics: readonly Diagnostic[] }
  | { readonly kind: 'io-error'; readonly message: string };

const nowhere = (): undefined => undefined;

export function loadPlansForVerify(file: string, planName?: string): LoadedPlans {
  if (!existsSync(file)) return { kind: 'io-error', message: `cannot read ${file}: no such file` };
  const plans = file.endsWith('.json') ? loadIr(file) : compileSource(file);
  if (plans.kind !== 'plans' || planName === undefined) return plans;
  const chosen = plans.plans.filter((p) => p.plan.plan === planName);
  if (chosen.length === 0) {
    const names = plans.plans.map((p) => p.plan.plan).join(', ') || 'none';
    return { kind: 'io-error', message: `no plan named "${planName}" in ${file} (plans: ${names})` };
  }
  return { kind: 'plans', plans: chosen };
}

function loadIr(file: string): LoadedPlans {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    return { kind: 'io-error', message: `cannot read ${file}: ${(err as Error).message}` };
  }
  const checked = validatePlanIR(json);
  if (!checked.ok) {
    const [first] = checked.errors;
    const more = checked.errors.length > 1 ? ` (and ${checked.errors.length - 1} more)` : '';
    return { kind: 'io-error', message: `${file} is not a valid orch.plan/v1 IR: ${first ? formatPathErrors([first]) : 'invalid'}${more}` };
  }
  return { kind: 'plans', plans: [{ plan: checked.plan, locate: nowhere }] };
}

function compileSource(file: string): LoadedPlans {
  return { kind: 'io-error', message: `cannot verify ${file}: the compiler is not available yet` };
}
