/**
 * A real OpenID Connect provider (`oidc-provider`) in the test process, on 127.0.0.1 and a free
 * port: one confidential client, accounts whose claims carry `groups`, PKCE required, its own dev
 * login form (any password) and no consent screen (a grant is made on first sign-in).
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';

export interface TestAccount {
  readonly name: string;
  readonly groups: readonly string[];
  readonly email?: string;
}

export interface TestProvider {
  readonly issuer: string;
  /** Registers the client (call once every orch callback URL is known). */
  register(client: { clientId: string; clientSecret: string; redirectUris: readonly string[] }): void;
  /** Rewrites the URL of every redirect the provider answers with (null: stop) — a man in the middle, for tests of what orch refuses. */
  rewriteRedirects(rewrite: ((location: URL) => void) | null): void;
  /** Rewrites the token endpoint's JSON answer (its `id_token`…) before orch reads it (null: stop) — a forged or tampered token. */
  rewriteTokens(rewrite: ((body: Record<string, unknown>) => void) | null): void;
  close(): Promise<void>;
}

const SCOPES = 'openid profile email groups';

/** Listens first, so the issuer URL is known before orch's config is written; the client comes later. */
/** `jwks`: the provider's signing keys (private JWKs), so a test can sign as it does; default: keys of its own. */
export async function startTestProvider(accounts: Readonly<Record<string, TestAccount>>, opts: { jwks?: readonly object[] } = {}): Promise<TestProvider> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(503).end('provider not configured yet');
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let rewrite: ((location: URL) => void) | null = null;
  let rewriteTokens: ((body: Record<string, unknown>) => void) | null = null;

  return {
    issuer,
    register({ clientId, clientSecret, redirectUris }) {
      const provider = new Provider(issuer, {
        clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [...redirectUris], response_types: ['code'], grant_types: ['authorization_code'] }],
        claims: { openid: ['sub'], profile: ['name', 'preferred_username'], email: ['email'], groups: ['groups'] },
        scopes: ['openid', 'profile', 'email', 'groups'],
        pkce: { required: () => true },
        ...(opts.jwks ? { jwks: { keys: [...opts.jwks] as never[] } } : {}),
        cookies: { keys: ['orch-test-provider-cookie-key'] },
        findAccount: (_ctx: unknown, sub: string) => {
          const a = accounts[sub];
          if (!a) return undefined;
          return { accountId: sub, claims: () => ({ sub, name: a.name, preferred_username: sub, ...(a.email ? { email: a.email } : {}), groups: [...a.groups] }) };
        },
        // No consent screen: the first sign-in is granted what orch asks for.
        loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
          const client = ctx.oidc.client!;
          const session = ctx.oidc.session!;
          const existing = ctx.oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId);
          if (existing) return ctx.oidc.provider.Grant.find(existing);
          const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId! });
          grant.addOIDCScope(SCOPES);
          await grant.save();
          return grant;
        },
      });
      const handle = provider.callback();
      server.removeAllListeners('request');
      server.on('request', (req, res) => {
        if (rewrite) {
          const setHeader = res.setHeader.bind(res);
          const change = rewrite;
          res.setHeader = (name, value) => {
            if (name.toLowerCase() !== 'location' || typeof value !== 'string') return setHeader(name, value);
            const url = new URL(value, issuer);
            change(url);
            return setHeader(name, url.href);
          };
        }
        if (rewriteTokens && req.url?.startsWith('/token')) tamperWith(res, rewriteTokens);
        handle(req, res);
      });
    },
    rewriteRedirects(r) {
      rewrite = r;
    },
    rewriteTokens(r) {
      rewriteTokens = r;
    },
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/** The JSON body the provider ends `res` with, changed by `change` (its length recomputed by Node). */
function tamperWith(res: ServerResponse, change: (body: Record<string, unknown>) => void): void {
  const setHeader = res.setHeader.bind(res);
  res.setHeader = (name, value) => (name.toLowerCase() === 'content-length' ? res : setHeader(name, value));
  const end = res.end.bind(res) as (chunk?: unknown, ...rest: unknown[]) => ServerResponse;
  res.end = ((chunk?: unknown, ...rest: unknown[]) => {
    if (chunk === undefined || chunk === null || typeof chunk === 'function') return end(chunk, ...rest);
    const body = JSON.parse(Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk)) as Record<string, unknown>;
    change(body);
    return end(JSON.stringify(body), ...rest.filter((r) => typeof r === 'function'));
  }) as typeof res.end;
}
