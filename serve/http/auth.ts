/**
 * Who is calling (LANGUAGE.md §8.8). A request proves an identity with `Authorization: Bearer`
 * (the bootstrap token `ORCH_TOKEN`, or a user's API token) or with a browser session opened by
 * signing in (a local user's password, the bootstrap token, or OpenID Connect through
 * `openSession`). Sessions and API tokens live in the journal's database, by hashes of their
 * secrets; a session's CSRF token is compared on every state-changing request it makes.
 *
 * Without an `auth` block in the config there are no users: the bootstrap token is the only
 * identity (admin), as before people existed. With one, the bootstrap token is refused unless
 * `auth.bootstrap_token` is true.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  LOCAL_ISSUER,
  prepareDecoys,
  localRoles,
  revokeTokensOfRemovedUsers,
  rolesOfGroups,
  sha256Hex,
  verifyAtOneCost,
  type AuthConfig,
  type Identity,
  type OidcConfig,
  type PeopleStore,
  type StoredSession,
} from '../../runtime/index.js';
import { BearerBrake } from './bearer-brake.js';
import { LoginThrottle } from './login-throttle.js';

export function generateToken(): string {
  return randomBytes(24).toString('base64url');
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** A string equal to `token`, in constant time whatever the presented length. */
export function tokenMatches(token: string): (presented: unknown) => boolean {
  const expected = digest(token);
  return (presented) => typeof presented === 'string' && timingSafeEqual(digest(presented), expected);
}

/** The token of an `Authorization: Bearer <token>` header (undefined: no such header). */
export function bearerOf(header: string | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1]! : '';
}

export const SESSION_COOKIE = 'orch_session';
export const CSRF_COOKIE = 'orch_csrf';
export const CSRF_HEADER = 'x-csrf-token';
export const SESSION_MS = 12 * 3600_000;

/** Who the bootstrap token is: one admin, recorded as such (never a name someone typed). */
export const BOOTSTRAP_IDENTITY: Identity = {
  subject: 'bootstrap',
  issuer: LOCAL_ISSUER,
  name: 'bootstrap token',
  method: 'bootstrap',
  roles: ['admin'],
  groups: [],
};

export interface PeopleOptions {
  /** The bootstrap token (`ORCH_TOKEN`, or the one generated at start-up). */
  readonly token: string;
  readonly auth?: AuthConfig;
  /** The OpenID provider this server signs people in with (`auth.oidc`, parsed), if any. */
  readonly oidc?: OidcConfig;
  readonly store: PeopleStore;
  /** A secret's value (`password: "secret:NAME"`): the environment, then the config's `secrets`. */
  readonly secret?: (name: string) => string | undefined;
  readonly now?: () => number;
  readonly sessionMs?: number;
}

/** Why a bearer token was refused (the 401's message). */
export type BearerRefusal = { readonly refused: string };

/** What every wrong bearer token is told, whatever it was. */
export const WRONG_BEARER: BearerRefusal = { refused: 'missing or invalid bearer token' };

export class People {
  readonly auth: AuthConfig | undefined;
  private readonly oidc: OidcConfig | undefined;
  readonly store: PeopleStore;
  /** Whether `ORCH_TOKEN` proves anything: always without `auth`, with it only if asked. */
  readonly bootstrapAllowed: boolean;
  readonly throttle: LoginThrottle;
  /** Wrong bearer tokens slow their address down (429). */
  readonly bearerBrake: BearerBrake;
  private readonly bootstrap: (presented: unknown) => boolean;
  private readonly now: () => number;
  private readonly sessionMs: number;
  private readonly secret: (name: string) => string | undefined;

  constructor(o: PeopleOptions) {
    this.auth = o.auth;
    this.oidc = o.oidc ?? o.auth?.oidc;
    this.store = o.store;
    this.bootstrapAllowed = !o.auth || o.auth.bootstrapToken;
    this.bootstrap = tokenMatches(o.token);
    this.now = o.now ?? Date.now;
    this.throttle = new LoginThrottle(this.store, this.now);
    this.bearerBrake = new BearerBrake(this.now);
    this.sessionMs = o.sessionMs ?? SESSION_MS;
    this.secret = o.secret ?? ((name) => process.env[name]);
    // The decoys every sign-in verifies are made now, in the background, not by the first sign-in.
    if (this.auth) void prepareDecoys(this.configuredHashes()).catch(() => {});
  }

  /** A configured local user as an identity proven by `method` (undefined: no such user). */
  localIdentity(user: string, method: 'password' | 'token'): Identity | undefined {
    const u = this.auth?.users.get(user);
    if (!this.auth || !u) return undefined;
    return { subject: u.name, issuer: LOCAL_ISSUER, name: u.name, method, roles: localRoles(this.auth, u), groups: u.groups };
  }

