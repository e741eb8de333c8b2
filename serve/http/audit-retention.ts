/**
 * `auth.audit_retention`: the audit entries (and counts of refused requests) older than the
 * setting are deleted when the server starts and then hourly — the one way an entry leaves the
 * trail (the database refuses any other DELETE: `runtime/people/people-store.ts`).
 */
import type { FastifyInstance } from 'fastify';
import { HOUR_MS, type PeopleStore } from '../../runtime/index.js';

export async function keepAuditFor(app: FastifyInstance, store: PeopleStore, retentionMs: number, log: (line: string) => void, now: () => number = Date.now): Promise<void> {
  const prune = async () => {
    try {
      const gone = await store.pruneAudit(now() - retentionMs);
      if (gone > 0) log(`audit: deleted ${gone} entr${gone === 1 ? 'y' : 'ies'} older than auth.audit_retention`);
    } catch (err) {
      log(`audit: cannot delete the entries older than auth.audit_retention: ${(err as Error).message}`);
    }
  };
  await prune();
  const timer = setInterval(() => void prune(), HOUR_MS);
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));
}
