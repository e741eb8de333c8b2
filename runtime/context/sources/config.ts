/**
 * orch.config's `"sources"` (LANGUAGE.md §9.4): how each `source` block connects. Credentials are
 * `"secret:NAME"` references only — a password or token written in clear is refused, so the
 * config file never holds one — and are resolved here, once, when `orch serve` starts them.
 * Errors name the source and the field, never a value.
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

const SECRET = /^secret:[A-Za-z_][A-Za-z0-9_]*$/;

/** Every connection of `raw` (the config's `sources`), by name; throws with the reason. */
export function parseSourcesConfig(raw: unknown, lookup: SecretLookup, baseDir: string): Map<string, SourceConnection> {
  const out = new Map<string, SourceConnection>();
  if (raw === undefined) return out;
  if (!isObject(raw)) throw new Error('orch.config "sources" must be an object of sources by name');
  for (const [name, c] of Object.entries(raw)) {
    const at = `orch.config sources.${name}`;
    if (!isObject(c)) throw new Error(`${at} must be an object with "mqtt" or "webhook"`);
    const secret = (field: string, v: unknown): string => {
      if (typeof v !== 'string' || !SECRET.test(v)) throw new Error(`${at}.${field} must be a "secret:NAME" reference (never the value itself)`);
      return resolveSecretRefs(v, lookup);
    };
    if (c.webhook !== undefined) {
      if (!isObject(c.webhook)) throw new Error(`${at}.webhook must be { "token": "secret:NAME" }`);
      out.set(name, { kind: 'webhook', token: secret('webhook.token', c.webhook.token) });
      continue;
    }
    if (typeof c.mqtt !== 'string' || !/^mqtts?:\/\//.test(c.mqtt)) throw new Error(`${at}.mqtt must be an mqtt:// or mqtts:// URL`);
    if (new URL(c.mqtt).password) throw new Error(`${at}.mqtt must not hold a password: give "password": "secret:NAME"`);
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
      url: c.mqtt,
      protocolVersion: c.protocol === 5 || c.protocol === '5' ? 5 : 4,
      ...(typeof c.username === 'string' ? { username: c.username.startsWith('secret:') ? secret('username', c.username) : c.username } : {}),
      ...(c.password !== undefined ? { password: secret('password', c.password) } : {}),
      ...(ca !== undefined ? { ca } : {}),
    });
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
