/** `--context` of `orch run` and `orch signal` against the plan's context declaration (LANGUAGE.md §9.4). */
import { describeValueErrors, validateValue, type JsonSchema, type PlanIR } from '../compiler/index.js';
import { CliError } from './errors.js';

/**
 * `--context` values are checked against the run's own `context` declaration, as `POST /signals`
 * checks them against the served plans': a signal it does not declare, a derived one or a value
 * of the wrong type is refused (exit 2) before anything is journaled. A plan with no `context`
 * block takes any.
 */
export function refuseContext(plan: PlanIR, values: Record<string, unknown>): void {
  const fields = (plan.context as { properties?: Record<string, JsonSchema> } | undefined)?.properties ?? {};
  const names = Object.keys(fields);
  if (names.length === 0) return;
  for (const [key, value] of Object.entries(values)) {
    if (!Object.hasOwn(fields, key)) throw new CliError(`unknown context signal "${key}" (declared: ${names.sort().join(', ')})`, 2);
    if (plan.context_signals?.[key]?.derived) throw new CliError(`"${key}" is a derived signal: it is computed, not set`, 2);
    const r = validateValue(fields[key]!, value);
    if (!r.ok) throw new CliError(`context signal "${key}": ${describeValueErrors(r.errors)}`, 2);
  }
}
