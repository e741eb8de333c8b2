/**
 * `orch upgrade` on a run paused at an approval (LANGUAGE.md §8.6), on SQLite and on Postgres,
 * with the run started by one runtime (process) and upgraded and resumed by another: the fixed
 * later step runs under the new IR, the journal records plan_upgraded with both hashes, and an
 * incompatible upgrade is refused with every reason and changes nothing.
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compile, irHash, type PlanIR } from '../../compiler/index.js';
import { Runtime, upgradeRun } from '../index.js';
import { eventSchemaErrors } from '../scheduler/event-schema.js';
import { migrate } from '../backend/pg/migrations.js';
import { loadPlan } from '../load-plan.js';
import { startPostgres } from '../../test/support/postgres.js';
import { FIXTURES, tempDir } from './helpers.js';

const HERE = join(FIXTURES, 'v02-journals');

async function gated(): Promise<PlanIR> {
  const loaded = await loadPlan(join(HERE, 'plans.orch'), 'gated');
  if (loaded.kind !== 'plan') throw new Error(JSON.stringify(loaded));
  return loaded.plan;
}

/** The same plan with `ship`'s text fixed (a later step: compatible while the run waits at `ask`). */
function fixedShip(p: PlanIR): PlanIR {
  return { ...p, steps: p.steps.map((s) => (s.id === 'ship' ? { ...s, args: { value: { op: 'concat', parts: [{ op: 'lit', value: 'fixed ' }, { op: 'get', object: { op: 'get', object: { op: 'step', id: 'prepare' }, key: 'output' }, key: 'value' }] } } } : s)) };
}

/** `prepare` (completed before the pause) called differently: incompatible. */
function changedPrepare(p: PlanIR): PlanIR {
  return { ...p, steps: p.steps.map((s) => (s.id === 'prepare' ? { ...s, args: { value: { op: 'lit', value: 'other' } } } : s)) };
}

const BACKENDS = [
  { name: 'SQLite', place: async () => ({ db: join(tempDir('orch-upgrade-'), 'runs.db'), stop: async () => undefined }) },
  {
    name: 'Postgres',
    place: async () => {
      const pg = await startPostgres();
      await migrate(pg.url);
      return { db: pg.url, stop: () => pg.stop() };
    },
  },
];

/**
 * A project folder holding the fixtures' handlers. `compileTo(NAME, SOURCE, PLAN?)` writes NAME,
 * compiles it (no errors allowed) and returns its plan PLAN, or its first plan.
 */
