/**
 * The `auth` block of `orch.config` (LANGUAGE.md §8.8): local users with password hashes, roles
 * and groups, roles granted to groups, the OpenID Connect provider, and whether the bootstrap
 * token still works. Parsed once, whole, with errors that name the key; nothing here resolves a
 * secret (a `secret:NAME` password is looked up when someone signs in).
 */
import { isIP } from 'node:net';
import { parseAge } from '../backend/retention.js';
import { ROLES, type Role } from './identity.js';
import { OidcConfigError, parseOidcConfig, type OidcConfig } from './oidc-config.js';

export interface LocalUser {
  readonly name: string;
  /** An argon2/bcrypt hash, or `{ secret: NAME }` holding one; absent: the user signs in with API tokens only. */
  readonly password?: PasswordRef;
  readonly roles: readonly Role[];
  readonly groups: readonly string[];
}

export type PasswordRef = { readonly hash: string } | { readonly secret: string };

export interface AuthConfig {
  readonly users: ReadonlyMap<string, LocalUser>;
  /** `auth.groups`: roles granted to every local user in the group (an Orch decision; §8.8 is silent). */
  readonly groupRoles: { readonly [group: string]: readonly Role[] };
  readonly oidc?: OidcConfig;
  /** `ORCH_TOKEN` keeps working (as admin) although people are configured. */
  readonly bootstrapToken: boolean;
  /**
   * `auth.trust_proxy`: the addresses (IPs, CIDR ranges, or `loopback`, `linklocal`,
   * `uniquelocal`) of reverse proxies whose `X-Forwarded-For`/`-Proto`/`-Host` are believed
   * (Fastify's `trustProxy`); empty: none, the peer's address is the client's.
   */
  readonly trustProxy: readonly string[];
  /** `auth.audit_retention` (ms): audit entries older than this are deleted; null: kept for ever. */
  readonly auditRetentionMs: number | null;
}

const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$/;
const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,199}$/;
const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A hash `orch auth hash` makes (argon2id) or one bcrypt tools make. */
export function looksLikePasswordHash(s: string): boolean {
  return /^\$argon2(id|i|d)\$/.test(s) || /^\$2[abxy]\$\d\d\$/.test(s);
}

export class AuthConfigError extends Error {}

const PROXY_KEYWORDS = ['loopback', 'linklocal', 'uniquelocal'];

/** An address or range `trust_proxy` may hold (what Fastify's `trustProxy` reads, through proxy-addr). */
function isProxyAddress(s: string): boolean {
  if (PROXY_KEYWORDS.includes(s)) return true;
  const slash = s.indexOf('/');
  const ip = slash < 0 ? s : s.slice(0, slash);
  const family = isIP(ip);
  if (family === 0) return false;
  if (slash < 0) return true;
  const bits = s.slice(slash + 1);
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

function trustProxy(v: unknown): string[] {
  if (v === undefined) return [];
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || !list.every((a) => typeof a === 'string' && isProxyAddress(a.trim())))
    throw new AuthConfigError(
      'auth.trust_proxy must list the addresses of your reverse proxies: IPs or CIDR ranges ("10.0.0.0/8"), or "loopback", "linklocal", "uniquelocal"',
    );
  return list.map((a: string) => a.trim());
}

function auditRetention(v: unknown): number | null {
  if (v === undefined) return null;
  const ms = typeof v === 'string' ? parseAge(v) : null;
  if (ms === null) throw new AuthConfigError('auth.audit_retention must be an age such as "365d" (entries older than it are deleted)');
  return ms;
}

function roleList(v: unknown, where: string): Role[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new AuthConfigError(`${where} must be a list of roles (${ROLES.join(', ')})`);
  return v.map((r) => {
    if (typeof r !== 'string' || !(ROLES as readonly string[]).includes(r))
      throw new AuthConfigError(`${where}: unknown role ${JSON.stringify(r)} (roles: ${ROLES.join(', ')})`);
    return r as Role;
  });
}

function groupList(v: unknown, where: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((g) => typeof g === 'string' && GROUP_NAME.test(g)))
    throw new AuthConfigError(`${where} must be a list of group names`);
  return v as string[];
}

