/**
 * One version of a plan, as `orch diff` and `orch upgrade` take it: a `.orch` file (compiled, with
 * its model for triggers), an IR file, or a run id (the IR its journal records now). Usage and I/O
 * problems are exit 2. A plan with errors is exit `errorsExit`: 1 as for every command that takes a
 * plan (LANGUAGE.md §6: `orch upgrade --to`, `orch fork --to`), except `orch diff`'s 2 — exit 1
 * means "they differ" there.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { BoundModel, PlanIR } from '../../compiler/index.js';
import { CliError } from '../errors.js';

export interface PlanVersion {
  readonly plan: PlanIR;
  readonly model: BoundModel | undefined;
  /** How the operand was read: `file`, `ir` or `run`. */
  readonly from: 'file' | 'ir' | 'run';
  readonly label: string;
}

export async function readPlanVersion(
  operand: string,
  planName: string | undefined,
  db: string | undefined,
  errorsExit: 1 | 2 = 2,
  samePlanAs?: string,
): Promise<PlanVersion> {
  if (existsSync(operand) && !operand.endsWith('.json')) {
    const { compileSelectedPlan, PlanHasErrors } = await import('./compiled-plan.js');
    try {
      const { plan, model } = await compileSelectedPlan(operand, planName, samePlanAs);
      return { plan, model, from: 'file', label: operand };
    } catch (err) {
      if (err instanceof CliError) throw new CliError(err.message, err instanceof PlanHasErrors ? errorsExit : 2);
      throw err;
    }
  }
  if (existsSync(operand)) {
    const { loadPlan } = await import('../../runtime/index.js');
    const loaded = await loadPlan(operand, planName);
    if (loaded.kind === 'usage') throw new CliError(loaded.message, 2);
    if (loaded.kind === 'errors') throw new CliError(`${operand}: the plan has errors`, errorsExit);
    return { plan: loaded.plan, model: undefined, from: 'ir', label: operand };
  }
  if (/[/\\]|\.orch$|\.json$/.test(operand)) throw new CliError(`cannot read ${operand}: no such file`, 2);
  const { journalOf, requireRun, withJournal } = await import('../db-option.js');
  const ir = await withJournal(journalOf(db), async (j) => (await requireRun(j, operand)).ir);
  if (!ir) throw new CliError(`run ${operand} records no plan of its own (a sub-plan run)`, 2);
  return { plan: JSON.parse(ir) as PlanIR, model: undefined, from: 'run', label: `run ${operand}` };
}

/**
 * `orch resume` and `orch signal` (LANGUAGE.md §8.6): a note on stderr when the source file of
 * the run's plan no longer compiles to the plan the run executes. Quiet when the file is gone or
 * does not compile: the run goes on either way.
 *
 * The note must not cost what the run costs: comparing a 100,000-step plan step by step took 30 s
 * of CPU before the resumed run's first step. So a file not written since the run started (the
 * run compiled it then, or an upgrade compiled what it holds now) is not compiled at all, and a
 * file compiled to the same version (`irHash`, what the journal records) is not diffed.
 */
export async function noteChangedSource(runId: string, recordedIr: string | null, startedAt?: number): Promise<void> {
  if (!recordedIr) return;
  try {
    let parsed: PlanIR | undefined;
    const file = (irHead(recordedIr) ?? (parsed = JSON.parse(recordedIr) as PlanIR)).source_file;
    if (!file || !file.endsWith('.orch')) return;
    const compiler = await import('../../compiler/index.js');
    const written = lastWritten(file, compiler);
    if (written === undefined || (startedAt !== undefined && written < Number(startedAt))) return;
    const plan = parsed ?? (JSON.parse(recordedIr) as PlanIR);
    const { compile, diskHost, diffPlans, irHash, preview } = compiler;
    const out = compile({ entry: file, plan: plan.plan, host: diskHost });
    const now = out.plans.find((p) => p.plan === plan.plan);
    if (!now || irHash(now) === irHash(plan)) return;
    // The recorded IR knows no triggers, so they are not compared (the file's would all look new).
    const d = diffPlans(plan, now, preview(plan), preview(now, out.model), { triggers: false });
    if (d.same) return;
    const what = [
      ...(d.steps.length ? [`${d.steps.length} step${d.steps.length === 1 ? ' differs' : 's differ'}`] : []),
      ...(d.plan.length ? [`plan: ${d.plan.join(', ')}`] : []),
    ];
    process.stderr.write(
      `note: ${file}${ownWrite(file) < Number(startedAt ?? 0) ? ' (a module, config or lock file of its project)' : ''} has changed since run ${runId} started (${what.join('; ') || 'the plan differs'}); ` +
        `orch diff ${runId} ${file} shows how, orch upgrade ${runId} --to ${file} moves the run if it is compatible\n`,
    );
  } catch {
    // A note only: nothing to report when the comparison itself fails.
  }
}

/**
 * When the run's source was last written: its file, or a module, config or lock file of its
 * project — a capability edited in a module the file imports changes the plan as much (undefined
 * when the file is gone). Stat calls only: compiling is what the note must not cost for nothing.
 */
function lastWritten(file: string, c: Pick<typeof import('../../compiler/index.js'), 'orchFilesUnder' | 'projectRootOf'>): number | undefined {
  const own = statSync(file, { throwIfNoEntry: false })?.mtimeMs;
  if (own === undefined) return undefined;
  const root = c.projectRootOf(dirname(file));
  const others = [
    ...c.orchFilesUnder(root, { skip: new Set(['node_modules']), skipHidden: true, order: 'as-listed', unreadable: 'skip', maxFiles: 10_000 }),
    ...['orch.config.json', 'orch.config.js', 'orch.config.mjs', 'orch.lock.json'].map((n) => join(root, n)),
  ];
  return others.reduce((latest, f) => Math.max(latest, statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? 0), own);
}

const ownWrite = (file: string): number => statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0;

/**
 * The IR's leading fields (`version` … `source_file`, scalars as the compiler writes them) read
 * without parsing its steps: a 100,000-step IR is ~90 MB of JSON, a second of parsing. `,"input":`
 * cannot occur inside a JSON string (its quotes would be escaped), so the text before its first
 * occurrence is the head's keys — unless an earlier value is an object holding such a key, and
 * then the head does not parse and the caller parses the whole IR.
 */
function irHead(text: string): Pick<PlanIR, 'source_file'> | undefined {
  const end = text.indexOf(',"input":');
  if (end < 0) return undefined;
  try {
    const head = JSON.parse(`${text.slice(0, end)}}`) as Partial<PlanIR> | null;
    return head && typeof head === 'object' && typeof head.source_file === 'string' ? { source_file: head.source_file } : undefined;
  } catch {
    return undefined;
  }
}
