/**
 * Who started a run (LANGUAGE.md §9.1 `started_by`), in one line for people to read: the
 * dashboard's run view and inbox and `orch timeline` say it alike. Pure: no DOM, no runtime.
 */

/** The fields of a recorded starter this reads (a journal's, or an API answer's). */
export interface StarterLike {
  readonly subject: string;
  readonly issuer: string;
  readonly method: string;
  readonly name?: string;
}

const TRIGGER_SUBJECT = 'system:trigger/';

/** `trigger nightly`, `pat on the command line`, `alice (token)`, `Alice Doe <u-1> (oidc, https://id.example.com)`. */
export function starterLabel(s: StarterLike): string {
  if (s.method === 'trigger') return `trigger ${s.subject.startsWith(TRIGGER_SUBJECT) ? s.subject.slice(TRIGGER_SUBJECT.length) : s.subject}`;
  if (s.method === 'cli') return `${s.subject} on the command line`;
  const who = s.name && s.name !== s.subject ? `${s.name} <${s.subject}>` : s.subject;
  return `${who} (${s.method}${s.issuer === 'local' ? '' : `, ${s.issuer}`})`;
}

/** The starter a value holds (an API answer's `started_by`), or null when it holds none. */
export function starterIn(v: unknown): StarterLike | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (typeof o.subject !== 'string' || typeof o.issuer !== 'string' || typeof o.method !== 'string') return null;
  return { subject: o.subject, issuer: o.issuer, method: o.method, ...(typeof o.name === 'string' ? { name: o.name } : {}) };
}