function rolesByGroup(v: unknown, where: string): Record<string, Role[]> {
  if (v === undefined) return {};
  if (!isObject(v)) throw new AuthConfigError(`${where} must map group names to lists of roles`);
  const out: Record<string, Role[]> = {};
  for (const [g, roles] of Object.entries(v)) {
    if (!GROUP_NAME.test(g)) throw new AuthConfigError(`${where}: ${JSON.stringify(g)} is not a group name`);
    out[g] = roleList(roles, `${where}.${g}`);
  }
  return out;
}

function password(v: unknown, where: string): PasswordRef | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new AuthConfigError(`${where} must be a string: a password hash or "secret:NAME"`);
  if (v.startsWith('secret:')) {
    const name = v.slice('secret:'.length);
    if (!SECRET_NAME.test(name)) throw new AuthConfigError(`${where}: "${v}" does not name a secret (secret:NAME, NAME a variable name)`);
    return { secret: name };
  }
  // Never echo the value: it may be a password someone pasted in plain text.
  if (!looksLikePasswordHash(v))
    throw new AuthConfigError(`${where} must be an argon2 or bcrypt hash (make one with \`orch auth hash\`) or "secret:NAME", never a plain password`);
  return { hash: v };
}

function oidc(v: unknown): OidcConfig | undefined {
  if (v === undefined) return undefined;
  try {
    return parseOidcConfig(v, '');
  } catch (err) {
    if (err instanceof OidcConfigError) throw new AuthConfigError(err.message);
    throw err;
  }
}

/** The `auth` block as written (undefined: no block, Orch keeps its single-token mode). */
export function parseAuthConfig(raw: unknown): AuthConfig | undefined {
  if (raw === undefined) return undefined;
  const keys = ['users', 'groups', 'oidc', 'bootstrap_token', 'trust_proxy', 'audit_retention'];
  if (!isObject(raw)) throw new AuthConfigError(`auth must be an object (${keys.join(', ')})`);
  for (const key of Object.keys(raw)) if (!keys.includes(key)) throw new AuthConfigError(`auth: unknown key "${key}" (expected ${keys.join(', ')})`);
  if (raw.bootstrap_token !== undefined && typeof raw.bootstrap_token !== 'boolean') throw new AuthConfigError('auth.bootstrap_token must be true or false');
  const users = new Map<string, LocalUser>();
  if (raw.users !== undefined) {
    if (!isObject(raw.users)) throw new AuthConfigError('auth.users must map user names to { password, roles, groups }');
    for (const [name, u] of Object.entries(raw.users)) {
      const where = `auth.users.${name}`;
      if (!USER_NAME.test(name)) throw new AuthConfigError(`auth.users: ${JSON.stringify(name)} is not a user name (letters, digits, . _ @ -)`);
      if (!isObject(u)) throw new AuthConfigError(`${where} must be an object { password, roles, groups }`);
      for (const key of Object.keys(u))
        if (!['password', 'roles', 'groups'].includes(key)) throw new AuthConfigError(`${where}: unknown key "${key}" (expected password, roles, groups)`);
      const pw = password(u.password, `${where}.password`);
      users.set(name, { name, ...(pw ? { password: pw } : {}), roles: roleList(u.roles, `${where}.roles`), groups: groupList(u.groups, `${where}.groups`) });
    }
  }
  const parsedOidc = oidc(raw.oidc);
  return {
    users,
    groupRoles: rolesByGroup(raw.groups, 'auth.groups'),
    ...(parsedOidc ? { oidc: parsedOidc } : {}),
    bootstrapToken: raw.bootstrap_token === true,
    trustProxy: trustProxy(raw.trust_proxy),
    auditRetentionMs: auditRetention(raw.audit_retention),
  };
}

/** A local user's roles: their own and their groups' (`auth.groups`), each once, in `ROLES` order. */
export function localRoles(auth: AuthConfig, user: LocalUser): Role[] {
  const all = new Set<Role>(user.roles);
  for (const g of user.groups) for (const r of auth.groupRoles[g] ?? []) all.add(r);
  return ROLES.filter((r) => all.has(r));
}
