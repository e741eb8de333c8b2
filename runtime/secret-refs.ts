/**
 * `"secret:NAME"` values in orch.config (LANGUAGE.md §8): resolved like `secret("NAME")` — the
 * environment first, then the config's `secrets` — only when a transport needs them, and every
 * resolved value handed to the redactor's `add` so it is blanked in everything Orch writes.
 */
import { CREDENTIAL_KEY, SECRET_REF_PREFIX as PREFIX } from '../compiler/index.js';

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

/**
 * Every credential in a config section, for the redactor: what its `"secret:NAME"` strings resolve
 * to now (unset ones are skipped), and the literals written in place of one — the value under a key
 * that names a credential (`password`, `api_key`, an `x-token` header, a `GITHUB_TOKEN` env entry;
 * an `Authorization` value's token too; the argument after an `--api-key` flag, or in
 * `--token=…`), and the password of a URL (`smtp://user:pass@host`). A
 * transport's error can quote any of them (a URL fetch refuses, a server echoing a wrong password).
 */
export function secretRefValues(value: unknown, lookup: SecretLookup): string[] {
  const out: string[] = [];
  const literal = (s: string, key: string | null): void => {
    if (key !== null && CREDENTIAL_KEY.test(key)) {
      out.push(s);
      const scheme = /^[A-Za-z-]+\s+(\S+)$/.exec(s.trim());
      if (scheme) out.push(scheme[1]!);
    }
    const pass = urlPassword(s);
    if (pass !== null) out.push(...pass);
  };
  const walk = (v: unknown, key: string | null): void => {
    if (typeof v === 'string') {
      if (!v.startsWith(PREFIX)) return literal(v, key);
      const s = lookup(v.slice(PREFIX.length));
      if (s !== undefined) out.push(s, ...(urlPassword(s) ?? []));
    } else if (Array.isArray(v))
      // A command line's flag names what follows it: `["--api-key", "sk-…"]`, `"--token=…"`.
      v.forEach((x, i) => {
        const flag = typeof x === 'string' ? /^--?([A-Za-z][\w-]*)(?:=(.*))?$/s.exec(x) : null;
        if (flag && CREDENTIAL_KEY.test(flag[1]!) && flag[2] !== undefined) walk(flag[2], flag[1]!);
        const prev = i > 0 && typeof v[i - 1] === 'string' ? /^--?([A-Za-z][\w-]*)$/.exec(v[i - 1] as string) : null;
        walk(x, prev && CREDENTIAL_KEY.test(prev[1]!) ? prev[1]! : key);
      });
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
  };
  walk(value, null);
  return out;
}


/** The password of a URL with credentials (as written and decoded), else null. */
function urlPassword(s: string): string[] | null {
  if (!s.includes('@') || !URL.canParse(s)) return null;
  const raw = new URL(s).password;
  if (!raw) return null;
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    // A malformed escape: the password is what is written.
  }
  return decoded === raw ? [raw] : [raw, decoded];
}
