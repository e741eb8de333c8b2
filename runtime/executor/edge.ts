/**
 * Edge handlers: attempts whose work is talking to something outside (an MCP server, an SMTP
 * server, a webhook) run here, in the executor's thread, instead of in a worker. They are I/O,
 * not CPU: a worker would only add a message hop each way, and a connection to a stdio server
 * belongs to one thread — so one server per process, reused by every step and run, is only
 * possible where the executor lives. The scheduler core never sees the difference: it gets the
 * same outcomes through the same `Executor` interface.
 */
import type { CapabilityIR } from '../../compiler/index.js';
import { logBudget, toJsonOutput } from './json-output.js';
import { typedOutput } from './value-defaults.js';
import type { AttemptHandle, AttemptOutcome, AttemptRequest, FailureOwner, FinalFailure, ToolCheck } from '../scheduler/types.js';

export interface EdgeHandler {
  /** Whether attempts of this capability are this handler's. */
  handles(cap: CapabilityIR): boolean;
  /** As `Executor.start`: `done` once, asynchronously. */
  start(req: AttemptRequest, done: (outcome: AttemptOutcome) => void, logged?: (lines: readonly string[]) => void): AttemptHandle;
  /** As `Executor.checkTool`, for the capabilities it handles. */
  checkTool?(check: ToolCheck): Promise<string | null>;
  /** Stops what the handler started (servers, connections): the process is done with it. */
  close(): Promise<void>;
}

/**
 * `edge` lent to a runtime that does not own it: the runtime's close leaves it running, for the
 * next runtime of the same process (`orch mcp serve` opens one per run, and §8.3 starts a stdio
 * server once per process). Whoever made `edge` closes it.
 */
export function borrowedEdge(edge: EdgeHandler): EdgeHandler {
  return {
    handles: (cap) => edge.handles(cap),
    start: (req, done, logged) => edge.start(req, done, logged),
    ...(edge.checkTool ? { checkTool: (check: ToolCheck) => edge.checkTool!(check) } : {}),
    close: async () => undefined,
  };
}

/**
 * A failure that says more than its message: whether another attempt would repeat it (`final`:
 * the step is not retried) and whose it is (`owner`: whether another resource is worth a try),
 * and what the attempt cost when nothing was sent (`cost` 0). LANGUAGE.md §9.1.
 */
export class AttemptError extends Error {
  constructor(
    message: string,
    readonly how: { readonly final?: FinalFailure; readonly owner?: FailureOwner; readonly cost?: number },
  ) {
    super(message);
  }
}

/**
 * A failure another attempt would repeat, found before anything was sent (configuration, a missing
 * secret, a changed or missing tool): the step is not retried, and the attempt costs nothing.
 */
export class FinalAttemptError extends AttemptError {
  constructor(message: string, owner?: FailureOwner) {
    super(message, { final: 'config', cost: 0, ...(owner ? { owner } : {}) });
  }
}

/** The outcome fields an `AttemptError` brings (none for any other throw). */
export function attemptErrorFields(err: unknown): Pick<Extract<AttemptOutcome, { ok: false }>, 'final' | 'owner' | 'cost'> {
  if (!(err instanceof AttemptError)) return {};
  const { final, owner, cost } = err.how;
  return { ...(final ? { final } : {}), ...(owner ? { owner } : {}), ...(cost !== undefined ? { cost } : {}) };
}

/**
 * Runs `work` as one attempt: its log lines go to `logged` as they come (or into the outcome),
 * its result is checked against the capability's output type, any throw is a failed attempt.
 * With `maxBytes` (what another party writes: an MCP server's stderr and answers) the attempt is
 * held to the project's `maxOutputBytes` as a handler is: its log lines share the budget, and an
 * output whose JSON is larger fails the attempt.
 */
export function runEdgeAttempt(
  req: AttemptRequest,
  done: (outcome: AttemptOutcome) => void,
  logged: ((lines: readonly string[]) => void) | undefined,
  work: (signal: AbortSignal, log: (line: string) => void) => Promise<unknown>,
  maxBytes?: Promise<number>,
): AttemptHandle {
  const ac = new AbortController();
  const held: string[] = [];
  let settled = false;
  let budget: ((line: string) => string | null) | null = null;
  let limit: number | null = null;
  const log = (line: string): void => {
    if (settled) return;
    const kept = budget ? budget(line) : line;
    if (kept === null) return;
    if (logged) logged([kept]);
    else held.push(kept);
  };
  const finish = (o: AttemptOutcome): void => {
    if (settled) return;
    settled = true;
    done(held.length ? { ...o, logs: held } : o);
  };
  // Never inside `start`: the work begins on a later tick.
  void Promise.resolve(maxBytes)
    .then((max) => {
      if (max !== undefined) [limit, budget] = [max, logBudget(max)];
      return work(ac.signal, log);
    })
    .then(
      (output) => {
        const json = limit === null ? null : toJsonOutput(output, limit);
        if (json && !json.ok) return finish({ ok: false, error: json.error });
        const typed = typedOutput(req.capability, output);
        finish(typed.ok ? { ok: true, output: typed.output } : { ok: false, error: typed.error });
      },
      (err: unknown) =>
        finish({
          ok: false,
          error: ac.signal.aborted ? 'attempt aborted' : err instanceof Error ? err.message : String(err),
          ...(ac.signal.aborted ? {} : attemptErrorFields(err)),
        }),
    );
  return { abort: (reason) => ac.abort(new Error(reason)) };
}
