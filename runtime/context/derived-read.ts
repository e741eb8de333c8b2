/**
 * A derived context signal (LANGUAGE.md §9.4) where no context store keeps the signals — a run's
 * own context (`orch run`, an in-process run without a live context) and `orch verify`'s
 * scenarios: computed from the signals it reads at each read, unknown when its value depends on
 * an unknown (Kleene). A `hold` needs a history this does not keep: where one is declared a run
 * reads `RunContext` (a context store of its own), `orch serve` and `orch test` the context
 * store, and `orch verify` a store fed the scenario (verify/scenario-context.ts).
 */
import type { ContextSignalIR } from '../../compiler/index.js';
import { evaluateOrUnknown, UNKNOWN, type SignalRead } from '../evaluate.js';

export function derivedReader(
  signals: { readonly [name: string]: ContextSignalIR },
  read: (name: string) => SignalRead,
  now: () => number,
): (name: string) => SignalRead {
  const self = (name: string): SignalRead => {
    const derived = signals[name]?.derived;
    if (!derived) return read(name);
    // A cycle is E0905, so this ends.
    const v = evaluateOrUnknown(derived, { vars: {}, signal: self, now });
    return v === UNKNOWN ? { value: null, state: 'stale', age_ms: 0, max_age_ms: null } : { value: v, state: 'fresh', age_ms: 0, max_age_ms: null };
  };
  return self;
}

/** Whether the plan's context has a derived signal (only then does a read need more than the run's context). */
export function hasDerived(signals: { readonly [name: string]: ContextSignalIR } | undefined): boolean {
  return Object.values(signals ?? {}).some((s) => s.derived !== null);
}
