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

/** The fields of a `plan_created` this reads (§9.1): who started it, who caused it, the run it came from. */
export interface OriginLike {
  readonly started_by?: StarterLike;
  readonly caused_by?: StarterLike;
  readonly retryOf?: string;
  readonly chained_from?: string;
  readonly forked_from?: { readonly run: string; readonly step: string };
  readonly parentRunId?: string | null;
}

/** `started by trigger t · caused by alice (token) · after r-2`: a run's origin on one line, as `orch timeline` prints it on `plan_created`. */
export function originNote(d: OriginLike): string {
  const from = d.retryOf
    ? `retry of ${d.retryOf}`
    : d.chained_from
      ? `after ${d.chained_from}`
      : d.forked_from
        ? `fork of ${d.forked_from.run} at ${d.forked_from.step}`
        : d.parentRunId
          ? `sub-plan of ${d.parentRunId}`
          : null;
  return [d.started_by ? `started by ${starterLabel(d.started_by)}` : null, d.caused_by ? `caused by ${starterLabel(d.caused_by)}` : null, from]
    .filter((x) => x !== null)
    .join(' · ');
}
