/**
 * Running a commit's hooks (`CommitHook`) inside its transaction, the hooks of one batch group in
 * one call: a turn that starts forty steps on workers adds their forty attempt rows with one
 * statement, not forty.
 */
import type { CommitBatch, CommitHook } from './types.js';

/** A hook that may be run with the others of its `group` in one call (`CommitHook.batch`). */
export function batchedHook<T>(group: (transaction: unknown, items: readonly T[]) => Promise<void>, item: T): CommitHook {
  const hook = (transaction: unknown) => group(transaction, [item]);
  return Object.assign(hook, { batch: { group: group as CommitBatch['group'], item } });
}

/**
 * Runs `hooks` on `transaction`, each batch group once, where its first member stands. Every hook
 * is started before any is awaited, in order, so that their statements travel together (a
 * pipelining connection: `transaction` in journal/pg/pool.ts); hooks never read what another wrote in the same commit.
 * Settles once all did: the first failure otherwise.
 */
export async function runCommitHooks(transaction: unknown, hooks: readonly CommitHook[]): Promise<void> {
  const groups = new Map<CommitBatch['group'], unknown[]>();
  for (const h of hooks) if (h.batch) (groups.get(h.batch.group) ?? groups.set(h.batch.group, []).get(h.batch.group)!).push(h.batch.item);
  const running: Promise<void>[] = [];
  for (const h of hooks) {
    if (!h.batch) {
      running.push(h(transaction));
      continue;
    }
    const items = groups.get(h.batch.group);
    if (items === undefined) continue;
    groups.delete(h.batch.group);
    running.push(h.batch.group(transaction, items));
  }
  await settled(running);
}

/**
 * The results of `sent` once every one is answered; the first failure in the order they were
 * sent otherwise. Nothing is left in flight or unhandled (a commit's statements on Postgres).
 */
export async function settled(sent: readonly Promise<unknown>[]): Promise<unknown[]> {
  const all = await Promise.allSettled(sent);
  for (const r of all) if (r.status === 'rejected') throw r.reason;
  return all.map((r) => (r as PromiseFulfilledResult<unknown>).value);
}
