/**
 * A control row (`orch pause`, `orch signal` … from another process) carried out on a run this
 * process executes: by the control poll while it runs, and before a resumed run starts.
 */
import type { ControlRow } from './backend/async-journal.js';
import type { Run } from './scheduler/run.js';
import { AUTH_METHODS, ROLES, type AuthMethod, type Identity, type Role } from './people/identity.js';

export function applyControl(run: Run, c: ControlRow): void {
  const payload = c.payload ? (JSON.parse(c.payload) as Record<string, unknown>) : {};
  if (c.kind === 'pause') run.pause();
  else if (c.kind === 'resume') run.resume();
  else if (c.kind === 'cancel') run.cancel('cancelled by user');
  else if (c.kind === 'context') run.updateOwnContext(payload);
  else if (c.kind === 'cancel_step' && c.step_id) run.cancelStep(c.step_id, 'cancelled by user');
  else if (c.kind === 'signal' && c.step_id)
    run.signal(
      c.step_id,
      payload.decision === 'reject' ? 'reject' : 'approve',
      (payload.by as string) ?? null,
      (payload.comment as string) ?? null,
      identityOf(payload.identity),
    );
}

/**
 * The deciding person a control row carries (§8.8; written by `Runtime.signal` of another
 * process), read back field by field: roles this version does not know are dropped.
 */
function identityOf(v: unknown): Identity | null {
  if (v === null || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  const strings = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === 'string');
  if (typeof o.subject !== 'string' || typeof o.issuer !== 'string' || typeof o.name !== 'string' || typeof o.method !== 'string') return null;
  if (!(AUTH_METHODS as readonly string[]).includes(o.method) || !strings(o.roles) || !strings(o.groups)) return null;
  return { subject: o.subject, issuer: o.issuer, name: o.name, method: o.method as AuthMethod, roles: o.roles.filter((r): r is Role => (ROLES as readonly string[]).includes(r)), groups: o.groups };
}
