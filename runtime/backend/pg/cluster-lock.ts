/**
 * The cluster lock on Postgres: `pg_advisory_lock` — session-level, on a connection of its own —
 * which waits in the database until the holder lets go, so a standby takes over as soon as the
 * holder's connection closes (a crash included: the server ends the session) without polling.
 * A dropped connection loses the lock: `lost`, then the lock is asked again on a new connection.
 */
import type { ClusterLock, ClusterLockHandlers } from '../cluster-lock.js';
import { openClient } from './pool.js';

/** The advisory lock class of cluster locks (two-key form: a key space of its own), 'orcl'. */
const LOCK_CLASS = 0x6f72636c;
/** How long after a dropped connection the lock is asked again. */
const RETRY_MS = 1000;

export function pgClusterLock(url: string, name: string): ClusterLock {
  let closed = false;
  let client: ReturnType<typeof openClient> | null = null;
  let retry: NodeJS.Timeout | null = null;
  const ask = (h: ClusterLockHandlers): void => {
    if (closed) return;
    const c = openClient(url, { keepAlive: true });
    client = c;
    let holding = false;
    const dropped = () => {
      if (client !== c) return;
      client = null;
      c.end().catch(() => undefined);
      if (holding) h.lost();
      holding = false;
      if (closed) return;
      retry = setTimeout(() => {
        retry = null;
        ask(h);
      }, RETRY_MS);
      retry.unref();
    };
    c.on('error', dropped);
    c.on('end', dropped);
    c.connect()
      // A waiting session whose client went away is ended within a second (Postgres 14+), not
      // when it is finally granted the lock; older servers refuse the setting, which is harmless.
      .then(() => c.query('SET client_connection_check_interval = 1000').catch(() => undefined))
      .then(async () => {
        const free = await c.query<{ got: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS got', [LOCK_CLASS, name]);
        if (free.rows[0]?.got) return;
        if (client === c) h.waiting?.();
        await c.query('SELECT pg_advisory_lock($1, hashtext($2))', [LOCK_CLASS, name]);
      })
      .then(() => {
        if (client !== c) return;
        holding = true;
        h.held();
      })
      .catch(dropped);
  };
  return {
    hold: ask,
    release: async () => {
      closed = true;
      if (retry) clearTimeout(retry);
      const c = client;
      client = null;
      // Ending the session lets the lock go (or stops the wait for it).
      await c?.end().catch(() => undefined);
    },
  };
}
