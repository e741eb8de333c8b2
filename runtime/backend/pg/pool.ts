/**
 * Connections to an Orch Postgres database. Every table keeps times as epoch milliseconds in
 * `bigint`, which node-postgres returns as strings by default; these pools read them as numbers
 * (exact up to 2^53, far beyond any epoch ms). The parser is per pool, not pg's global one, so
 * other users of pg in the process (graphile-worker) keep their own conventions.
 */
import pg from 'pg';
import { clusterTiming, DEFAULT_CLUSTER_TIMING } from '../../cluster/timing.js';
import { settled } from '../../scheduler/commit-hooks.js';

const INT8_OID = 20;

const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') return (v: string) => Number(v);
    return format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : pg.types.getTypeParser(oid, 'text');
  },
} as pg.CustomTypesConfig;

/**
 * A session left idle inside a transaction is ended by the server after this long. A process
 * frozen mid-commit (SIGSTOP, a VM pause) would otherwise hold its row locks forever — the
 * commit fence's FOR SHARE on its run would block the take-over meant to rescue that very run.
 * As long as a run lease takes to go stale (`clusterTiming().ownerStaleMs`, which tests shrink):
 * a process stalled that long has lost its runs anyway. This is the product's default.
 */
export const IDLE_IN_TRANSACTION_MS = DEFAULT_CLUSTER_TIMING.ownerStaleMs;
const sessionOptions = (genericPlans = false): string =>
  `-c idle_in_transaction_session_timeout=${clusterTiming().ownerStaleMs}${genericPlans ? ' -c plan_cache_mode=force_generic_plan' : ''}`;

export interface PoolOptions {
  readonly max?: number;
  /**
   * Each connection writes a statement as soon as it is given one, not once the one before was
   * answered (node-postgres' pipeline mode): what lets a `transaction`'s statements share a round trip.
   * Code that awaits each statement before the next sees no difference.
   */
  readonly pipeline?: boolean;
  /**
   * Every statement planned without its parameters' values (`plan_cache_mode`): a prepared one
   * once per connection for good. Postgres otherwise plans a prepared statement anew for each
   * execution while those custom plans look cheaper than the generic one — the worker's exchange,
   * whose arrays change length every time, often stayed there: a third of its time was planning.
   * Only for a pool whose statements need no value to find their index (their predicates are literals).
   */
  readonly genericPlans?: boolean;
}

export function openPool(url: string, opts: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, types, max: opts.max ?? 4, application_name: 'orch', options: sessionOptions(opts.genericPlans), pipeline: opts.pipeline ?? false });
  // An idle client whose server went away emits 'error' on the pool; unhandled, that would end
  // the process. The next query on a fresh client reports the problem where it can be handled.
  pool.on('error', () => undefined);
  // The same for a checked-out client whose connection drops (graphile-worker, given this pool,
  // also insists on both handlers).
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/**
 * A single client with the same conventions (LISTEN needs a connection of its own). `keepAlive`:
 * TCP keepalives, so a connection held for a long time by a lock learns when its peer is gone.
 */
export function openClient(url: string, opts: { readonly keepAlive?: boolean } = {}): pg.Client {
  const client = new pg.Client({ connectionString: url, types, application_name: 'orch', options: sessionOptions(), keepAlive: opts.keepAlive ?? false });
  client.on('error', () => undefined);
  return client;
}

/**
 * Runs `fn` in one transaction on a pooled client; rolls back on any error. `BEGIN` is sent
 * without waiting for its answer, so on a pipelining pool (`PoolOptions.pipeline`) it travels
 * with `fn`'s first statement — and with all of them when `fn` sends them at once and waits for
 * them together (`settled`): the journal's commit is then one round trip, and `COMMIT` a second.
 * Elsewhere the statements go one after another, with the same outcome. A statement that fails
 * makes every later one of the transaction fail too (Postgres refuses them once it is aborted),
 * so nothing of it lands; `fn` may also throw after reading the answers (a fence that found
 * nothing) to roll it all back.
 */
export async function transaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    corkedUntilSent(client);
    const begun = client.query('BEGIN');
    const [, result] = await settled([begun, fn(client)]);
    await client.query('COMMIT');
    return result as T;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * Holds what `client` writes until everything the current turn of the event loop sends is queued
 * (its microtasks included: a tick queued from a microtask runs once they are all done), then
 * writes it at once, before any I/O is looked at. node-postgres writes each statement by
 * itself: a commit of BEGIN, its fence, its events and its hooks' statements was five or six
 * writes, each a system call in this process and a wake-up of the backend reading them; corked,
 * one. Only batches what was already sent together: nothing waits for an answer meanwhile.
 */
function corkedUntilSent(client: pg.PoolClient): void {
  const stream = (client as unknown as { connection?: { stream?: { cork?: () => void; uncork?: () => void } } }).connection?.stream;
  if (stream?.cork === undefined || stream.uncork === undefined) return;
  stream.cork();
  queueMicrotask(() => process.nextTick(() => stream.uncork!()));
}
