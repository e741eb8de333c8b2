/**
 * Debounced, version-checked publishing: every change (re)starts a short timer per document; a
 * check's result is published only if the document still has the version the check started
 * from and no newer check for it began meanwhile — a slow old result never overwrites a new one.
 */
export class DiagnosticsScheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly generations = new Map<string, number>();

  constructor(
    private readonly check: (uri: string, isCurrent: () => boolean) => Promise<void> | void,
    public delayMs: number,
  ) {}

  schedule(uri: string, delayMs = this.delayMs): void {
    const old = this.timers.get(uri);
    if (old) clearTimeout(old);
    const gen = (this.generations.get(uri) ?? 0) + 1;
    this.generations.set(uri, gen);
    const timer = setTimeout(() => {
      this.timers.delete(uri);
      void Promise.resolve()
        .then(() => this.check(uri, () => this.generations.get(uri) === gen))
        .catch(() => undefined);
    }, delayMs);
    this.timers.set(uri, timer);
  }

  cancel(uri: string): void {
    const old = this.timers.get(uri);
    if (old) clearTimeout(old);
    this.timers.delete(uri);
    this.generations.set(uri, (this.generations.get(uri) ?? 0) + 1);
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
