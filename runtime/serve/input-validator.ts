/**
 * Validates a plan input against the plan's input JSON Schema before a run is started, so an
 * HTTP client gets a 400 with the reason instead of a run that fails at once.
 */
import Ajv2020 from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { PlanIR } from '../../compiler/ir/types.js';

export type InputCheck = (plan: PlanIR, input: unknown) => string | null;

export function createInputValidator(): InputCheck {
  // `strict: false`: the IR's schemas carry `x-orch-*` annotations ajv does not know.
  const ajv = new Ajv2020.default({ strict: false, allErrors: false });
  const cache = new WeakMap<object, ValidateFunction | string>();
  return (plan, input) => {
    let validate = cache.get(plan.input);
    if (validate === undefined) {
      try {
        validate = ajv.compile(plan.input as object);
      } catch (err) {
        validate = `plan "${plan.plan}" has an invalid input schema: ${(err as Error).message}`;
      }
      cache.set(plan.input, validate);
    }
    if (typeof validate === 'string') return validate;
    if (validate(input)) return null;
    return `invalid input for plan "${plan.plan}": ${describe(validate.errors ?? [])}`;
  };
}

function describe(errors: readonly ErrorObject[]): string {
  const e = errors[0];
  if (!e) return 'does not match the input type';
  const where = e.instancePath ? `input${e.instancePath.replaceAll('/', '.')}` : 'input';
  if (e.keyword === 'required') return `${where} is missing required field "${String(e.params.missingProperty)}"`;
  if (e.keyword === 'additionalProperties') {
    return `${where} has unknown field "${String(e.params.additionalProperty)}"`;
  }
  return `${where} ${e.message ?? 'is invalid'}`;
}

export type ContextCheck = (values: Record<string, unknown>) => string | null;

/**
 * Validates `POST /signals` against the `context { … }` fields the loaded modules declare. When
 * no module declares a context, any signal is accepted (plans may read it through `wait until`).
 */
export function createContextValidator(plans: readonly PlanIR[]): ContextCheck {
  const ajv = new Ajv2020.default({ strict: false });
  const fields = new Map<string, ValidateFunction>();
  for (const p of plans) {
    const props = (p.context as { properties?: Record<string, object> }).properties ?? {};
    for (const [key, schema] of Object.entries(props)) {
      if (!fields.has(key)) fields.set(key, ajv.compile(schema));
    }
  }
  return (values) => {
    if (fields.size === 0) return null;
    for (const [key, value] of Object.entries(values)) {
      const validate = fields.get(key);
      if (!validate) return `unknown context signal "${key}" (declared: ${[...fields.keys()].sort().join(', ')})`;
      if (!validate(value)) return `context signal "${key}" ${validate.errors?.[0]?.message ?? 'is invalid'}`;
    }
    return null;
  };
}
