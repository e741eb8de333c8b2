/**
 * The Orch schema on Postgres, as numbered migrations recorded in `orch.schema_version`. Each
 * migration runs in its own transaction with its version row (Postgres DDL is transactional),
 * all under one advisory lock, so two processes migrating at once apply each migration once and
 * a failed migration leaves the schema at the version before it.
 *
 * The tables mirror the SQLite journal (`sqlite-journal.ts`) and shared limits
 * (`../../limits/sqlite-store.ts`) column for column, with epoch-ms times as `bigint`. Never edit
 * a migration that has shipped: add the next one.
 */
import type pg from 'pg';
import { openPool, type PoolOptions } from './pool.js';
import { displayUrl } from '../url.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const SCHEMA = 'orch';

/** Any constant unlikely to collide with another application's advisory locks. */
const MIGRATE_LOCK = 0x6f726368; // 'orch'

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'journal, run registry, controls and shared limits',
    sql: `
CREATE TABLE orch.runs (
  id text PRIMARY KEY,
  plan text NOT NULL,
  parent_id text,
  status text NOT NULL,
  started_at bigint NOT NULL,
  completed_at bigint,
  cost double precision NOT NULL DEFAULT 0,
  error text,
  input text,
  owner_pid integer,
  heartbeat_at bigint
);
CREATE INDEX runs_parent_started ON orch.runs (parent_id, started_at);
CREATE INDEX runs_unfinished ON orch.runs (started_at) WHERE parent_id IS NULL AND status IN ('running', 'paused');

-- data stays the exact JSON text the journal wrote (redacted), as in SQLite: jsonb would
-- reorder keys and the journal is read back whole, never queried inside.
CREATE TABLE orch.events (
  run_id text NOT NULL,
  seq integer NOT NULL,
  ts bigint NOT NULL,
  type text NOT NULL,
  step_id text,
  data text NOT NULL,
  PRIMARY KEY (run_id, seq)
);

CREATE TABLE orch.controls (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id text NOT NULL,
  kind text NOT NULL,
  step_id text,
  payload text,
  created_at bigint NOT NULL,
  consumed_at bigint
);
CREATE INDEX controls_open ON orch.controls (run_id, id) WHERE consumed_at IS NULL;

-- The IR, deflated, apart from the run row that changes with every status and cost change.
CREATE TABLE orch.run_plans (
  run_id text PRIMARY KEY,
  ir bytea NOT NULL
);

CREATE TABLE orch.limit_leases (
  id text PRIMARY KEY,
  resource text NOT NULL,
  holder text NOT NULL,
  run_id text,
  step_key text,
  acquired_at bigint NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX limit_leases_resource ON orch.limit_leases (resource, expires_at);
CREATE INDEX limit_leases_holder ON orch.limit_leases (holder);

CREATE TABLE orch.rate_hits (
  key text NOT NULL,
  at bigint NOT NULL,
  run_id text
);
CREATE INDEX rate_hits_key ON orch.rate_hits (key, at);
`,
  },
  {
    version: 2,
    name: 'orch serve trigger state',
    sql: `
-- What several orch serve processes on one database share about their triggers: when each
-- schedule last ticked (for --catch-up), which side of its edge each condition is on, the context
-- signals, and which firings were claimed (one run per schedule tick and per finished run).
CREATE TABLE orch.serve_trigger_state (
  name text PRIMARY KEY,
  last_tick_ms bigint,
  condition boolean
);
CREATE TABLE orch.serve_fired (
  trigger text NOT NULL,
  fire_key text NOT NULL,
  PRIMARY KEY (trigger, fire_key)
);
CREATE TABLE orch.serve_context (
  key text PRIMARY KEY,
  value text NOT NULL
);
`,
  },
  {
    version: 3,
    name: 'run leases',
    sql: `
-- The process that advances a run holds its lease: owner is host:pid:random (a pid alone says
-- nothing across machines), owner_epoch goes up with every take-over and fences the commits of
-- an owner that was presumed dead.
ALTER TABLE orch.runs ADD COLUMN owner text;
ALTER TABLE orch.runs ADD COLUMN owner_epoch bigint NOT NULL DEFAULT 0;
`,
  },
  {
    version: 4,
    name: 'step attempts dispatched to orch worker processes, and the workers',
    sql: `
-- One row per attempt the owner of a run dispatched as a graphile-worker job. \`fence\` grows each
-- time the attempt is dispatched again (after its worker died); a worker records a result only
-- while the fence it was given still matches and the row is still its own and running.
CREATE TABLE orch.attempts (
  run_id text NOT NULL,
  step_key text NOT NULL,
  attempt integer NOT NULL,
  fence bigint NOT NULL DEFAULT 1,
  owner text NOT NULL,
  worker text,
  status text NOT NULL CHECK (status IN ('dispatched', 'running', 'succeeded', 'failed', 'abandoned', 'refused')),
  outcome text,
  folded boolean NOT NULL DEFAULT false,
  dispatched_at timestamptz NOT NULL DEFAULT now(),
  -- the transaction that dispatched it: normally the one that committed its step_started event
  dispatched_xact bigint NOT NULL DEFAULT txid_current(),
  started_at timestamptz,
  finished_at timestamptz,
  PRIMARY KEY (run_id, step_key, attempt)
);
CREATE INDEX attempts_unfolded ON orch.attempts (run_id) WHERE NOT folded AND status IN ('succeeded', 'failed', 'abandoned', 'refused');
CREATE INDEX attempts_by_worker ON orch.attempts (worker) WHERE status = 'running';

-- \`orch worker\` processes. \`job_workers\`: the ids of its graphile-worker workers (the
-- \`locked_by\` of the jobs it holds), so the sweeper can unlock a dead worker's jobs.
CREATE TABLE orch.workers (
  id text PRIMARY KEY,
  host text NOT NULL,
  pid integer NOT NULL,
  resources text[] NOT NULL DEFAULT '{}',
  slots integer NOT NULL,
  job_workers text[] NOT NULL DEFAULT '{}',
  started_at timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  state text NOT NULL DEFAULT 'alive' CHECK (state IN ('alive', 'dead', 'stopped'))
);
CREATE INDEX workers_alive ON orch.workers (heartbeat_at) WHERE state = 'alive';
`,
  },
  {
    version: 5,
    name: 'dispatched attempts by their graphile-worker job key',
    sql: `
-- The sweeper looks up the attempts of jobs a worker locked and never claimed (it died between
-- the two); the expression is the job key the owner gives each dispatch (cluster/jobs.ts).
CREATE INDEX attempts_dispatched_by_job ON orch.attempts ((run_id || '/' || step_key || '#' || attempt::text || '.' || fence::text))
  WHERE status = 'dispatched';
`,
  },
  {
    version: 6,
    name: 'handler hashes recorded per run',
    sql: `
-- The SHA-256 of each capability's handler module as the run's first owner found it, recorded
-- before its first dispatch: every later dispatch (a new owner's too) asks workers for this
-- version, so a run keeps the handlers it started with while the project is upgraded under it.
-- hash NULL: a built-in handler, or one the first owner could not find.
CREATE TABLE orch.run_handlers (
  run_id text NOT NULL,
  capability text NOT NULL,
  hash text,
  PRIMARY KEY (run_id, capability)
);
`,
  },
  {
    version: 7,
    name: 'shared budget ledgers',
    sql: `
-- LANGUAGE.md §8.2 under §7.2: one ledger per policy budget for the runs open on the database.
-- An unsettled lease is an attempt's reservation in flight, a settled one what it really spent, a
-- lease with no step_key marks a run open on the ledger. An ended run's leases are kept (closed)
-- until no run is open on the ledger; a dead process's open ones expire when it stops renewing.
CREATE TABLE orch.budget_leases (
  id bigserial PRIMARY KEY,
  key text NOT NULL,
  owner text NOT NULL,
  holder text NOT NULL,
  step_key text,
  amount double precision NOT NULL,
  settled boolean NOT NULL DEFAULT false,
  closed boolean NOT NULL DEFAULT false,
  expires_at bigint NOT NULL
);
CREATE INDEX budget_leases_key ON orch.budget_leases (key, expires_at);
CREATE INDEX budget_leases_owner ON orch.budget_leases (owner);
CREATE INDEX budget_leases_holder ON orch.budget_leases (holder);
`,
  },
  {
    version: 8,
    name: 'people: sessions, API tokens and the audit trail',
    sql: `
-- LANGUAGE.md §8.8 (runtime/people/people-store.ts): sessions and tokens by a hash of their secret
-- (the secret itself is never stored); the audit trail is append-only, enforced here as in SQLite.
CREATE TABLE orch.auth_sessions (
  id_hash text PRIMARY KEY,
  subject text NOT NULL,
  issuer text NOT NULL,
  identity text NOT NULL,
  csrf_hash text NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX auth_sessions_who ON orch.auth_sessions (issuer, subject);
CREATE INDEX auth_sessions_expiry ON orch.auth_sessions (expires_at);

CREATE TABLE orch.auth_tokens (
  id text PRIMARY KEY,
  user_name text NOT NULL,
  hash text NOT NULL UNIQUE,
  created_at bigint NOT NULL,
  expires_at bigint,
  revoked_at bigint
);

CREATE TABLE orch.audit_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at bigint NOT NULL,
  subject text,
  issuer text,
  auth_method text,
  name text,
  http_method text NOT NULL,
  route text NOT NULL,
  path text NOT NULL,
  run_id text,
  step_id text,
  status integer NOT NULL,
  client text
);
CREATE INDEX audit_log_at ON orch.audit_log (at);
CREATE FUNCTION orch.audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit log is append-only';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON orch.audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION orch.audit_log_append_only();
`,
  },
  {
    version: 9,
    name: 'the step queue in orch.attempts',
    sql: `
-- The attempt row is the job (docs/cluster.md, "The step queue"): the owner writes the payload
-- with the attempt's step_started, a worker claims several ready rows at once (FOR UPDATE SKIP
-- LOCKED) in the statement that records its previous results. \`task\`: orch_step or
-- orch_step:RESOURCE; \`handler\`: the handler hash a worker must have; \`job\`: the payload
-- (cluster/jobs.ts StepJob without the fence, which is the row's), cleared once recorded.
ALTER TABLE orch.attempts ADD COLUMN task text, ADD COLUMN handler text, ADD COLUMN job text;
CREATE INDEX attempts_ready ON orch.attempts (task, dispatched_at) WHERE status = 'dispatched';
-- graphile-worker's job keys are gone: nothing looks attempts up by them any more.
DROP INDEX orch.attempts_dispatched_by_job;
`,
  },
  {
    version: 10,
    name: 'sign-in failures shared by every server',
    sql: `
-- LANGUAGE.md §8.8, repeated sign-in failures slow further attempts (runtime/people/people-store.ts,
-- serve/http/login-throttle.ts): one row per key (user:NAME or addr:ADDRESS, never a password),
-- incremented by an upsert so concurrent servers all count; rows quiet past the forget time are
-- deleted by last_at.
CREATE TABLE orch.login_failures (
  key text PRIMARY KEY,
  failures integer NOT NULL,
  last_at bigint NOT NULL
);
CREATE INDEX login_failures_last ON orch.login_failures (last_at);
`,
  },
  {
    version: 11,
    name: 'workers without graphile-worker ids',
    sql: `
-- The ids of a worker's graphile-worker workers, for the sweeper to unlock a dead worker's jobs:
-- nothing has written or read them since the step queue moved into orch.attempts (migration 9).
ALTER TABLE orch.workers DROP COLUMN job_workers;
`,
  },
  {
    version: 12,
    name: 'audit: started runs, refused requests counted, retention',
    sql: `
-- v0.4 (runtime/people/people-store.ts): an entry names the runs its request started; a refused
-- request that proved no identity is counted per hour, route, answer, named user and client
-- instead of stored one by one; and auth.audit_retention may delete entries older than the cutoff
-- a prune sets for its own transaction (orch.audit_prune_before), nothing younger: the statement
-- trigger keeps refusing UPDATE and TRUNCATE, a row trigger DELETE of anything younger.
ALTER TABLE orch.audit_log ADD COLUMN started text;
CREATE TABLE orch.audit_refused (
  hour bigint NOT NULL,
  http_method text NOT NULL,
  route text NOT NULL,
  status integer NOT NULL,
  subject text NOT NULL,
  client text NOT NULL,
  count bigint NOT NULL,
  first_at bigint NOT NULL,
  last_at bigint NOT NULL,
  PRIMARY KEY (hour, http_method, route, status, subject, client)
);
DROP TRIGGER audit_log_append_only ON orch.audit_log;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR TRUNCATE ON orch.audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION orch.audit_log_append_only();
CREATE FUNCTION orch.audit_log_retention() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.at < COALESCE(NULLIF(current_setting('orch.audit_prune_before', true), '')::bigint, 0) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'the audit log is append-only';
END $$;
CREATE TRIGGER audit_log_retention BEFORE DELETE ON orch.audit_log
  FOR EACH ROW EXECUTE FUNCTION orch.audit_log_retention();
`,
  },
  {
    version: 13,
    name: 'the context journal',
    sql: `
-- v0.4 (LANGUAGE.md §9.4, runtime/backend/context-journal.ts): the context's own events, apart
-- from any run, listed newest first and pruned by the journal's retention (time, epoch ms).
CREATE TABLE orch.context_events (
  seq bigserial PRIMARY KEY,
  type text NOT NULL,
  signal text NOT NULL,
  time bigint NOT NULL,
  data jsonb NOT NULL
);
CREATE INDEX context_events_time ON orch.context_events (time);
`,
  },
  {
    version: 14,
    name: 'attempts folded in place',
    sql: `
-- The owner marks every finished attempt folded in the commit of what it led to: with \`folded\`
-- in an index's predicate, each of those marks was a new row version and a new primary-key entry
-- (docs/cluster.md, "The shared CPU per step"). Nothing scans for unfolded rows any more — the
-- owner looks its pending attempts up by key, a new owner a run's steps in flight by key — so the
-- mark, on a page with room left, is a heap-only update.
DROP INDEX orch.attempts_unfolded;
ALTER TABLE orch.attempts SET (fillfactor = 50);
`,
  },
  {
    version: 15,
    name: 'rate hits counted from their step start',
    sql: `
-- A rate hit counts from the instant its step starts, not from its grant (the contract in
-- runtime/scheduler/core/limits.ts): inserted pending, at the latest instant its step may start,
-- then moved to the start by its grant's \`started\`, or dropped unstarted. Hits of earlier
-- versions were stamped at the grant: they count as started.
ALTER TABLE orch.rate_hits ADD COLUMN id bigserial, ADD COLUMN started boolean NOT NULL DEFAULT true;
`,
  },
  {
    version: 16,
    name: 'events stored as one row per commit',
    sql: `
-- A commit's events for one run in one row (runtime/backend/event-batch-text.ts, as SQLite stores
-- them): one heap tuple and one primary-key entry per commit instead of one of each per event
-- (docs/cluster.md, "The journal's events as one row per commit"). events is JSON text,
-- [[ts - batch ts, type, step id, data], ...] for first_seq .. last_seq; each data the exact
-- (redacted) text the events table held. Existing events move as batches of one.
CREATE TABLE orch.event_batches (
  run_id text NOT NULL,
  first_seq integer NOT NULL,
  last_seq integer NOT NULL,
  ts bigint NOT NULL,
  events text NOT NULL,
  PRIMARY KEY (run_id, first_seq)
);
-- A batch of ~75 events is ~10 KB: compressed and kept in its row (MAIN), not cut into TOAST
-- chunks, each a tuple and an index entry of its own (the default) or several uncompressed
-- (EXTERNAL); lz4 where the server has it, a third less CPU than pglz for the same size.
ALTER TABLE orch.event_batches ALTER COLUMN events SET STORAGE MAIN;
DO $$ BEGIN
  EXECUTE 'ALTER TABLE orch.event_batches ALTER COLUMN events SET COMPRESSION lz4';
EXCEPTION WHEN feature_not_supported OR syntax_error THEN NULL;
END $$;
INSERT INTO orch.event_batches (run_id, first_seq, last_seq, ts, events)
  SELECT run_id, seq, seq, ts, '[[0,' || to_json(type)::text || ',' || COALESCE(to_json(step_id)::text, 'null') || ',' || data || ']]'
  FROM orch.events;
DROP TABLE orch.events;
-- One row per event with the columns the table had, for SQL readers (the journal reads batches).
-- Each event is split with json_array_elements, which hands out its elements as they are written:
-- -> and ->> would unescape every string of the event on the way, and an escaped NUL in its data (JSON
-- text may hold one, Postgres text may not) fails them.
CREATE VIEW orch.events (run_id, seq, ts, type, step_id, data) AS
  SELECT b.run_id, b.first_seq + e.i::integer - 1, b.ts + (f.f[1] #>> '{}')::bigint, f.f[2] #>> '{}', f.f[3] #>> '{}', f.f[4]::text
  FROM orch.event_batches b,
       json_array_elements(b.events::json) WITH ORDINALITY AS e(v, i),
       LATERAL (SELECT array_agg(x ORDER BY n) AS f FROM json_array_elements(e.v) WITH ORDINALITY AS p(x, n)) f;
`,
  },
  {
    version: 17,
    name: 'the trigger that started a run kept with its row',
    sql: `
-- Which trigger started the run (plan_created.trigger), for GET /runs without reading each run's
-- events: the trigger's name, '' when none did, NULL when not known (rows of earlier versions).
ALTER TABLE orch.runs ADD COLUMN trigger text;
`,
  },
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export interface MigrateResult {
  /** The schema version before (0: no Orch schema yet). */
  readonly from: number;
  readonly to: number;
  readonly applied: readonly number[];
}

