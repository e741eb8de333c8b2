/**
 * Shared by `orch compile`, `orch preview` and `orch graph`: read one file, compile it, print
 * its diagnostics to stderr (errors → exit 1), and select the plan to show (`--plan NAME`, or
 * the only plan of the file).
 */
import { resolve } from 'node:path';
import { compile, didYouMean, diskHost, type BoundModel } from '../../compiler/index.js';
import type { PlanIR } from '../../compiler/index.js';
import { hasErrors } from '../../language/index.js';
import { CliError } from '../errors.js';
import { readSource } from '../read-source.js';
import { renderText } from '../render-diagnostics.js';

export interface SelectedPlan {
  readonly plan: PlanIR;
  readonly model: BoundModel | undefined;
}

export async function compileSelectedPlan(file: string, planName: string | undefined): Promise<SelectedPlan> {
  const text = await readSource(file);
  const key = resolve(file);
  const out = compile({ entry: file, plan: planName, host: { readFile: (p) => (resolve(p) === key ? text : diskHost.readFile(p)) } });
  if (out.diagnostics.length) {
    const sources = new Map([[file, text]]);
    process.stderr.write(renderText(out.diagnostics, { sources, color: Boolean(process.stderr.isTTY) && !process.env.NO_COLOR, fileCount: 1 }));
  }
  if (hasErrors(out.diagnostics)) {
    const n = out.diagnostics.filter((d) => d.severity === 'error').length;
    throw new CliError(`${file}: ${n} error${n === 1 ? '' : 's'}, nothing compiled`, 1);
  }
  const entry = out.model?.modules[0];
  const names = (entry?.ast.declarations ?? []).flatMap((d) => (d.kind === 'PlanDecl' ? [d.name.name] : []));
  if (planName !== undefined) {
    if (!names.includes(planName))
      throw new CliError(`${file}: no plan named "${planName}"${didYouMean(planName, names)}${names.length ? ` (plans: ${names.join(', ')})` : ' (the file declares no plan)'}`, 2);
  } else if (names.length === 0) throw new CliError(`${file}: the file declares no plan`, 2);
  else if (names.length > 1) throw new CliError(`${file} declares ${names.length} plans (${names.join(', ')}); choose one with --plan NAME`, 2);
  const wanted = planName ?? names[0]!;
  const plan = out.plans.find((p) => p.plan === wanted);
  if (!plan) throw new CliError(`${file}: plan "${wanted}" could not be compiled`, 1);
  return { plan, model: out.model };
}
