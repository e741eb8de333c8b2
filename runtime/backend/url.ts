/**
 * Telling a Postgres URL from a SQLite path, and showing one without its password. Kept apart
 * from the pg modules so that commands on a SQLite journal never load pg.
 */

/** `postgres://` or `postgresql://`: a URL that names a Postgres database rather than a SQLite file. */
export function isPostgresUrl(text: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(text);
}

/** The URL with its password masked, for messages. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    if (u.searchParams.has('password')) u.searchParams.set('password', '***');
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
  }
}