/** A database whose schema this Orch cannot use as it is. */
export class SchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaError';
  }
}

/** Brings the database's `orch` schema to `LATEST_VERSION` (or `upTo`); safe to run concurrently. */
export async function migrate(target: string | pg.Pool, opts: { readonly upTo?: number } = {}): Promise<MigrateResult> {
  const pool = typeof target === 'string' ? openPool(target, { max: 1 }) : target;
  const upTo = opts.upTo ?? LATEST_VERSION;
  const client = await pool.connect();
  try {
    // Session-level: held across the per-migration transactions below, released in `finally`.
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATE_LOCK]);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${SCHEMA}.schema_version (
           version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const from = await currentVersion(client);
      if (from > LATEST_VERSION)
        throw new SchemaError(`the database's orch schema is version ${from}, newer than this Orch knows (${LATEST_VERSION}): upgrade Orch`);
      const applied: number[] = [];
      for (const m of MIGRATIONS) {
        if (m.version <= from || m.version > upTo) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query(`INSERT INTO ${SCHEMA}.schema_version (version, name) VALUES ($1, $2)`, [m.version, m.name]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw new SchemaError(`migration ${m.version} (${m.name}) failed: ${(err as Error).message}`);
        }
        applied.push(m.version);
      }
      return { from, to: Math.max(from, ...applied), applied };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATE_LOCK]).catch(() => undefined);
    }
  } finally {
    client.release();
    if (typeof target === 'string') await pool.end();
  }
}

