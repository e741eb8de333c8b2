/**
 * Where a journal keeps a run's IR: deflated in `run_plans`, read back as the same JSON text;
 * a journal written before (IR as text in `runs.ir`) still reads; pruning removes it too.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteJournal } from '../backend/sqlite/journal.js';
import { openSqlite } from '../backend/sqlite/driver.js';
import { lit, plan, step } from './ir-builder.js';
import { local, tempDir } from './helpers.js';

const ir = plan({ name: 'p', base_dir: '.', capabilities: [local('work', 'work')], steps: [step({ id: 'a', capability: 'work', args: { v: lit('x'.repeat(500)) } })] });

describe('the journal keeps the IR apart from the run row', () => {
  it('stores it deflated and gives back the same JSON; an older journal with the IR in runs.ir still reads', () => {
    const file = join(tempDir(), 'runs.db');
    const j = new SqliteJournal(file);
    j.registerRun('new', 'p', ir, { n: 1 }, 1000);
    expect(JSON.parse(j.getRun('new')!.ir!)).toEqual(ir);
    j.commit({ runId: 'old', plan: 'p', parentRunId: null, status: 'running', startedAt: 1, completedAt: null, cost: 0, error: null }, []);
    j.close();
    const db = openSqlite(file);
    const stored = db.prepare('SELECT length(ir) AS n FROM run_plans WHERE run_id = ?').get('new') as { n: number };
    expect(stored.n).toBeLessThan(JSON.stringify(ir).length / 2);
    expect(db.prepare('SELECT ir FROM runs WHERE id = ?').get('new')).toEqual({ ir: null });
    // The layout of earlier versions: the IR as text on the run row.
    db.prepare('UPDATE runs SET ir = ? WHERE id = ?').run(JSON.stringify(ir), 'old');
    db.close();
    const again = new SqliteJournal(file);
    expect(JSON.parse(again.getRun('old')!.ir!)).toEqual(ir);
    expect(again.unfinishedRuns().map((r) => [r.id, JSON.parse(r.ir!).plan])).toEqual([['old', 'p'], ['new', 'p']]);
    again.commit({ runId: 'new', plan: 'p', parentRunId: null, status: 'completed', startedAt: 1000, completedAt: 2000, cost: 0, error: null }, []);
    expect(again.prune(3000)).toEqual({ runs: 1, events: 0 });
    again.close();
    const after = openSqlite(file);
    expect(after.prepare('SELECT COUNT(*) AS n FROM run_plans').get()).toEqual({ n: 0 });
    after.close();
  });
});
