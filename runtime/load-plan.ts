/**
 * What `orch run` executes: an `.orch` file compiled in-process, or an emitted IR `.json`
 * validated against the published schema. Input/context arguments: inline JSON or `@file`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Diagnostic } from '../language/diagnostic.js';
import type { PlanIR } from '../compiler/ir/types.js';
import { formatPathErrors, validatePlanIR } from '../compiler/ir/validate.js';

export type LoadedPlan =
  | { readonly kind: 'plan'; readonly plan: PlanIR; readonly diagnostics: readonly Diagnostic[] }
  /** The source has errors (exit 1). */
  | { readonly kind: 'errors'; readonly diagnostics: readonly Diagnostic[] }
  /** I/O, bad IR, unknown plan (exit 2). */
  | { readonly kind: 'usage'; readonly message: string };

interface CompilerModule {
  compile(input: { entry: string; plan?: string }): { diagnostics: readonly Diagnostic[]; plans: readonly PlanIR[] };
}

export async function loadPlan(file: string, planName?: string): Promise<LoadedPlan> {
  if (!existsSync(file)) return { kind: 'usage', message: `cannot read ${file}: no such file` };
  if (file.endsWith('.json')) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      return { kind: 'usage', message: `cannot read ${file}: ${(err as Error).message}` };
    }
    const checked = validatePlanIR(json);
    if (!checked.ok) {
      const more = checked.errors.length > 1 ? ` (and ${checked.errors.length - 1} more)` : '';
      return {
        kind: 'usage',
        message: `${file} is not a valid orch.plan/v1 IR: ${formatPathErrors(checked.errors.slice(0, 1))}${more}`,
      };
    }
    if (planName !== undefined && checked.plan.plan !== planName)
      return { kind: 'usage', message: `${file} holds plan "${checked.plan.plan}", not "${planName}"` };
    return { kind: 'plan', plan: anchorBaseDir(checked.plan, dirname(resolve(file))), diagnostics: [] };
  }
  let compiler: CompilerModule;
  try {
    // Resolved at run time so the runtime builds even while the compiler is being written.
    compiler = (await import(new URL('../compiler/index.js', import.meta.url).href)) as CompilerModule;
  } catch (err) {
    return { kind: 'usage', message: `cannot compile ${file}: the compiler is not available (${(err as Error).message})` };
  }
  const out = compiler.compile({ entry: resolve(file), ...(planName ? { plan: planName } : {}) });
  if (out.diagnostics.some((d) => d.severity === 'error')) return { kind: 'errors', diagnostics: out.diagnostics };
  const plans = planName ? out.plans.filter((p) => p.plan === planName) : out.plans;
  if (plans.length === 0)
    return {
      kind: 'usage',
      message: planName ? `no plan named "${planName}" in ${file}` : `${file} declares no plan`,
    };
  if (plans.length > 1)
    return {
      kind: 'usage',
      message: `${file} declares several plans (${plans.map((p) => p.plan).join(', ')}); choose one with --plan NAME`,
    };
  return { kind: 'plan', plan: plans[0]!, diagnostics: out.diagnostics };
}

/** `--input '{"a":1}'` or `--input @input.json`. */
export function readJsonArg(value: string, what: string): unknown {
  let text = value;
  if (value.startsWith('@')) {
    try {
      text = readFileSync(value.slice(1), 'utf8');
    } catch (err) {
      throw new Error(`cannot read ${what} file ${value.slice(1)}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}

/** A relative `base_dir` in an IR file is relative to that file (so the IR can move with its project). */
function anchorBaseDir(plan: PlanIR, irDir: string): PlanIR {
  if (isAbsolute(plan.base_dir)) return plan;
  const subplans = Object.fromEntries(Object.entries(plan.subplans).map(([k, v]) => [k, anchorBaseDir(v, irDir)]));
  return { ...plan, base_dir: resolve(irDir, plan.base_dir), subplans };
}
