/**
 * Worker thread that compiles a document for the estimates the editor shows inline (each
 * step's bound resource, cost and duration). A full compile of a large file takes hundreds of
 * milliseconds: here it never blocks the server, and only the small summary crosses back.
 * Messages in: `{ id, entry, files }`; out: `{ id, result: PlanSteps[] }` or `{ id, error }`.
 */
import { readFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { compile, type PlanIR } from '../compiler/index.js';
import { ParseCache } from './parse-cache.js';
import { bufferHost, serveWorker } from './worker-thread.js';

export interface EstimateRequest {
  readonly entry: string;
  readonly files: Readonly<Record<string, string>>;
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

if (parentPort) {
  serveWorker<EstimateRequest, PlanSteps[]>(parentPort, (req) => estimatePlans(req, parses.parse));
}
