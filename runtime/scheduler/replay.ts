/**
 * Folds a run's journal into what resuming needs: the last known state of every step instance,
 * whether the run was paused, the context, and the next sequence number. Pure.
 */
import type { StepStatus } from '../../compiler/ir/types.js';
import type { RunEvent } from './types.js';

export interface RestoredStep {
  status: StepStatus;
  attempts: number;
  output: unknown;
  error: string | null;
  resource: string | null;
  startedAt: number | null;
  completedAt: number | null;
  cost: number;
  phase: 'main' | 'fallback';
  resourceIndex: number;
  /** Attempts made on the current resource / phase (for the retry budget). */
  phaseAttempts: number;
  /** Started and never finished: the process died while it ran. */
  inFlight: boolean;
  compensated: boolean;
  completionOrder: number | null;
}

export interface RestoredRun {
  readonly steps: Map<string, RestoredStep>;
  readonly paused: boolean;
  readonly terminal: boolean;
  readonly startedAt: number | null;
  readonly lastSeq: number;
  readonly context: { [key: string]: unknown };
}

export function replay(events: readonly RunEvent[]): RestoredRun {
  const steps = new Map<string, RestoredStep>();
  let paused = false;
  let terminal = false;
  let startedAt: number | null = null;
  let lastSeq = 0;
  let order = 0;
  const context: { [key: string]: unknown } = {};
  const get = (id: string): RestoredStep => {
    let s = steps.get(id);
    if (!s) {
      s = {
        status: 'pending',
        attempts: 0,
        output: null,
        error: null,
        resource: null,
        startedAt: null,
        completedAt: null,
        cost: 0,
        phase: 'main',
        resourceIndex: 0,
        phaseAttempts: 0,
        inFlight: false,
        compensated: false,
        completionOrder: null,
      };
      steps.set(id, s);
    }
    return s;
  };
  for (const e of events) {
    lastSeq = Math.max(lastSeq, e.seq);
    const d = e.data as Record<string, unknown>;
    // An attempt whose outcome reported its own cost (see AttemptOutcome.cost).
    if (typeof d.cost_delta === 'number' && e.stepId) get(e.stepId).cost += d.cost_delta;
    switch (e.type) {
      case 'plan_created':
        if (d.context && typeof d.context === 'object') Object.assign(context, d.context);
        break;
      case 'execution_started':
        if (startedAt === null) startedAt = e.ts;
        break;
      case 'execution_paused':
        paused = true;
        break;
      case 'execution_resumed':
        paused = false;
        break;
      case 'execution_completed':
      case 'execution_failed':
      case 'execution_cancelled':
        terminal = true;
        break;
      case 'context_updated':
        if (d.patch && typeof d.patch === 'object') Object.assign(context, d.patch);
        break;
      case 'step_queued':
        get(e.stepId!).status = 'queued';
        break;
      case 'step_started': {
        const s = get(e.stepId!);
        s.status = 'running';
        s.inFlight = true;
        s.attempts = Number(d.attempt ?? s.attempts + 1);
        s.phaseAttempts = Number(d.phaseAttempt ?? s.phaseAttempts + 1);
        s.phase = d.phase === 'fallback' ? 'fallback' : 'main';
        s.resourceIndex = Number(d.resourceIndex ?? 0);
        s.resource = (d.resource as string | null) ?? null;
        if (s.startedAt === null) s.startedAt = e.ts;
        s.cost += Number(d.cost ?? 0);
        break;
      }
      case 'step_retried': {
        const s = get(e.stepId!);
        s.inFlight = false;
        s.status = 'queued';
        if (d.phase === 'fallback') s.phase = 'fallback';
        if (typeof d.resourceIndex === 'number') s.resourceIndex = d.resourceIndex;
        if (d.reset === true) s.phaseAttempts = 0;
        break;
      }
      case 'step_completed': {
        const s = get(e.stepId!);
        s.status = 'completed';
        s.inFlight = false;
        s.output = d.output ?? null;
        s.completedAt = e.ts;
        s.completionOrder = order++;
        if (typeof d.attempt === 'number') s.attempts = d.attempt;
        break;
      }
      case 'step_failed': {
        const s = get(e.stepId!);
        s.status = (d.status as StepStatus | undefined) ?? 'failed';
        s.inFlight = false;
        s.error = (d.error as string | undefined) ?? null;
        s.completedAt = e.ts;
        break;
      }
      case 'step_skipped': {
        const s = get(e.stepId!);
        s.status = 'skipped';
        s.inFlight = false;
        break;
      }
      case 'step_compensated':
        get(e.stepId!).compensated = true;
        break;
      default:
        break;
    }
  }
  return { steps, paused, terminal, startedAt, lastSeq, context };
}
