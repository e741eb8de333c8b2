/**
 * Sign-in with an OpenID Connect provider (LANGUAGE.md §8.8): authorization code flow with PKCE,
 * through `openid-client`. `GET /auth/oidc/login` sends the browser to the provider with a fresh
 * state, nonce and PKCE challenge (their secrets sealed in a short-lived cookie);
 * `GET /auth/oidc/callback` checks the answer against that cookie, exchanges the code, validates
 * the ID token, reads userinfo, maps the claims to an `Identity` and hands it to `signIn`, which
 * opens the session.
 *
 * The ID token is verified as openid-client documents it: its signature against the provider's
 * published keys (`enableNonRepudiationChecks`: a token signed by another key, or edited after
 * signing, is refused), `iss`, `aud`, `nonce`, and `exp`/`nbf` within `clockTolerance` — plus
 * `iat`, which the library only type-checks: a token issued further in the future than that
 * tolerance is refused too (`idTokenTimeProblem`). The provider is discovered at the first sign-in, never at start: a provider
 * that is down is a clear page and a log line, not a server that will not start.
 */
import * as oidc from 'openid-client';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  ID_TOKEN_CLOCK_TOLERANCE_S,
  identityFromClaims,
  idTokenTimeProblem,
  isLoopbackHost,
  OIDC_CALLBACK_PATH,
  OIDC_LOGIN_PATH,
  Redactor,
  type Identity,
  type OidcConfig,
} from '../../runtime/index.js';
import { LOGIN_COOKIE, LOGIN_TTL_MS, loginCookieKey, openLogin, sealLogin, type PendingLogin } from './oidc-login-cookie.js';

export interface OidcDeps {
  readonly config: OidcConfig;
  /** The resolved client secret (null: a public client); never logged nor shown. */
  readonly clientSecret: string | null;
  /** Opens a session for the identity and sets its cookies on the reply. */
  readonly signIn: (req: FastifyRequest, reply: FastifyReply, identity: Identity) => void | Promise<void>;
  readonly log: (line: string) => void;
  readonly now?: () => number;
}

const PAGE_HEADERS = {
  'content-security-policy': "default-src 'self'; style-src 'self'; script-src 'none'; frame-ancestors 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
} as const;

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string, head = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${head}<title>Orch — ${escapeHtml(title)}</title>
<link rel="stylesheet" href="/ui/app.css">
</head>
<body data-page="oidc">
<main class="center"><div class="login card"><h1>Orch</h1>${body}</div></main>
</body>
</html>
`;
}

/** A sign-in that did not happen, why, and what to do (the message is shown and logged). */
class SignInFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Why the provider refused, in words an operator can act on; never the request that carried the secret. */
function providerRefusal(err: unknown, name: string): SignInFailure | null {
  if (err instanceof oidc.AuthorizationResponseError) {
    const why = err.error_description ? `${err.error}: ${err.error_description}` : err.error;
    return new SignInFailure(403, `${name} did not sign you in (${why})`);
  }
  let code: string | undefined;
  let description: string | undefined;
  if (err instanceof oidc.ResponseBodyError) {
    code = err.error;
    description = err.error_description;
  } else if (err instanceof oidc.WWWAuthenticateChallengeError) {
    const params = err.cause[0]?.parameters;
    code = params?.error;
    description = params?.error_description;
  }
  if (code === undefined) return null;
  if (code === 'invalid_client' || code === 'unauthorized_client')
    return new SignInFailure(502, `${name} refused Orch's client credentials (${code}): check auth.oidc.client_id and the secret auth.oidc.client_secret names`);
  return new SignInFailure(502, `${name} refused the sign-in code (${code}${description ? `: ${description}` : ''})`);
}

/** The most specific message of an error and its causes (openid-client wraps what oauth4webapi found). */
function innermost(err: unknown): string {
  let e: unknown = err;
  let message = (err as Error)?.message ?? String(err);
  for (let depth = 0; depth < 5 && e instanceof Error; depth++) {
    if (e.message) message = e.message;
    e = e.cause;
  }
  return message;
}

