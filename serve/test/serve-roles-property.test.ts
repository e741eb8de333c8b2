/**
 * The role table is the truth (LANGUAGE.md §8.8): for random sequences of requests by random
 * identities — every role, none, several, a bad token, no credentials — every state change the
 * server accepted was allowed by the table for that identity, every one it refused (401/403) was
 * not, and each request that reached a route with an identity is in the audit trail as that
 * identity.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, type Role } from '../../runtime/index.js';
import { requirementOf } from '../http/role-table.js';
import { apiToken, authBlock, bearer, testServer, type TestServer } from './people-helpers.js';

/** The callers: a user per combination of roles the config has, plus two without a valid identity. */
const CALLERS: { user: string | null; roles: Role[] | null }[] = [
  { user: 'vic', roles: ['viewer'] },
  { user: 'otto', roles: ['operator'] },
  { user: 'appr', roles: ['approver'] },
  { user: 'carol', roles: ['admin'] },
  { user: 'nobody', roles: [] },
  { user: 'alice', roles: ['operator', 'approver'] },
  { user: 'nodoc', roles: ['viewer', 'approver'] },
  { user: null, roles: null }, // no credentials
  { user: 'bad', roles: null }, // a token nobody issued
];

/**
 * LANGUAGE.md §8.8 read independently of the table: viewer reads, operator starts and controls
 * runs, approver decides, admin does everything (and alone reads the audit: docs/language.md).
 */
const SPEC: { [route: string]: Role } = {
  'POST /runs': 'operator', 'POST /runs/:id/pause': 'operator', 'POST /runs/:id/resume': 'operator', 'POST /runs/:id/cancel': 'operator',
  'POST /runs/:id/retry': 'operator', 'POST /runs/:id/upgrade': 'operator', 'POST /runs/:id/steps/:step/cancel': 'operator',
  'POST /events': 'operator', 'POST /signals': 'operator',
  'POST /runs/:id/steps/:step/approve': 'approver', 'POST /runs/:id/steps/:step/reject': 'approver',
  'GET /runs/:id': 'viewer', 'GET /metrics': 'viewer', 'GET /audit': 'admin',
};
const mayDo = (roles: readonly Role[], need: Role) =>
  roles.includes('admin') || roles.includes(need) || (need === 'viewer' && roles.length > 0);

/** State-changing requests, with the route pattern the table is keyed on. */
const REQUESTS: { method: string; url: (run: string) => string; route: string; payload?: unknown }[] = [
  { method: 'POST', url: () => '/runs', route: '/runs', payload: { plan: 'p' } },
  { method: 'POST', url: (r) => `/runs/${r}/pause`, route: '/runs/:id/pause' },
  { method: 'POST', url: (r) => `/runs/${r}/resume`, route: '/runs/:id/resume' },
  { method: 'POST', url: (r) => `/runs/${r}/cancel`, route: '/runs/:id/cancel' },
  { method: 'POST', url: (r) => `/runs/${r}/retry`, route: '/runs/:id/retry' },
  { method: 'POST', url: (r) => `/runs/${r}/upgrade`, route: '/runs/:id/upgrade' },
  { method: 'POST', url: (r) => `/runs/${r}/steps/ask/approve`, route: '/runs/:id/steps/:step/approve', payload: {} },
  { method: 'POST', url: (r) => `/runs/${r}/steps/ask/reject`, route: '/runs/:id/steps/:step/reject', payload: {} },
  { method: 'POST', url: (r) => `/runs/${r}/steps/ask/cancel`, route: '/runs/:id/steps/:step/cancel' },
  { method: 'POST', url: () => '/events', route: '/events', payload: { type: 'x' } },
  { method: 'POST', url: () => '/signals', route: '/signals', payload: { temperature: 3 } },
  { method: 'GET', url: (r) => `/runs/${r}`, route: '/runs/:id' },
  { method: 'GET', url: () => '/audit', route: '/audit' },
  { method: 'GET', url: () => '/metrics', route: '/metrics' },
];

let s: TestServer;
const tokens = new Map<string, string>();
let runId: string;
let guesses = 0;

beforeAll(async () => {
  // nodoc exists only for this test: a viewer who also approves.
  const base = await authBlock();
  const users = new Map(base.users);
  users.set('nodoc', { name: 'nodoc', roles: ['viewer', 'approver'], groups: [] });
  s = await testServer({ auth: { ...base, users } });
  for (const c of CALLERS) if (c.user && c.user !== 'bad') tokens.set(c.user, await apiToken(s.people.store, c.user));
  tokens.set('bad', 'orch_000000000000_not-a-token');
  runId = (await s.app.inject({ method: 'POST', url: '/runs', headers: bearer(tokens.get('carol')!), payload: { plan: 'p' } })).json().runId as string;
}, 60_000);
afterAll(async () => {
  await s?.close();
});

describe('the role table decides every request', () => {
  it('accepted iff allowed, for random sequences of requests by random identities; audited as who made them', async () => {
    expect(ROLES.length).toBe(4);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ caller: fc.constantFrom(...CALLERS), request: fc.constantFrom(...REQUESTS) }), { minLength: 1, maxLength: 12 }),
        async (seq) => {
          const before = (await s.people.store.audit({ order: 'oldest' })).length;
          let audited = 0;
          const expected: (string | null)[] = [];
          for (const { caller, request } of seq) {
            const headers = caller.user ? bearer(tokens.get(caller.user)!) : {};
            // A wrong token from an address of its own each time: the brake on wrong tokens (serve-review.test.ts) is not this table's.
            const remoteAddress = caller.user === 'bad' ? `10.9.${(guesses >> 8) & 255}.${guesses++ & 255}` : '127.0.0.1';
            const r = await s.app.inject({ method: request.method as 'GET', url: request.url(runId), headers, remoteAddress, ...(request.payload !== undefined ? { payload: request.payload as object } : {}) });
            const need = SPEC[`${request.method} ${request.route}`]!;
            expect(requirementOf(request.method, request.route)).toBe(need);
            if (caller.roles === null) {
              expect(r.statusCode, `${request.method} ${request.route} without a valid identity`).toBe(401);
              continue;
            }
            const allowed = mayDo(caller.roles, need);
            const refused = r.statusCode === 401 || r.statusCode === 403;
            expect(refused, `${caller.user} (${caller.roles.join(',') || 'no role'}) ${request.method} ${request.route} → ${r.statusCode}: ${r.body}`).toBe(!allowed);
            if (refused) expect(r.statusCode).toBe(403);
            if (request.method !== 'GET') {
              audited += 1;
              expected.push(caller.user);
            }
          }
          const after = await s.people.store.audit({ order: 'oldest' });
          expect(after.length - before).toBe(audited);
          expect(after.slice(before).map((e) => e.subject)).toEqual(expected);
        },
      ),
      { numRuns: 40 },
    );
  });
});
