/**
 * What an `orch worker` looked up on disk for a job — its plan's project root, where its
 * handler lives — kept for a moment. Every job arrives as a fresh object, so caches keyed by the
 * IR's objects (as the in-process executor's are, for a run whose IR does not change) never hit
 * on a worker, and each attempt paid several `stat`/`realpath` calls three times over. A worker
 * lives through deploys, so an answer is kept only `ttlMs`: a moved or new file is seen within
 * that, and a changed handler is caught by its hash anyway (jobs.ts `handlerHash`).
 */
export class FreshCache<V> {
  private readonly entries = new Map<string, { readonly value: V; readonly at: number }>();

  constructor(
    private readonly ttlMs = 1000,
    /** Entries kept at most: the oldest go first. */
    private readonly max = 1024,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The value for `key`, made by `make` when absent or stale; kept only when `keep` says so. */
  get(key: string, make: () => V, keep: (v: V) => boolean = () => true): V {
    const at = this.now();
    const hit = this.entries.get(key);
    if (hit && at - hit.at < this.ttlMs) return hit.value;
    const value = make();
    if (keep(value)) {
      this.entries.delete(key);
      if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, { value, at });
    }
    return value;
  }
}
