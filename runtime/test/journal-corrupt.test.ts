/**
 * A journal row changed under Orch (bad JSON in an event batch, an event of the wrong shape, a
 * plan IR blob that does not inflate) is a `JournalCorrupt` naming the run — exit 2 with one line
 * from the commands that read it — never an internal error out of JSON.parse, zlib or the fold.
 */
import fc from 'fast-check';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqlite, type SqlValue } from '../backend/sqlite/driver.js';
import { decodeBatch, encodeBatches } from '../backend/event-batch-text.js';
import { JournalCorrupt } from '../journal-corrupt.js';
import { runCli as cli } from '../../test/support/cli-in-process.js';
import { lit, plan, step } from './ir-builder.js';
import { local, projectDir, writePlan } from './helpers.js';
import type { RunEvent } from '../scheduler/types.js';
import { replay } from '../scheduler/replay.js';

const events = [
  { runId: 'r', seq: 1, ts: 10, type: 'plan_created', stepId: null, data: { plan: 'p', input: { token: 'tok-91c2' } } },
  { runId: 'r', seq: 2, ts: 12, type: 'step_started', stepId: 'a', data: { attempt: 1 } },
  { runId: 'r', seq: 3, ts: 15, type: 'step_completed', stepId: 'a', data: { attempt: 1, output: { v: [1, 2] } } },
] as unknown as RunEvent[];
const text = encodeBatches(events, () => 1)[0]!.events;

describe('a damaged event batch', () => {
  it('decodes to events or throws JournalCorrupt, whatever its bytes became; the message never quotes them', () => {
    const edit = fc.record({ at: fc.nat({ max: text.length }), cut: fc.nat({ max: 8 }), put: fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('"', ']', '}', ',', 'null', '[]', '{}', '1', '\u0000')) });
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), (edits) => {
        let t = text;
        for (const e of edits) t = t.slice(0, e.at) + e.put + t.slice(e.at + e.cut);
        try {
          for (const e of decodeBatch('r', 1, 10, t, () => 'step_log')) expect(e.data).toBeTypeOf('object');
        } catch (err) {
          expect(err).toBeInstanceOf(JournalCorrupt);
          expect((err as Error).message).toMatch(/^the journal of run r is damaged: /);
          expect((err as Error).message).not.toContain('tok-91c2');
        }
      }),
      { seed: 20261129, numRuns: 400 },
    );
  });
});

describe('an event whose fields have the wrong types', () => {
  const batch = (data: unknown) => encodeBatches([{ ...events[1]!, data }] as unknown as RunEvent[], () => 'step_started', (e) => JSON.stringify(e.data))[0]!.events;
  const decode = (t: string) => decodeBatch('r', 2, 10, t, (c) => String(c));
  const written = { attempt: 1, phaseAttempt: 1, phase: 'main', resourceIndex: 0, resource: 'r1', capability: 'c', cost: 0 };

  it('is JournalCorrupt where it is read, naming the run, the seq and the field, never the value', () => {
    const wrong = () => decode(batch({ ...written, attempt: 'secret-77' }));
    expect(wrong).toThrow(/^the journal of run r is damaged: event 2 \(step_started\) has data of the wrong type \(\/attempt must be integer\)/);
    expect(wrong).not.toThrow(/secret-77/);
    // A field a newer v2 writer added is not this version's to refuse.
    expect(decode(batch({ ...written, later: 'a newer field' }))[0]!.data).toMatchObject(written);
  });

  it('any field of a written event given a value of another JSON type either still fits its schema or is JournalCorrupt', () => {
    const other = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }));
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(written)), other, (field, value) => {
        try {
          const [e] = decode(batch({ ...written, [field]: value }));
          expect(e!.data).toMatchObject({ [field]: value });
        } catch (err) {
          expect(err).toBeInstanceOf(JournalCorrupt);
          expect((err as Error).message).toContain(`(/${field} `);
        }
      }),
      { seed: 20261129, numRuns: 300 },
    );
  });
});

describe('an event whose data lacks its type\'s fields', () => {
  it('is JournalCorrupt out of replay (what resume, signal and upgrade fold), naming the event', () => {
    const hollow = [{ runId: 'r', seq: 4, ts: 10, type: 'plan_created', stepId: null, data: {} }] as unknown as RunEvent[];
    expect(() => replay(hollow)).toThrow(JournalCorrupt);
    expect(() => replay(hollow)).toThrow(/^the journal of run r is damaged: event 4 \(plan_created\) lacks the fields its type has/);
  });
});

