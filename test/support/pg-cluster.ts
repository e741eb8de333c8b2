/**
 * A throwaway Postgres cluster on this machine, as the `postgres` user when we are root (it refuses
 * root): initdb into a temporary folder, pg_ctl start on 127.0.0.1 and a free port, stopped and
 * deleted by `stopCluster` — or by a detached reaper if its owner process dies first. Used by the test
 * support (one cluster per test run, test/pg-global.ts) and by the bench (a durable one, to measure
 * commit rates).
 */
import { execFile, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

export interface Cluster {
  readonly base: string;
  readonly port: number;
  /** How to run a Postgres binary: as the `postgres` user when we are root (it refuses root). */
  readonly exec: (bin: string, args: readonly string[]) => Promise<void>;
}

/** Where test/pg-global.ts keeps the run's shared cluster record (cluster.json). */
export const PG_RUN_ENV = 'ORCH_TEST_PG_RUN';
/** The vitest process: the shared cluster's reaper stops it when this process is gone. */
export const RUN_PID_ENV = 'ORCH_TEST_RUN_PID';

/** What the run's shared cluster leaves in ORCH_TEST_PG_RUN for the files after it. */
export interface ClusterRecord {
  readonly base: string;
  readonly port: number;
}

export async function admin(port: number, sql: string): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export interface ClusterOptions {
  /**
   * Tests trade durability for speed (fsync, synchronous_commit and full_page_writes off); the
   * bench keeps Postgres's defaults, so its commit rate is the machine's.
   */
  readonly durable?: boolean;
  /**
   * The process whose end stops the cluster if nobody stopped it (the reaper waits on it): this
   * process by default; the test run's vitest process for the run's shared cluster.
   */
  readonly ownerPid?: number;
  /** More connections than Postgres's default 100, for a cluster many test files share. */
  readonly maxConnections?: number;
  /**
   * Loads `pg_stat_statements` (execution and planning time per statement; the bench reads its
   * top statements), when this Postgres has it; `CREATE EXTENSION pg_stat_statements` in a
   * database then makes its view readable there.
   */
  readonly statements?: boolean;
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const bin = binDir();
  const asRoot = process.getuid?.() === 0;
  // Outside the test run's own temporary folder (test/temp-root.ts): that one is deleted when the
  // run ends, while the reaper below may still be stopping this cluster.
  const base = mkdtempSync(join(process.env.ORCH_SYSTEM_TMPDIR ?? tmpdir(), 'orch-pg-'));
  if (asRoot) {
    const pgUid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    chownSync(base, pgUid, gid);
  }
  const exec = execIn(base, bin, asRoot);
  const data = join(base, 'data');
  try {
    await exec('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  } catch (err) {
    rmSync(base, { recursive: true, force: true });
    throw new Error(`test Postgres: initdb failed: ${reason(err)}`);
  }
  const c: Omit<Cluster, 'port'> = { base, exec };
  reapWhenGone(opts.ownerPid ?? process.pid, base, join(bin, 'pg_ctl'), data, asRoot);
  // A free port can be taken between asking and binding: try a few.
  let last: unknown = null;
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const fast = opts.durable ? '' : ' -c fsync=off -c synchronous_commit=off -c full_page_writes=off';
    const connections = opts.maxConnections ? ` -c max_connections=${opts.maxConnections}` : '';
    const statements = opts.statements && hasStatements(bin) ? ' -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track_planning=on' : '';
    const options = `-p ${port} -k ${base} -c listen_addresses=127.0.0.1${fast}${connections}${statements}`;
    try {
      await exec('pg_ctl', ['-D', data, '-l', join(base, 'server.log'), '-o', options, '-w', '-t', '60', 'start']);
      return { ...c, port };
    } catch (err) {
      last = err;
    }
  }
  const log = existsSync(join(base, 'server.log')) ? readFileSync(join(base, 'server.log'), 'utf8').slice(-2000) : '';
  await stopCluster({ ...c, port: 0 });
  throw new Error(`test Postgres: pg_ctl start failed: ${reason(last)}${log ? `\nserver log:\n${log}` : ''}`);
}

/** Whether this Postgres ships `pg_stat_statements` (Debian: in the server package's lib folder). */
function hasStatements(bin: string): boolean {
  return existsSync(join(dirname(bin), 'lib', 'pg_stat_statements.so'));
}

/** A cluster another process started (its folder and port), to stop it from here. */
export function attachCluster(base: string, port: number): Cluster {
  return { base, port, exec: execIn(base, binDir(), process.getuid?.() === 0) };
}

function execIn(base: string, bin: string, asRoot: boolean): Cluster['exec'] {
  return async (name, args) => {
    const file = join(bin, name);
    // cwd: the postgres user may not be allowed into the test's working directory.
    const opts = { cwd: base, env: { ...process.env, LC_ALL: 'C' } };
    if (asRoot) await run('runuser', ['-u', 'postgres', '--', file, ...args], opts);
    else await run(file, [...args], opts);
  };
}

export async function stopCluster(c: Cluster): Promise<void> {
  const data = join(c.base, 'data');
  try {
    if (existsSync(join(data, 'postmaster.pid'))) await c.exec('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
  } finally {
    rmSync(c.base, { recursive: true, force: true });
  }
}

/**
 * A detached shell that waits for the owner process to end, then stops the cluster and deletes it:
 * a process killed by a timeout or a signal never runs its teardown.
 */
function reapWhenGone(owner: number, base: string, pgCtl: string, data: string, asRoot: boolean): void {
  const stop = `${asRoot ? 'runuser -u postgres -- ' : ''}"$2" -D "$3" -m immediate stop >/dev/null 2>&1`;
  const script = `while kill -0 "$1" 2>/dev/null; do sleep 1; done; [ -f "$3/postmaster.pid" ] && ${stop}; rm -rf "$4"`;
  const child = spawn('sh', ['-c', script, 'reaper', String(owner), pgCtl, data, base], {
    detached: true,
    stdio: 'ignore',
    cwd: process.env.ORCH_SYSTEM_TMPDIR ?? tmpdir(),
  });
  child.unref();
}

/** Where initdb, pg_ctl and psql are: on PATH, else Debian's versioned directory (newest first). */
export function binDir(): string {
  // Through links to the real folder, which also holds psql and the other client programs.
  for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir && existsSync(join(dir, 'initdb'))) return dirname(realpathSync(join(dir, 'initdb')));
  const debian = '/usr/lib/postgresql';
  const versions = existsSync(debian) ? readdirSync(debian).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(join(debian, v, 'bin', 'initdb'))) return join(debian, v, 'bin');
  throw new Error('test Postgres: initdb is not installed (Debian: apt-get install postgresql; .ci/run does it)');
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function reason(err: unknown): string {
  const e = err as { message?: string; stderr?: string };
  return (e.stderr?.trim() || e.message || String(err)).slice(0, 2000);
}
