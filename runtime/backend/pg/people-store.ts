/** The people store on Postgres (`orch db migrate` creates its tables: migrations 8, 10 and 12). */
import type pg from 'pg';
import { transaction } from './pool.js';
import type { Identity } from '../../people/identity.js';
import { AUDIT_COLUMNS, auditParams, auditRowOf, auditWhere, hourOf, loginFailuresOf, refusedCountOf, tokenRowOf, type PeopleStore } from '../../people/people-store.js';

const dollar = (i: number) => `$${i}`;
const strpos = (column: string, p: string) => `strpos(${column}, ${p}) > 0`;

/** The advisory lock class of sign-in attempts (two-key form: a key space of its own), 'orlf'. */
const LOGIN_LOCK = 0x6f72_6c66;

export function pgPeopleStore(pool: pg.Pool): PeopleStore {
  const rows = async (sql: string, params: unknown[]) => (await pool.query(sql, params)).rows as Record<string, unknown>[];
  return {
    createSession: async (idHash, s) => {
      await pool.query('DELETE FROM orch.auth_sessions WHERE expires_at < $1', [s.createdAt]);
      await pool.query(
        'INSERT INTO orch.auth_sessions (id_hash, subject, issuer, identity, csrf_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        [idHash, s.identity.subject, s.identity.issuer, JSON.stringify(s.identity), s.csrfHash, s.createdAt, s.expiresAt],
      );
    },
    session: async (idHash, now) => {
      const [r] = await rows('SELECT identity, csrf_hash, created_at, expires_at FROM orch.auth_sessions WHERE id_hash = $1 AND expires_at >= $2', [idHash, now]);
      if (!r) return undefined;
      return { identity: JSON.parse(String(r.identity)) as Identity, csrfHash: String(r.csrf_hash), createdAt: Number(r.created_at), expiresAt: Number(r.expires_at) };
    },
    deleteSession: async (idHash) => void (await pool.query('DELETE FROM orch.auth_sessions WHERE id_hash = $1', [idHash])),
    deleteSessionsOf: async (subject, issuer) => (await pool.query('DELETE FROM orch.auth_sessions WHERE subject = $1 AND issuer = $2', [subject, issuer])).rowCount ?? 0,
    createToken: async (t) =>
      void (await pool.query('INSERT INTO orch.auth_tokens (id, user_name, hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)', [t.id, t.user, t.hash, t.createdAt, t.expiresAt])),
    tokenByHash: async (hash) => {
      const [r] = await rows('SELECT * FROM orch.auth_tokens WHERE hash = $1', [hash]);
      return r ? tokenRowOf(r) : undefined;
    },
    revokeToken: async (id, at) => ((await pool.query('UPDATE orch.auth_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2', [at, id])).rowCount ?? 0) === 1,
    tokens: async (user) =>
      (user === undefined
        ? await rows('SELECT * FROM orch.auth_tokens ORDER BY created_at, id', [])
        : await rows('SELECT * FROM orch.auth_tokens WHERE user_name = $1 ORDER BY created_at, id', [user])
      ).map(tokenRowOf),
    appendAudit: async (e) => void (await pool.query(`INSERT INTO orch.audit_log (${AUDIT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`, auditParams(e))),
    audit: async (q = {}) => {
      const { where, params } = auditWhere(q, dollar, strpos);
      const sql = `SELECT * FROM orch.audit_log ${where} ORDER BY id ${q.order === 'oldest' ? 'ASC' : 'DESC'} LIMIT $${params.length + 1}`;
      return (await rows(sql, [...params, q.limit ?? null])).map(auditRowOf);
    },
    countRefused: async (r, at) =>
      void (await pool.query(
        `INSERT INTO orch.audit_refused AS a (hour, http_method, route, status, subject, client, count, first_at, last_at) VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7)
         ON CONFLICT (hour, http_method, route, status, subject, client) DO UPDATE SET count = a.count + 1, last_at = GREATEST(a.last_at, EXCLUDED.last_at)`,
        [hourOf(at), r.httpMethod, r.route, r.status, r.subject ?? '', r.client ?? '', at],
      )),
    refused: async (q = {}) => {
      const { where, params } = auditWhere({ ...q, ...(q.since !== undefined ? { since: hourOf(q.since) } : {}) }, dollar, strpos, 'hour');
      const sql = `SELECT * FROM orch.audit_refused ${where} ORDER BY hour DESC, last_at DESC LIMIT $${params.length + 1}`;
      return (await rows(sql, [...params, q.limit ?? null])).map(refusedCountOf);
    },
    pruneAudit: (before) =>
      transaction(pool, async (c) => {
        // The retention trigger lets this transaction, and only it, delete what is older than `before`.
        await c.query("SELECT set_config('orch.audit_prune_before', $1, true)", [String(before)]);
        const gone = await c.query('DELETE FROM orch.audit_log WHERE at < $1', [before]);
        await c.query('DELETE FROM orch.audit_refused WHERE last_at < $1', [before]);
        return gone.rowCount ?? 0;
      }),
    loginFailures: async (keys, since) =>
      loginFailuresOf(await rows('SELECT key, failures, last_at FROM orch.login_failures WHERE key = ANY($1::text[]) AND last_at >= $2', [[...keys], since])),
    takeLoginAttempt: (keys, at, forgetBefore, wait) =>
      transaction(pool, async (c) => {
        const sorted = [...new Set(keys)].sort();
        // Servers deciding on the same key take turns, each locking its keys in one order (never
        // in a cycle); a lock rather than the rows themselves, since a first failure has no row yet.
        for (const key of sorted) await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOGIN_LOCK, key]);
        const { rows } = await c.query('SELECT key, failures, last_at FROM orch.login_failures WHERE key = ANY($1::text[]) AND last_at >= $2', [sorted, forgetBefore]);
        const w = wait(loginFailuresOf(rows as Record<string, unknown>[]));
        if (w > 0) return w;
        for (const key of sorted)
          await c.query(
            `INSERT INTO orch.login_failures AS f (key, failures, last_at) VALUES ($1, 1, $2::bigint)
             ON CONFLICT (key) DO UPDATE SET failures = CASE WHEN f.last_at < $3::bigint THEN 1 ELSE f.failures + 1 END,
                                            last_at = GREATEST(f.last_at, EXCLUDED.last_at)`,
            [key, at, forgetBefore],
          );
        await c.query('DELETE FROM orch.login_failures WHERE last_at < $1', [forgetBefore]);
        return 0;
      }),
    forgiveLoginFailure: async (key) =>
      void (await pool.query(
        `WITH gone AS (DELETE FROM orch.login_failures WHERE key = $1 AND failures <= 1)
         UPDATE orch.login_failures SET failures = failures - 1 WHERE key = $1 AND failures > 1`,
        [key],
      )),
    clearLoginFailures: async (key) => void (await pool.query('DELETE FROM orch.login_failures WHERE key = $1', [key])),
    close: () => pool.end(),
  };
}
