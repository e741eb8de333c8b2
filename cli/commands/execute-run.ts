/**
 * What every command that executes a run in this process shares (`orch run`, `resume`, `retry`,
 * `signal` when it continues the run): the runtime it opens (placement, worker threads, output
 * limit), the progress view, carrying the run to its end with Ctrl-C handling, the summary and the
 * exit code; and the flags of `resume` and `retry`.
 */
import type { Command } from 'commander';
import { boundHeapGrowth } from '../heap-growth.js';
import { CliError } from '../errors.js';
import { colorFor } from '../render-diagnostics.js';
import { cannotOpen, DB_HELP, journalOf } from '../db-option.js';
import { positiveInt } from '../positive-int.js';
import { Runtime, RuntimeUsageError, shownResult, type ActiveRun, type ExecutionResult, type Placement } from '../../runtime/index.js';
import { createProgress, summaryLines } from '../progress.js';

export interface RunCliOptions {
  readonly plan?: string;
  readonly input?: string;
  readonly context?: string;
  readonly json?: boolean;
  readonly quiet?: boolean;
  readonly db?: string;
  readonly workers?: number;
  readonly waitForSignals?: boolean;
  readonly memoryLimit?: number;
  readonly maxOutput?: number;
  readonly runId?: string;
  readonly consent?: readonly string[];
  readonly remote?: boolean;
  readonly local?: boolean;
  readonly project?: string;
}

export const QUIET_HELP = 'no progress while the run executes, only the closing summary (or the --json result)';

export const REMOTE_HELP =
  'run the steps only on `orch worker` processes, waiting for one if none is live (needs --db postgres://…; default there: on the workers when one is live, else here)';
export const LOCAL_HELP = 'run the steps on this process\'s worker threads even with a Postgres journal';

export const MAX_OUTPUT_HELP =
  'largest handler output in bytes of JSON; a bigger one fails its step (default: maxOutputBytes of orch.config, else 1048576)';

let progress: ReturnType<typeof createProgress> | null = null;

/** One progress view per command invocation (stdout stays clean for --json). */
export function progressFor(opts: { json?: boolean; quiet?: boolean }) {
  if (!progress) progress = createProgress(process.stderr, !opts.json && process.stderr.isTTY === true, opts.quiet === true);
  return progress;
}

/** `--local` / `--remote`, else on the workers when the database has them and one is live, else here. */
function placementOf(opts: RunCliOptions): Placement {
  if (opts.local && opts.remote) throw new CliError('--local and --remote exclude each other', 2);
  if (opts.local) return 'local';
  if (opts.remote) return 'workers';
  return 'auto';
}

export async function openRuntime(opts: RunCliOptions): Promise<Runtime> {
  boundHeapGrowth();
  const db = journalOf(opts.db);
  const placement = placementOf(opts);
  try {
    return await Runtime.open({
      db,
      ...(opts.workers ? { workers: opts.workers } : {}),
      ...(opts.memoryLimit ? { resourceLimits: { maxOldGenerationSizeMb: opts.memoryLimit } } : {}),
      ...(opts.maxOutput ? { maxOutputBytes: opts.maxOutput } : {}),
      suspendOnApproval: !opts.waitForSignals,
      placement,
    });
  } catch (err) {
    if (err instanceof RuntimeUsageError) throw new CliError(err.message, 2);
    // pg's messages name hosts and users, never the password.
    throw await cannotOpen(db, err);
  }
}

/** Why a run on Postgres is not (yet) on the workers, or null when it is or could not be. */
function placementNotice(active: ActiveRun, where: string): string | null {
  const w = active.workers;
  if (!w) return null;
  const missing = w.missing.map((r) => `\`${r}\``).join(', ');
  const start = '(start `orch worker --db …`' + (w.missing.length ? ` with \`--resources ${w.missing.join(',')}\`` : '') + ')';
  if (active.placement === 'workers') {
    if (w.live === 0) return `no live \`orch worker\` on ${where} yet: the steps wait for one ${start}`;
    return w.missing.length ? `no live \`orch worker\` on ${where} takes resource ${missing} yet: its steps wait for one ${start}` : null;
  }
  if (w.live === 0) return `no live \`orch worker\` on ${where}: the steps run in this process ${start.slice(0, -1)} to run them there; --local says this on purpose)`;
  if (w.missing.length) return `no live \`orch worker\` on ${where} takes resource ${missing}: the steps run in this process ${start.slice(0, -1)} to run them there; --local says this on purpose)`;
  return null;
}

