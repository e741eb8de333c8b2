/**
 * Which backend a `--db` names, decided here and nowhere else: a Postgres URL (`postgres://…`,
 * `postgresql://…`) is a cluster's database, anything else a SQLite file. pg is imported only for
 * a Postgres URL, so a SQLite run never loads it. Callers then ask the backend what it can do
 * (`capabilities`) rather than looking at the text again.
 */
import { join, resolve } from 'node:path';
import type { Backend } from './backend.js';
import { isPostgresUrl } from './url.js';

/** The journal of a project when neither `--db` nor `$ORCH_DB` names one. */
export const DEFAULT_DB = join('.orch', 'runs.db');

/** `--db`, else `$ORCH_DB`, else `.orch/runs.db`. */
export function databaseOf(given?: string | null): string {
  return given ?? process.env.ORCH_DB ?? DEFAULT_DB;
}

/** The backend of `db`: a Postgres URL as given, a SQLite path made absolute. Nothing is opened yet. */
export async function openBackend(db: string): Promise<Backend> {
  if (isPostgresUrl(db)) return (await import('./pg/backend.js')).pgBackend(db);
  return (await import('./sqlite/backend.js')).sqliteBackend(db === ':memory:' ? db : resolve(db));
}
