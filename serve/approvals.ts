/**
 * The approvals inbox: approval steps of runs in flight that wait for a decision, with their
 * summary evaluated against the run's (redacted) input. `secret(…)` evaluates to the redaction
 * mark here, so a summary never shows one.
 */
import { evaluate } from '../runtime/index.js';
import type { RunStarter } from './run-starter.js';
import { TERMINAL_STATUSES } from './run-starter.js';

export interface PendingApproval {
  readonly runId: string;
  readonly planId: string;
  readonly stepId: string;
  readonly approver: string | null;
  readonly summary: string;
  readonly since: string | null;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v) ?? '');

export async function pendingApprovals(starter: RunStarter): Promise<PendingApproval[]> {
  const out: PendingApproval[] = [];
  for (const r of await starter.list()) {
    if (TERMINAL_STATUSES.has(r.status)) continue;
    const [view, source] = await Promise.all([starter.get(r.runId), starter.source(r.runId)]);
    if (!view || !source) continue;
    for (const step of source.plan.steps) {
      if (step.kind !== 'human') continue;
      const live = view.steps.filter((s) => s.stepId === step.id || s.stepId.startsWith(`${step.id}[`));
      for (const s of live) {
        if (s.status !== 'running') continue;
        const arg = (name: string): string | null => {
          const expr = step.args[name];
          if (!expr) return null;
          try {
            return text(evaluate(expr, { vars: { input: source.input } }));
          } catch {
            return null;
          }
        };
        out.push({
          runId: r.runId,
          planId: r.planId,
          stepId: s.stepId,
          approver: arg('approver'),
          summary: arg('summary') ?? `${step.id} in ${r.planId}`,
          since: s.startedAt ?? null,
        });
      }
    }
  }
  return out;
}