function handlerProject(prefix: string) {
  const dir = tempDir(prefix);
  copyFileSync(join(HERE, 'handlers.js'), join(dir, 'handlers.js'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  const compileTo = (name: string, source: string, plan?: string): PlanIR => {
    writeFileSync(join(dir, name), source);
    const out = compile({ entry: join(dir, name) });
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const found = plan === undefined ? out.plans[0] : out.plans.find((p) => p.plan === plan);
    if (!found) throw new Error(`${name} has no plan ${plan ?? ''}`);
    return found;
  };
  return { dir, compileTo };
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe.each(BACKENDS)('orch upgrade on $name', ({ place }) => {
  it('moves a run paused at an approval to a plan that fixes a later step; refuses an incompatible one, changing nothing', async () => {
    const { db, stop } = await place();
    cleanups.push(stop);
    const v1 = await gated();
    const starter = await Runtime.open({ db, workers: 1, suspendOnApproval: true });
    const paused = await (await starter.start(v1, { input: { item: 'crate' }, runId: 'g' })).result;
    expect(paused.status).toBe('paused');
    await starter.close();

    // Another process upgrades it.
    const other = await Runtime.open({ db, workers: 1 });
    cleanups.push(() => other.close());
    const j = other.store!;
    const before = await j.load('g');
    const refused = await upgradeRun(j, 'g', changedPrepare(v1));
    expect(refused).toMatchObject({ compatible: false, applied: false });
    expect(refused.reasons).toEqual([{ step: 'prepare', reason: 'has started (completed); its arguments changed' }]);
    expect(await j.load('g')).toEqual(before);
    expect(irHash(JSON.parse((await j.getRun('g'))!.ir!))).toBe(irHash(v1));

    const dry = await upgradeRun(j, 'g', fixedShip(v1), { dryRun: true });
    expect(dry).toMatchObject({ compatible: true, applied: false, changes: [{ step: 'ship', change: 'changed', what: ['arguments'] }] });
    expect(await j.load('g')).toEqual(before);

    const v2 = fixedShip(v1);
    const done = await upgradeRun(j, 'g', v2);
    expect(done).toMatchObject({ compatible: true, applied: true, fromHash: irHash(v1), toHash: irHash(v2) });
    const upgraded = (await j.load('g')).at(-1)!;
    expect(upgraded.type).toBe('plan_upgraded');
    expect(upgraded.type === 'plan_upgraded' && upgraded.data).toEqual({ from_hash: irHash(v1), to_hash: irHash(v2), changes: [{ step: 'ship', change: 'changed', what: ['arguments'] }] });

    expect((await other.signal('g', { stepId: 'ask', decision: 'approve', by: 'ops' })).ok).toBe(true);
    const result = await (await other.resume('g')).result;
    expect(result).toMatchObject({ status: 'completed', output: { shipped: 'fixed crate' } });
    const events = await j.load('g');
    // `prepare` completed before the upgrade and never ran again.
    expect(events.filter((e) => e.type === 'step_started' && e.stepId === 'prepare')).toHaveLength(1);
    for (const e of events) expect(eventSchemaErrors(e), `#${e.seq} ${e.type}`).toEqual([]);
    // A finished run is not upgraded.
    expect((await upgradeRun(j, 'g', v1)).reasons.map((r) => r.reason)).toContain('the run has finished; only an unfinished run can be upgraded');
  });
});

describe('orch upgrade of a run a live process holds', () => {
  it('is handed to that process, which moves the run at its next turn (Postgres: the run owned by another runtime)', async () => {
    const pg = await startPostgres();
    await migrate(pg.url);
    cleanups.push(() => pg.stop());
    const v1 = await gated();
    // This runtime keeps the run in memory at its approval (a server does).
    const owner = await Runtime.open({ db: pg.url, workers: 1, controlPollMs: 50 });
    cleanups.push(() => owner.close({ cancel: false }));
    const active = await owner.start(v1, { input: { item: 'crate' }, runId: 'held' });
    const until = async (what: string, ok: () => boolean | Promise<boolean>) => {
      const deadline = Date.now() + 30_000;
      while (!(await ok())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await until('the approval', () => active.run.awaitingApproval());
    const other = await Runtime.open({ db: pg.url, workers: 1 });
    cleanups.push(() => other.close());
    // Incompatible: refused here, nothing handed over.
    const refused = await upgradeRun(other.store!, 'held', changedPrepare(v1));
    expect(refused).toMatchObject({ compatible: false, applied: false });
    expect(refused.requested).toBeUndefined();
    const v2 = fixedShip(v1);
    const r = await upgradeRun(other.store!, 'held', v2);
    expect(r).toMatchObject({ compatible: true, applied: false, requested: true });
    await until('plan_upgraded', async () => (await other.store!.load('held')).some((e) => e.type === 'plan_upgraded' && e.data.to_hash === irHash(v2)));
    expect(irHash(JSON.parse((await other.store!.getRun('held'))!.ir!))).toBe(irHash(v2));
    // The owner goes on under the new IR: the approval reaches it, the fixed step runs, and the
    // caller that started the run gets its end.
    expect((await other.signal('held', { stepId: 'ask', decision: 'approve', by: 'ops' })).ok).toBe(true);
    const result = await active.result;
    expect(result).toMatchObject({ status: 'completed', output: { shipped: 'fixed crate' } });
    const events = await other.store!.load('held');
    expect(events.filter((e) => e.type === 'step_started' && e.stepId === 'prepare')).toHaveLength(1);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    for (const e of events) expect(eventSchemaErrors(e), `#${e.seq} ${e.type}`).toEqual([]);
  });
});

describe('Runtime.upgrade of a run executing in this process', () => {
  it('moves it at its next turn that waits only for approvals (SQLite)', async () => {
    const db = join(tempDir('orch-upgrade-'), 'runs.db');
    const v1 = await gated();
    const rt = await Runtime.open({ db, workers: 1, controlPollMs: 50 });
    cleanups.push(() => rt.close({ cancel: false }));
    const active = await rt.start(v1, { input: { item: 'crate' }, runId: 'here' });
    const deadline = Date.now() + 30_000;
    while (!active.run.awaitingApproval()) {
      if (Date.now() > deadline) throw new Error('the run never reached its approval');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await rt.upgrade('here', changedPrepare(v1))).toMatchObject({ compatible: false, applied: false });
    const v2 = fixedShip(v1);
    expect(await rt.upgrade('here', v2)).toMatchObject({ compatible: true, requested: true });
    while (!(await rt.store!.load('here')).some((e) => e.type === 'plan_upgraded')) {
      if (Date.now() > deadline) throw new Error('never upgraded');
      await new Promise((r) => setTimeout(r, 20));
    }
    // The handle start gave (a server keeps it) reads the run under its new IR.
    while (irHash(active.run.plan) !== irHash(v2)) {
      if (Date.now() > deadline) throw new Error('the handle never followed the upgrade');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await rt.signal('here', { stepId: 'ask', decision: 'approve', by: 'ops' })).ok).toBe(true);
    expect(await active.result).toMatchObject({ status: 'completed', output: { shipped: 'fixed crate' } });
    expect(active.run.status()).toBe('completed');
  });
});

describe('orch upgrade of a run parked inside a repeat', () => {
  it('takes a step added to the loop: the iteration in progress runs it (§8.6)', async () => {
    const { dir, compileTo } = handlerProject('orch-upgrade-loop-');
    const source = (extra: string, output: string) => `
capability echo { kind tool  input { value: string }  output { value: string }  handler "./handlers.js#echo" }
plan looped {
  repeat again max 3 until ask.status == "completed" {
    step prepare = echo(value: "try \${again.index}")
${extra}
    step ask = approval(approver: "ops", summary: "ok?") { after prepare
      on_failure continue }
  }
  output { ${output} }
}`;
    const planOf = (extra: string, output: string, name: string) => compileTo(name, source(extra, output));
    const v1 = planOf('', 'tries: again.iterations', 'v1.orch');
    const v2 = planOf('    step note = echo(value: "noted ${prepare.output.value}")', 'note: note.output.value', 'v2.orch');
    const db = join(dir, 'runs.db');
    const rt = await Runtime.open({ db, workers: 1, suspendOnApproval: true });
    cleanups.push(() => rt.close());
    const first = await (await rt.start(v1, { runId: 'loop' })).result;
    expect(first.status, JSON.stringify(first.steps)).toBe('paused');
    // The first iteration is declined; the second waits at its approval when the loop gains a step.
    expect((await rt.signal('loop', { stepId: 'ask#0', decision: 'reject', by: 'ops' })).ok).toBe(true);
    const parked = await (await rt.resume('loop')).result;
    expect(parked.status, JSON.stringify(parked)).toBe('paused');
    expect(await upgradeRun(rt.store!, 'loop', v2)).toMatchObject({ compatible: true, applied: true });
    expect((await rt.signal('loop', { stepId: 'ask#1', decision: 'approve', by: 'ops' })).ok).toBe(true);
    const done = await (await rt.resume('loop')).result;
    expect(done).toMatchObject({ status: 'completed', output: { note: 'noted try 1' } });
  });
});

describe('Runtime.upgrade of a run here that waits on the context', () => {
  it('moves it while it waits (a wait until, no attempt in flight): what comes after runs under the new IR', async () => {
    const { dir, compileTo } = handlerProject('orch-upgrade-wait-');
    const planOf = (text: string, name: string) =>
      compileTo(
        name,
        `capability echo { kind tool  input { value: string }  output { value: string }  handler "./handlers.js#echo" }
plan waiting {
  step hold = wait until context.go == true timeout 1h
  step after_hold = echo(value: "${text}") { after hold }
  output { said: after_hold.output.value }
}`,
      );
    const v1 = planOf('old', 'v1.orch');
    const v2 = planOf('new', 'v2.orch');
    const rt = await Runtime.open({ db: join(dir, 'runs.db'), workers: 1, controlPollMs: 20 });
    cleanups.push(() => rt.close({ cancel: false }));
    const active = await rt.start(v1, { runId: 'w', config: { file: null, hooks: {}, secrets: {} } });
    expect(await rt.upgrade('w', v2)).toMatchObject({ compatible: true, requested: true });
    const deadline = Date.now() + 10_000;
    while (!(await rt.store!.load('w')).some((e) => e.type === 'plan_upgraded')) {
      if (Date.now() > deadline) throw new Error('never upgraded while it waited');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await rt.signal('w', { context: { go: true } })).ok).toBe(true);
    expect(await active.result).toMatchObject({ status: 'completed', output: { said: 'new' } });
  });
});

describe('Runtime.upgrade of a run here that waits out a retry', () => {
  it('moves it while the failed step waits for its next attempt (no attempt in flight): the retry and what follows run under the new IR', async () => {
    const { dir, compileTo } = handlerProject('orch-upgrade-retry-');
    const planOf = (text: string, name: string) =>
      compileTo(
        name,
        `capability echo { kind tool  input { value: string }  output { value: string }  handler "./handlers.js#echo" }
capability flaky { kind tool  input { marker: string }  output { value: string }  handler "./handlers.js#flaky"  retry 2 backoff fixed 1500ms }
plan retrying {
  input { marker: string }
  step shaky = flaky(marker: input.marker)
  step after_shaky = echo(value: "${text}") { after shaky }
  output { said: after_shaky.output.value }
}`,
      );
    const v1 = planOf('old', 'v1.orch');
    const v2 = planOf('new', 'v2.orch');
    const rt = await Runtime.open({ db: join(dir, 'runs.db'), workers: 1, controlPollMs: 20 });
    cleanups.push(() => rt.close({ cancel: false }));
    const retried = new Promise<void>((resolve) => {
      void rt.start(v1, { runId: 'r', input: { marker: join(dir, 'seen') }, onEvent: (e) => e.type === 'step_retried' && resolve() }).then((a) => (active = a));
    });
    let active: Awaited<ReturnType<typeof rt.start>> | undefined;
    await retried;
    expect(await rt.upgrade('r', v2)).toMatchObject({ compatible: true, requested: true });
    const deadline = Date.now() + 10_000;
    while (!active) await new Promise((r) => setTimeout(r, 10));
    expect(await active.result).toMatchObject({ status: 'completed', output: { said: 'new' } });
    const types = (await rt.store!.load('r')).filter((e) => e.type === 'plan_upgraded' || (e.type === 'step_started' && e.stepId === 'shaky')).map((e) => e.type);
    // Upgraded between the failed attempt and the retry, not after the step had gone on.
    expect(types).toEqual(['step_started', 'plan_upgraded', 'step_started']);
    expect(Date.now()).toBeLessThan(deadline);
  });
});

describe('Runtime.upgrade of a run here with a handler in flight', () => {
  it('moves it at its next turn (§8.6): the call in flight ends, nothing new starts before the move, what follows runs under the new IR', async () => {
    const { dir, compileTo } = handlerProject('orch-upgrade-busy-');
    // A call that ends only when the test lets it: the run is busy (no wait, no approval) when asked.
    writeFileSync(
      join(dir, 'gate.js'),
      `import { existsSync } from 'node:fs';
export async function gate({ marker }) {
  while (!existsSync(marker)) await new Promise((r) => setTimeout(r, 10));
  return { value: 'through' };
}
`,
    );
    const planOf = (text: string, name: string) =>
      compileTo(
        name,
        `capability echo { kind tool  input { value: string }  output { value: string }  handler "./handlers.js#echo" }
capability gate { kind tool  input { marker: string }  output { value: string }  handler "./gate.js#gate" }
plan busy {
  input { marker: string }
  step held = gate(marker: input.marker)
  step after_held = echo(value: "${text} \${held.output.value}")
  output { said: after_held.output.value }
}`,
      );
    const v1 = planOf('old', 'v1.orch');
    const v2 = planOf('new', 'v2.orch');
    const marker = join(dir, 'open');
    const rt = await Runtime.open({ db: join(dir, 'runs.db'), workers: 1, controlPollMs: 20 });
    cleanups.push(() => rt.close({ cancel: false }));
    let active: Awaited<ReturnType<typeof rt.start>> | undefined;
    const started = new Promise<void>((resolve) => {
      void rt.start(v1, { runId: 'b', input: { marker }, onEvent: (e) => e.type === 'step_started' && resolve() }).then((a) => (active = a));
    });
    await started;
    expect(await rt.upgrade('b', v2)).toMatchObject({ compatible: true, requested: true });
    writeFileSync(marker, 'go');
    while (!active) await new Promise((r) => setTimeout(r, 10));
    expect(await active.result).toMatchObject({ status: 'completed', output: { said: 'new through' } });
    const order = (await rt.store!.load('b'))
      .filter((e) => e.type === 'plan_upgraded' || e.type === 'step_started' || e.type === 'step_completed')
      .map((e) => `${e.type} ${e.stepId ?? ''}`.trim());
    expect(order).toEqual(['step_started held', 'step_completed held', 'plan_upgraded', 'step_started after_held', 'step_completed after_held']);
  });
});

describe('orch upgrade of a run paused inside a sub-plan', () => {
  it("holds the sub-plan run's started steps to the rules: a changed one is refused, a later one moves (§8.6)", async () => {
    const { dir, compileTo } = handlerProject('orch-upgrade-sub-');
    const planOf = (prep: string, fin: string, name: string) =>
      compileTo(
        name,
        `capability echo { kind tool  input { value: string }  output { value: string }  handler "./handlers.js#echo" }
plan kid {
  step prep = echo(value: "${prep}")
  step ask = approval(approver: "ops", summary: "ok?") { after prep }
  step fin = echo(value: "${fin}") { after ask }
  output { v: fin.output.value }
}
plan parent {
  step c = run kid()
  output { v: c.output.v }
}`,
        'parent',
      );
    const v1 = planOf('old', 'old', 'v1.orch');
    const rt = await Runtime.open({ db: join(dir, 'runs.db'), workers: 1, suspendOnApproval: true });
    cleanups.push(() => rt.close());
    expect((await (await rt.start(v1, { runId: 'p' })).result).status).toBe('paused');
    const before = await rt.store!.load('p');
    const refused = await upgradeRun(rt.store!, 'p', planOf('new', 'old', 'v2.orch'));
    expect(refused).toMatchObject({ compatible: false, applied: false });
    expect(refused.reasons).toEqual([{ step: 'c/prep', reason: 'in sub-plan kid: has started (completed); its arguments changed' }]);
    expect(await rt.store!.load('p')).toEqual(before);
    expect(await upgradeRun(rt.store!, 'p', planOf('old', 'new', 'v3.orch'))).toMatchObject({ compatible: true, applied: true });
    expect((await rt.signal('p', { stepId: 'c/ask', decision: 'approve', by: 'ops' })).ok).toBe(true);
    expect(await (await rt.resume('p')).result).toMatchObject({ status: 'completed', output: { v: 'new' } });
  });

  it('cancels the unfinished sub-plan run of a started step the new version removes: no orphan stays paused', async () => {
    const { dir, compileTo } = handlerProject('orch-upgrade-sub-gone-');
    const planOf = (call: string, name: string) =>
      compileTo(
        name,
        `capability echo { kind tool  input { value: string }  output { value: string }  handler "./handlers.js#echo" }
plan kid {
  step ask = approval(approver: "ops", summary: "ok?")
}
plan parent {
  step a = echo(value: "a")
${call}
  output { v: a.output.value }
}`,
        'parent',
      );
    const rt = await Runtime.open({ db: join(dir, 'runs.db'), workers: 1, suspendOnApproval: true });
    cleanups.push(() => rt.close());
    expect((await (await rt.start(planOf('  step c = run kid()', 'v1.orch'), { runId: 'p' })).result).status).toBe('paused');
    expect(await upgradeRun(rt.store!, 'p', planOf('', 'v2.orch'))).toMatchObject({ compatible: true, applied: true });
    expect(await (await rt.resume('p')).result).toMatchObject({ status: 'completed', output: { v: 'a' } });
    expect((await rt.store!.getRun('p/c'))?.status).toBe('cancelled');
    expect((await rt.store!.load('p/c')).at(-1)).toMatchObject({ type: 'execution_cancelled', data: { reason: 'its step c was removed by an upgrade of run p' } });
  });

  it('checks the last run of a sub-plan step that was retried (its journal holds every attempt)', async () => {
    const { dir, compileTo } = handlerProject('orch-upgrade-sub-retry-');
    const planOf = (tag: string, name: string) =>
      compileTo(
        name,
        `capability flaky { kind tool  input { marker: string }  output { value: string }  handler "./handlers.js#flaky"  retry 0 }
plan kid {
  step f = flaky(marker: "${join(dir, 'marker')}${tag}")
  step ask = approval(approver: "ops", summary: "ok?") { after f }
}
plan parent {
  step c = run kid() { retry 1 }
}`,
        'parent',
      );
    const rt = await Runtime.open({ db: join(dir, 'runs.db'), workers: 1, suspendOnApproval: true });
    cleanups.push(() => rt.close());
    expect((await (await rt.start(planOf('', 'v1.orch'), { runId: 'p' })).result).status).toBe('paused');
    expect((await rt.store!.load('p/c')).filter((e) => e.type === 'plan_created')).toHaveLength(2);
    const refused = await upgradeRun(rt.store!, 'p', planOf('-other', 'v2.orch'), { dryRun: true });
    expect(refused.reasons).toEqual([{ step: 'c/f', reason: 'in sub-plan kid: has started (completed); its arguments changed' }]);
  });

  it('a live process moving the run at its quiet turn also cancels the removed step\'s sub-plan run', async () => {
    const { dir, compileTo } = handlerProject('orch-upgrade-sub-live-');
    const planOf = (call: string, name: string) =>
      compileTo(
        name,
        `capability echo { kind tool  input { value: string }  output { value: string }  handler "./handlers.js#echo" }
plan kid {
  step ask = approval(approver: "ops", summary: "ok?")
}
plan parent {
  step a = echo(value: "a")
${call}
  step hold = wait until context.go == true timeout 1h { after a }
  output { v: a.output.value }
}`,
        'parent',
      );
    const rt = await Runtime.open({ db: join(dir, 'runs.db'), workers: 1, controlPollMs: 20 });
    cleanups.push(() => rt.close({ cancel: false }));
    const active = await rt.start(planOf('  step c = run kid()', 'v1.orch'), { runId: 'p', config: { file: null, hooks: {}, secrets: {} } });
    const deadline = Date.now() + 10_000;
    while (!(await rt.store!.load('p')).some((e) => e.type === 'step_started' && e.stepId === 'hold')) {
      if (Date.now() > deadline) throw new Error('never reached the wait');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await rt.upgrade('p', planOf('', 'v2.orch'))).toMatchObject({ compatible: true, requested: true });
    while (!(await rt.store!.load('p')).some((e) => e.type === 'plan_upgraded')) {
      if (Date.now() > deadline) throw new Error('never upgraded while it waited');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await rt.signal('p', { context: { go: true } })).ok).toBe(true);
    expect(await active.result).toMatchObject({ status: 'completed', output: { v: 'a' } });
    expect((await rt.store!.getRun('p/c'))?.status).toBe('cancelled');
  });
});

describe("orch upgrade and the run's input", () => {
  const ECHO = `capability echo {
  kind tool
  input { value: string }
  output { value: string }
  handler "./handlers.js#echo"
  data public
}
`;
  const version = (input: string, shipped: string) =>
    `${ECHO}plan p {
  input { ${input} }
  step prep = echo(value: "got \${input.a}")
  step ask = approval(approver: "lead", summary: "ship?") { after prep }
  step ship = echo(value: ${shipped}) { after ask }
  output { shipped: ship.output.value }
}
`;

  it('refuses a version whose input type the run\'s input does not fit; one that adds a field with a default moves it, and the run reads the default', async () => {
    const { dir, compileTo } = handlerProject('orch-upgrade-input-');
    const v1 = compileTo('v.orch', version('a: string', 'prep.output.value'));
    const needsB = compileTo('v.orch', version('a: string, b: string', 'input.b'));
    const retyped = compileTo('v.orch', version('a: int', 'prep.output.value'));
    const defaulted = compileTo('v.orch', version('a: string, b: string = "by default"', 'input.b'));
    const db = join(dir, 'runs.db');
    const starter = await Runtime.open({ db, workers: 1, suspendOnApproval: true });
    expect((await (await starter.start(v1, { input: { a: 'crate' }, runId: 'r' })).result).status).toBe('paused');
    await starter.close();

    const rt = await Runtime.open({ db, workers: 1 });
    cleanups.push(() => rt.close());
    const j = rt.store!;
    const before = await j.load('r');
    const missing = await upgradeRun(j, 'r', needsB);
    expect(missing).toMatchObject({ compatible: false, applied: false });
    expect(missing.reasons).toEqual([{ step: null, reason: "the run's input does not fit the new plan's input type: /b: is required" }]);
    expect((await upgradeRun(j, 'r', retyped)).reasons.map((r) => r.reason)).toContain("the run's input does not fit the new plan's input type: /a: must be integer");
    expect(await j.load('r')).toEqual(before);

    expect(await upgradeRun(j, 'r', defaulted)).toMatchObject({ compatible: true, applied: true });
    expect((await rt.signal('r', { stepId: 'ask', decision: 'approve', by: 'ops' })).ok).toBe(true);
    expect(await (await rt.resume('r')).result).toMatchObject({ status: 'completed', output: { shipped: 'by default' } });
  });
});

describe('orch upgrade and nested output fields', () => {
  it("refuses a version that reads a field below a completed step's output field that the output lacks, naming its path", async () => {
    const { dir, compileTo } = handlerProject('orch-upgrade-nested-');
    writeFileSync(join(dir, 'where.js'), 'export async function where() { return { addr: { city: "Oslo" } }; }\n');
    const version = (addr: string, read: string) => `
capability where { kind tool  input {}  output { addr: { ${addr} } }  handler "./where.js#where" }
capability echo { kind tool  input { value: string }  output { value: string }  handler "./handlers.js#echo" }
plan p {
  step prep = where()
  step ask = approval(approver: "lead", summary: "ship?") { after prep }
  step ship = echo(value: prep.output.addr.${read}) { after ask }
  output { shipped: ship.output.value }
}
`;
    const v1 = compileTo('v.orch', version('city: string', 'city'));
    const zip = compileTo('v.orch', version('city: string, zip: string', 'zip'));
    const db = join(dir, 'runs.db');
    const rt = await Runtime.open({ db, workers: 1, suspendOnApproval: true });
    cleanups.push(() => rt.close());
    expect((await (await rt.start(v1, { runId: 'n' })).result).status).toBe('paused');
    const refused = await upgradeRun(rt.store!, 'n', zip);
    expect(refused).toMatchObject({ compatible: false, applied: false });
    expect(refused.reasons).toEqual([{ step: 'prep', reason: 'completed without output field "addr.zip", which the new plan reads' }]);
  });
});
