/**
 * Who may call what (LANGUAGE.md §8.8): one table from route to the role it needs, read by the
 * request hook of every route (API, dashboard, stream, metrics). Pure: no Fastify, no I/O, so the
 * property test can hold every answer of the server against it.
 *
 * - `public`: anyone (health, the login page and its bundle, signing in).
 * - `signed-in`: any identity, whatever its roles (the page shell, the caller's own session).
 * - a role: an identity one of whose roles grants it (`ROLE_GRANTS`).
 * A route missing from the table needs `admin`: a new route is closed until someone decides.
 */
import { ROLES, type Role } from '../../runtime/index.js';

export type Requirement = 'public' | 'signed-in' | Role;

/** What each role grants: viewer ⊂ operator; approver is a viewer who may decide approvals; admin, all. */
export const ROLE_GRANTS: { readonly [R in Role]: readonly Role[] } = {
  viewer: ['viewer'],
  operator: ['viewer', 'operator'],
  approver: ['viewer', 'approver'],
  admin: ROLES,
};

/** Every `api` trigger's POST route (their paths come from the plans): starting runs. */
export const API_TRIGGER_ROUTE = 'POST <api trigger>';

export const ROLE_TABLE: { readonly [route: string]: Requirement } = {
  'GET /health': 'public',
  'GET /login': 'public',
  'GET /ui/app.js': 'public',
  'GET /ui/app.css': 'public',
  'POST /session': 'public',
  // A webhook source (§9.4) checks its own token (serve/http/source-routes.ts), not a person's.
  'POST /sources/:name': 'public',
  // OpenID Connect sign-in (serve/http/oidc.ts): the redirect to the provider and its way back.
  'GET /auth/oidc/login': 'public',
  'GET /auth/oidc/callback': 'public',

  'GET /': 'signed-in',
  'GET /session': 'signed-in',
  'POST /session/logout': 'signed-in',
  'DELETE /sessions': 'signed-in',

  'GET /metrics': 'viewer',
  'GET /context': 'viewer',
  'GET /context/signals': 'viewer',
  'GET /context/events': 'viewer',
  'GET /triggers': 'viewer',
  'GET /runs': 'viewer',
  'GET /runs/:id': 'viewer',
  'GET /runs/:id/timeline': 'viewer',
  'GET /runs/:id/trace': 'viewer',
  'GET /runs/:id/plan': 'viewer',
  'GET /runs/:id/upgrade': 'viewer',
  'GET /stream': 'viewer',
  'GET /approvals': 'viewer',
  'GET /resources': 'viewer',
  'GET /spend': 'viewer',
  'GET /workers': 'viewer',

  'POST /events': 'operator',
  'POST /signals': 'operator',
  'POST /triggers/:name/fire': 'operator',
  'POST /runs': 'operator',
  'POST /runs/:id/pause': 'operator',
  'POST /runs/:id/resume': 'operator',
  'POST /runs/:id/cancel': 'operator',
  'POST /runs/:id/retry': 'operator',
  'POST /runs/:id/upgrade': 'operator',
  'POST /runs/:id/steps/:step/cancel': 'operator',
  [API_TRIGGER_ROUTE]: 'operator',

  'POST /runs/:id/steps/:step/approve': 'approver',
  'POST /runs/:id/steps/:step/reject': 'approver',

  // Who did what, from where: people's names and addresses, so not for every viewer.
  'GET /audit': 'admin',
};

/**
 * What a request needs. `route` is the route's pattern (`/runs/:id`), or undefined when no route
 * matched (a 404, which still needs an identity so unknown paths tell strangers nothing).
 */
export function requirementOf(method: string, route: string | undefined, kind?: 'api-trigger' | 'method-not-allowed'): Requirement {
  if (kind === 'api-trigger') return ROLE_TABLE[API_TRIGGER_ROUTE]!;
  if (kind === 'method-not-allowed' || route === undefined) return 'signed-in';
  const m = method === 'HEAD' ? 'GET' : method;
  return ROLE_TABLE[`${m} ${route}`] ?? 'admin';
}

/** Whether an identity with `roles` meets `need`. */
export function allows(roles: readonly Role[], need: Requirement): boolean {
  if (need === 'public' || need === 'signed-in') return true;
  return roles.some((r) => ROLE_GRANTS[r]?.includes(need));
}

/** Requests that change state (and are audited). */
export function changesState(method: string): boolean {
  return !['GET', 'HEAD', 'OPTIONS'].includes(method);
}
