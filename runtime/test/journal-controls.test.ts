/**
 * `orch cancel RUN --step STEP` for a run another process executes (or nobody does): the step is
 * checked against the run's stored IR before a control row is written, so a typo is an error
 * (exit 1), not "recorded" and then silently ignored by the scheduler.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { asyncJournal } from '../journal/sqlite-async-journal.js';
import { SqliteJournal } from '../journal/sqlite-journal.js';
import { cancelStepViaJournal } from '../journal-controls.js';
import { capability, layeredSteps, plan } from './ir-builder.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function journalWithRun() {
  const dir = mkdtempSync(join(tmpdir(), 'orch-controls-'));
  dirs.push(dir);
  const journal = asyncJournal(new SqliteJournal(join(dir, 'runs.db')));
  const ir = plan({ name: 'two_layers', capabilities: [capability('noop')], steps: layeredSteps(2, 3, { capability: 'noop' }) });
  await journal.registerRun('r1', 'two_layers', ir, {}, Date.now());
  return { journal, ids: ir.steps.map((s) => s.id) };
}

describe('cancel --step through the journal', () => {
  it('a step of the plan, an instance key of it or a sub-plan path under it is recorded', async () => {
    const { journal, ids } = await journalWithRun();
    for (const key of [ids[0]!, `${ids[1]!}[2]`, `${ids[2]!}#3`, `${ids[3]!}/approve`]) {
      const r = await cancelStepViaJournal(journal, 'r1', key);
      expect(r, key).toMatchObject({ ok: true });
    }
    await journal.close();
  });

  it('a step the plan does not have is refused, naming it, and nothing is recorded', async () => {
    const { journal } = await journalWithRun();
    const r = await cancelStepViaJournal(journal, 'r1', 'nosuch');
    expect(r).toEqual({ ok: false, message: expect.stringContaining('unknown step nosuch') });
    expect(await journal.takeControls('r1')).toEqual([]);
    await journal.close();
  });
});
