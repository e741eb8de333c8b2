/**
 * Validation of an `orch.plan/v3`, `orch.plan/v2` or `orch.plan/v1` document (chosen by its `version`): the JSON
 * Schema (shape) plus the cross-references a schema cannot express (deps name existing steps and
 * form no cycle, stages list each step once, bindings and fallbacks name declared resources,
 * capabilities, steps and sub-plans; blocks name their steps; every number is finite). Errors
 * carry JSON-pointer paths such as `/steps/3/retry/max`.
 */
import { readFileSync } from 'node:fs';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { buildDag } from '../dag.js';
import { packagePath } from '../package-root.js';
import { ajv, strictAjv, toPathErrors, type PathError } from './ajv.js';
import type { PlanIR } from './types.js';

export type { PathError } from './ajv.js';

export type PlanValidation = { ok: true; plan: PlanIR } | { ok: false; errors: PathError[] };

/** The published schema of what the compiler writes (`orch.plan/v3`). */
export const PLAN_SCHEMA_PATH = packagePath('compiler', 'schema', 'orch.plan.v3.schema.json');
/** The v2 schema, kept for reading v2 files (v3's shape under v2's version string). */
export const PLAN_SCHEMA_V2_PATH = packagePath('compiler', 'schema', 'orch.plan.v2.schema.json');
/**
 * The v1 schema, kept for reading v1 files. It compiles under ajv's default options too; it is
 * read with the lenient instance it always was, so a v1 file's errors read as they did.
 */
export const PLAN_SCHEMA_V1_PATH = packagePath('compiler', 'schema', 'orch.plan.v1.schema.json');

let validator: ValidateFunction | undefined;
let validatorV2: ValidateFunction | undefined;
let validatorV1: ValidateFunction | undefined;

