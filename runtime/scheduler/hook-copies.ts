/**
 * What a policy hook is shown (LANGUAGE.md §7.3): the run's input, context, a step's arguments and
 * outputs are live values of the run, so the hook gets copies — each made when the hook first
 * reads it, so a hook that reads nothing copies nothing. A hook that writes into what it was
 * shown changes nothing of the run (the journal would not know of the change).
 */
export function withCopies<T extends object>(source: T, keys: readonly (keyof T & string)[], redact?: (value: unknown) => unknown): T {
  const out = { ...source };
  for (const key of keys) {
    let made = false;
    let copy: unknown;
    Object.defineProperty(out, key, {
      enumerable: true,
      configurable: true,
      // Redacted as the journal keeps it: an argument computed from another step's output, or the
      // run's input, may hold a secret the hook must not see (§7.3 "secrets as ***").
      get: () => (made ? copy : ((made = true), (copy = redact ? redact(structuredClone(source[key])) : structuredClone(source[key])))),
      set: (v: unknown) => {
        made = true;
        copy = v;
      },
    });
  }
  return out;
}
