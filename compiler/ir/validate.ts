/**
 * Validation of an `orch.plan/v1` document: the JSON Schema (shape) plus the cross-references a
 * schema cannot express (deps name existing steps, stages list each step once, bindings name
 * declared resources). Errors carry JSON-pointer paths such as `/steps/3/retry/max`.
 */
import { readFileSync } from 'node:fs';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { packagePath } from '../package-root.js';
import { ajv, toPathErrors, type PathError } from './ajv.js';
import type { PlanIR } from './types.js';

export type { PathError } from './ajv.js';

export type PlanValidation = { ok: true; plan: PlanIR } | { ok: false; errors: PathError[] };

export const PLAN_SCHEMA_PATH = packagePath('compiler', 'schema', 'orch.plan.v1.schema.json');

let validator: ValidateFunction | undefined;

export function planSchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(PLAN_SCHEMA_PATH, 'utf8')) as Record<string, unknown>;
}

function schemaValidator(): ValidateFunction {
  if (!validator) validator = ajv().compile(planSchema());
  return validator;
}

export function validatePlanIR(json: unknown): PlanValidation {
  const validate = schemaValidator();
  if (!validate(json)) return { ok: false, errors: toPathErrors(validate.errors) };
  const plan = json as PlanIR;
  const errors = crossReferenceErrors(plan, '');
  return errors.length ? { ok: false, errors } : { ok: true, plan };
}

function crossReferenceErrors(plan: PlanIR, base: string): PathError[] {
  const errors: PathError[] = [];
  const ids = new Map<string, number>();
  plan.steps.forEach((s, i) => {
    if (ids.has(s.id)) errors.push({ path: `${base}/steps/${i}/id`, message: `duplicate step id "${s.id}"` });
    ids.set(s.id, i);
  });
  plan.steps.forEach((s, i) => {
    s.deps.forEach((d, j) => {
      if (!ids.has(d)) errors.push({ path: `${base}/steps/${i}/deps/${j}`, message: `unknown step "${d}"` });
      else if (d === s.id) errors.push({ path: `${base}/steps/${i}/deps/${j}`, message: 'a step cannot depend on itself' });
    });
    if (s.resource !== null && !(s.resource in plan.resources))
      errors.push({ path: `${base}/steps/${i}/resource`, message: `unknown resource "${s.resource}"` });
    for (const which of ['fallback', 'compensate'] as const) {
      const r = s[which]?.binding?.resource;
      if (r != null && !(r in plan.resources))
        errors.push({ path: `${base}/steps/${i}/${which}/binding/resource`, message: `unknown resource "${r}"` });
    }
    if (s.capability !== null && !(s.capability in plan.capabilities))
      errors.push({ path: `${base}/steps/${i}/capability`, message: `unknown capability "${s.capability}"` });
    if (s.action.type === 'call' && s.capability === null)
      errors.push({ path: `${base}/steps/${i}/capability`, message: 'a call step needs a capability' });
  });
  const staged = new Set<string>();
  plan.stages.forEach((stage, k) =>
    stage.forEach((id, j) => {
      if (!ids.has(id)) errors.push({ path: `${base}/stages/${k}/${j}`, message: `unknown step "${id}"` });
      else if (staged.has(id)) errors.push({ path: `${base}/stages/${k}/${j}`, message: `step "${id}" is in two stages` });
      staged.add(id);
    }),
  );
  for (const [name, sub] of Object.entries(plan.subplans))
    errors.push(...crossReferenceErrors(sub, `${base}/subplans/${escapePointer(name)}`));
  return errors;
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** One line per error, for CLI output: `/steps/3/retry/max: must be >= 0`. */
export function formatPathErrors(errors: readonly PathError[]): string {
  return errors.map((e) => `${e.path || '/'}: ${e.message}`).join('\n');
}
