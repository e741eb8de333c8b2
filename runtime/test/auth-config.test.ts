/** The `auth` block of orch.config (LANGUAGE.md §8.8): parsed whole, or refused naming the key. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { localRoles, parseAuthConfig } from '../people/auth-config.js';
import { tempDir } from './helpers.js';

const ARGON = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA';
const BCRYPT = '$2b$04$abcdefghijklmnopqrstuu5sN3vC6c2vI9oRVtBxkS2d1o1F2bq3W';

describe('auth config', () => {
  it('reads users, group roles, oidc and bootstrap_token as §8.8 writes them', () => {
    const auth = parseAuthConfig({
      users: {
        alice: { password: 'secret:ALICE_PASSWORD_HASH', roles: ['operator', 'approver'], groups: ['finance'] },
        bob: { roles: ['viewer'] },
        carol: { password: ARGON, groups: ['ops'] },
        dan: { password: BCRYPT },
      },
      groups: { ops: ['operator', 'viewer'] },
      oidc: { issuer: 'https://id.example.com', client_id: 'orch', client_secret: 'secret:OIDC_SECRET', roles: { finance: ['approver'] }, scopes: ['openid', 'email'] },
    })!;
    expect(auth.users.get('alice')).toEqual({ name: 'alice', password: { secret: 'ALICE_PASSWORD_HASH' }, roles: ['operator', 'approver'], groups: ['finance'] });
    expect(auth.users.get('bob')).toEqual({ name: 'bob', roles: ['viewer'], groups: [] });
    expect(auth.users.get('dan')?.password).toEqual({ hash: BCRYPT });
    expect(localRoles(auth, auth.users.get('carol')!)).toEqual(['viewer', 'operator']);
    expect(auth.oidc).toEqual({
      issuer: 'https://id.example.com', clientId: 'orch', clientSecretName: 'OIDC_SECRET', groupsClaim: 'groups',
      roles: new Map([['finance', ['approver']]]), scopes: ['openid', 'email'], redirectUri: null, name: 'id.example.com',
    });
    expect(auth.bootstrapToken).toBe(false);
    expect(parseAuthConfig({ bootstrap_token: true })?.bootstrapToken).toBe(true);
    expect(parseAuthConfig(undefined)).toBeUndefined();
    expect(auth).toMatchObject({ trustProxy: [], auditRetentionMs: null });
    expect(parseAuthConfig({ trust_proxy: ['10.0.0.1', '10.1.0.0/16', 'loopback', '::1', 'fd00::/8'], audit_retention: '365d' })).toMatchObject({
      trustProxy: ['10.0.0.1', '10.1.0.0/16', 'loopback', '::1', 'fd00::/8'],
      auditRetentionMs: 365 * 86_400_000,
    });
    expect(parseAuthConfig({ trust_proxy: '192.168.1.1' })?.trustProxy).toEqual(['192.168.1.1']);
  });

  it.each([
    [{ users: { a: { roles: ['root'] } } }, /auth\.users\.a\.roles: unknown role "root" \(roles: viewer, operator, approver, admin\)/],
    [{ users: { a: { password: 'hunter2' } } }, /auth\.users\.a\.password must be an argon2 or bcrypt hash \(make one with `orch auth hash`\)/],
    [{ users: { a: { password: 'secret:' } } }, /does not name a secret/],
    [{ users: { a: { pasword: ARGON } } }, /auth\.users\.a: unknown key "pasword"/],
    [{ users: { 'a b': {} } }, /"a b" is not a user name/],
    [{ userz: {} }, /auth: unknown key "userz"/],
    [{ bootstrap_token: 'yes' }, /bootstrap_token must be true or false/],
    [{ oidc: { client_id: 'x' } }, /auth\.oidc\.issuer /],
    [{ groups: { g: 'admin' } }, /auth\.groups\.g must be a list of roles/],
    [{ trust_proxy: ['proxy.example.com'] }, /auth\.trust_proxy must list the addresses of your reverse proxies/],
    [{ trust_proxy: ['10.0.0.0/33'] }, /auth\.trust_proxy must list/],
    [{ trust_proxy: true }, /auth\.trust_proxy must list/],
    [{ audit_retention: 'forever' }, /auth\.audit_retention must be an age such as "365d"/],
  ])('refuses %j', (raw, message) => {
    expect(() => parseAuthConfig(raw)).toThrow(message);
  });

  it('loadConfig names the file, and never echoes a plain password', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'orch.config.json'), JSON.stringify({ auth: { users: { a: { password: 'hunter2' } } } }));
    const err = await loadConfig(dir).then(() => null, (e: Error) => e);
    expect(err?.message).toMatch(/orch\.config\.json: auth\.users\.a\.password must be/);
    expect(err?.message).not.toContain('hunter2');
  });
});
