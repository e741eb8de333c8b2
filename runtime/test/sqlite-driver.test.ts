/**
 * The SQLite driver the journal stands on, on whichever engine this Node gets (node:sqlite on
 * 22.13+, better-sqlite3 on 20 — CI runs this file on each line): transactions are atomic,
 * nested ones are savepoints, read-only is read-only, and a process (or a worker thread) that
 * holds an open journal exits cleanly — the abort better-sqlite3 12 has on Node 24 happens
 * exactly there, at environment teardown.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqlite, sqliteDriver, type SqlDatabase } from '../backend/sqlite/driver.js';

const dir = mkdtempSync(join(tmpdir(), 'orch-sqlite-driver-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const REPO = join(import.meta.dirname, '..', '..');

function table(db: SqlDatabase): [string, number][] {
  return (db.prepare('SELECT k, v FROM t ORDER BY k').all() as { k: string; v: number }[]).map((r) => [r.k, r.v]);
}

describe(`the SQLite driver on Node ${process.version}`, () => {
  it('uses node:sqlite where Node has it unflagged, better-sqlite3 only before that', () => {
    const [maj, min] = process.versions.node.split('.').map(Number) as [number, number];
    const builtin = maj > 22 || (maj === 22 && min >= 13);
    if (!process.env.ORCH_SQLITE_DRIVER) expect(sqliteDriver()).toBe(builtin ? 'node:sqlite' : 'better-sqlite3');
    expect(openSqlite(':memory:').driver).toBe(sqliteDriver());
  });

  it('keeps a file database in WAL mode, with positional and named parameters and null', () => {
    const db = openSqlite(join(dir, 'wal.db'));
    db.exec('PRAGMA journal_mode = WAL');
    expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    db.exec('CREATE TABLE p (a TEXT, b INTEGER, c REAL)');
    db.prepare('INSERT INTO p VALUES (?, ?, ?)').run('x', 1, null);
    expect(Number(db.prepare('INSERT INTO p VALUES (@a, @b, @c)').run({ a: 'y', b: 2, c: 0.5 }).changes)).toBe(1);
    expect(db.prepare('SELECT * FROM p ORDER BY a').all()).toEqual([
      { a: 'x', b: 1, c: null },
      { a: 'y', b: 2, c: 0.5 },
    ]);
    expect(db.prepare('SELECT * FROM p WHERE a = ?').get('none')).toBeUndefined();
    db.close();
    db.close();
    expect(db.open).toBe(false);
  });

  it('opens read-only: reads work, writes throw, a missing file is an error', () => {
    const path = join(dir, 'ro.db');
    const w = openSqlite(path);
    w.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER); INSERT INTO t VALUES (\'a\', 1)');
    w.close();
    const r = openSqlite(path, { readonly: true });
    expect(table(r)).toEqual([['a', 1]]);
    expect(() => r.exec("INSERT INTO t VALUES ('b', 2)")).toThrow();
    r.close();
    expect(() => openSqlite(join(dir, 'missing.db'), { readonly: true })).toThrow();
  });

  it('property: a transaction commits all of its writes or, when it throws, none (nested = savepoint)', () => {
    const op = fc.record({ key: fc.constantFrom('a', 'b', 'c', 'd'), value: fc.integer({ min: -5, max: 5 }) });
    const tx = fc.record({ writes: fc.array(op, { maxLength: 5 }), inner: fc.array(op, { maxLength: 3 }), innerThrows: fc.boolean(), outerThrows: fc.boolean() });
    fc.assert(
      fc.property(fc.array(tx, { maxLength: 8 }), (txs) => {
        const db = openSqlite(':memory:');
        db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)');
        const put = db.prepare('INSERT INTO t (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v');
        const model = new Map<string, number>();
        const write = (m: Map<string, number>, w: { key: string; value: number }) => {
          put.run(w.key, w.value);
          m.set(w.key, w.value);
        };
        for (const t of txs) {
          const staged = new Map(model);
          const inner = db.transaction(() => {
            const s = new Map(staged);
            for (const w of t.inner) write(s, w);
            if (t.innerThrows) throw new Error('inner');
            for (const [k, v] of s) staged.set(k, v);
          });
          const outer = db.transaction(() => {
            for (const w of t.writes) write(staged, w);
            try {
              inner();
            } catch {
              // the savepoint rolled back; the outer transaction goes on
            }
            if (t.outerThrows) throw new Error('outer');
          });
          try {
            outer();
            for (const [k, v] of staged) model.set(k, v);
          } catch {
            // rolled back: the model stays as it was
          }
          expect(table(db)).toEqual([...model].sort(([a], [b]) => a.localeCompare(b)));
        }
        db.close();
      }),
      { numRuns: 60 },
    );
  });
});

describe(`a process holding an open journal exits cleanly on Node ${process.version}`, () => {
  // The journal is left open on purpose: its statements are finalized at teardown, where the
  // Node 24 abort happened. dist/ is built by the test global setup.
  const script = (where: 'main' | 'worker', exit: 'natural' | 'process.exit') => `
import { Worker, isMainThread } from 'node:worker_threads';
const { SqliteJournal } = await import(${JSON.stringify(pathToFileURL(join(REPO, 'dist', 'runtime', 'backend', 'sqlite', 'journal.js')).href)});
function use(path) {
  const j = new SqliteJournal(path);
  const summary = { runId: 'r1', plan: 'p', parentRunId: null, status: 'running', startedAt: 1, completedAt: null, cost: 0, error: null };
  j.registerRun('r1', 'p', {}, {}, 1);
  j.commit(summary, [{ runId: 'r1', seq: 1, ts: 1, type: 'execution_started', stepId: null, data: {} }]);
  if (j.load('r1').length !== 1) throw new Error('journal lost an event');
  j.listRuns();
}
const path = process.argv[2];
if (${JSON.stringify(where)} === 'worker' && isMainThread) {
  const w = new Worker(new URL(import.meta.url), { argv: [path] });
  w.on('error', (e) => { console.error(e); process.exitCode = 3; });
  w.on('exit', (code) => { if (code !== 0) process.exitCode = code; ${exit === 'process.exit' ? 'process.exit();' : ''} });
} else {
  use(path);
  ${exit === 'process.exit' ? 'process.exit(0);' : ''}
}
`;
  for (const where of ['main', 'worker'] as const)
    for (const exit of ['natural', 'process.exit'] as const)
      it(`journal open in the ${where} thread, ${exit === 'natural' ? 'event loop drains' : 'process.exit()'}: exit 0, stderr empty`, () => {
        const file = join(dir, `exit-${where}-${exit}.mjs`);
        writeFileSync(file, script(where, exit));
        const r = spawnSync(process.execPath, [file, join(dir, `exit-${where}-${exit}.db`)], { encoding: 'utf8', timeout: 30_000 });
        expect(r.stderr).toBe('');
        expect(r.signal).toBeNull();
        expect(r.status).toBe(0);
      });
});

describe(`processes that open one fresh journal at once on Node ${process.version}`, () => {
  // SQLite answers the lock upgrade of two processes creating one file with "database is locked"
  // at once, without waiting out busy_timeout (node:sqlite showed it: `orch run` failed to start).
  const script = `
const { SqliteJournal } = await import(${JSON.stringify(pathToFileURL(join(REPO, 'dist', 'runtime', 'backend', 'sqlite', 'journal.js')).href)});
const { SqliteLimitStore } = await import(${JSON.stringify(pathToFileURL(join(REPO, 'dist', 'runtime', 'backend', 'sqlite', 'limit-store.js')).href)});
const j = new SqliteJournal(process.argv[2]);
const s = new SqliteLimitStore(process.argv[2]);
j.registerRun(process.argv[3], 'p', {}, {}, 1);
await s.close();
j.close();
`;
  it('all open it: none fails with "database is locked"', async () => {
    const { spawn } = await import('node:child_process');
    const file = join(dir, 'race.mjs');
    writeFileSync(file, script);
    for (let round = 0; round < 8; round++) {
      const db = join(dir, `race-${round}.db`);
      const results = await Promise.all(
        Array.from({ length: 4 }, (_, i) => {
          const child = spawn(process.execPath, [file, db, `r${i}`], { stdio: ['ignore', 'ignore', 'pipe'] });
          let stderr = '';
          child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
          return new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stderr })));
        }),
      );
      for (const r of results) expect(r, r.stderr).toEqual({ code: 0, stderr: '' });
      const d = openSqlite(db, { readonly: true });
      expect((d.prepare('SELECT COUNT(*) AS n FROM runs').get() as { n: number }).n).toBe(4);
      d.close();
    }
  }, 60_000);
});