/**
 * The provider's configuration, discovered at the first sign-in and kept; a failed discovery is
 * tried again at the next one. The client authenticates as the provider announces it can.
 */
function discovery(config: OidcConfig, clientSecret: string | null, insecure: boolean, clean: (s: string) => string): () => Promise<oidc.Configuration> {
  // The spec's default client authentication is client_secret_basic; a provider that announces
  // only client_secret_post gets that.
  const clientAuth: oidc.ClientAuth =
    clientSecret === null
      ? oidc.None()
      : (as, client, body, headers) => {
          const methods = as.token_endpoint_auth_methods_supported;
          const basic = !Array.isArray(methods) || methods.includes('client_secret_basic') || !methods.includes('client_secret_post');
          return (basic ? oidc.ClientSecretBasic(clientSecret) : oidc.ClientSecretPost(clientSecret))(as, client, body, headers);
        };
  let discovered: Promise<oidc.Configuration> | undefined;
  return () => {
    discovered ??= oidc
      .discovery(new URL(config.issuer), config.clientId, { [oidc.clockTolerance]: ID_TOKEN_CLOCK_TOLERANCE_S }, clientAuth, {
        timeout: 10,
        // The ID token's signature is checked against the provider's keys (jwks_uri), not taken on trust.
        execute: [...(insecure ? [oidc.allowInsecureRequests] : []), oidc.enableNonRepudiationChecks],
      })
      .catch((err: unknown) => {
        discovered = undefined; // the next sign-in tries again
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        const detail = cause?.code ?? cause?.message ?? (err as Error).message;
        throw new SignInFailure(502, `cannot reach the OpenID provider ${config.issuer} (${clean(String(detail))}); try again once it is up`);
      });
    return discovered;
  };
}

/**
 * Who the provider's answer at the callback says signed in: the code exchanged (PKCE, state and
 * nonce checked by openid-client), the ID token's times checked, userinfo's claims added, and the
 * claims mapped to an identity with at least one role — else a SignInFailure saying why.
 */
async function identityOfAnswer(provided: oidc.Configuration, login: PendingLogin, url: string, config: OidcConfig, now: () => number, log: (line: string) => void): Promise<Identity> {
  const query = url.indexOf('?');
  const current = new URL(login.redirectUri);
  current.search = query >= 0 ? url.slice(query) : '';
  const tokens = await oidc.authorizationCodeGrant(provided, current, {
    pkceCodeVerifier: login.verifier,
    expectedState: login.state,
    expectedNonce: login.nonce,
    idTokenExpected: true,
  });
  const idClaims = tokens.claims();
  if (!idClaims) throw new SignInFailure(502, `${config.name} sent no ID token`);
  const early = idTokenTimeProblem(idClaims, now());
  if (early !== null) throw new SignInFailure(400, `${config.name}'s ID token was refused: ${early}`);
  let claims: Record<string, unknown> = { ...idClaims };
  if (provided.serverMetadata().userinfo_endpoint) {
    const info = await oidc.fetchUserInfo(provided, tokens.access_token, idClaims.sub);
    // Userinfo may add claims (often the groups); who and by whom stay the ID token's.
    claims = { ...idClaims, ...info, sub: idClaims.sub, iss: idClaims.iss };
  }
  const mapped = identityFromClaims(claims, config);
  if (!mapped.ok) throw new SignInFailure(502, mapped.error);
  for (const p of mapped.problems) log(`oidc: ${mapped.identity.subject}: ${p}`);
  const id = mapped.identity;
  if (id.roles.length === 0) {
    const groups = id.groups.length > 0 ? `your groups (${id.groups.join(', ')}) grant` : `you are in no group (claim "${config.groupsClaim}") that grants`;
    throw new SignInFailure(403, `${id.name} is known to ${config.name}, but ${groups} no role in Orch (auth.oidc.roles)`);
  }
  return id;
}

