/**
 * `"secret:NAME"` in orch.config (LANGUAGE.md §8): resolved like `secret("NAME")` — the environment
 * first, then the config's `secrets` — wherever it stands in a value, each resolved value handed on
 * to be redacted; a secret set nowhere is an error naming it, never the literal reference.
 */
import { describe, expect, it } from 'vitest';
import { maskCredentialText } from '../../compiler/index.js';
import { envThenConfig, resolveSecretRefs, secretRefValues } from '../secret-refs.js';

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

describe('secretRefValues: the credentials of a config section', () => {
  it('finds secret: references, literal credentials under credential keys, bearer tokens and URL passwords — not other values', () => {
    const section = {
      channels: { a: { email: { smtp: 'smtp://u:p%40ss-lit@host:25', password: 'pw-literal', from: 'x@y' } }, b: { webhook: { url: 'https://h/x', headers: { 'x-token': 'tok-literal', Authorization: 'Bearer bearer-tok' } } } },
      mcp: { s: { command: 'node', args: ['server.js', '--api-key', 'arg-key-lit', '--token=eq-token-lit', '--port', '8080'], env: { GITHUB_TOKEN: 'gh-literal', HOME: '/home/x' }, token_url: 'https://issuer/token' } },
      endpoints: [{ name: 'e', api_key: 'secret:KEY', base_url: 'https://k:url-pass@models' }],
    };
    const found = secretRefValues(section, (n) => (n === 'KEY' ? 'resolved-key' : undefined));
    expect(new Set(found)).toEqual(new Set(['p%40ss-lit', 'p@ss-lit', 'pw-literal', 'tok-literal', 'Bearer bearer-tok', 'bearer-tok', 'gh-literal', 'resolved-key', 'url-pass', 'arg-key-lit', 'eq-token-lit']));
  });
});

describe('maskCredentialText: a config file as a code frame shows it', () => {
  it('masks literal credentials and URL passwords column for column; references and other values stay', () => {
    const text = '{ "smtp": "smtp://orch:url-pass@h:25", "password": "pw-lit", "env": { "API_TOKEN": bare-tok }, "token_url": "https://i/t", "x-token": "secret:HOOK" }\nexport default { password: \'js-lit\' }';
    const masked = maskCredentialText(text);
    expect(masked).toBe('{ "smtp": "smtp://orch:********@h:25", "password": "******", "env": { "API_TOKEN": ******** }, "token_url": "https://i/t", "x-token": "secret:HOOK" }\nexport default { password: \'******\' }');
    expect(masked.length).toBe(text.length);
  });
});
