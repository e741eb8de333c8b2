/** `auth.oidc` parsing and the mapping of a provider's claims to an Identity (LANGUAGE.md §8.8). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ROLES } from '../people/identity.js';
import { oidcClientSecret, parseOidcConfig, type OidcConfig } from '../people/oidc-config.js';
import { groupsFromClaim, identityFromClaims, rolesOfGroups } from '../people/oidc-identity.js';

const WHERE = '/p/orch.config.json';
const base = { issuer: 'https://id.example.com', client_id: 'orch', client_secret: 'secret:OIDC_SECRET' };
const parse = (extra: Record<string, unknown> = {}) => parseOidcConfig({ ...base, ...extra }, WHERE);
const errorOf = (raw: unknown) => {
  try {
    parseOidcConfig(raw, WHERE);
  } catch (e) {
    return (e as Error).message;
  }
  return null;
};

describe('auth.oidc config', () => {
  it('reads the §8.8 example with its defaults', () => {
    const c = parse({ groups_claim: 'groups', roles: { finance: ['approver'], ops: ['operator', 'operator'] } });
    expect(c).toMatchObject({ issuer: 'https://id.example.com', clientId: 'orch', clientSecretName: 'OIDC_SECRET', groupsClaim: 'groups', scopes: ['openid', 'profile', 'email'], redirectUri: null, name: 'id.example.com' });
    expect([...c.roles]).toEqual([
      ['finance', ['approver']],
      ['ops', ['operator']],
    ]);
    expect(parseOidcConfig({ issuer: 'https://id.example.com/realms/x', client_id: 'orch' }, WHERE)).toMatchObject({ clientSecretName: null, groupsClaim: 'groups', roles: new Map() });
  });

  it('scopes always include openid; redirect_uri and name are taken as given', () => {
    const c = parse({ scopes: ['profile', 'groups'], redirect_uri: 'https://orch.example.com/auth/oidc/callback', name: 'Okta' });
    expect(c.scopes).toEqual(['openid', 'profile', 'groups']);
    expect(c.redirectUri).toBe('https://orch.example.com/auth/oidc/callback');
    expect(c.name).toBe('Okta');
  });

  it('refuses what would fail later or silently grant nothing, naming the key', () => {
    expect(errorOf(null)).toMatch(/auth\.oidc must be an object/);
    expect(errorOf({ client_id: 'orch' })).toMatch(/^\/p\/orch\.config\.json: auth\.oidc\.issuer must be a URL/);
    expect(errorOf({ ...base, issuer: 'http://id.example.com' })).toMatch(/issuer must use https/);
    expect(errorOf({ ...base, issuer: 'http://127.0.0.1:9000' })).toBeNull();
    expect(errorOf({ ...base, client_id: '' })).toMatch(/client_id must be a non-empty string/);
    expect(errorOf({ ...base, roles: { finance: ['aprover'] } })).toMatch(/roles\.finance has an unknown role "aprover"/);
    expect(errorOf({ ...base, roles: { finance: 'approver' } })).toMatch(/roles\.finance must be a list of roles/);
    expect(errorOf({ ...base, roles: ['approver'] })).toMatch(/roles must map group names/);
    expect(errorOf({ ...base, groups_claim: 3 })).toMatch(/groups_claim must be a non-empty string/);
    expect(errorOf({ ...base, scopes: 'openid' })).toMatch(/scopes must be a list/);
    expect(errorOf({ ...base, redirect_uri: 'https://orch.example.com/back' })).toMatch(/redirect_uri must end in \/auth\/oidc\/callback/);
    expect(errorOf({ ...base, clientId: 'x' })).toMatch(/auth\.oidc\.clientId is not a known key/);
  });

  it('a client secret written inline is refused without being echoed', () => {
    const msg = errorOf({ ...base, client_secret: 'hunter2-very-secret' });
    expect(msg).toMatch(/client_secret must name a secret, e\.g\. "secret:OIDC_SECRET"/);
    expect(msg).not.toContain('hunter2');
  });

  it('the client secret resolves from the lookup; an unset one names the secret', () => {
    const c = parse();
    expect(oidcClientSecret(c, (n) => (n === 'OIDC_SECRET' ? 's3' : undefined))).toBe('s3');
    expect(() => oidcClientSecret(c, () => undefined)).toThrow('secret "OIDC_SECRET" is not set');
    expect(oidcClientSecret(parseOidcConfig({ issuer: base.issuer, client_id: 'orch' }, WHERE), () => undefined)).toBeNull();
  });
});

describe('claims → Identity', () => {
  const config: Pick<OidcConfig, 'groupsClaim' | 'roles'> = {
    groupsClaim: 'groups',
    roles: new Map([
      ['finance', ['approver']],
      ['ops', ['operator', 'viewer']],
      ['root', ['admin']],
    ]),
  };
  const iss = 'https://id.example.com';

  it('subject and issuer from the token; roles from the mapped groups, in role order; unknown groups kept but grant nothing', () => {
    const r = identityFromClaims({ sub: 'u-123', iss, name: 'Alice Doe', groups: ['marketing', 'ops', 'finance'] }, config);
    expect(r).toEqual({
      ok: true,
      identity: { subject: 'u-123', issuer: iss, name: 'Alice Doe', method: 'oidc', roles: ['viewer', 'operator', 'approver'], groups: ['marketing', 'ops', 'finance'] },
      problems: [],
    });
  });

  it('a missing groups claim is no groups and no roles', () => {
    const r = identityFromClaims({ sub: 'u', iss }, config);
    expect(r.ok && r.identity).toMatchObject({ groups: [], roles: [] });
    expect(r.ok && r.problems).toEqual([]);
  });

  it('a lone string is one group; other non-lists are no groups, with a problem to log', () => {
    expect(groupsFromClaim({ groups: 'finance' }, 'groups')).toEqual({ groups: ['finance'] });
    expect(groupsFromClaim({ groups: { finance: true } }, 'groups')).toEqual({ groups: [], problem: expect.stringContaining('is a object, not a list') });
    expect(groupsFromClaim({ groups: 7 }, 'groups').groups).toEqual([]);
    const mixed = groupsFromClaim({ groups: ['ops', 3, null, '', 'ops', 'root'] }, 'groups');
    expect(mixed.groups).toEqual(['ops', 'root']);
    expect(mixed.problem).toMatch(/3 entries that are not group names/);
  });

  it('reads the configured claim, by its exact name (namespaced claims have dots and slashes)', () => {
    const claim = 'https://orch.example.com/groups';
    const r = identityFromClaims({ sub: 'u', iss, groups: ['root'], [claim]: ['finance'] }, { ...config, groupsClaim: claim });
    expect(r.ok && r.identity).toMatchObject({ groups: ['finance'], roles: ['approver'] });
  });

  it('the display name: name, else preferred_username, else email, else the subject', () => {
    const name = (c: Record<string, unknown>) => {
      const r = identityFromClaims({ sub: 'u-9', iss, ...c }, config);
      return r.ok ? r.identity.name : null;
    };
    expect(name({ name: 'Bo', preferred_username: 'bo', email: 'bo@x' })).toBe('Bo');
    expect(name({ name: '  ', preferred_username: 'bo', email: 'bo@x' })).toBe('bo');
    expect(name({ email: 'bo@x' })).toBe('bo@x');
    expect(name({})).toBe('u-9');
  });

  it('claims without a subject or issuer are refused', () => {
    expect(identityFromClaims({ iss }, config)).toEqual({ ok: false, error: expect.stringContaining('"sub"') });
    expect(identityFromClaims({ sub: 'u', iss: 5 }, config)).toEqual({ ok: false, error: expect.stringContaining('"iss"') });
  });

  it('property: roles are exactly the union of what the person\'s mapped groups grant, never more', () => {
    const group = fc.constantFrom('finance', 'ops', 'root', 'other', 'x');
    fc.assert(
      fc.property(fc.array(fc.oneof(group, fc.integer(), fc.constant(null))), (claim) => {
        const r = identityFromClaims({ sub: 's', iss, groups: claim }, config);
        if (!r.ok) return false;
        const expected = new Set(claim.flatMap((g) => (typeof g === 'string' ? (config.roles.get(g) ?? []) : [])));
        expect(new Set(r.identity.roles)).toEqual(expected);
        expect(r.identity.roles).toEqual(ROLES.filter((x) => expected.has(x)));
        expect(rolesOfGroups(r.identity.groups, config.roles)).toEqual(r.identity.roles);
        return true;
      }),
    );
  });
});
