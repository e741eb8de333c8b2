/**
 * Who made a request (LANGUAGE.md §8.8). The serve layer authenticates people (local users,
 * API tokens, OpenID Connect, the bootstrap token) and hands the runtime an `Identity`; the
 * runtime records it — never a name the person typed — with every decision and audited change.
 */

/** Roles, weakest first: each grants what the ones before it grant, `approver` aside (see `ROLE_GRANTS`). */
export const ROLES = ['viewer', 'operator', 'approver', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** How the identity was proven on this request. */
export const AUTH_METHODS = ['password', 'token', 'oidc', 'bootstrap'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

/** The issuer of identities Orch knows from its own config (local users and their API tokens). */
export const LOCAL_ISSUER = 'local';

export interface Identity {
  /** A local user's name, or the OpenID provider's `sub`. */
  readonly subject: string;
  /** `LOCAL_ISSUER` for config users, their tokens and the bootstrap token; else the OIDC issuer URL. */
  readonly issuer: string;
  /** What people read (an OIDC `name`/`preferred_username`, or the user's name). */
  readonly name: string;
  readonly method: AuthMethod;
  readonly roles: readonly Role[];
  /** Group names (without the `group:` prefix an approver reference uses). */
  readonly groups: readonly string[];
}

/** What the journal keeps of an identity: enough to prove who acted, nothing secret. */
export interface RecordedIdentity {
  readonly subject: string;
  readonly issuer: string;
  readonly name: string;
  readonly method: AuthMethod;
}

export function recordOf(id: Identity): RecordedIdentity {
  return { subject: id.subject, issuer: id.issuer, name: id.name, method: id.method };
}