/** The applied schema version (0 when the database has no Orch schema). */
export async function schemaVersion(db: pg.Pool | pg.ClientBase): Promise<number> {
  const exists = await db.query<{ t: string | null }>(`SELECT to_regclass('${SCHEMA}.schema_version')::text AS t`);
  if (!exists.rows[0]?.t) return 0;
  return currentVersion(db);
}

/** Refuses a database that `orch db migrate` has not brought to this Orch's schema. */
export async function requireSchema(db: pg.Pool | pg.ClientBase, url: string): Promise<void> {
  const v = await schemaVersion(db);
  if (v === LATEST_VERSION) return;
  throw new SchemaError(
    v < LATEST_VERSION
      ? `the orch schema of ${url} is at version ${v}, this Orch needs ${LATEST_VERSION}: run \`orch db migrate\``
      : `the orch schema of ${url} is version ${v}, newer than this Orch knows (${LATEST_VERSION}): upgrade Orch`,
  );
}

async function currentVersion(db: pg.Pool | pg.ClientBase): Promise<number> {
  const r = await db.query<{ v: number | string | null }>(`SELECT max(version) AS v FROM ${SCHEMA}.schema_version`);
  return Number(r.rows[0]?.v ?? 0);
}

/**
 * A pool on a database `orch db migrate` has brought to this Orch's schema; refused (and closed)
 * otherwise. What the journal and the limits store open.
 */
export async function openMigratedPool(url: string, max: number, opts: Omit<PoolOptions, 'max'> = {}): Promise<pg.Pool> {
  const pool = openPool(url, { ...opts, max });
  try {
    await requireSchema(pool, displayUrl(url));
  } catch (err) {
    await pool.end();
    throw err;
  }
  return pool;
}
