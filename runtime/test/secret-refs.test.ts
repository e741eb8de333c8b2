/**
 * `"secret:NAME"` in orch.config (LANGUAGE.md §8): resolved like `secret("NAME")` — the environment
 * first, then the config's `secrets` — wherever it stands in a value, each resolved value handed on
 * to be redacted; a secret set nowhere is an error naming it, never the literal reference.
 */
import { describe, expect, it } from 'vitest';
import { envThenConfig, resolveSecretRefs } from '../secret-refs.js';

describe('"secret:NAME" config values', () => {
  const lookup = envThenConfig({ TOKEN: 'from-config', ONLY_CONFIG: 'config-only' }, { TOKEN: 'from-env' });

  it('read the environment first, then the config\'s secrets, anywhere in a value; plain strings stay', () => {
    const seen: string[] = [];
    const out = resolveSecretRefs({ headers: { authorization: 'secret:TOKEN' }, args: ['secret:ONLY_CONFIG', 'plain'], port: 25 }, lookup, (s) => seen.push(s));
    expect(out).toEqual({ headers: { authorization: 'from-env' }, args: ['config-only', 'plain'], port: 25 });
    expect(seen.sort()).toEqual(['config-only', 'from-env']);
  });

  it('a secret set nowhere is an error naming it', () => {
    expect(() => resolveSecretRefs({ password: 'secret:MISSING' }, lookup)).toThrow(/secret "MISSING" is not set/);
  });
});
