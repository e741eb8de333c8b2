/**
 * From what an OpenID provider says about a person (the validated ID token's claims, merged with
 * its userinfo answer) to the `Identity` Orch records: the provider's `sub` and issuer, a name
 * people read, the groups from the configured claim, and the roles those groups are given in
 * `auth.oidc.roles`. Pure: serve/http/oidc.ts validates the tokens, this only reads claims.
 */
import { ROLES, type Identity, type Role } from './identity.js';
import type { OidcConfig } from './oidc-config.js';

export type Claims = Readonly<Record<string, unknown>>;

/** A claim's value as a list of group names, and what was odd about it (for the server's log). */
export interface GroupsRead {
  readonly groups: readonly string[];
  /** Set when the claim was there but not a list of strings (the odd entries were dropped). */
  readonly problem?: string;
}

const MAX_GROUPS = 1000;

/**
 * The groups a claim lists. A list keeps its non-empty strings (others dropped, with a problem);
 * a single string is one group (some providers send a lone group unwrapped); a missing claim is
 * no groups; anything else is no groups, with a problem.
 */
export function groupsFromClaim(claims: Claims, claim: string): GroupsRead {
  if (!Object.hasOwn(claims, claim) || claims[claim] === null || claims[claim] === undefined) return { groups: [] };
  const value = claims[claim];
  if (typeof value === 'string') return value === '' ? { groups: [] } : { groups: [value] };
  if (!Array.isArray(value)) return { groups: [], problem: `the "${claim}" claim is a ${typeof value}, not a list of group names: no groups taken from it` };
  const groups: string[] = [];
  let dropped = 0;
  for (const g of value) {
    if (typeof g === 'string' && g !== '') {
      if (!groups.includes(g) && groups.length < MAX_GROUPS) groups.push(g);
    } else dropped++;
  }
  return dropped > 0 ? { groups, problem: `the "${claim}" claim has ${dropped} entr${dropped === 1 ? 'y' : 'ies'} that are not group names (ignored)` } : { groups };
}

/** The roles a person's groups grant, in `ROLES` order, each once; unmapped groups grant none. */
export function rolesOfGroups(groups: readonly string[], roles: OidcConfig['roles']): Role[] {
  const granted = new Set<Role>();
  for (const g of groups) for (const r of roles.get(g) ?? []) granted.add(r);
  return ROLES.filter((r) => granted.has(r));
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

/** What people read: `name`, else `preferred_username`, else `email`, else the subject. */
export function displayName(claims: Claims, subject: string): string {
  return str(claims.name) ?? str(claims.preferred_username) ?? str(claims.email) ?? subject;
}

export type IdentityFromClaims =
  | { readonly ok: true; readonly identity: Identity; readonly problems: readonly string[] }
  | { readonly ok: false; readonly error: string };

/**
 * The identity the claims describe. `claims` are the ID token's (already validated: `iss`, `aud`,
 * signature, nonce) with the userinfo answer merged in. Refused: claims without `sub` or `iss`.
 */
export function identityFromClaims(claims: Claims, config: Pick<OidcConfig, 'groupsClaim' | 'roles'>): IdentityFromClaims {
  // Compared exactly, never trimmed: a provider's `sub` and `iss` are opaque.
  const exact = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const subject = exact(claims.sub);
  if (subject === undefined) return { ok: false, error: 'the provider\'s ID token has no "sub" (subject) claim' };
  const issuer = exact(claims.iss);
  if (issuer === undefined) return { ok: false, error: 'the provider\'s ID token has no "iss" (issuer) claim' };
  const read = groupsFromClaim(claims, config.groupsClaim);
  return {
    ok: true,
    identity: {
      subject,
      issuer,
      name: displayName(claims, subject),
      method: 'oidc',
      roles: rolesOfGroups(read.groups, config.roles),
      groups: read.groups,
    },
    problems: read.problem ? [read.problem] : [],
  };
}

/**
 * How far the provider's clock and ours may disagree (s): `exp` and `nbf` are checked within it
 * by openid-client (`clockTolerance`, its documented default), `iat` by `idTokenTimeProblem`.
 */
export const ID_TOKEN_CLOCK_TOLERANCE_S = 30;

/**
 * Why an ID token's `iat` cannot be believed (issued further in the future than the clock
 * tolerance: a forged or replayed-ahead token, or a provider clock gone wrong), or null.
 */
export function idTokenTimeProblem(claims: Claims, nowMs: number, toleranceS = ID_TOKEN_CLOCK_TOLERANCE_S): string | null {
  const iat = claims.iat;
  if (typeof iat !== 'number' || !Number.isFinite(iat)) return 'it has no "iat" (issued at) time';
  const ahead = iat - nowMs / 1000;
  if (ahead > toleranceS) return `it says it was issued ${Math.round(ahead)} s from now (more than the ${toleranceS} s clocks may differ): check the provider's and this server's clocks`;
  return null;
}
