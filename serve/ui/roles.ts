/**
 * What the signed-in person may do, as `GET /session` says: the dashboard shows only the
 * controls their roles allow (the server checks every request anyway: this only spares people
 * buttons that would answer 403). Mirrors serve/http/role-table.ts.
 */
export interface Me {
  subject: string;
  issuer: string;
  name: string;
  method: string;
  roles: string[];
  groups: string[];
}

let me: Me | null = null;

export function setMe(m: Me): void {
  me = m;
}

export function currentUser(): Me | null {
  return me;
}

const has = (...roles: string[]) => me !== null && me.roles.some((r) => roles.includes(r));

/** Start, pause, resume, cancel, retry, upgrade, fire triggers. */
export const canOperate = () => has('operator', 'admin');
/** Approve or reject approval steps. */
export const canDecide = () => has('approver', 'admin');
/** Read the audit trail. */
export const canAudit = () => has('admin');
