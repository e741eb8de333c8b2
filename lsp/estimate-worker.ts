/**
 * Worker thread that compiles a document for the estimates the editor shows inline (each
 * step's bound resource, cost and duration). A full compile of a large file takes hundreds of
 * milliseconds: here it never blocks the server, and only the small summary crosses back — or
 * not even that, when it equals the last one sent for the entry (most edits change no estimate).
 * Messages in: `{ id, entry, files, known }`; out: `{ id, result: PlanSteps[] | null }` (null: the
 * same as the last result for `entry`) or `{ id, error }`.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { compile, type PlanIR } from '../compiler/index.js';
import { ParseCache } from './parse-cache.js';
import { SentPlans } from './sent-plans.js';
import { bufferHost, serveWorker } from './worker-thread.js';

export interface EstimateRequest {
  readonly entry: string;
  readonly files: Readonly<Record<string, string>>;
  /** The server holds this worker's last result for `entry`: an equal one may be answered `null`. */
  readonly known: boolean;
}

/** What inlay hints need of a compiled plan (a `PlanIR` has this shape too). */
export interface PlanSteps {
  readonly plan: string;
  readonly steps: readonly {
    readonly id: string;
    readonly capability: string | null;
    readonly resource: string | null;
    readonly estimates: { readonly cost: number; readonly duration_ms: number };
  }[];
}

export function summarizePlans(plans: readonly PlanIR[]): PlanSteps[] {
  return plans.map((p) => ({
    plan: p.plan,
    steps: p.steps.map((s) => ({ id: s.id, capability: s.capability, resource: s.resource, estimates: { cost: s.estimates.cost, duration_ms: s.estimates.duration_ms } })),
  }));
}

const parses = new ParseCache();

/**
 * Without the types and references editors navigate by (`navigation: false`): the hints read the
 * plans' IR only, and recording those was a large share of each compile after an edit.
 */
export function estimatePlans(req: EstimateRequest, parse: ParseCache['parse']): PlanSteps[] {
  return summarizePlans(compile({ entry: req.entry, navigation: false, host: { ...bufferHost(req.files, (p) => readFileSync(p, 'utf8')), parse } }).plans);
}

/**
 * Lowers this thread's scheduling priority (Linux: a thread id is a `setpriority` target; its id
 * is the last part of /proc/thread-self). The compile is background work — its values only refresh
 * hints already shown — and with fewer cores than runnable threads it took the CPU the main thread
 * needed to answer the editor's requests meanwhile (issue #54: the whole-file hints' p95). Nice
 * 10, not 19: against a main thread it gets a tenth of a shared core, but a box busy with other
 * work (a build) still gives it enough to finish in seconds. Elsewhere, or if refused, the thread
 * keeps the default priority.
 */
function yieldToTheServer(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, 10);
  } catch {
    // not Linux, or not allowed: same answers, default priority
  }
}

const sent = new SentPlans<PlanSteps[]>();

if (parentPort) {
  yieldToTheServer();
  serveWorker<EstimateRequest, PlanSteps[] | null>(parentPort, (req) => sent.unlessSent(req.entry, estimatePlans(req, parses.parse), req.known));
}
