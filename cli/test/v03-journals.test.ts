/**
 * `orch runs` and `orch timeline` read a journal Orch v0.3 wrote (runtime/test/fixtures/v03-journals,
 * whose own test replays and resumes it): every run is listed, and a run's timeline, with v0.3's
 * model usage, budget and guardrail events, prints.
 */
import { dirname, join } from 'node:path';
import { expect, it } from 'vitest';
import { FIXTURES } from '../../runtime/test/helpers.js';
import { oldJournalBackends } from '../../runtime/test/old-journals.js';
import { runCli } from '../../test/support/cli-in-process.js';

it('orch runs and orch timeline read a v0.3 SQLite journal', async () => {
  const sqlite = oldJournalBackends(join(FIXTURES, 'v03-journals')).find((b) => b.name === 'SQLite')!;
  const { db } = await sqlite.place();
  const runs = await runCli(['runs', '--db', db, '--json'], dirname(db));
  expect(runs.stderr).toBe('');
  expect(runs.code).toBe(0);
  const listed = JSON.parse(runs.stdout) as { runs: { runId: string; status: string }[] };
  expect(Object.fromEntries(listed.runs.filter((r) => !r.runId.startsWith('signoff-')).map((r) => [r.runId, r.status]))).toEqual({
    'tour-done': 'completed',
    'gated-paused': 'paused',
    'gated-approved': 'completed',
    'gated-cancelled': 'cancelled',
    'held-released': 'completed',
    'saga-failed': 'failed',
    'consent-denied': 'failed',
    'chain-interrupted': 'running',
    'chain-ctrlc': 'interrupted',
  });
  const timeline = await runCli(['timeline', 'tour-done', '--db', db], dirname(db));
  expect(timeline.code).toBe(0);
  expect(timeline.stdout).toMatch(/budget_overrun/);
  expect(timeline.stdout).toMatch(/guardrail_violation/);
});
