/**
 * In-process servers with people (LANGUAGE.md §8.8) for the auth tests: Fastify `inject`, a
 * FakeStarter, the people store and trigger state on a real SQLite file (two servers on one file
 * stand for two `orch serve` on one database).
 */
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { openBackend, hashPassword, newApiToken, parseAuthConfig, type AuthConfig, type PeopleStore } from '../../runtime/index.js';
import { buildServer, type BuiltServer } from '../server.js';
import { FakeStarter, fakePlan } from './fake-starter.js';
import { tempDir } from './serve-process.js';

export const TOKEN = 'bootstrap-token-for-tests';
export const PASSWORDS = { alice: 'alice-pw-1', bob: 'bob-pw-2', carol: 'carol-pw-3', dave: 'dave-pw-4' } as const;

let hashes: Promise<Record<string, string>> | undefined;
/** alice and carol with argon2id hashes (`orch auth hash`), bob with a bcrypt one, dave's from a secret. */
function passwordHashes(): Promise<Record<string, string>> {
  return (hashes ??= (async () => ({
    alice: await hashPassword(PASSWORDS.alice),
    bob: bcrypt.hashSync(PASSWORDS.bob, 4),
    carol: await hashPassword(PASSWORDS.carol),
    dave: await hashPassword(PASSWORDS.dave),
  }))());
}

/** The `auth` block of the tests: one user per role (and one without any), a group granting a role. */
export async function authBlock(extra: Record<string, unknown> = {}): Promise<AuthConfig> {
  const h = await passwordHashes();
  return parseAuthConfig({
    users: {
      alice: { password: h.alice, roles: ['operator'], groups: ['finance'] },
      bob: { password: h.bob, roles: ['viewer'] },
      carol: { password: h.carol, roles: ['admin'] },
      dave: { password: 'secret:DAVE_HASH', roles: [] },
      vic: { roles: ['viewer'] },
      otto: { roles: ['operator'] },
      appr: { roles: ['approver'] },
      nobody: {},
    },
    groups: { finance: ['approver'] },
    ...extra,
  })!;
}

export interface TestServer extends BuiltServer {
  readonly starter: FakeStarter & BuiltServer['starter'];
  readonly fake: FakeStarter;
  /** Who each decision was recorded for (`by` of `starter.decide`). */
  readonly decisions: { runId: string; step: string; verb: string; by: string }[];
  close(): Promise<void>;
}

export async function testServer(o: { dir?: string; auth?: AuthConfig | null; now?: () => number; log?: (line: string) => void; streamRecheckMs?: number } = {}): Promise<TestServer> {
  const dir = o.dir ?? tempDir('orch-auth-');
  const db = join(dir, 'runs.db');
  const fake = new FakeStarter();
  const decisions: TestServer['decisions'] = [];
  const decide = fake.decide.bind(fake);
  fake.decide = async (runId: string, step?: string, verb?: string, meta?: { by: string }) => {
    decisions.push({ runId, step: step ?? '', verb: verb ?? '', by: meta?.by ?? '' });
    return decide(runId);
  };
  const auth = o.auth === null ? undefined : (o.auth ?? (await authBlock()));
  const h = await passwordHashes();
  const built = await buildServer({
    plans: [fakePlan('p')],
    triggers: [],
    starter: fake,
    evaluate: () => null,
    state: await (await openBackend(db)).triggerState(),
    people: await (await openBackend(db)).people(),
    token: TOKEN,
    ...(auth ? { auth } : {}),
    secret: (name) => (name === 'DAVE_HASH' ? h.dave : undefined),
    ...(o.log ? { log: o.log } : {}),
    ...(o.streamRecheckMs !== undefined ? { streamRecheckMs: o.streamRecheckMs } : {}),
  });
  await built.app.ready();
  return {
    ...built,
    starter: built.starter as TestServer['starter'],
    fake,
    decisions,
    close: async () => {
      await built.app.close();
      await built.people.store.close();
    },
  };
}

export function dbOf(dir: string): string {
  return join(dir, 'runs.db');
}

export async function apiToken(store: PeopleStore, user: string, over: { expiresAt?: number | null; revoked?: boolean } = {}): Promise<string> {
  const t = newApiToken();
  await store.createToken({ id: t.id, user, hash: t.hash, createdAt: Date.now(), expiresAt: over.expiresAt ?? null, revokedAt: null });
  if (over.revoked) await store.revokeToken(t.id, Date.now());
  return t.token;
}

export interface Browser {
  cookie: string;
  csrf: string;
}

/** Signs in like the login page; the cookies and CSRF token of the new session. */
export async function signIn(app: FastifyInstance, user: string, password: string, remoteAddress = '127.0.0.1'): Promise<Browser> {
  const r = await app.inject({ method: 'POST', url: '/session', payload: { user, password }, remoteAddress });
  if (r.statusCode !== 201) throw new Error(`sign-in as ${user} answered ${r.statusCode}: ${r.body}`);
  return browserOf(r);
}

export function browserOf(r: LightMyRequestResponse): Browser {
  const cookies = r.cookies as { name: string; value: string }[];
  const csrf = cookies.find((c) => c.name === 'orch_csrf')!.value;
  return { cookie: cookies.map((c) => `${c.name}=${c.value}`).join('; '), csrf };
}

export const asBrowser = (b: Browser) => ({ cookie: b.cookie, 'x-csrf-token': b.csrf });
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
