/**
 * What `orch run` executes: an `.orch` file compiled in-process, or an emitted IR `.json`
 * validated against the published schema. Input/context arguments: inline JSON or `@file`.
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { Diagnostic } from '../language/index.js';
import type { PlanIR } from '../compiler/index.js';
import { didYouMean, formatPathErrors, jsonSyntaxError, planVersionOf, recheckAtLoad, validatePlanIR } from '../compiler/index.js';
import { isInside, projectRoot } from './executor/handler-path.js';

export type LoadedPlan =
  | { readonly kind: 'plan'; readonly plan: PlanIR; readonly diagnostics: readonly Diagnostic[] }
  /** The source has errors (exit 1). */
  | { readonly kind: 'errors'; readonly diagnostics: readonly Diagnostic[] }
  /** I/O, bad IR, unknown plan (exit 2). */
  | { readonly kind: 'usage'; readonly message: string };

interface CompilerModule {
  compile(input: { entry: string; plan?: string; navigation?: boolean; compact?: boolean }): {
    diagnostics: readonly Diagnostic[];
    plans: readonly PlanIR[];
    model?: { modules: readonly { ast: { declarations: readonly { kind: string; name?: { name: string } }[] } }[] };
  };
}

export interface LoadPlanOptions {
  /**
   * The project an IR file's relative `base_dir` is resolved in, and that its handlers must stay
   * inside (`orch run plan.json --project DIR`); by default the project of the IR file itself.
   */
  readonly project?: string;
}

