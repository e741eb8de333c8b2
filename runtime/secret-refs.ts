/**
 * `"secret:NAME"` values in orch.config (LANGUAGE.md §8): resolved like `secret("NAME")` — the
 * environment first, then the config's `secrets` — only when a transport needs them, and every
 * resolved value handed to the redactor's `add` so it is blanked in everything Orch writes.
 */
const PREFIX = 'secret:';

export type SecretLookup = (name: string) => string | undefined;

/** The environment, then the config's secrets (what `secret("NAME")` reads). */
export function envThenConfig(configSecrets: { readonly [name: string]: string }, env: NodeJS.ProcessEnv = process.env): SecretLookup {
  return (name) => env[name] ?? configSecrets[name];
}

/** A copy of `value` with every `"secret:NAME"` string replaced by the secret; a missing one throws. */
export function resolveSecretRefs<T>(value: T, lookup: SecretLookup, onResolved: (secret: string) => void = () => undefined): T {
  if (typeof value === 'string') {
    if (!value.startsWith(PREFIX)) return value;
    const name = value.slice(PREFIX.length);
    const v = lookup(name);
    if (v === undefined) throw new Error(`secret "${name}" is not set (environment variable or orch.config secrets)`);
    onResolved(v);
    return v as T;
  }
  if (Array.isArray(value)) return value.map((v: unknown) => resolveSecretRefs(v, lookup, onResolved)) as T;
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveSecretRefs(v, lookup, onResolved)])) as T;
  return value;
}

/** Every value the `"secret:NAME"` strings inside `value` resolve to now (unset ones are skipped). */
export function secretRefValues(value: unknown, lookup: SecretLookup): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string' && v.startsWith(PREFIX)) {
      const s = lookup(v.slice(PREFIX.length));
      if (s !== undefined) out.push(s);
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(value);
  return out;
}