  /** The identity of a bearer token: the bootstrap token, or an API token that is neither expired nor revoked. */
  async bearer(token: string): Promise<Identity | BearerRefusal> {
    // The server token refused (people configured) answers as any wrong guess: it says nothing of having been right.
    if (this.bootstrap(token)) return this.bootstrapAllowed ? BOOTSTRAP_IDENTITY : WRONG_BEARER;
    if (!this.auth || !token.startsWith('orch_')) return WRONG_BEARER;
    const row = await this.store.tokenByHash(sha256Hex(token));
    if (!row) return WRONG_BEARER;
    if (row.revokedAt !== null) return { refused: `API token ${row.id} was revoked` };
    if (row.expiresAt !== null && row.expiresAt <= this.now()) return { refused: `API token ${row.id} has expired` };
    const identity = this.localIdentity(row.user, 'token');
    if (identity) return identity;
    // Its user left the config: revoked for good, so a user of that name added later is not given it.
    await this.store.revokeToken(row.id, this.now());
    return { refused: `API token ${row.id} was revoked: "${row.user}" is no longer a configured user` };
  }

  /**
   * Revokes every API token whose user the config no longer has (at start: a user removed while
   * no server ran), so a user added later under the same name does not get them back.
   */
  revokeTokensOfRemovedUsers(): Promise<number> {
    return this.auth ? revokeTokensOfRemovedUsers(this.store, this.auth.users, this.now()) : Promise.resolve(0);
  }

  /**
   * A local user's password, checked at one cost whoever is named (an unknown user, a user
   * without a password, a bcrypt or an argon2 user alike: `verifyAtOneCost`).
   */
  async passwordSignIn(user: string, password: string): Promise<Identity | undefined> {
    const { ok } = await verifyAtOneCost(this.passwordHash(user), password, this.configuredHashes());
    return ok ? this.localIdentity(user, 'password') : undefined;
  }

  /** A user's password hash now (a `secret:NAME` looked up), or undefined. */
  private passwordHash(user: string): string | undefined {
    const ref = this.auth?.users.get(user)?.password;
    return ref === undefined ? undefined : 'hash' in ref ? ref.hash : this.secret(ref.secret) || undefined;
  }

  /** Every configured user's password hash now. */
  configuredHashes(): string[] {
    return [...(this.auth?.users.keys() ?? [])].map((u) => this.passwordHash(u)).filter((h): h is string => h !== undefined);
  }

  /** The bootstrap token typed on the login page (undefined: wrong, or refused because people are configured). */
  bootstrapSignIn(token: string): Identity | undefined {
    return this.bootstrapAllowed && this.bootstrap(token) ? BOOTSTRAP_IDENTITY : undefined;
  }

  async openSession(identity: Identity): Promise<{ id: string; csrf: string; expiresAt: number }> {
    const id = randomBytes(32).toString('base64url');
    const csrf = randomBytes(24).toString('base64url');
    const createdAt = this.now();
    const expiresAt = createdAt + this.sessionMs;
    await this.store.createSession(sha256Hex(id), { identity, csrfHash: sha256Hex(csrf), createdAt, expiresAt });
    return { id, csrf, expiresAt };
  }

  /**
   * The session of a cookie, its identity brought up to date: a local user's roles and groups are
   * the config's of now (a user removed from it is signed out), an OpenID Connect person's roles
   * are what the config's `auth.oidc.roles` of now grant the groups the provider named at sign-in
   * (none left, or that provider no longer configured: signed out), a bootstrap session ends when
   * the bootstrap token stops being accepted.
   */
  async session(cookie: string | undefined): Promise<StoredSession | undefined> {
    if (!cookie) return undefined;
    const s = await this.store.session(sha256Hex(cookie), this.now());
    if (!s) return undefined;
    const id = s.identity;
    if (id.method === 'bootstrap') return this.bootstrapAllowed ? s : undefined;
    if (id.issuer === LOCAL_ISSUER) {
      const fresh = this.localIdentity(id.subject, id.method === 'token' ? 'token' : 'password');
      return fresh ? { ...s, identity: fresh } : undefined;
    }
    if (id.method === 'oidc') {
      const oidc = this.oidc;
      if (!oidc || oidc.issuer !== id.issuer) return undefined;
      const roles = rolesOfGroups(id.groups, oidc.roles);
      return roles.length > 0 ? { ...s, identity: { ...id, roles } } : undefined;
    }
    return s;
  }

  async closeSession(cookie: string | undefined): Promise<void> {
    if (cookie) await this.store.deleteSession(sha256Hex(cookie));
  }

  /** Signs this person out of every browser, on every server sharing the database. */
  closeAll(identity: Identity): Promise<number> {
    return this.store.deleteSessionsOf(identity.subject, identity.issuer);
  }

  /** The CSRF token a request presented matches its session's, in constant time. */
  static csrfOk(session: StoredSession, presented: unknown): boolean {
    return typeof presented === 'string' && timingSafeEqual(digest(presented), Buffer.from(session.csrfHash, 'hex'));
  }
}
