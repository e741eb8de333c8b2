/**
 * `hold` in `orch verify` (LANGUAGE.md §9.4): a held derived signal needs the history of its
 * expression, which a read of the scenario's values at one instant does not give. Where the plan
 * has one, the scenario's values are messages to the runtime's own context store on the case's
 * virtual clock — the store `orch serve` and `orch test` read — so a held `true`, its end, and
 * unknown-is-not-false are the server's. The store computes only the derived signals; the run
 * reads its plain signals as verify always has (each one reporting until its source falls silent).
 */
import type { PlanIR } from '../compiler/index.js';
import { ContextStore, type Run, type SignalRead, type VirtualClock } from '../runtime/index.js';
import type { ContextChange } from './scenario.js';

const SOURCE = 'scenario';

export interface ScenarioContext {
  /** A derived signal as the store computes it. */
  read(name: string): SignalRead;
  /** The scenario sets a signal (a message that came). */
  set(name: string, value: unknown): void;
}

/**
 * Each change of the store's signals (those `which` picks) reaches the run as `orch serve` tells its
 * runs: the value while fresh, null once unknown.
 */
export function tellRun(store: ContextStore, run: () => Run | null, which: (name: string) => boolean = () => true): void {
  store.subscribe((c) => {
    if (c.type === 'context_rejected' || !which(c.signal)) return;
    const r = store.read(c.signal);
    run()?.updateContext({ [c.signal]: r.state === 'fresh' ? r.value : null });
  });
}

/**
 * `silentAt`: signal → the instant its source falls silent (`simulate context`; at or before now:
 * silent from the start, never sent). Each signal reports at every instant until then, so none
 * but those goes stale: the others keep no `max_age` here. One falling silent at T sent its last
 * message at T - max_age - 1 — the instant that makes it stale exactly at T, as verify's reads say.
 */
export function scenarioContext(
  plan: PlanIR,
  clock: VirtualClock,
  start: { readonly [name: string]: unknown },
  silentAt: ReadonlyMap<string, number>,
  run: () => Run | null,
  history: readonly ContextChange[] = [],
): ScenarioContext {
  const signals = plan.context_signals ?? {};
  const lastSent = (name: string): number | null => {
    const at = silentAt.get(name);
    const max = signals[name]?.max_age_ms ?? null;
    return at === undefined || max === null ? null : at - max - 1;
  };
  const defs = Object.fromEntries(Object.entries(signals).map(([n, s]) => [n, s.derived || lastSent(n) === null ? { ...s, max_age_ms: null } : s]));
  const store = new ContextStore({ signals: defs, clock });
  // A derived value the store recomputes (a hold ending, a read gone stale) reaches the run as a change, as `orch serve` tells its runs.
  tellRun(store, run, (name) => Boolean(signals[name]?.derived));
  /** A message at `at` (now, or an instant before a resumed case's clock began). */
  const set = (name: string, value: unknown, at = clock.now()): void => {
    const silent = silentAt.get(name);
    if (silent !== undefined && silent <= at) return; // gone silent: no message comes
    const last = lastSent(name);
    const sampled = last !== null && last < at ? last : at;
    store.set(name, value, { source: SOURCE, ...(sampled < clock.now() ? { at: sampled } : {}) });
  };
  for (const [name, value] of Object.entries(start)) if (!signals[name]?.derived) set(name, value, 0);
  // A case resumed later (`--against`: the new version goes on from the upgrade) is given what came before, in order.
  for (const c of history) set(c.signal, c.value, c.at_ms);
  // The last message before the source falls silent, when that is still to come.
  for (const name of silentAt.keys()) {
    const last = lastSent(name);
    if (last !== null && last >= clock.now())
      clock.setTimer(last - clock.now(), () => {
        const kept = store.record(name);
        if (kept) store.set(name, kept.value, { source: SOURCE });
      });
  }
  return { read: (name) => store.read(name), set };
}
