/**
 * The `auth.oidc` block of orch.config (LANGUAGE.md §8.8): which OpenID provider signs people in,
 * as which client, and which of its groups grant which roles. Parsing is pure and checks
 * everything the provider is not needed for; the provider itself is asked only at the first
 * sign-in (serve/http/oidc.ts), so a provider that is down never stops `orch serve` starting.
 */
import { ROLES, type Role } from './identity.js';
import type { SecretLookup } from '../secret-refs.js';

export interface OidcConfig {
  /** The issuer URL exactly as the provider's discovery document states it. */
  readonly issuer: string;
  readonly clientId: string;
  /**
   * The name of the secret holding the client secret (`"secret:NAME"` in the config), resolved
   * from the environment, then the config's `secrets`; null for a public client (PKCE only).
   */
  readonly clientSecretName: string | null;
  /** The claim (of the ID token or userinfo) listing the person's groups; a top-level claim name, dots and all. */
  readonly groupsClaim: string;
  /** Roles each group grants; groups not listed grant none. */
  readonly roles: ReadonlyMap<string, readonly Role[]>;
  /** Scopes asked of the provider. */
  readonly scopes: readonly string[];
  /** Where the provider sends people back; null: this server's own `/auth/oidc/callback` as the browser reached it. */
  readonly redirectUri: string | null;
  /** Shown on the login page: "Sign in with NAME" (default: the issuer's host). */
  readonly name: string;
}

export const DEFAULT_GROUPS_CLAIM = 'groups';
export const DEFAULT_SCOPES: readonly string[] = ['openid', 'profile', 'email'];
export const OIDC_CALLBACK_PATH = '/auth/oidc/callback';
export const OIDC_LOGIN_PATH = '/auth/oidc/login';

const KEYS = new Set(['issuer', 'client_id', 'client_secret', 'groups_claim', 'roles', 'scopes', 'redirect_uri', 'name']);
const SECRET_REF = /^secret:([A-Za-z_][A-Za-z0-9_]*)$/;

/** A config problem, with the key it is about (`where` is the config file, for the message). */
export class OidcConfigError extends Error {
  constructor(where: string, key: string, problem: string) {
    super(`${where ? `${where}: ` : ''}auth.oidc${key ? `.${key}` : ''} ${problem}`);
    this.name = 'OidcConfigError';
  }
}

/** Loopback hosts may be served over plain http (a provider run on the same machine, tests). */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || hostname === '::1' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

function httpsUrl(where: string, key: string, value: unknown): URL {
  if (typeof value !== 'string' || value.trim() === '') throw new OidcConfigError(where, key, 'must be a URL such as "https://id.example.com"');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OidcConfigError(where, key, `must be a URL such as "https://id.example.com", got "${value}"`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname)))
    throw new OidcConfigError(where, key, `must use https (plain http only for localhost), got "${value}"`);
  if (url.username || url.password) throw new OidcConfigError(where, key, 'may not hold a user name or password');
  if (url.hash) throw new OidcConfigError(where, key, 'may not have a #fragment');
  return url;
}

function nonEmptyString(where: string, key: string, value: unknown, example: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new OidcConfigError(where, key, `must be a non-empty string, e.g. ${example}`);
  return value;
}

function parseRoles(where: string, value: unknown): Map<string, readonly Role[]> {
  const roles = new Map<string, readonly Role[]>();
  if (value === undefined) return roles;
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new OidcConfigError(where, 'roles', 'must map group names to lists of roles, e.g. { "finance": ["approver"] }');
  for (const [group, list] of Object.entries(value as Record<string, unknown>)) {
    if (!Array.isArray(list)) throw new OidcConfigError(where, `roles.${group}`, `must be a list of roles (${ROLES.join(', ')})`);
    const granted: Role[] = [];
    for (const r of list) {
      // A misspelt role would silently grant nothing: refuse it where it is written.
      if (typeof r !== 'string' || !(ROLES as readonly string[]).includes(r))
        throw new OidcConfigError(where, `roles.${group}`, `has an unknown role ${JSON.stringify(r)} (roles: ${ROLES.join(', ')})`);
      if (!granted.includes(r as Role)) granted.push(r as Role);
    }
    roles.set(group, granted);
  }
  return roles;
}

/**
 * The `auth.oidc` object as written in orch.config, checked; `where` names the config file in
 * messages. Throws an `OidcConfigError` naming the key at fault.
 */
export function parseOidcConfig(raw: unknown, where: string): OidcConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new OidcConfigError(where, '', 'must be an object with at least "issuer" and "client_id"');
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KEYS.has(k)) throw new OidcConfigError(where, k, `is not a known key (known: ${[...KEYS].join(', ')})`);
  const issuer = httpsUrl(where, 'issuer', o.issuer);
  const clientId = nonEmptyString(where, 'client_id', o.client_id, '"orch"');

  let clientSecretName: string | null = null;
  if (o.client_secret !== undefined) {
    const m = typeof o.client_secret === 'string' ? SECRET_REF.exec(o.client_secret) : null;
    // The value itself is never echoed: a secret written inline must not reach a log.
    if (!m) throw new OidcConfigError(where, 'client_secret', 'must name a secret, e.g. "secret:OIDC_SECRET" (the value comes from the environment or the config\'s "secrets", never written inline)');
    clientSecretName = m[1]!;
  }

  const groupsClaim = o.groups_claim === undefined ? DEFAULT_GROUPS_CLAIM : nonEmptyString(where, 'groups_claim', o.groups_claim, '"groups"');

  let scopes = DEFAULT_SCOPES;
  if (o.scopes !== undefined) {
    if (!Array.isArray(o.scopes) || !o.scopes.every((s) => typeof s === 'string' && /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s)))
      throw new OidcConfigError(where, 'scopes', 'must be a list of scope names, e.g. ["openid", "profile", "groups"]');
    scopes = o.scopes.includes('openid') ? [...(o.scopes as string[])] : ['openid', ...(o.scopes as string[])];
  }

  let redirectUri: string | null = null;
  if (o.redirect_uri !== undefined) {
    const url = httpsUrl(where, 'redirect_uri', o.redirect_uri);
    if (url.pathname !== OIDC_CALLBACK_PATH) throw new OidcConfigError(where, 'redirect_uri', `must end in ${OIDC_CALLBACK_PATH}, e.g. "https://orch.example.com${OIDC_CALLBACK_PATH}"`);
    redirectUri = url.href;
  }

  const name = o.name === undefined ? issuer.host : nonEmptyString(where, 'name', o.name, '"Okta"');

  return {
    // The issuer is compared to the ID token's `iss` character for character: keep it as written.
    issuer: o.issuer as string,
    clientId,
    clientSecretName,
    groupsClaim,
    roles: parseRoles(where, o.roles),
    scopes,
    redirectUri,
    name,
  };
}

/** The client secret now (null for a public client); an unset secret throws, naming it (never a value). */
export function oidcClientSecret(config: OidcConfig, lookup: SecretLookup): string | null {
  if (config.clientSecretName === null) return null;
  const v = lookup(config.clientSecretName);
  if (v === undefined || v === '')
    throw new Error(`auth.oidc.client_secret: secret "${config.clientSecretName}" is not set (environment variable or orch.config secrets)`);
  return v;
}
