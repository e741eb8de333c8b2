/**
 * The people store in the SQLite journal file (its own connection, like serve's trigger state).
 * Its tables are `CREATE … IF NOT EXISTS`, so a file from an older Orch gains the new ones
 * (`login_failures`, `audit_refused`) and columns (`audit_log.started`) when it is opened and
 * keeps its rows.
 */
import { openSharedSqlite } from './driver.js';
import type { Identity } from '../../people/identity.js';
import {
  AUDIT_COLUMNS,
  auditParams,
  auditRowOf,
  auditWhere,
  hourOf,
  loginFailuresOf,
  refusedCountOf,
  tokenRowOf,
  type LoginFailures,
  type PeopleStore,
  type StoredSession,
} from '../../people/people-store.js';

export const PEOPLE_SQLITE_SCHEMA = `
CREATE TABLE IF NOT EXISTS auth_sessions (
  id_hash TEXT PRIMARY KEY, subject TEXT NOT NULL, issuer TEXT NOT NULL, identity TEXT NOT NULL,
  csrf_hash TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS auth_sessions_who ON auth_sessions (issuer, subject);
CREATE TABLE IF NOT EXISTS auth_tokens (
  id TEXT PRIMARY KEY, user_name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL, expires_at INTEGER, revoked_at INTEGER);
CREATE TABLE IF NOT EXISTS audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, subject TEXT, issuer TEXT, auth_method TEXT,
  name TEXT, http_method TEXT NOT NULL, route TEXT NOT NULL, path TEXT NOT NULL, run_id TEXT, step_id TEXT,
  status INTEGER NOT NULL, client TEXT);
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at);
CREATE TABLE IF NOT EXISTS login_failures (
  key TEXT PRIMARY KEY, failures INTEGER NOT NULL, last_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS login_failures_last ON login_failures (last_at);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TABLE IF NOT EXISTS audit_refused (
  hour INTEGER NOT NULL, http_method TEXT NOT NULL, route TEXT NOT NULL, status INTEGER NOT NULL,
  subject TEXT NOT NULL, client TEXT NOT NULL, count INTEGER NOT NULL, first_at INTEGER NOT NULL, last_at INTEGER NOT NULL,
  PRIMARY KEY (hour, http_method, route, status, subject, client));
-- auth.audit_retention: a prune sets the cutoff for its own transaction; nothing younger may go.
CREATE TABLE IF NOT EXISTS audit_prune (id INTEGER PRIMARY KEY CHECK (id = 1), before INTEGER NOT NULL);
INSERT OR IGNORE INTO audit_prune (id, before) VALUES (1, 0);
DROP TRIGGER IF EXISTS audit_log_no_delete;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete_unpruned BEFORE DELETE ON audit_log
  WHEN old.at >= (SELECT before FROM audit_prune WHERE id = 1)
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
`;

/** `audit_log.started` (v0.4) on a file an older Orch made. */
function addStartedColumn(db: ReturnType<typeof openSharedSqlite>): void {
  const columns = db.prepare('PRAGMA table_info(audit_log)').all() as { name: string }[];
  if (!columns.some((c) => c.name === 'started')) db.exec('ALTER TABLE audit_log ADD COLUMN started TEXT');
}

