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

/** Runs `hooks` in order on `transaction`, each batch group once, where its first member stands. */
export async function runCommitHooks(transaction: unknown, hooks: readonly CommitHook[]): Promise<void> {
  const groups = new Map<CommitBatch['group'], unknown[]>();
  for (const h of hooks) if (h.batch) (groups.get(h.batch.group) ?? groups.set(h.batch.group, []).get(h.batch.group)!).push(h.batch.item);
  for (const h of hooks) {
    if (!h.batch) {
      await h(transaction);
      continue;
    }
    const items = groups.get(h.batch.group);
    if (items === undefined) continue;
    groups.delete(h.batch.group);
    await h.batch.group(transaction, items);
  }
}