export function planSchema(version: 1 | 2 | 3 = 3): Record<string, unknown> {
  const path = version === 1 ? PLAN_SCHEMA_V1_PATH : version === 2 ? PLAN_SCHEMA_V2_PATH : PLAN_SCHEMA_PATH;
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

function schemaValidator(version: 1 | 2 | 3): ValidateFunction {
  if (version === 1) return (validatorV1 ??= ajv().compile(planSchema(1)));
  if (version === 2) return (validatorV2 ??= strictAjv().compile(planSchema(2)));
  return (validator ??= strictAjv().compile(planSchema(3)));
}

/** The schema a document is read with: its own `version`'s; anything else is judged as v3. */
export function planVersionOf(json: unknown): 1 | 2 | 3 {
  const version = typeof json === 'object' && json !== null ? (json as { version?: unknown }).version : undefined;
  return version === 'orch.plan/v1' ? 1 : version === 'orch.plan/v2' ? 2 : 3;
}

export function validatePlanIR(json: unknown): PlanValidation {
  const validate = schemaValidator(planVersionOf(json));
  if (!validate(json)) return { ok: false, errors: toPathErrors(validate.errors) };
  const plan = json as PlanIR;
  const infinite = nonFiniteNumbers(json);
  if (infinite.length) return { ok: false, errors: infinite };
  const errors = crossReferenceErrors(plan, '');
  return errors.length ? { ok: false, errors } : { ok: true, plan };
}

function crossReferenceErrors(plan: PlanIR, base: string): PathError[] {
  const errors: PathError[] = [];
  const at = (path: string, message: string) => errors.push({ path: `${base}${path}`, message });
  const ids = new Map<string, number>();
  plan.steps.forEach((s, i) => {
    if (ids.has(s.id)) at(`/steps/${i}/id`, `duplicate step id "${s.id}"`);
    ids.set(s.id, i);
  });
  for (const [key, cap] of Object.entries(plan.capabilities))
    if (cap.name !== key) at(`/capabilities/${escapePointer(key)}/name`, `capability listed as "${key}" is named "${cap.name}"`);
  for (const [key, res] of Object.entries(plan.resources))
    if (res.name !== key) at(`/resources/${escapePointer(key)}/name`, `resource listed as "${key}" is named "${res.name}"`);
  const resource = (path: string, name: string | null | undefined) => {
    if (name != null && !(name in plan.resources)) at(path, `unknown resource "${name}"`);
  };
  const capability = (path: string, name: string) => {
    if (!(name in plan.capabilities)) at(path, `unknown capability "${name}"`);
  };
  const stepRef = (path: string, id: string) => {
    if (!ids.has(id)) at(path, `unknown step "${id}"`);
  };
  plan.steps.forEach((s, i) => {
    const p = `/steps/${i}`;
    s.deps.forEach((d, j) => {
      if (!ids.has(d)) at(`${p}/deps/${j}`, `unknown step "${d}"`);
      else if (d === s.id) at(`${p}/deps/${j}`, 'a step cannot depend on itself');
    });
    s.after.forEach((d, j) => {
      if (!ids.has(d)) at(`${p}/after/${j}`, `unknown step "${d}"`);
      else if (!s.deps.includes(d)) at(`${p}/after/${j}`, `"${d}" is in after but not in deps`);
    });
    s.skip_if_skipped.forEach((d, j) => stepRef(`${p}/skip_if_skipped/${j}`, d));
    resource(`${p}/resource`, s.resource);
    resource(`${p}/binding/resource`, s.binding.resource);
    s.binding.fallbacks.forEach((r, j) => resource(`${p}/binding/fallbacks/${j}`, r));
    for (const which of ['fallback', 'compensate'] as const) {
      const call = s[which];
      if (!call) continue;
      capability(`${p}/${which}/capability`, call.capability);
      resource(`${p}/${which}/binding/resource`, call.binding?.resource);
      call.binding?.fallbacks.forEach((r, j) => resource(`${p}/${which}/binding/fallbacks/${j}`, r));
    }
    if (s.capability !== null) capability(`${p}/capability`, s.capability);
    if (s.action.type === 'call' && s.capability === null) at(`${p}/capability`, 'a call step needs a capability');
    if (s.action.type === 'run' && !(s.action.plan in plan.subplans)) at(`${p}/action/plan`, `unknown sub-plan "${s.action.plan}"`);
  });
  // A cycle longer than one step would leave every step on it waiting forever.
  if (errors.length === 0) {
    const dag = buildDag(plan.steps.map((s) => ({ id: s.id, deps: s.deps, duration: 0 })));
    for (const cycle of dag.cycles)
      at(`/steps/${ids.get(cycle[0]!)!}/deps`, `dependency cycle: ${[...cycle, cycle[0]].join(' → ')}`);
  }
  const staged = new Set<string>();
  plan.stages.forEach((stage, k) =>
    stage.forEach((id, j) => {
      if (!ids.has(id)) at(`/stages/${k}/${j}`, `unknown step "${id}"`);
      else if (staged.has(id)) at(`/stages/${k}/${j}`, `step "${id}" is in two stages`);
      staged.add(id);
    }),
  );
  plan.policy?.rate_limits.forEach((rl, k) => {
    if (!(rl.per_ms > 0)) at(`/policy/rate_limits/${k}/per_ms`, 'must be > 0');
  });
  errors.push(...blockErrors(plan, ids, base));
  for (const [name, sub] of Object.entries(plan.subplans))
    errors.push(...crossReferenceErrors(sub, `${base}/subplans/${escapePointer(name)}`));
  return errors;
}

/**
 * JSON has no NaN or Infinity, but `1e400` parses to Infinity, which every `minimum` accepts
 * and `JSON.stringify` would later turn into null.
 */
function nonFiniteNumbers(value: unknown, path = ''): PathError[] {
  const out: PathError[] = [];
  const stack: [unknown, string][] = [[value, path]];
  while (stack.length) {
    const [v, p] = stack.pop()!;
    if (typeof v === 'number' && !Number.isFinite(v)) out.push({ path: p, message: 'must be a finite number' });
    else if (Array.isArray(v)) v.forEach((x, i) => stack.push([x, `${p}/${i}`]));
    else if (v !== null && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) stack.push([x, `${p}/${escapePointer(k)}`]);
  }
  return out;
}

/** v2: blocks name existing steps and parents; steps name existing blocks; reads name existing steps. */
function blockErrors(plan: PlanIR, ids: ReadonlyMap<string, number>, base: string): PathError[] {
  const errors: PathError[] = [];
  const blocks = new Map<string, number>();
  (plan.blocks ?? []).forEach((b, i) => {
    if (blocks.has(b.id)) errors.push({ path: `${base}/blocks/${i}/id`, message: `duplicate block id "${b.id}"` });
    if (b.parent !== null && !blocks.has(b.parent)) errors.push({ path: `${base}/blocks/${i}/parent`, message: `unknown block "${b.parent}" (a parent comes before its children)` });
    blocks.set(b.id, i);
    const named = b.type === 'race' ? b.branches : b.type === 'repeat' ? b.steps : [];
    named.forEach((s, j) => {
      if (!ids.has(s)) errors.push({ path: `${base}/blocks/${i}/${b.type === 'race' ? 'branches' : 'steps'}/${j}`, message: `unknown step "${s}"` });
    });
  });
  plan.steps.forEach((s, i) => {
    for (const key of ['blocks', 'waits_for'] as const)
      (s[key] ?? []).forEach((b, j) => {
        if (!blocks.has(b)) errors.push({ path: `${base}/steps/${i}/${key}/${j}`, message: `unknown block "${b}"` });
      });
    (s.soft_reads ?? []).forEach((r, j) => {
      if (!ids.has(r)) errors.push({ path: `${base}/steps/${i}/soft_reads/${j}`, message: `unknown step "${r}"` });
    });
  });
  return errors;
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** One line per error, for CLI output: `/steps/3/retry/max: must be >= 0`. */
export function formatPathErrors(errors: readonly PathError[]): string {
  return errors.map((e) => `${e.path || '/'}: ${e.message}`).join('\n');
}