export function registerOidc(app: FastifyInstance, deps: OidcDeps): void {
  const { config, clientSecret, log } = deps;
  const now = deps.now ?? Date.now;
  const key = loginCookieKey(clientSecret);
  const issuerUrl = new URL(config.issuer);
  const insecure = issuerUrl.protocol === 'http:' && isLoopbackHost(issuerUrl.hostname);
  // Last line of defence: no message leaves this module with the secret in it.
  const redactor = new Redactor();
  if (clientSecret) redactor.add(clientSecret);
  const clean = (s: string) => redactor.text(s);

  const provider = discovery(config, clientSecret, insecure, clean);

  const fail = (reply: FastifyReply, err: unknown, where: string) => {
    const f = err instanceof SignInFailure ? err : (providerRefusal(err, config.name) ?? new SignInFailure(400, `the answer that came back is not the one this sign-in expects (${innermost(err)}); start again`));
    const message = clean(f.message);
    log(`oidc ${where}: ${message}`);
    return reply
      .code(f.status)
      .headers(PAGE_HEADERS)
      .type('text/html; charset=utf-8')
      .send(page('sign-in failed', `<p class="error" role="alert">Sign-in with ${escapeHtml(config.name)} failed: ${escapeHtml(message)}</p><p><a href="/login">Back to sign-in</a></p>`));
  };

  const cookieBase = (req: FastifyRequest) => ({ path: '/auth/oidc/', httpOnly: true, secure: req.protocol === 'https' }) as const;

  app.get(OIDC_LOGIN_PATH, { config: { public: true } }, async (req, reply) => {
    let provided: oidc.Configuration;
    try {
      provided = await provider();
    } catch (err) {
      return fail(reply, err, 'login');
    }
    // Behind a proxy the browser's address is not ours to guess: `redirect_uri` in the config says it.
    const redirectUri = config.redirectUri ?? `${req.protocol}://${req.host}${OIDC_CALLBACK_PATH}`;
    const verifier = oidc.randomPKCECodeVerifier();
    const login = { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier, redirectUri, expires: now() + LOGIN_TTL_MS };
    const url = oidc.buildAuthorizationUrl(provided, {
      redirect_uri: redirectUri,
      scope: config.scopes.join(' '),
      response_type: 'code',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: login.state,
      nonce: login.nonce,
    });
    // SameSite=Lax, not Strict: the provider's redirect back is a cross-site navigation.
    return reply
      .setCookie(LOGIN_COOKIE, sealLogin(key, login), { ...cookieBase(req), sameSite: 'lax', maxAge: LOGIN_TTL_MS / 1000 })
      .header('cache-control', 'no-store')
      .redirect(url.href, 303);
  });

  app.get(OIDC_CALLBACK_PATH, { config: { public: true } }, async (req, reply) => {
    const login = openLogin(key, req.cookies[LOGIN_COOKIE], now());
    // One use: whatever happens next, this browser's pending sign-in is spent.
    reply.clearCookie(LOGIN_COOKIE, cookieBase(req));
    try {
      if (!login)
        throw new SignInFailure(400, 'this browser has no sign-in waiting for this answer (it was already used, took longer than 10 minutes, or the cookie was blocked); start again');
      const id = await identityOfAnswer(await provider(), login, req.url, config, now, log);
      await deps.signIn(req, reply, id);
      log(`oidc: signed in ${id.subject} (${id.name}) of ${id.issuer} as ${id.roles.join(', ')}`);
      // A page, not a redirect: the session cookie is SameSite=Strict, and a redirect chain that
      // began at the provider is cross-site, so `/` would arrive without it.
      return reply
        .code(200)
        .headers(PAGE_HEADERS)
        .type('text/html; charset=utf-8')
        .send(page('signed in', `<p>Signed in as ${escapeHtml(id.name)}.</p><p><a href="/">Continue to the dashboard</a></p>`, '<meta http-equiv="refresh" content="0;url=/">\n'));
    } catch (err) {
      return fail(reply, err, 'callback');
    }
  });
}
