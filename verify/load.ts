/**
 * Gets the plans `orch verify` works on: compiles an `.orch` file (or reads an emitted IR
 * `.json`), and tells where each invariant is declared so results can point at the source.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hasErrors, type Diagnostic } from '../language/index.js';
import { compile, didYouMean, invariantLocator, type InvariantLocator, type SourceHost } from '../compiler/index.js';
import type { PlanIR } from '../compiler/index.js';
import { formatPathErrors, planVersionOf, validatePlanIR } from '../compiler/index.js';

export interface VerifiablePlan {
  readonly plan: PlanIR;
  readonly locate: InvariantLocator;
}

export { invariantLocator };

export type LoadedPlans =
  | { readonly kind: 'plans'; readonly plans: readonly VerifiablePlan[] }
  | { readonly kind: 'errors'; readonly diagnostics: readonly Diagnostic[] }
  | { readonly kind: 'io-error'; readonly message: string };

const nowhere = (): undefined => undefined;

/** `host` lets an editor verify unsaved buffers (default: the disk). */
export function loadPlansForVerify(file: string, planName?: string, host?: SourceHost): LoadedPlans {
  if (!host && !existsSync(file)) return { kind: 'io-error', message: `cannot read ${file}: no such file` };
  const plans = file.endsWith('.json') ? loadIr(file) : compileSource(file, host);
  if (plans.kind !== 'plans') return plans;
  const chosen = planName === undefined ? plans.plans : plans.plans.filter((p) => p.plan.plan === planName);
  if (planName === undefined && chosen.length === 0) return { kind: 'io-error', message: `${file} declares no plan to verify` };
  if (chosen.length === 0) {
    const names = plans.plans.map((p) => p.plan.plan);
    return { kind: 'io-error', message: `no plan named "${planName}" in ${file}${didYouMean(planName ?? '', names)} (plans: ${names.join(', ') || 'none'})` };
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
    return { kind: 'io-error', message: `${file} is not a valid orch.plan/v${planVersionOf(json)} IR: ${first ? formatPathErrors([first]) : 'invalid'}${more}` };
  }
  return { kind: 'plans', plans: [{ plan: checked.plan, locate: nowhere }] };
}

function compileSource(file: string, host: SourceHost | undefined): LoadedPlans {
  const out = compile({ entry: file, navigation: false, ...(host ? { host } : {}) });
  if (hasErrors(out.diagnostics)) return { kind: 'errors', diagnostics: out.diagnostics.filter((d) => d.severity === 'error') };
  const entry = out.model?.modules[0]?.ast;
  return {
    kind: 'plans',
    plans: out.plans.map((plan) => ({ plan, locate: entry ? invariantLocator(entry, plan.plan) : nowhere })),
  };
}
