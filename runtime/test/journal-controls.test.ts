/**
 * `orch cancel RUN --step STEP` for a run another process executes (or nobody does): the step is
 * checked against the run's stored IR before a control row is written, so a typo — or an instance
 * key its step can never have (`long[3]` of a step in no block) — is an error, not "recorded" and
 * then silently ignored by the scheduler.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { compile } from '../../compiler/index.js';
import { asyncJournal } from '../backend/sqlite/async-journal.js';
import { SqliteJournal } from '../backend/sqlite/journal.js';
import { cancelStepViaJournal, controlViaJournal, signalViaJournal } from '../journal-controls.js';
import { Runtime } from '../index.js';
import { namesNothing } from '../scheduler/control-paths.js';
import { replay } from '../scheduler/index.js';
import { resultFromJournal } from '../scheduler/journal-result.js';
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

/** A run of a plan with a step in no block, one per item, and one per item and iteration. */
async function journalWithBlocks() {
  const dir = mkdtempSync(join(tmpdir(), 'orch-controls-'));
  dirs.push(dir);
  const entry = join(dir, 'blocks.orch');
  writeFileSync(
    entry,
    `capability work {
  kind tool
  input { item: string }
  output { done: bool }
}
plan blocks {
  input { items: list<string> }
  step first = work(item: "x")
  for each item in input.items {
    step each = work(item: item)
    repeat again max 3 until turn.output.done {
      step turn = work(item: item)
    }
  }
}
`,
  );
  const out = compile({ entry });
  expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const journal = asyncJournal(new SqliteJournal(join(dir, 'runs.db')));
  await journal.registerRun('r2', 'blocks', out.plans[0]!, {}, Date.now());
  return journal;
}

describe('cancel --step through the journal', () => {
  it('a step of the plan or an instance key of its shape is recorded', async () => {
    const { journal, ids } = await journalWithRun();
    expect(await cancelStepViaJournal(journal, 'r1', ids[0]!)).toMatchObject({ ok: true });
    await journal.close();
    const blocks = await journalWithBlocks();
    for (const key of ['first', 'each', 'each[2]', 'turn[0]#1', 'turn']) expect(await cancelStepViaJournal(blocks, 'r2', key), key).toMatchObject({ ok: true });
    await blocks.close();
  });

  it('an instance key its step can never have is refused, naming how its instances are named, and nothing is recorded', async () => {
    const journal = await journalWithBlocks();
    const refused = {
      'first[3]': 'step first runs once: it has no instance first[3], name it first',
      'first#0': 'step first runs once: it has no instance first#0, name it first',
      'each#1': 'step each has no instance each#1: its instances are named like each[0]',
      'each[0][1]': 'step each has no instance each[0][1]: its instances are named like each[0]',
      'turn[0]': 'step turn has no instance turn[0]: its instances are named like turn[0]#0',
      'turn#1[0]': 'step turn has no instance turn#1[0]: its instances are named like turn[0]#0',
    };
    for (const [key, message] of Object.entries(refused)) expect(await cancelStepViaJournal(journal, 'r2', key), key).toEqual({ ok: false, missing: true, message });
    expect(await journal.takeControls('r2')).toEqual([]);
    await journal.close();
  });

  it('the name of a block (a race, a loop) is not a step: refused, saying so, and nothing is recorded', async () => {
    const journal = await journalWithBlocks();
    expect(await cancelStepViaJournal(journal, 'r2', 'again')).toEqual({ ok: false, message: 'again is a repeat block, not a step: cancel the steps inside it (turn)' });
    expect(await journal.takeControls('r2')).toEqual([]);
    await journal.close();
  });

  it('a step the plan does not have is refused as missing, naming it, and nothing is recorded', async () => {
    const { journal, ids } = await journalWithRun();
    const r = await cancelStepViaJournal(journal, 'r1', 'nosuch');
    expect(r).toEqual({ ok: false, missing: true, message: expect.stringContaining('unknown step nosuch') });
    // A path under a step that runs no sub-plan names nothing, as the process running the run says.
    const under = `${ids[3]!}/approve`;
    expect(await cancelStepViaJournal(journal, 'r1', under)).toEqual({ ok: false, missing: true, message: expect.stringContaining(`unknown step ${under}`) });
    expect(await journal.takeControls('r1')).toEqual([]);
    await journal.close();
  });
});

describe('a decision through the journal (issue #47 item 7)', () => {
  it('for a step that is no approval is refused, naming why, and nothing is recorded', async () => {
    const { journal, ids } = await journalWithRun();
    expect(await signalViaJournal(journal, 'r1', { stepId: ids[0]!, decision: 'approve' })).toEqual({ ok: false, message: `step ${ids[0]} is a call of noop, not an approval: only approval steps are approved or rejected` });
    expect(await journal.takeControls('r1')).toEqual([]);
    await journal.close();
  });

  it('for a step the plan does not have is refused, naming it, and nothing is recorded (the MCP `signal` tool said "recorded")', async () => {
    const { journal, ids } = await journalWithRun();
    for (const key of ['nosuch', 'nosuch[1]']) expect(await signalViaJournal(journal, 'r1', { stepId: key, decision: 'approve' }), key).toEqual({ ok: false, missing: true, message: `unknown step ${key} (plan two_layers of run r1 has no such step)` });
    expect(await journal.takeControls('r1')).toEqual([]);
    // A path under a step names a step of the sub-plan that step runs (kept until it runs, checked
    // against the sub-plan's IR: serve/test/unknown-step.test.ts); under a call it names nothing.
    expect(await signalViaJournal(journal, 'r1', { stepId: `${ids[3]!}/approve`, decision: 'approve' })).toMatchObject({ ok: false, missing: true });
    expect(await journal.takeControls('r1')).toEqual([]);
    await journal.close();
  });
});

