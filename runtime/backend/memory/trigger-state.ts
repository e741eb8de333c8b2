/** `orch serve`'s trigger state in this process's memory: what every store of one memory backend shares. */
import type { TriggerStateStore } from '../trigger-state.js';

export interface TriggerStateData {
  readonly ticks: Map<string, number>;
  readonly conditions: Map<string, boolean>;
  /** When each trigger's debounce window opened. */
  readonly windows: Map<string, number>;
  /** `trigger \0 key` of every claimed firing. */
  readonly claims: Set<string>;
  readonly context: Map<string, unknown>;
  /** Every store's `followContext` listeners. */
  readonly followers: Set<(values: Record<string, unknown>) => void>;
}

export function emptyTriggerState(): TriggerStateData {
  return { ticks: new Map(), conditions: new Map(), windows: new Map(), claims: new Set(), context: new Map(), followers: new Set() };
}

export function memoryTriggerState(data: TriggerStateData = emptyTriggerState()): TriggerStateStore {
  // Values go in and out as JSON, as the databases keep them: no caller shares an object with the store.
  const readContext = (): Record<string, unknown> => Object.fromEntries([...data.context].map(([k, v]) => [k, JSON.parse(v as string)]));
  return {
    lastTick: async (t) => data.ticks.get(t) ?? null,
    // Never backwards: two servers writing ticks keep the later one (as Postgres' GREATEST does).
    setLastTick: async (t, ms) => void data.ticks.set(t, Math.max(ms, data.ticks.get(t) ?? -Infinity)),
    lastCondition: async (t) => data.conditions.get(t) ?? null,
    setLastCondition: async (t, v) => void data.conditions.set(t, v),
    claim: async (t, key) => {
      const k = `${t}\u0000${key}`;
      if (data.claims.has(k)) return false;
      data.claims.add(k);
      return true;
    },
    debounce: async (t, now, windowMs) => {
      const opened = data.windows.get(t);
      if (opened !== undefined && now - opened < windowMs) return opened;
      data.windows.set(t, now);
      return null;
    },
    context: async () => readContext(),
    mergeContext: async (values) => {
      for (const [k, v] of Object.entries(values)) data.context.set(k, JSON.stringify(v ?? null));
      const merged = Object.fromEntries(Object.keys(values).map((k) => [k, JSON.parse(data.context.get(k) as string) as unknown]));
      for (const f of data.followers) f(merged);
      return readContext();
    },
    followContext: async (onChange) => {
      const f = (values: Record<string, unknown>) => onChange(values);
      data.followers.add(f);
      return async () => void data.followers.delete(f);
    },
    close: async () => undefined,
  };
}
