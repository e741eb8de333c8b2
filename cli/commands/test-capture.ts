/**
 * `orch test --capture RUN [-o FILE [--force]] [--keep-personal] [--db PATH]` (LANGUAGE.md §9.2):
 * writes a test from a journaled run (verify/plan-tests/capture.ts), after running it: exit 1 with
 * the reason when it does not pass, 2 for an unknown run or an existing FILE without --force.
 */
import { statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { PlanIR } from '../../compiler/index.js';
import { journalExists, journalOf, requireRun, withJournal } from '../db-option.js';
import { CliError } from '../errors.js';
import { refuseToReplace, writeOutputFile } from '../output-file.js';

export interface CaptureCli {
  readonly capture: string;
  readonly output?: string;
  readonly keepPersonal?: boolean;
  readonly force?: boolean;
  readonly db?: string;
}

export async function captureCommand(opts: CaptureCli): Promise<void> {
  const runId = opts.capture;
  // Before the run is read and its test run twice: a test the user kept (and maybe edited) is
  // not replaced behind their back.
  if (opts.output !== undefined) refuseToReplace(opts.output, opts.force);
  const { row, events } = await withJournal(journalOf(opts.db), async (j) => {
    await requireRun(j, runId);
    const events = await j.load(runId);
    // Its sub-plan runs (`RUN/KEY…`): the calls they made are the run's calls too.
    for (const sub of await j.listRuns(true)) if (sub.id.startsWith(`${runId}/`)) events.push(...(await j.load(sub.id)));
    return { row: (await j.getRun(runId))!, events };
  });
  if (!row.ir) throw new CliError(`run ${runId} is a sub-plan run; capture its parent ${row.parent_id ?? ''}`, 2);
  const plan = JSON.parse(row.ir) as PlanIR;
  const { captureTest, CaptureError } = await import('../../verify/index.js');
  const { loadConfig, projectRoot } = await import('../../runtime/index.js');
  const config = await loadConfig(projectRoot(plan.base_dir)).catch(() => null);
  const toFile = opts.output !== undefined && opts.output !== '-';
  const file = resolve(toFile ? opts.output! : `${plan.plan}.captured.test.orch`);
  try {
    const { text } = await captureTest({ runId, plan, events }, { file, ...(opts.keepPersonal ? { keepPersonal: true } : {}), prices: config?.models?.prices ?? {} });
    if (toFile) {
      await writeOutputFile(file, text);
      process.stderr.write(`wrote ${opts.output} (it passes)\n`);
    } else process.stdout.write(text);
  } catch (err) {
    if (err instanceof CaptureError) throw new CliError(err.message, 1);
    throw err;
  }
}

/** `orch test --update FILES…`: rewrites each file's captured tests from a run of the plan as it is now. */
export async function updateCommand(paths: readonly string[]): Promise<void> {
  if (paths.length === 0) throw new CliError('--update needs the test files to rewrite (orch test --update FILE…)', 2);
  for (const path of paths) if (statSync(path, { throwIfNoEntry: false })?.isFile() !== true) throw new CliError(`cannot read ${path}: no such file (--update rewrites the .orch files given)`, 2);
  const { updateCapturedTests, LazyWorkers, CaptureError } = await import('../../verify/index.js');
  const real = new LazyWorkers();
  try {
    for (const path of paths) {
      let result;
      try {
        result = await updateCapturedTests(path, { real });
      } catch (err) {
        if (err instanceof CaptureError) throw new CliError(`${path}: ${err.message}`, 1);
        throw err;
      }
      writeFileSync(path, result.text);
      if (result.updated.length === 0) process.stderr.write(`${path}: no captured test (captured_from) to update\n`);
      for (const u of result.updated) {
        process.stdout.write(`updated "${u.name}" in ${path}${u.removed.length + u.added.length === 0 ? ' (unchanged)' : ''}\n`);
        for (const l of u.removed) process.stdout.write(`  - ${l}\n`);
        for (const l of u.added) process.stdout.write(`  + ${l}\n`);
      }
    }
  } finally {
    await real.close();
  }
}

/**
 * The plan a captured run executed, from the journal (`--db`, or the default one) when it holds
 * the run: a stale test then lists every change since (verify/plan-tests/stale.ts). Null when
 * there is no such journal or run — the test still fails, listing what it can see itself.
 */
export function pastPlanFrom(db: string | undefined): (run: string) => Promise<PlanIR | null> {
  return async (run) => {
    const where = journalOf(db);
    if (!(await journalExists(where))) return null;
    const ir = await withJournal(where, async (j) => (await j.getRun(run))?.ir ?? null);
    return ir ? (JSON.parse(ir) as PlanIR) : null;
  };
}
