/**
 * The people store in this process's memory (`orch test`, a server with no journal of its own):
 * the same contract as the databases' (runtime/test/people-store-contract.test.ts). Every store of
 * one memory backend shares one `PeopleData`, as stores on one database share its tables; each
 * call is one synchronous step, so a sign-in attempt is decided and counted at once. The audit
 * trail is append-only by construction: nothing here edits or deletes an entry.
 */
import { hourOf, type ApiTokenRow, type AuditQuery, type AuditRow, type LoginFailures, type PeopleStore, type RefusedCount, type StoredSession } from '../../people/people-store.js';

export interface PeopleData {
  readonly sessions: Map<string, StoredSession>;
  /** By hash; each row with its hash, in creation order. */
  readonly tokens: Map<string, ApiTokenRow & { readonly hash: string }>;
  readonly audit: AuditRow[];
  readonly failures: Map<string, LoginFailures>;
  /** Refused requests without an identity, by hour, route, answer, named user and client. */
  readonly refused: Map<string, RefusedCount>;
  /** The next audit entry's id (ids stay increasing after a prune, as a database's do). */
  nextAuditId: number;
}

export function emptyPeople(): PeopleData {
  return { sessions: new Map(), tokens: new Map(), audit: [], failures: new Map(), refused: new Map(), nextAuditId: 1 };
}

/** Values leave the store as copies: a caller changing one changes nothing kept. */
const copy = <T>(v: T): T => structuredClone(v);

export function memoryPeopleStore(data: PeopleData = emptyPeople()): PeopleStore {
  const failuresOf = (keys: readonly string[], since: number) => {
    const out = new Map<string, LoginFailures>();
    for (const k of keys) {
      const f = data.failures.get(k);
      if (f && f.last >= since) out.set(k, { ...f });
    }
    return out;
  };
  const tokenRow = ({ hash: _hash, ...row }: ApiTokenRow & { readonly hash: string }): ApiTokenRow => row;
  const byCreation = (a: ApiTokenRow, b: ApiTokenRow) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return {
    createSession: async (idHash, s) => {
      for (const [k, old] of data.sessions) if (old.expiresAt < s.createdAt) data.sessions.delete(k);
      data.sessions.set(idHash, copy(s));
    },
    session: async (idHash, now) => {
      const s = data.sessions.get(idHash);
      return s && s.expiresAt >= now ? copy(s) : undefined;
    },
    deleteSession: async (idHash) => void data.sessions.delete(idHash),
    deleteSessionsOf: async (subject, issuer) => {
      let n = 0;
      for (const [k, s] of data.sessions)
        if (s.identity.subject === subject && s.identity.issuer === issuer) {
          data.sessions.delete(k);
          n++;
        }
      return n;
    },
    createToken: async (t) => {
      if (data.tokens.has(t.hash) || [...data.tokens.values()].some((x) => x.id === t.id)) throw new Error(`token ${t.id} exists already`);
      data.tokens.set(t.hash, { ...t, revokedAt: null });
    },
    tokenByHash: async (hash) => {
      const t = data.tokens.get(hash);
      return t ? tokenRow(t) : undefined;
    },
    revokeToken: async (id, at) => {
      for (const [hash, t] of data.tokens)
        if (t.id === id) {
          data.tokens.set(hash, { ...t, revokedAt: t.revokedAt ?? at });
          return true;
        }
      return false;
    },
    tokens: async (user) => [...data.tokens.values()].filter((t) => user === undefined || t.user === user).map(tokenRow).sort(byCreation),
    appendAudit: async (e) => void data.audit.push({ ...copy(e), id: data.nextAuditId++ }),
    audit: async (q = {}) => {
      const found = data.audit.filter((e) => auditMatches(e, q));
      if (q.order !== 'oldest') found.reverse();
      return copy(q.limit === undefined ? found : found.slice(0, q.limit));
    },
    countRefused: async (r, at) => {
      const hour = hourOf(at);
      const key = JSON.stringify([hour, r.httpMethod, r.route, r.status, r.subject, r.client]);
      const old = data.refused.get(key);
      data.refused.set(key, old ? { ...old, count: old.count + 1, lastAt: Math.max(old.lastAt, at) } : { ...r, hour, count: 1, firstAt: at, lastAt: at });
    },
    refused: async (q = {}) => {
      const since = q.since === undefined ? undefined : hourOf(q.since);
      const found = [...data.refused.values()]
        .filter((r) => (since === undefined || r.hour >= since) && (q.until === undefined || r.hour < q.until))
        .filter((r) => (q.subject === undefined || r.subject === q.subject) && (q.status === undefined || r.status === q.status) && (q.route === undefined || r.route === q.route))
        .sort((a, b) => b.hour - a.hour || b.lastAt - a.lastAt);
      return copy(q.limit === undefined ? found : found.slice(0, q.limit));
    },
    pruneAudit: async (before) => {
      const kept = data.audit.filter((e) => e.at >= before);
      const gone = data.audit.length - kept.length;
      data.audit.splice(0, data.audit.length, ...kept);
      for (const [k, r] of data.refused) if (r.lastAt < before) data.refused.delete(k);
      return gone;
    },
    loginFailures: async (keys, since) => failuresOf(keys, since),
    takeLoginAttempt: async (keys, at, forgetBefore, wait) => {
      const w = wait(failuresOf(keys, forgetBefore));
      if (w > 0) return w;
      for (const key of new Set(keys)) {
        const f = data.failures.get(key);
        data.failures.set(key, !f || f.last < forgetBefore ? { failures: 1, last: at } : { failures: f.failures + 1, last: Math.max(f.last, at) });
      }
      for (const [k, f] of data.failures) if (f.last < forgetBefore) data.failures.delete(k);
      return 0;
    },
    forgiveLoginFailure: async (key) => {
      const f = data.failures.get(key);
      if (!f) return;
      if (f.failures <= 1) data.failures.delete(key);
      else data.failures.set(key, { ...f, failures: f.failures - 1 });
    },
    clearLoginFailures: async (key) => void data.failures.delete(key),
    close: async () => undefined,
  };
}

/** `auditWhere`'s filter over entries in memory: a run matches the entries that named or started it. */
function auditMatches(e: AuditRow, q: AuditQuery): boolean {
  return (
    (q.since === undefined || e.at >= q.since) &&
    (q.until === undefined || e.at < q.until) &&
    (q.before === undefined || e.id < q.before) &&
    (q.subject === undefined || e.subject === q.subject) &&
    (q.issuer === undefined || e.issuer === q.issuer) &&
    (q.status === undefined || e.status === q.status) &&
    (q.route === undefined || e.route === q.route) &&
    (q.runId === undefined || e.runId === q.runId || (e.started ?? []).some((s) => s.runId === q.runId))
  );
}
