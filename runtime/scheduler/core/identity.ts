/**
 * Who made a request (LANGUAGE.md §8.8). The serve layer authenticates people (local users,
 * API tokens, OpenID Connect, the bootstrap token) and hands the runtime an `Identity`; the
 * runtime records it — never a name the person typed — with every decision and audited change.
 *
 * Pure vocabulary, kept with the scheduler core because the core decides with it (who may
 * approve, who started a run); `runtime/people/identity.ts` adds the starters this machine makes.
 */
/** Roles, weakest first: each grants what the ones before it grant, `approver` aside (see `ROLE_GRANTS`). */
export const ROLES = ['viewer', 'operator', 'approver', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** How the identity was proven on this request. */
export const AUTH_METHODS = ['password', 'token', 'oidc', 'bootstrap'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

/** The issuer of identities Orch knows from its own config (local users and their API tokens). */
export const LOCAL_ISSUER = 'local';
/** §9.1: the issuer of the OS user who started a run from the command line (`not_starter` takes the local user of that name for them: `startedAs`). */
export const OS_ISSUER = 'os';
/** §9.1: the issuer of Orch's own starters (`system:trigger/NAME`). */
export const SYSTEM_ISSUER = 'orch';

/** How a run's starter was known: a person's sign-in method, the local command line, or a trigger of its own. */
export const START_METHODS = [...AUTH_METHODS, 'cli', 'trigger'] as const;
export type StartMethod = (typeof START_METHODS)[number];

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

/** Who someone is, for comparing: two identities are one person when both fields are equal. */
export interface PersonRef {
  readonly subject: string;
  readonly issuer: string;
}

/** The same person: subject and issuer (two providers, or a provider and the config, may both have a "42"). */
export function samePerson(a: PersonRef, b: PersonRef): boolean {
  return a.subject === b.subject && a.issuer === b.issuer;
}

/**
 * §9.1 `not_starter`: whether `who`, deciding, is the person a run's chain records as `starter`:
 * the same identity, or a local user of the name of the OS account that started it on the command
 * line (`orch run`, `orch retry`, `orch fork`) — a shell account and a sign-in of one name are taken
 * for one person, since refusing errs on the side of four eyes; otherwise starting a run in a shell
 * and approving it in the dashboard would pass the rule. Only a refusal reads this.
 */
export function startedAs(starter: PersonRef, who: PersonRef): boolean {
  return samePerson(starter, who) || (starter.issuer === OS_ISSUER && who.issuer === LOCAL_ISSUER && starter.subject === who.subject);
}

/**
 * §9.1: who started (or caused) a run, as `plan_created` records it: `{subject, issuer, method}`,
 * and `name` only for a person whose display name says more than the subject (OIDC's opaque ids).
 */
export interface Starter extends PersonRef {
  readonly method: StartMethod;
  readonly name?: string;
}

/** What the journal keeps of whoever started a run (an authenticated identity, or a starter already made). */
export function starterOf(who: Identity | Starter): Starter {
  const named = who.name !== undefined && who.name !== '' && who.name !== who.subject;
  return { subject: who.subject, issuer: who.issuer, method: who.method, ...(named ? { name: who.name } : {}) };
}
