/**
 * Who may call the API: the bearer token (scripts), or a browser session opened once with that
 * token on the login page. Sessions live in memory (a restart logs browsers out); a session's
 * CSRF token is compared on every state-changing request it makes.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Identity } from '../../runtime/index.js';

export function generateToken(): string {
  return randomBytes(24).toString('base64url');
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** A check of an `Authorization: Bearer <token>` header, constant-time whatever the presented length. */
export function bearerCheck(token: string): (header: string | undefined) => boolean {
  const expected = digest(token);
  return (header) => {
    if (typeof header !== 'string') return false;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) return false;
    return timingSafeEqual(digest(m[1]!), expected);
  };
}

/** A string equal to `token`, in constant time. */
export function tokenMatches(token: string): (presented: unknown) => boolean {
  const expected = digest(token);
  return (presented) => typeof presented === 'string' && timingSafeEqual(digest(presented), expected);
}

export interface Session {
  /** Sent back by the page in `x-csrf-token` on every POST (double submit of the `orch_csrf` cookie). */
  readonly csrf: string;
  /** The name given at login, recorded as who approved or rejected. */
  readonly who: string;
  /** Who signed in, when a provider proved it (OpenID Connect); absent for a token sign-in. */
  readonly identity?: Identity;
  readonly expires: number;
}

export const SESSION_COOKIE = 'orch_session';
export const CSRF_COOKIE = 'orch_csrf';
export const CSRF_HEADER = 'x-csrf-token';
const SESSION_MS = 12 * 3600_000;

/** Open browser sessions, keyed by a hash of the cookie value (the value itself is never stored). */
export class Sessions {
  private readonly byHash = new Map<string, Session>();

  constructor(private readonly now: () => number = Date.now) {}

  open(who: string, identity?: Identity): { id: string; session: Session } {
    this.sweep();
    const id = randomBytes(32).toString('base64url');
    const session: Session = { csrf: randomBytes(24).toString('base64url'), who, ...(identity ? { identity } : {}), expires: this.now() + SESSION_MS };
    this.byHash.set(digest(id).toString('hex'), session);
    return { id, session };
  }

  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const key = digest(id).toString('hex');
    const s = this.byHash.get(key);
    if (s && s.expires < this.now()) {
      this.byHash.delete(key);
      return undefined;
    }
    return s;
  }

  close(id: string | undefined): void {
    if (id) this.byHash.delete(digest(id).toString('hex'));
  }

  /** The CSRF token a request presented matches its session's, in constant time. */
  static csrfOk(session: Session, presented: unknown): boolean {
    return typeof presented === 'string' && timingSafeEqual(digest(presented), digest(session.csrf));
  }

  private sweep(): void {
    const now = this.now();
    for (const [k, s] of this.byHash) if (s.expires < now) this.byHash.delete(k);
  }
}