export async function loadPlan(file: string, planName?: string, opts: LoadPlanOptions = {}): Promise<LoadedPlan> {
  if (opts.project !== undefined && !existsSync(opts.project)) return { kind: 'usage', message: `--project ${opts.project}: no such directory` };
  if (!existsSync(file)) return { kind: 'usage', message: `cannot read ${file}: no such file` };
  if (opts.project !== undefined && !file.endsWith('.json'))
    return { kind: 'usage', message: `--project is for a compiled plan (.json); ${file} is compiled where it is` };
  if (file.endsWith('.json')) {
    let json: unknown;
    try {
      json = parseJson(readFileSync(file, 'utf8').replace(/^\uFEFF/, ''), 'not valid JSON');
    } catch (err) {
      return { kind: 'usage', message: `cannot read ${file}: ${(err as Error).message}` };
    }
    // v3 is what the compiler writes; v1 and v2 files still load (the validator picks the schema by `version`).
    const checked = validatePlanIR(json);
    if (!checked.ok) {
      const more = checked.errors.length > 1 ? ` (and ${checked.errors.length - 1} more)` : '';
      const version = `orch.plan/v${planVersionOf(json)}`;
      return {
        kind: 'usage',
        message: `${file} is not a valid ${version} IR: ${formatPathErrors(checked.errors.slice(0, 1))}${more}`,
      };
    }
    if (planName !== undefined && checked.plan.plan !== planName)
      return { kind: 'usage', message: `${file} holds plan "${checked.plan.plan}", not "${planName}"${didYouMean(planName, [checked.plan.plan])}` };
    const root = realpathSync(projectRoot(opts.project !== undefined ? resolve(opts.project) : dirname(resolve(file))));
    const plan = anchorBaseDir(checked.plan, root);
    const outside = baseDirOutside(plan, file, root, opts.project !== undefined);
    if (outside) return { kind: 'usage', message: outside };
    // §9: an IR compiled before §9.3 still runs, re-checked here against the project's config.
    const rechecked = recheckAtLoad(plan, root);
    if ('refused' in rechecked) return { kind: 'usage', message: `${file}: ${rechecked.refused}` };
    return { kind: 'plan', plan: rechecked.plan, diagnostics: [] };
  }
  let compiler: CompilerModule;
  try {
    // Resolved at run time so the runtime builds even while the compiler is being written.
    compiler = (await import(new URL('../compiler/index.js', import.meta.url).href)) as CompilerModule;
  } catch (err) {
    return { kind: 'usage', message: `cannot compile ${file}: the compiler is not available (${(err as Error).message})` };
  }
  // Only the diagnostics and the IR are kept: the tree can be compact.
  const out = compiler.compile({ entry: resolve(file), navigation: false, compact: true, ...(planName ? { plan: planName } : {}) });
  if (out.diagnostics.some((d) => d.severity === 'error')) return { kind: 'errors', diagnostics: out.diagnostics };
  const plans = planName ? out.plans.filter((p) => p.plan === planName) : out.plans;
  if (plans.length === 0) {
    const names = (out.model?.modules[0]?.ast.declarations ?? []).flatMap((d) => (d.kind === 'PlanDecl' && d.name ? [d.name.name] : []));
    return {
      kind: 'usage',
      message: planName
        ? `no plan named "${planName}" in ${file}${didYouMean(planName, names)}${names.length ? ` (plans: ${names.join(', ')})` : ''}`
        : `${file} declares no plan`,
    };
  }
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
      // A byte-order mark is no JSON, but Windows PowerShell and Notepad save one: skip it, as a source's is.
      text = readFileSync(value.slice(1), 'utf8').replace(/^\uFEFF/, '');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (err as Error).message;
      throw new Error(`cannot read ${what} file ${value.slice(1)}: ${why}`);
    }
  }
  try {
    return parseJson(text, `${what} is not valid JSON`);
  } catch (err) {
    // `--input input.json` reads as the JSON text "input.json": name the @ a file needs.
    if (!value.startsWith('@') && !/^\s*[[{"]/.test(value) && isFile(value)) throw new Error(`${(err as Error).message} (to read the file ${value}, write ${what} @${value})`);
    throw err;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * JSON.parse, failing with `PREFIX: why at position N` on one line — never V8's quote of the text:
 * an input, a context signal or a plan file may hold a credential, and the quote spans lines.
 */
function parseJson(text: string, prefix: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const { message, offset } = jsonSyntaxError(text, err);
    const where = offset !== null && !/position \d+/.test(message) ? ` at position ${offset}` : '';
    throw new Error(`${prefix}: ${message.replace(/\s*\n\s*/g, ' ')}${where}`);
  }
}

/**
 * An IR file is trusted no further than the project it runs in (the project of the IR file, or
 * `--project DIR`): its `base_dir` (which handler paths and the config file are found from) must
 * lie inside that project directory, after following symlinks — so an IR saying `base_dir: "/"`
 * cannot run code or load a config from anywhere else on the machine.
 */
function baseDirOutside(plan: PlanIR, file: string, root: string, given: boolean): string | null {
  const whose = given ? 'given with --project' : 'of the IR file';
  const check = (p: PlanIR, where: string): string | null => {
    let real: string;
    try {
      real = realpathSync(p.base_dir);
    } catch {
      return `${file}: base_dir${where} ${p.base_dir} does not exist${given ? '' : ' (an IR compiled elsewhere runs in a copy of its project: orch run PLAN.json --project DIR)'}`;
    }
    if (!isInside(root, real))
      return `${file}: base_dir${where} ${p.base_dir} is outside the project directory ${root} ${whose}; handlers are only loaded from that project${isAbsolute(p.base_dir) && !given ? ' (compile it again with orch compile -o, which writes a base_dir relative to the project)' : ''}`;
    for (const [name, sub] of Object.entries(p.subplans)) {
      const bad = check(sub, ` of sub-plan ${name}`);
      if (bad) return bad;
    }
    return null;
  };
  return check(plan, '');
}

/** A relative `base_dir` in an IR file is relative to its project (so the IR can move with it, or apart from it). */
function anchorBaseDir(plan: PlanIR, root: string): PlanIR {
  const subplans = Object.fromEntries(Object.entries(plan.subplans).map(([k, v]) => [k, anchorBaseDir(v, root)]));
  return {
    ...plan,
    base_dir: isAbsolute(plan.base_dir) ? plan.base_dir : resolve(root, plan.base_dir),
    source_file: isAbsolute(plan.source_file) ? plan.source_file : resolve(root, plan.source_file),
    subplans,
  };
}

/**
 * The IR as `orch compile` writes it: `base_dir` and `source_file` (also of its sub-plans)
 * relative to the project of the compiled file, in `/` form, so the file runs from any copy of
 * the project (LANGUAGE.md: the IR names its handlers relative to `base_dir`).
 */
export function portablePlan(plan: PlanIR, root = projectRoot(plan.base_dir)): PlanIR {
  const rel = (p: string): string => {
    if (!isAbsolute(p)) return p;
    const r = relative(root, p);
    return r === '' ? '.' : r.split(sep).join('/');
  };
  const subplans = Object.fromEntries(Object.entries(plan.subplans).map(([k, v]) => [k, portablePlan(v, root)]));
  return { ...plan, base_dir: rel(plan.base_dir), source_file: rel(plan.source_file), subplans };
}
