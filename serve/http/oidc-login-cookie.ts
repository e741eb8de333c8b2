/**
 * What a browser carries between leaving for the OpenID provider and coming back: the `state`,
 * `nonce` and PKCE `code_verifier` of that one sign-in, sealed (AES-256-GCM) in a short-lived
 * HttpOnly cookie. Nothing is kept in the server's memory, so any `orch serve` behind the same
 * address can finish a sign-in another started — as long as they share the key, which is derived
 * from the client secret (a public client's key is random per process).
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

export const LOGIN_COOKIE = 'orch_oidc';
/** How long a person may take at the provider. */
export const LOGIN_TTL_MS = 10 * 60_000;

export interface PendingLogin {
  readonly state: string;
  readonly nonce: string;
  readonly verifier: string;
  /** The redirect URI sent to the provider, which the code exchange must repeat. */
  readonly redirectUri: string;
  readonly expires: number;
}

/** The sealing key: from the client secret when there is one (shared by every instance), else random. */
export function loginCookieKey(clientSecret: string | null): Buffer {
  const ikm = clientSecret ?? randomBytes(32);
  return Buffer.from(hkdfSync('sha256', ikm, 'orch', 'orch oidc login cookie v1', 32));
}

export function sealLogin(key: Buffer, login: PendingLogin): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(login), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

/** The login the cookie holds, or null when it is absent, forged, altered or expired. */
export function openLogin(key: Buffer, sealed: string | undefined, now: number): PendingLogin | null {
  if (typeof sealed !== 'string' || sealed.length > 4096) return null;
  const raw = Buffer.from(sealed, 'base64url');
  if (raw.length < 12 + 16 + 2) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    const l = JSON.parse(text) as Partial<PendingLogin>;
    const strings = [l.state, l.nonce, l.verifier, l.redirectUri].every((s) => typeof s === 'string' && s !== '');
    if (!strings || typeof l.expires !== 'number' || l.expires < now) return null;
    return l as PendingLogin;
  } catch {
    return null;
  }
}
