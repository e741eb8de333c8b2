/**
 * A run's own context (`orch run`, an in-process run without a live context; LANGUAGE.md §9.4)
 * read as `orch serve`'s context store reads it, where a derived signal has a `hold`: a hold needs
 * the history of its expression, which a read of the current values alone does not give. The
 * run's values are fed, as they change, to a context store on a clock of its own that follows the
 * run's time — each value at the instant it was journaled — so staleness, derived signals and
 * holds are computed exactly as the server computes them.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ContextSignalIR } from '../../compiler/index.js';
import type { SignalRead } from '../evaluate.js';
import { VirtualClock } from '../scheduler/clock.js';
import type { ContextSample } from '../scheduler/replay.js';
import { ContextStore } from './store.js';

/** Whether a derived signal of the context has a `hold` (only then is a run's history needed). */
export function hasHold(signals: { readonly [name: string]: ContextSignalIR } | undefined): boolean {
  return Object.values(signals ?? {}).some((s) => s.derived !== null && s.hold_ms !== null);
}

export interface RunContextView {
  /** The run's own values now (a null one is unknown to the run: not fed). */
  readonly values: { readonly [name: string]: unknown };
  /** When each was set (journaled). */
  readonly setAt: (name: string) => number;
  readonly now: number;
}

export class RunContext {
  private readonly clock: VirtualClock;
  private readonly store: ContextStore;
  private readonly fed = new Map<string, { readonly value: unknown; readonly at: number }>();

  /**
   * `aging`: the run's values go stale as their `max_age` passes; else only derived signals change
   * with time. `history`: a resumed run's values as journaled, in order — fed at their instants, so
   * a hold in progress when the run stopped goes on, and ends when it would have.
   */
  constructor(signals: { readonly [name: string]: ContextSignalIR }, start: number, aging: boolean, history: readonly ContextSample[] = []) {
    this.clock = new VirtualClock(start);
    const defs = aging ? signals : Object.fromEntries(Object.entries(signals).map(([n, s]) => [n, s.derived ? s : { ...s, max_age_ms: null }]));
    this.store = new ContextStore({ signals: defs, clock: this.clock });
    for (const h of history) this.feed(h.name, h.value, h.at);
  }

  read(name: string, view: RunContextView): SignalRead {
    this.follow(view);
    return this.store.read(name);
  }

  /** The next instant a signal changes with time alone (a value going stale, a hold ending), after `view.now`. */
  nextChange(view: RunContextView): number | null {
    this.follow(view);
    return this.clock.nextAt();
  }

  /** Feeds what changed since, in the order it was set, then moves the clock to now. */
  private follow(view: RunContextView): void {
    const changes: { name: string; value: unknown; at: number }[] = [];
    for (const [name, value] of Object.entries(view.values)) {
      const at = view.setAt(name);
      const was = this.fed.get(name);
      if (was && was.at === at && isDeepStrictEqual(was.value, value)) continue;
      changes.push({ name, value, at });
    }
    changes.sort((a, b) => a.at - b.at);
    for (const ch of changes) this.feed(ch.name, ch.value, ch.at, view.now);
    this.clock.advanceTo(view.now);
  }

  /** One value at the instant it was set (the clock moves there first, never past `now`: what came before has happened). */
  private feed(name: string, value: unknown, at: number, now = at): void {
    if (value === null || value === undefined || this.store.refusal(name, value) !== null) return;
    this.clock.advanceTo(Math.min(at, now));
    this.store.set(name, value, { source: 'run', at });
    this.fed.set(name, { value, at });
  }
}