describe('commands reading a damaged journal', () => {
  it('orch timeline, resume and retry: exit 2 naming the run, for bad batch JSON, unknown type codes, times that are not times and an IR blob that does not inflate', async () => {
    const dir = projectDir();
    const file = writePlan(dir, plan({ base_dir: '.', capabilities: [local('echo', 'echo')], steps: [step({ id: 'e', capability: 'echo', args: { v: lit(1) } })] }));
    expect((await cli(['run', file, '--run-id', 'r1', '--quiet'], dir)).code).toBe(0);
    const db = openSqlite(join(dir, '.orch', 'runs.db'));
    const damage = (sql: string, ...args: SqlValue[]) => db.prepare(sql).run(...args);
    const expectDamaged = async (args: string[], what: RegExp) => {
      const r = await cli(args, dir);
      expect(r.stderr).toMatch(new RegExp(`^orch: the journal of run r1 is damaged: ${what.source}[^\\n]*\\n$`));
      expect(r.code).toBe(2);
    };
    try {
      const last = db.prepare('SELECT id, events FROM event_batches ORDER BY id DESC LIMIT 1').get() as { id: number; events: string };
      damage('UPDATE event_batches SET events = ? WHERE id = ?', last.events.slice(0, -7), last.id);
      await expectDamaged(['timeline', 'r1'], /the events from seq \d+ are not valid JSON/);
      damage('UPDATE event_batches SET events = ? WHERE id = ?', '[[0,1,null,null]]', last.id);
      await expectDamaged(['timeline', 'r1', '--json'], /event \d+ is not \[time, type, step, data\]/);
      damage('UPDATE event_batches SET events = ? WHERE id = ?', '[[0,"a",null,{}]]', last.id);
      await expectDamaged(['timeline', 'r1'], /event \d+ has no known type/);
      damage('UPDATE event_batches SET events = ?, ts = ? WHERE id = ?', last.events, 'x', last.id);
      await expectDamaged(['timeline', 'r1'], /event \d+ is not \[time, type, step, data\]/);
      damage('UPDATE event_batches SET ts = ? WHERE id = ?', 1e17, last.id);
      await expectDamaged(['timeline', 'r1'], /event \d+ is not \[time, type, step, data\]/);
      const { ts } = db.prepare('SELECT ts FROM event_batches WHERE id < ? ORDER BY id DESC LIMIT 1').get(last.id) as { ts: number };
      damage('UPDATE event_batches SET ts = ? WHERE id = ?', ts, last.id);
      expect(last.events).toMatch(/"attempt":1\b/);
      damage('UPDATE event_batches SET events = ? WHERE id = ?', last.events.replace(/"attempt":1\b/, '"attempt":"one"'), last.id);
      await expectDamaged(['timeline', 'r1'], /event \d+ \(step_\w+\) has data of the wrong type \(\/attempt must be integer\)/);
      await expectDamaged(['runs', 'export', 'r1'], /event \d+ \(step_\w+\) has data of the wrong type/);
      damage('UPDATE event_batches SET events = ? WHERE id = ?', last.events, last.id);
      damage('UPDATE runs SET started_at = ?', 'x');
      await expectDamaged(['timeline', 'r1'], /its start time is not a time/);
      damage('UPDATE runs SET started_at = ?, completed_at = ?', ts, 1e17);
      await expectDamaged(['timeline', 'r1', '--json'], /its end time is not a time/);
      damage('UPDATE runs SET completed_at = ?', ts);
      expect((await cli(['timeline', 'r1'], dir)).code).toBe(0);
      damage('UPDATE run_plans SET ir = ?', Buffer.from('not deflate'));
      await expectDamaged(['retry', 'r1', '--quiet'], /its plan IR does not inflate/);
      await expectDamaged(['resume', 'r1', '--quiet'], /its plan IR does not inflate/);
    } finally {
      db.close();
    }
  });
});

describe('orch runs over a journal with a damaged run', () => {
  it('lists the other runs, names the damaged one on stderr (and in --json), and exits 2', async () => {
    const dir = projectDir();
    const file = writePlan(dir, plan({ base_dir: '.', capabilities: [local('echo', 'echo')], steps: [step({ id: 'e', capability: 'echo', args: { v: lit(1) } })] }));
    for (const id of ['good', 'bad', 'fine']) expect((await cli(['run', file, '--run-id', id, '--quiet'], dir)).code).toBe(0);
    const db = openSqlite(join(dir, '.orch', 'runs.db'));
    const damage = (sql: string, ...args: SqlValue[]) => db.prepare(sql).run(...args);
    const listed = async (args: string[], why: RegExp) => {
      const r = await cli(['runs', ...args], dir);
      expect(r.stderr).toMatch(new RegExp(`^orch: warning: the journal of run bad is damaged: ${why.source}[^\\n]*; left out of the list\\n$`));
      expect(r.code).toBe(2);
      return r.stdout;
    };
    try {
      damage("UPDATE runs SET started_at = 'x' WHERE id = 'bad'");
      const text = await listed([], /its start time is not a time/);
      expect(text).toMatch(/^good\s/m);
      expect(text).toMatch(/^fine\s/m);
      expect(text).not.toMatch(/^bad\s/m);
      const json = JSON.parse(await listed(['--json'], /its start time is not a time/)) as { runs: { runId: string }[]; damaged: { runId: string; error: string }[] };
      expect(json.runs.map((r) => r.runId).sort()).toEqual(['fine', 'good']);
      expect(json.damaged).toEqual([{ runId: 'bad', error: expect.stringMatching(/^the journal of run bad is damaged: its start time/) }]);
      // Its times mended, its events now unreadable: the listing and the totals leave it out alike.
      damage("UPDATE runs SET started_at = (SELECT started_at FROM runs WHERE id = 'good') WHERE id = 'bad'");
      const { key } = db.prepare("SELECT key FROM run_keys WHERE run_id = 'bad'").get() as { key: number };
      damage('UPDATE event_batches SET events = ? WHERE id BETWEEN ? AND ?', '[[0,1', key * 2 ** 26, (key + 1) * 2 ** 26 - 1);
      const stats = JSON.parse(await listed(['--stats', '--json'], /the events from seq \d+ are not valid JSON/)) as { runs: { runId: string }[]; stats: { runs: number } };
      expect(stats.runs.map((r) => r.runId).sort()).toEqual(['fine', 'good']);
      expect(stats.stats.runs).toBe(2);
    } finally {
      db.close();
    }
  });
});