/** Starts (or resumes) through `begin`, waits for the end, prints, sets the exit code. */
export async function execute(runtime: Runtime, json: boolean, begin: () => Promise<ActiveRun>): Promise<ExecutionResult> {
  let active: ActiveRun;
  try {
    active = await begin();
  } catch (err) {
    await runtime.close();
    if (err instanceof RuntimeUsageError) throw new CliError(err.message, 2);
    throw err;
  }
  const notice = placementNotice(active, runtime.store?.location ?? 'the database');
  if (notice) process.stderr.write(`orch: ${notice}\n`);
  const stopInterrupting = onInterrupt(active);
  let result: ExecutionResult;
  try {
    result = await active.result;
  } finally {
    stopInterrupting();
    progress?.stop();
    // The next invocation in this process (the CLI run in-process, as tests do) gets its own view.
    progress = null;
    await runtime.close();
  }
  // Printed as shown (a secret-class value reads `***`); the caller gets the run's own result.
  const shown = shownResult(active.run, result);
  if (json) process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
  else {
    // A decision from no authenticated person is refused only on a run bound to people (§9.1).
    const decidedBy = (step: string) => (active.run.decisionRefusal(step, 'approve', null) === null ? 'anyone' : 'people');
    for (const line of summaryLines(shown, colorFor(process.stdout), active.run.plan.policy?.currency, decidedBy)) process.stdout.write(`${line}\n`);
  }
  process.exitCode = result.status === 'completed' ? 0 : result.status === 'interrupted' ? INTERRUPTED_EXIT : 1;
  if (result.status === 'interrupted') process.stderr.write(`orch: run ${result.runId} interrupted; continue it with \`orch resume ${result.runId}\` (or end it with \`orch cancel ${result.runId}\`)\n`);
  return result;
}

/** 128 + SIGINT, as shells report a command ended by Ctrl-C. */
export const INTERRUPTED_EXIT = 130;

/** How long the first Ctrl-C lets running steps finish before the process exits anyway ($ORCH_INTERRUPT_GRACE_MS). */
function interruptGraceMs(): number {
  const n = Number(process.env.ORCH_INTERRUPT_GRACE_MS);
  return Number.isFinite(n) && n >= 0 ? n : 10_000;
}

/**
 * Ctrl-C (SIGINT): the first stops starting steps and lets the running ones finish
 * (the run stops as `interrupted`, resumable); a second one, or the end of the grace, exits at once
 * — what was running is then in flight in the journal, as after a crash, and still resumable.
 * `orch cancel` is how a run ends for good.
 */
function onInterrupt(active: ActiveRun): () => void {
  let grace: NodeJS.Timeout | null = null;
  const now = () => {
    process.stderr.write(`orch: exiting now; run ${active.runId} stays resumable (\`orch resume ${active.runId}\`)\n`);
    process.exit(INTERRUPTED_EXIT);
  };
  const first = () => {
    if (grace) return now();
    if (!active.run.interrupt('Ctrl-C (SIGINT)')) return now();
    const ms = interruptGraceMs();
    process.stderr.write(
      `orch: Ctrl-C: no new step starts; waiting up to ${ms / 1000}s for the running ones (again to exit at once)\n`,
    );
    grace = setTimeout(now, ms);
    grace.unref();
  };
  process.on('SIGINT', first);
  return () => {
    process.off('SIGINT', first);
    if (grace) clearTimeout(grace);
  };
}

/** A command that executes a run in this process (`resume`, `retry`): its journal and run options. */
export function executingCommand(program: Command, name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .argument('<run>', 'run id')
    .option('--db <path>', DB_HELP)
    .option('--json', 'print the execution result as JSON')
    .option('--quiet', QUIET_HELP)
    .option('--workers <n>', 'worker threads (default: number of cores)', positiveInt('--workers'))
    .option('--max-output <bytes>', MAX_OUTPUT_HELP, positiveInt('--max-output'))
    .option('--remote', REMOTE_HELP)
    .option('--local', LOCAL_HELP);
}
