/**
 * What `orch serve` keeps of people in the journal's database (LANGUAGE.md §8.8): browser
 * sessions (by a hash of the cookie), API tokens (by a hash of the token: the token itself is
 * shown once and never stored) and the audit trail of state-changing requests. SQLite and
 * Postgres implement one contract (`runtime/test/people-store-contract.test.ts`), so several
 * `orch serve` on one database share sessions and a restart signs nobody out.
 *
 * Sign-in failures are counted here too (per key: `user:NAME`, `addr:ADDRESS`; never a password),
 * so every `orch serve` of a database slows one guesser down together and a restart forgets
 * nothing: an attempt is decided and counted in one transaction over its keys' rows (locked, so
 * two servers deciding at once take turns), and rows quiet for longer than the forget time are
 * dropped as attempts are counted, so the table stays small. The rules (how many failures are
 * free, how long to wait) are the serve layer's (`serve/http/login-throttle.ts`).
 *
 * The audit trail is append-only: the store has no call that edits or deletes an entry, and the
 * database itself refuses UPDATE and DELETE on the table (triggers), so `orch runs prune` and
 * retention never touch it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { AUTH_METHODS, type AuthMethod, type Identity } from './identity.js';

export interface StoredSession {
  readonly identity: Identity;
  /** SHA-256 (hex) of the session's CSRF token. */
  readonly csrfHash: string;
  readonly createdAt: number;
  readonly expiresAt: number;
}

export interface ApiTokenRow {
  /** Public id (`orch auth revoke ID`), not a secret. */
  readonly id: string;
  readonly user: string;
  readonly createdAt: number;
  readonly expiresAt: number | null;
  readonly revokedAt: number | null;
}

export interface AuditEntry {
  readonly at: number;
  /** Who: null for a request no identity was proven for (a failed sign-in). */
  readonly subject: string | null;
  readonly issuer: string | null;
  readonly authMethod: AuthMethod | null;
  readonly name: string | null;
  /** What: the HTTP method, the route pattern and the concrete path. */
  readonly httpMethod: string;
  readonly route: string;
  readonly path: string;
  readonly runId: string | null;
  readonly stepId: string | null;
  /** The outcome: the status code answered. */
  readonly status: number;
  /** From where: the client address the server saw. */
  readonly client: string | null;
}

export interface AuditRow extends AuditEntry {
  readonly id: number;
}

/** A key's sign-in failures since it was last cleared or forgotten. */
export interface LoginFailures {
  readonly failures: number;
  /** When the latest one happened (ms). */
  readonly last: number;
}

export interface PeopleStore {
  createSession(idHash: string, s: StoredSession): Promise<void>;
  /** The session (not expired at `now`), or undefined. */
  session(idHash: string, now: number): Promise<StoredSession | undefined>;
  deleteSession(idHash: string): Promise<void>;
  /** Sign-out everywhere: every session of this person; resolves to how many ended. */
  deleteSessionsOf(subject: string, issuer: string): Promise<number>;
  createToken(t: ApiTokenRow & { readonly hash: string }): Promise<void>;
  tokenByHash(hash: string): Promise<ApiTokenRow | undefined>;
  /** False when no token has this id (revoking twice is fine: the first time stays). */
  revokeToken(id: string, at: number): Promise<boolean>;
  tokens(user?: string): Promise<ApiTokenRow[]>;
  appendAudit(e: AuditEntry): Promise<void>;
  /** Oldest first, from `since` (ms) on. */
  audit(q?: { readonly since?: number; readonly limit?: number }): Promise<AuditRow[]>;
  /** The failures of these keys whose latest one is at `since` (ms) or later; keys without any are absent. */
  loginFailures(keys: readonly string[], since: number): Promise<Map<string, LoginFailures>>;
  /**
   * One sign-in attempt for these keys, decided and counted at once (under a lock every store on
   * the same database respects): `wait` sees the keys' failures as they stand — a key whose latest
   * failure is before `forgetBefore` as having none — and answers how long the attempt must wait.
   * When it answers 0, the attempt is counted as one more failure of each key, at `at`, before
   * the password is even checked, so a burst of parallel guesses is slowed down as one guesser
   * trying in turn would be; a success takes that failure back (`forgiveLoginFailure`,
   * `clearLoginFailures`). When it answers more, nothing is written. Rows quiet since before
   * `forgetBefore` are dropped. Resolves to `wait`'s answer.
   */
  takeLoginAttempt(keys: readonly string[], at: number, forgetBefore: number, wait: (failures: ReadonlyMap<string, LoginFailures>) => number): Promise<number>;
  /** Takes back one failure of a key counted by `takeLoginAttempt` (its latest time stays). */
  forgiveLoginFailure(key: string): Promise<void>;
  /** Forgets a key's failures (a successful sign-in clears the user's count). */
  clearLoginFailures(key: string): Promise<void>;
  close(): Promise<void>;
}

export const sha256Hex = (s: string): string => createHash('sha256').update(s).digest('hex');

/** A new API token: `orch_<id>_<secret>`; the store keeps the id and the hash of the whole token. */
export function newApiToken(): { readonly id: string; readonly token: string; readonly hash: string } {
  const id = randomBytes(6).toString('hex');
  const token = `orch_${id}_${randomBytes(32).toString('base64url')}`;
  return { id, token, hash: sha256Hex(token) };
}

/** Row → entry, shared by both backends (columns are named alike). */
export function auditRowOf(r: Record<string, unknown>): AuditRow {
  const str = (v: unknown) => (v === null || v === undefined ? null : String(v));
  const method = str(r.auth_method);
  return {
    id: Number(r.id),
    at: Number(r.at),
    subject: str(r.subject),
    issuer: str(r.issuer),
    authMethod: method !== null && (AUTH_METHODS as readonly string[]).includes(method) ? (method as AuthMethod) : null,
    name: str(r.name),
    httpMethod: String(r.http_method),
    route: String(r.route),
    path: String(r.path),
    runId: str(r.run_id),
    stepId: str(r.step_id),
    status: Number(r.status),
    client: str(r.client),
  };
}

export function tokenRowOf(r: Record<string, unknown>): ApiTokenRow {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return { id: String(r.id), user: String(r.user_name), createdAt: Number(r.created_at), expiresAt: num(r.expires_at), revokedAt: num(r.revoked_at) };
}

export function auditParams(e: AuditEntry): (string | number | null)[] {
  return [e.at, e.subject, e.issuer, e.authMethod, e.name, e.httpMethod, e.route, e.path, e.runId, e.stepId, e.status, e.client];
}
/** Rows of `login_failures` → the map `loginFailures` answers, shared by both backends. */
export function loginFailuresOf(rows: readonly Record<string, unknown>[]): Map<string, LoginFailures> {
  return new Map(rows.map((r) => [String(r.key), { failures: Number(r.failures), last: Number(r.last_at) }]));
}

export const AUDIT_COLUMNS = 'at, subject, issuer, auth_method, name, http_method, route, path, run_id, step_id, status, client';
