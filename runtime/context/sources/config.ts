/**
 * orch.config's `"sources"` (LANGUAGE.md §9.4): how each `source` block connects. Any string may
 * be a `"secret:NAME"` reference (§8) — the broker's URL too, which may then carry the
 * credentials (`mqtt://orch:PASSWORD@host`) — resolved here, once, when `orch serve` starts them.
 * A credential written as a literal (a password, a token, the password of a URL) is taken as
 * channels take one: the config's redaction blanks it (runtime/secret-refs.ts). Errors name the
 * source and the field, never a value.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { resolveSecretRefs, type SecretLookup } from '../../secret-refs.js';

export type SourceConnection =
  | {
      readonly kind: 'mqtt';
      readonly url: string;
      readonly username?: string;
      readonly password?: string;
      /** PEM text of the CA that signs the broker's certificate (`mqtts://`). */
      readonly ca?: string;
      /** 4: MQTT 3.1.1, 5: MQTT 5 (`"protocol": 5`; default 4). */
      readonly protocolVersion: 4 | 5;
    }
  | { readonly kind: 'webhook'; readonly token: string };

/** Every connection of `raw` (the config's `sources`), by name; throws with the reason. */
export function parseSourcesConfig(raw: unknown, lookup: SecretLookup, baseDir: string): Map<string, SourceConnection> {
  const out = new Map<string, SourceConnection>();
  if (raw === undefined) return out;
  if (!isObject(raw)) throw new Error('orch.config "sources" must be an object of sources by name');
  for (const [name, c] of Object.entries(raw)) {
    const at = `orch.config sources.${name}`;
    if (!isObject(c)) throw new Error(`${at} must be an object with "mqtt" or "webhook"`);
    // The field's value, its `"secret:NAME"` resolved; an unset secret names the field it stands in.
    const text = (field: string, v: unknown, what: string): string => {
      if (typeof v !== 'string') throw new Error(`${at}.${field} must be ${what}`);
      try {
        return resolveSecretRefs(v, lookup);
      } catch (e) {
        throw new Error(`${at}.${field}: ${(e as Error).message}`);
      }
    };
    if (c.webhook !== undefined && c.mqtt !== undefined) throw new Error(`${at} must have either "mqtt" or "webhook", not both`);
    if (c.webhook !== undefined) {
      if (!isObject(c.webhook)) throw new Error(`${at}.webhook must be { "token": "secret:NAME" }`);
      const token = text('webhook.token', c.webhook.token, 'a string (best a "secret:NAME" reference)');
      if (token === '') throw new Error(`${at}.webhook.token must not be empty`);
      out.set(name, { kind: 'webhook', token });
      continue;
    }
    const what = 'an mqtt:// or mqtts:// URL (or a "secret:NAME" reference to one)';
    // The URL may be a secret holding credentials: the checks below never quote it.
    const url = text('mqtt', c.mqtt, what);
    if (!/^mqtts?:\/\//i.test(url) || !URL.canParse(url)) throw new Error(`${at}.mqtt must be ${what}`);
    if (c.username !== undefined && typeof c.username !== 'string') throw new Error(`${at}.username must be a string`);
    if (c.ca !== undefined && typeof c.ca !== 'string') throw new Error(`${at}.ca must be the path of a CA certificate (PEM)`);
    if (c.protocol !== undefined && c.protocol !== 4 && c.protocol !== 5 && c.protocol !== '3.1.1' && c.protocol !== '5')
      throw new Error(`${at}.protocol must be "3.1.1" or 5`);
    let ca: string | undefined;
    if (typeof c.ca === 'string') {
      const file = isAbsolute(c.ca) ? c.ca : resolve(baseDir, c.ca);
      try {
        ca = readFileSync(file, 'utf8');
      } catch (e) {
        throw new Error(`${at}.ca: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    }
    out.set(name, {
      kind: 'mqtt',
      protocolVersion: c.protocol === 5 || c.protocol === '5' ? 5 : 4,
      url,
      ...(c.username !== undefined ? { username: text('username', c.username, 'a string') } : {}),
      ...(c.password !== undefined ? { password: text('password', c.password, 'a string (best a "secret:NAME" reference)') } : {}),
      ...(ca !== undefined ? { ca } : {}),
    });
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
