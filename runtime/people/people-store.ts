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
 * The audit trail is append-only: the store has no call that edits an entry, and the database
 * itself refuses UPDATE, and DELETE of any entry younger than the cutoff `pruneAudit` sets within
 * its own transaction (triggers) — `auth.audit_retention` is the one way entries go; `orch runs
 * prune` and the runs' `retention` never touch it. A refused request that proved no identity (a
 * wrong password, a wrong bearer token, a 429) is not an entry of its own: it is counted into
 * `audit_refused`, one row per hour, route, answer, named user and client address, so nobody can
 * bury the people's actions under their own failures.
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
  /** The runs the request started, and their plans (`POST /runs`, a retry, a trigger fired, an event, a signal). */
  readonly started?: readonly StartedRun[];
}

export interface StartedRun {
  readonly runId: string;
  readonly plan: string;
}

/** What the audit trail is asked for: newest first by default, a page at a time (`before`: an entry id). */
export interface AuditQuery {
  readonly since?: number;
  readonly until?: number;
  /** Only entries with a smaller id (the next page of a newest-first listing). */
  readonly before?: number;
  readonly limit?: number;
  readonly order?: 'newest' | 'oldest';
  /** Who: the subject (and issuer) of the person. */
  readonly subject?: string;
  readonly issuer?: string;
  /** A run the request named or started. */
  readonly runId?: string;
  readonly status?: number;
  /** The route pattern (`/runs/:id/steps/:step/approve`). */
  readonly route?: string;
}

/** A refused request that proved no identity, as counted: one hour of one route, answer, named user and client. */
export interface RefusedRequest {
  readonly httpMethod: string;
  readonly route: string;
  readonly status: number;
  /** The user a sign-in named, when configured; null otherwise. */
  readonly subject: string | null;
  readonly client: string | null;
}

export interface RefusedCount extends RefusedRequest {
  /** The hour counted (its start, ms). */
  readonly hour: number;
  readonly count: number;
  readonly firstAt: number;
  readonly lastAt: number;
}

export const HOUR_MS = 3_600_000;

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
  /** The entries `q` asks for: newest first unless `order: 'oldest'`. */
  audit(q?: AuditQuery): Promise<AuditRow[]>;
  /** Counts one refused request that proved no identity (in its hour's row). */
  countRefused(r: RefusedRequest, at: number): Promise<void>;
  /** The hours of refused requests from `since` to `until`, newest first. */
  refused(q?: Pick<AuditQuery, 'since' | 'until' | 'limit' | 'subject' | 'status' | 'route'>): Promise<RefusedCount[]>;
  /** `auth.audit_retention`: deletes the entries and counts from before `before` (ms); resolves to how many entries went. */
  pruneAudit(before: number): Promise<number>;
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
    ...startedOf(r.started),
  };
}

function startedOf(v: unknown): { started?: StartedRun[] } {
  if (typeof v !== 'string' || v === '') return {};
  try {
    const list = JSON.parse(v) as unknown;
    return Array.isArray(list) ? { started: list.filter((x): x is StartedRun => typeof x?.runId === 'string' && typeof x?.plan === 'string') } : {};
  } catch {
    return {};
  }
}

export function refusedCountOf(r: Record<string, unknown>): RefusedCount {
  const orNull = (v: unknown) => (v === null || v === undefined || v === '' ? null : String(v));
  return {
    hour: Number(r.hour),
    httpMethod: String(r.http_method),
    route: String(r.route),
    status: Number(r.status),
    subject: orNull(r.subject),
    client: orNull(r.client),
    count: Number(r.count),
    firstAt: Number(r.first_at),
    lastAt: Number(r.last_at),
  };
}

/**
 * The WHERE clause and parameters of an audit query, for both backends (`param(i)`: `?` or `$i`).
 * A run matches the entries that named it (`run_id`) and those that started it (`started`).
 */
export function auditWhere(
  q: AuditQuery,
  param: (i: number) => string,
  contains: (column: string, p: string) => string,
  time = 'at',
): { readonly where: string; readonly params: (string | number)[] } {
  const params: (string | number)[] = [];
  const clauses: string[] = [];
  const add = (sql: (p: string) => string, value: string | number) => {
    params.push(value);
    clauses.push(sql(param(params.length)));
  };
  if (q.since !== undefined) add((p) => `${time} >= ${p}`, q.since);
  if (q.until !== undefined) add((p) => `${time} < ${p}`, q.until);
  if (q.before !== undefined) add((p) => `id < ${p}`, q.before);
  if (q.subject !== undefined) add((p) => `subject = ${p}`, q.subject);
  if (q.issuer !== undefined) add((p) => `issuer = ${p}`, q.issuer);
  if (q.status !== undefined) add((p) => `status = ${p}`, q.status);
  if (q.route !== undefined) add((p) => `route = ${p}`, q.route);
  if (q.runId !== undefined) {
    params.push(q.runId, JSON.stringify({ runId: q.runId }).slice(1, -1));
    clauses.push(`(run_id = ${param(params.length - 1)} OR ${contains('started', param(params.length))})`);
  }
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

/** The hour a refusal is counted in. */
export const hourOf = (at: number): number => Math.floor(at / HOUR_MS) * HOUR_MS;

export function tokenRowOf(r: Record<string, unknown>): ApiTokenRow {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return { id: String(r.id), user: String(r.user_name), createdAt: Number(r.created_at), expiresAt: num(r.expires_at), revokedAt: num(r.revoked_at) };
}

export function auditParams(e: AuditEntry): (string | number | null)[] {
  return [e.at, e.subject, e.issuer, e.authMethod, e.name, e.httpMethod, e.route, e.path, e.runId, e.stepId, e.status, e.client, e.started?.length ? JSON.stringify(e.started) : null];
}
/** Rows of `login_failures` → the map `loginFailures` answers, shared by both backends. */
export function loginFailuresOf(rows: readonly Record<string, unknown>[]): Map<string, LoginFailures> {
  return new Map(rows.map((r) => [String(r.key), { failures: Number(r.failures), last: Number(r.last_at) }]));
}

export const AUDIT_COLUMNS = 'at, subject, issuer, auth_method, name, http_method, route, path, run_id, step_id, status, client, started';

/**
 * Revokes every API token whose user is not in `users` (the config's `auth.users` now): a user
 * removed from the config loses their tokens for good, and a user added later under the same
 * name does not get them back. Resolves to how many were revoked.
 */
export async function revokeTokensOfRemovedUsers(store: Pick<PeopleStore, 'tokens' | 'revokeToken'>, users: ReadonlyMap<string, unknown>, now: number): Promise<number> {
  let revoked = 0;
  for (const t of await store.tokens()) if (t.revokedAt === null && !users.has(t.user) && (await store.revokeToken(t.id, now))) revoked++;
  return revoked;
}
