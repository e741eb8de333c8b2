/**
 * When a task may go to the worker pool, when `--workers` did not cap it.
 *
 * A thread per core suits handlers that compute, but most handlers wait (an HTTP call, a model, a
 * sleep), and one attempt per thread runs at a time (its log is that thread's output). With the
 * pool capped at the core count, attempts beyond it waited in the pool's queue while their step
 * was `running` and its timeout ran: four parallel 2 s calls with `timeout 3s` failed on two
 * cores, though a timeout is per call and `parallel 4` runs four at a time (LANGUAGE.md §4, §7.1).
 *
 * So a task that has been in the pool for `WAITING_MS` stops counting against the cores, and the
 * pool grows for the tasks behind it, up to `max` threads. Fast handlers never grow it: their
 * tasks end before they count as waiting, and the rest wait here, as they waited in the pool's
 * queue before. Tasks go in the order they came.
 */

/** How long a task holds its thread before it counts as waiting rather than computing (ms). */
export const WAITING_MS = 200;
/** Threads the pool may grow to for handlers that wait, when `--workers` does not say. */
export const WAITING_THREADS = 32;
/** How often the gate looks again while tasks wait for room (ms). */
const TICK_MS = 50;

interface Held {
  readonly start: () => void;
  readonly refuse: (err: Error) => void;
}

export class PoolGate {
  /** When each task in the pool was handed over. */
  private readonly inPool = new Set<{ readonly at: number }>();
  private held: Held[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly cores: number,
    private readonly max: number,
  ) {}

  /** `task` hands one task to the pool; it runs now when there is room, else in turn. */
  run<T>(task: () => Promise<T>): Promise<T> {
    if (this.waiting() === 0 && this.hasRoom()) return this.hand(task);
    return new Promise<T>((resolve, reject) => {
      this.held.push({ start: () => void this.hand(task).then(resolve, reject), refuse: reject });
      this.timer ??= setInterval(() => this.drain(), TICK_MS).unref();
    });
  }

  /** Tasks not handed over yet are refused: the pool is closing. */
  close(reason: Error): void {
    const held = this.held.slice(this.head);
    this.held = [];
    this.head = 0;
    this.stopTimer();
    for (const h of held) h.refuse(reason);
  }

  private waiting(): number {
    return this.held.length - this.head;
  }

  private hand<T>(task: () => Promise<T>): Promise<T> {
    const entry = { at: performance.now() };
    this.inPool.add(entry);
    const p = task();
    const out = () => {
      this.inPool.delete(entry);
      this.drain();
    };
    p.then(out, out);
    return p;
  }

  private hasRoom(): boolean {
    const n = this.inPool.size;
    if (n < this.cores) return true;
    if (n >= this.max) return false;
    const now = performance.now();
    let waiting = 0;
    for (const e of this.inPool) if (now - e.at >= WAITING_MS) waiting++;
    return n - waiting < this.cores;
  }

  private drain(): void {
    while (this.waiting() > 0 && this.hasRoom()) {
      const h = this.held[this.head++]!;
      // Drop what was handed over once it is most of the array: O(1) per task, not O(backlog).
      if (this.head > 1024 && this.head * 2 > this.held.length) {
        this.held = this.held.slice(this.head);
        this.head = 0;
      }
      h.start();
    }
    if (this.waiting() === 0) this.stopTimer();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
