/**
 * A control row (`orch pause`, `orch signal` … from another process) carried out on a run this
 * process executes: by the control poll while it runs, and before a resumed run starts.
 */
import type { ControlRow } from './journal/sqlite-journal.js';
import type { Run } from './scheduler/run.js';

export function applyControl(run: Run, c: ControlRow): void {
  const payload = c.payload ? (JSON.parse(c.payload) as Record<string, unknown>) : {};
  if (c.kind === 'pause') run.pause();
  else if (c.kind === 'resume') run.resume();
  else if (c.kind === 'cancel') run.cancel('cancelled by user');
  else if (c.kind === 'context') run.updateContext(payload);
  else if (c.kind === 'cancel_step' && c.step_id) run.cancelStep(c.step_id, 'cancelled by user');
  else if (c.kind === 'signal' && c.step_id)
    run.signal(c.step_id, payload.decision === 'reject' ? 'reject' : 'approve', (payload.by as string) ?? null, (payload.comment as string) ?? null);
}
