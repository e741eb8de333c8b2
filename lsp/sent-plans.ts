/**
 * The estimate worker's side of "unchanged": it remembers the last plans it sent for each entry
 * and answers `null` instead of an equal copy. Copying ~4,000 steps to the server and comparing
 * them there took 10–50 ms of the server's main thread after every edit, landing in whatever
 * request it was answering (issue #54: the whole-file hints' p95); in the worker the comparison
 * runs beside the compile, and nothing crosses. Kept apart from the worker script so that it can
 * be tested without starting a worker.
 */
import { isDeepStrictEqual } from 'node:util';

/** `T`: the worker's summary of a file's plans (`PlanSteps[]`; generic, so no import cycle with the worker). */
export class SentPlans<T> {
  private readonly last = new Map<string, T>();

  /**
   * `plans`, or `null` when they equal the last plans sent for `entry` and the server still holds
   * those (`known`: it has values for the file; after closing it, it has none and is sent them).
   */
  unlessSent(entry: string, plans: T, known: boolean): T | null {
    const prior = this.last.get(entry);
    if (known && prior !== undefined && isDeepStrictEqual(prior, plans)) return null;
    this.last.set(entry, plans);
    return plans;
  }
}
