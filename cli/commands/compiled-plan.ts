/**
 * Shared by `orch compile`, `orch preview` and `orch graph`: read one file, compile it, print
 * its diagnostics to stderr (errors → exit 1), and select the plan to show (`--plan NAME`, or
 * the only plan of the file). `selectPlan` is the same without printing (the MCP server, `orch draft`).
 */
import { resolve } from 'node:path';
import { compile, didYouMean, diskHost, type BoundModel, type SourceHost } from '../../compiler/index.js';
import type { PlanIR } from '../../compiler/index.js';
import { hasErrors, type Diagnostic } from '../../language/index.js';
import { CliError } from '../errors.js';
import { readSource } from '../read-source.js';
import { colorFor, renderText } from '../render-diagnostics.js';

export interface SelectedPlan {
  readonly plan: PlanIR;
  readonly model: BoundModel | undefined;
}

/** A file whose errors stop the command: its diagnostics with a one-line summary (exit 1). */
export class PlanHasErrors extends CliError {
  constructor(
    message: string,
    readonly diagnostics: readonly Diagnostic[],
  ) {
    super(message, 1);
  }
}

export async function compileSelectedPlan(file: string, planName: string | undefined, preferred?: string): Promise<SelectedPlan> {
  // A compiled plan (or any JSON) lexed as source would be a page of E0001s saying nothing useful.
  if (file.toLowerCase().endsWith('.json')) throw new CliError(`${file}: JSON, not .orch source (this command takes the plan's .orch file)`, 2);
  const text = await readSource(file);
  try {
    const selected = selectPlan(file, text, planName, diskHost, preferred);
    printDiagnostics(file, text, selected.diagnostics);
    return selected;
  } catch (err) {
    if (err instanceof PlanHasErrors) printDiagnostics(file, text, err.diagnostics);
    throw err;
  }
}

function printDiagnostics(file: string, text: string, diagnostics: readonly Diagnostic[]): void {
  if (diagnostics.length === 0) return;
  const sources = new Map([[file, text]]);
  process.stderr.write(renderText(diagnostics, { sources, color: colorFor(process.stderr), fileCount: 1 }));
}

/**
 * Compiles `text` as the file `file` (imports resolve from its folder) and selects the plan to
 * show: `planName`, or the only plan of the file, or — a file of several — `preferred` when it is
 * one of them (the plan of the run a new version is for: `orch upgrade RUN --to FILE`). Errors →
 * `PlanHasErrors`; no such plan → a `CliError` (exit 2). Writes nothing.
 */
export function selectPlan(
  file: string,
  text: string,
  planName: string | undefined,
  imports: SourceHost = diskHost,
  preferred?: string,
): SelectedPlan & { readonly diagnostics: readonly Diagnostic[] } {
  const key = resolve(file);
  const out = compile({ entry: file, plan: planName, host: { readFile: (p) => (resolve(p) === key ? text : imports.readFile(p)) } });
  if (hasErrors(out.diagnostics)) {
    const n = out.diagnostics.filter((d) => d.severity === 'error').length;
    throw new PlanHasErrors(`${file}: ${n} error${n === 1 ? '' : 's'}, nothing compiled`, out.diagnostics);
  }
  const entry = out.model?.modules[0];
  const names = (entry?.ast.declarations ?? []).flatMap((d) => (d.kind === 'PlanDecl' ? [d.name.name] : []));
  if (planName !== undefined) {
    if (!names.includes(planName))
      throw new CliError(`${file}: no plan named "${planName}"${didYouMean(planName, names)}${names.length ? ` (plans: ${names.join(', ')})` : ' (the file declares no plan)'}`, 2);
  } else if (names.length === 0) throw new CliError(`${file}: the file declares no plan`, 2);
  else if (names.length > 1 && (preferred === undefined || !names.includes(preferred)))
    throw new CliError(`${file} declares ${names.length} plans (${names.join(', ')}); choose one with --plan NAME`, 2);
  const wanted = planName ?? (names.length > 1 ? preferred! : names[0]!);
  const plan = out.plans.find((p) => p.plan === wanted);
  if (!plan) throw new CliError(`${file}: plan "${wanted}" could not be compiled`, 1);
  return { plan, model: out.model, diagnostics: out.diagnostics };
}