/** `source` written to a fresh folder and compiled without errors: its plans, and the folder. */
function compiledPlans(file: string, source: string) {
  const dir = mkdtempSync(join(tmpdir(), 'orch-controls-'));
  dirs.push(dir);
  const entry = join(dir, file);
  writeFileSync(entry, source);
  const out = compile({ entry });
  expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return { dir, plans: out.plans };
}

describe('an approval of a run no process holds', () => {
  it('whose timeout ran out while its run was paused has timed out: an answer sent later does not complete it (§4 timeout)', async () => {
    const { dir, plans } = compiledPlans(
      'late.orch',
      `plan late {
  step ok = approval(approver: "ops", summary: "go?") { timeout 300ms }
  step after_ok = log(message: "approved") { after ok }
}
`,
    );
    const rt = await Runtime.open({ db: join(dir, 'runs.db'), workers: 1, suspendOnApproval: true });
    try {
      expect((await (await rt.start(plans[0]!, { runId: 'l' })).result).status).toBe('paused');
      // The approval's 300 ms run out while no process waits on it. Counted from the pause, which
      // comes after the approval began to wait: a loaded box may start the step late, never early.
      const paused = Date.now();
      await expect.poll(() => Date.now() - paused, { interval: 50 }).toBeGreaterThan(400);
      expect(await rt.signal('l', { stepId: 'ok', decision: 'approve', by: 'ops' })).toMatchObject({ ok: true });
      const result = await (await rt.resume('l')).result;
      expect(result.steps.map((s) => [s.stepId, s.status])).toEqual([['ok', 'timeout'], ['after_ok', 'cancelled']]);
      expect(result).toMatchObject({ status: 'failed', error: 'step ok timed out: approval timed out after 300ms' });
    } finally {
      await rt.close();
    }
  });
});

describe('cancelling a run no process holds', () => {
  it('ends what it had in progress and the sub-plan runs it waited on: no approval left running, no child left paused', async () => {
    const { dir, plans } = compiledPlans(
      'nested.orch',
      `plan parent {
  step here = approval(approver: "ops", summary: "here?")
  step there = run child()
}
plan child {
  step ok = approval(approver: "ops", summary: "there?")
}
`,
    );
    const db = join(dir, 'runs.db');
    const rt = await Runtime.open({ db, workers: 1, suspendOnApproval: true });
    try {
      const parent = plans.find((p) => p.plan === 'parent')!;
      expect((await (await rt.start(parent, { runId: 'p' })).result).status).toBe('paused');
      expect(await controlViaJournal(rt.store!, 'p', 'cancel')).toEqual({ ok: true, message: 'cancelled p' });
      expect((await rt.store!.getRun('p/there'))!.status).toBe('cancelled');
      const steps = Object.fromEntries([...replay(await rt.store!.load('p')).steps].map(([k, v]) => [k, v.status]));
      expect(steps).toEqual({ here: 'cancelled', there: 'cancelled' });
      const result = resultFromJournal(parent, 'p', await rt.store!.load('p'));
      expect(result.steps.map((x) => [x.stepId, x.status])).toEqual([['here', 'cancelled'], ['there', 'cancelled']]);
      expect(result.metadata.cancelledSteps).toBe(2);
      expect(replay(await rt.store!.load('p/there')).steps.get("ok")!.status).toBe('cancelled');
    } finally {
      await rt.close();
    }
  });
});

describe('namesNothing: what a step control may name in a plan', () => {
  it('every step, fitting instance key, block and sub-plan path names something; any name under no step or block of the plan, nothing', () => {
    const { plans } = compiledPlans(
      'names.orch',
      `plan outer {
  input { items: list<string> }
  for each it in input.items {
    step ask = approval(approver: "ops", summary: it)
  }
  step sub = run inner()
}
plan inner {
  step ok = approval(approver: "ops", summary: "in?")
}
`,
    );
    const outer = plans.find((p) => p.plan === 'outer')!;
    for (const key of ['ask', 'ask[3]', 'sub', 'sub/ok', ...(outer.blocks ?? []).map((b) => b.id)]) expect(namesNothing(outer, key), key).toBe(false);
    for (const key of ['ask#1', 'ask[0][1]', 'sub[0]', 'sub/nope', 'sub/ok/deeper', 'ask[0]/ok']) expect(namesNothing(outer, key), key).toBe(true);
    const known = new Set([...outer.steps.map((s) => s.id), ...(outer.blocks ?? []).map((b) => b.id)]);
    fc.assert(
      fc.property(fc.string(), (name) => {
        fc.pre(!known.has(/^[^[#/]*/.exec(name)![0]));
        return namesNothing(outer, name);
      }),
    );
  });
});
