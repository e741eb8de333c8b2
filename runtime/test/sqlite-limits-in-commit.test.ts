/**
 * The SQLite limits store on the journal's connection (what `orch run` uses): the claims and
 * releases of a turn are written inside that turn's journal commit — durable with it, answered
 * after it, rolled back with it — and a failing call leaves the commit whole.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqlite } from '../backend/sqlite/driver.js';
import { SqliteJournal } from '../backend/sqlite/journal.js';
import { SqliteLimitStore } from '../backend/sqlite/limit-store.js';
import type { RunEvent, RunSummary, SharedClaim } from '../scheduler/index.js';
import { tempDir } from './helpers.js';

const summary: RunSummary = { runId: 'r', plan: 'p', parentRunId: null, status: 'running', startedAt: 1, completedAt: null, cost: 0, error: null };
const event = (seq: number): RunEvent => ({ runId: 'r', seq, ts: seq, type: 'step_queued', stepId: `s${seq}`, data: {} });
const claim = (stepKey: string, resource: SharedClaim['resource'] = { name: 'pool', limit: 5 }): SharedClaim => ({ holder: 'h', runId: 'r', stepKey, resource, rates: [] });

/** Leases as another process sees them (its own connection). */
function leases(file: string): string[] {
  const d = openSqlite(file, { readonly: true });
  try {
    return (d.prepare('SELECT step_key FROM slot_leases ORDER BY id').all() as { step_key: string }[]).map((r) => r.step_key);
  } finally {
    d.close();
  }
}

describe('the SQLite limits store inside journal commits', () => {
  it('writes a turn’s claims in that turn’s commit and answers them once it is durable', async () => {
    const file = join(tempDir('orch-limits-commit-'), 'runs.db');
    const journal = new SqliteJournal(file);
    const store = new SqliteLimitStore(file, { journal });
    let answered = false;
    const grant = store.acquire(claim('a'), Date.now()).then((g) => ((answered = true), g));
    const other = store.acquire(claim('b'), Date.now());
    expect(leases(file)).toEqual([]);
    journal.commit(summary, [event(1)]);
    // Durable with the commit, before any timer of the store ran.
    expect(leases(file)).toEqual(['a', 'b']);
    expect(answered).toBe(false);
    expect(await grant).toMatchObject({ kind: 'granted' });
    expect(await other).toMatchObject({ kind: 'granted' });
    await store.release(((await grant) as { leaseId: string }).leaseId);
    expect(leases(file)).toEqual(['b']); // no commit to ride: written on its own
    await store.close();
    journal.close();
  });

  it('rolls its calls back with a refused commit and rejects them; a failing call leaves the commit whole', async () => {
    const file = join(tempDir('orch-limits-commit-'), 'runs.db');
    const journal = new SqliteJournal(file);
    const store = new SqliteLimitStore(file, { journal });
    journal.commit(summary, [event(1)]);
    const refused = store.acquire(claim('a'), Date.now());
    expect(() => journal.commit(summary, [event(1)])).toThrow(/already has event 1/);
    await expect(refused).rejects.toThrow(/already has event 1/);
    expect(leases(file)).toEqual([]);
    // A call that fails (a lease with no resource name breaks NOT NULL): rejected alone, the
    // events of the commit it rode in are kept.
    const broken = store.acquire(claim('x', { name: null as unknown as string, limit: 5 }), Date.now());
    journal.commit(summary, [event(2)]);
    await expect(broken).rejects.toThrow();
    expect(journal.load('r').map((e) => e.seq)).toEqual([1, 2]);
    expect(leases(file)).toEqual([]);
    await store.close();
    journal.close();
  });
});