export function openSqlitePeopleStore(path: string): PeopleStore {
  const db = openSharedSqlite(path, PEOPLE_SQLITE_SCHEMA);
  addStartedColumn(db);
  const insertSession = db.prepare(
    'INSERT INTO auth_sessions (id_hash, subject, issuer, identity, csrf_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const sweep = db.prepare('DELETE FROM auth_sessions WHERE expires_at < ?');
  const getSession = db.prepare('SELECT identity, csrf_hash, created_at, expires_at FROM auth_sessions WHERE id_hash = ? AND expires_at >= ?');
  const delSession = db.prepare('DELETE FROM auth_sessions WHERE id_hash = ?');
  const delSessionsOf = db.prepare('DELETE FROM auth_sessions WHERE subject = ? AND issuer = ?');
  const insertToken = db.prepare('INSERT INTO auth_tokens (id, user_name, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)');
  const tokenByHash = db.prepare('SELECT * FROM auth_tokens WHERE hash = ?');
  const revoke = db.prepare('UPDATE auth_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?');
  const allTokens = db.prepare('SELECT * FROM auth_tokens ORDER BY created_at, id');
  const tokensOf = db.prepare('SELECT * FROM auth_tokens WHERE user_name = ? ORDER BY created_at, id');
  const insertAudit = db.prepare(`INSERT INTO audit_log (${AUDIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const countRefused = db.prepare(
    `INSERT INTO audit_refused (hour, http_method, route, status, subject, client, count, first_at, last_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)
     ON CONFLICT (hour, http_method, route, status, subject, client) DO UPDATE SET count = count + 1, last_at = MAX(last_at, excluded.last_at)`,
  );
  const prune = db.transaction((before: number): number => {
    db.prepare('UPDATE audit_prune SET before = ? WHERE id = 1').run(before);
    const gone = Number(db.prepare('DELETE FROM audit_log WHERE at < ?').run(before).changes);
    db.prepare('UPDATE audit_prune SET before = 0 WHERE id = 1').run();
    db.prepare('DELETE FROM audit_refused WHERE last_at < ?').run(before);
    return gone;
  }, 'immediate');
  const question = () => '?';
  const instr = (column: string, p: string) => `instr(${column}, ${p}) > 0`;
  const failuresOf = db.prepare('SELECT key, failures, last_at FROM login_failures WHERE key = ? AND last_at >= ?');
  const fail = db.prepare(
    `INSERT INTO login_failures (key, failures, last_at) VALUES (?, 1, ?)
     ON CONFLICT (key) DO UPDATE SET failures = CASE WHEN last_at < ? THEN 1 ELSE failures + 1 END, last_at = MAX(last_at, excluded.last_at)`,
  );
  const forget = db.prepare('DELETE FROM login_failures WHERE last_at < ?');
  const clear = db.prepare('DELETE FROM login_failures WHERE key = ?');
  const forgive = db.prepare('UPDATE login_failures SET failures = failures - 1 WHERE key = ?');
  const emptied = db.prepare('DELETE FROM login_failures WHERE key = ? AND failures <= 0');
  const failuresOfKeys = (keys: readonly string[], since: number) => loginFailuresOf(keys.flatMap((k) => failuresOf.all(k, since) as Record<string, unknown>[]));
  // Under the write lock from BEGIN: servers on the file decide one attempt at a time.
  const take = db.transaction((keys: readonly string[], at: number, forgetBefore: number, wait: (f: ReadonlyMap<string, LoginFailures>) => number): number => {
    const w = wait(failuresOfKeys(keys, forgetBefore));
    if (w > 0) return w;
    for (const key of new Set(keys)) fail.run(key, at, forgetBefore);
    forget.run(forgetBefore);
    return 0;
  }, 'immediate');
  const untake = db.transaction((key: string) => {
    forgive.run(key);
    emptied.run(key);
  });
  return {
    createSession: async (idHash, s) => {
      sweep.run(s.createdAt);
      insertSession.run(idHash, s.identity.subject, s.identity.issuer, JSON.stringify(s.identity), s.csrfHash, s.createdAt, s.expiresAt);
    },
    session: async (idHash, now) => {
      const r = getSession.get(idHash, now) as { identity: string; csrf_hash: string; created_at: number; expires_at: number } | undefined;
      if (!r) return undefined;
      const s: StoredSession = { identity: JSON.parse(r.identity) as Identity, csrfHash: r.csrf_hash, createdAt: Number(r.created_at), expiresAt: Number(r.expires_at) };
      return s;
    },
    deleteSession: async (idHash) => void delSession.run(idHash),
    deleteSessionsOf: async (subject, issuer) => Number(delSessionsOf.run(subject, issuer).changes),
    createToken: async (t) => void insertToken.run(t.id, t.user, t.hash, t.createdAt, t.expiresAt),
    tokenByHash: async (hash) => {
      const r = tokenByHash.get(hash) as Record<string, unknown> | undefined;
      return r ? tokenRowOf(r) : undefined;
    },
    revokeToken: async (id, at) => Number(revoke.run(at, id).changes) === 1,
    tokens: async (user) => ((user === undefined ? allTokens.all() : tokensOf.all(user)) as Record<string, unknown>[]).map(tokenRowOf),
    appendAudit: async (e) => void insertAudit.run(...auditParams(e)),
    audit: async (q = {}) => {
      const { where, params } = auditWhere(q, question, instr);
      const sql = `SELECT * FROM audit_log ${where} ORDER BY id ${q.order === 'oldest' ? 'ASC' : 'DESC'} LIMIT ?`;
      return (db.prepare(sql).all(...params, q.limit ?? -1) as Record<string, unknown>[]).map(auditRowOf);
    },
    countRefused: async (r, at) => void countRefused.run(hourOf(at), r.httpMethod, r.route, r.status, r.subject ?? '', r.client ?? '', at, at),
    refused: async (q = {}) => {
      const { where, params } = auditWhere({ ...q, ...(q.since !== undefined ? { since: hourOf(q.since) } : {}) }, question, instr, 'hour');
      const sql = `SELECT * FROM audit_refused ${where} ORDER BY hour DESC, last_at DESC LIMIT ?`;
      return (db.prepare(sql).all(...params, q.limit ?? -1) as Record<string, unknown>[]).map(refusedCountOf);
    },
    pruneAudit: async (before) => prune(before),
    loginFailures: async (keys, since) => failuresOfKeys(keys, since),
    takeLoginAttempt: async (keys, at, forgetBefore, wait) => take(keys, at, forgetBefore, wait),
    forgiveLoginFailure: async (key) => untake(key),
    clearLoginFailures: async (key) => void clear.run(key),
    close: async () => db.close(),
  };
}
