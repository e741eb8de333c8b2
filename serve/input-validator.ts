/**
 * Checks a plan input (and context signals) before anything starts, so an HTTP client gets a 400
 * with the reason instead of a run that fails at once. Uses the compiler's value validation, the
 * same the runtime applies when a run starts.
 */
import type { ContextIR, JsonSchema, PlanIR } from '../compiler/index.js';
import { describeValueErrors, validateValue } from '../compiler/index.js';

export type InputCheck = (plan: PlanIR, input: unknown) => string | null;

export function createInputValidator(): InputCheck {
  return (plan, input) => {
    const r = validateValue(plan.input, input);
    return r.ok ? null : `invalid input for plan "${plan.plan}": ${describeValueErrors(r.errors)}`;
  };
}

/** The first signal `POST /signals` may not set, with the 400's message and the reason `context_rejected` keeps. */
export type ContextCheck = (values: Record<string, unknown>) => { readonly signal: string; readonly message: string; readonly reason: string } | null;

/**
 * Validates `POST /signals` against the `context { … }` fields the loaded modules declare. When
 * no module declares a context, any signal is accepted (plans may read it through `wait until`).
 */
export function createContextValidator(plans: readonly ContextIR[]): ContextCheck {
  const fields = new Map<string, JsonSchema>();
  for (const p of plans) {
    const props = (p.context as { properties?: Record<string, JsonSchema> }).properties ?? {};
    for (const [key, schema] of Object.entries(props)) if (!fields.has(key)) fields.set(key, schema);
  }
  return (values) => {
    if (fields.size === 0) return null;
    for (const [key, value] of Object.entries(values)) {
      const schema = fields.get(key);
      if (!schema) return { signal: key, message: `unknown context signal "${key}" (declared: ${[...fields.keys()].sort().join(', ')})`, reason: 'not a declared context signal' };
      const r = validateValue(schema, value);
      if (!r.ok) return { signal: key, message: `context signal "${key}": ${describeValueErrors(r.errors)}`, reason: `the value does not match the signal's type: ${describeValueErrors(r.errors)}` };
    }
    return null;
  };
}
