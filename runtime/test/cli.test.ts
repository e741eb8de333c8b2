/**
 * The run commands through the CLI: compiling and running an .orch project, exit codes, the
 * --json result shape, approvals across processes, pause/resume/cancel from another process,
 * history commands, non-idempotent steps after a crash. The first test, one approval answered
 * from another process, and every run that controls must reach while it executes spawn the real
 * CLI (bin/orch.js → dist/). The rest needs no process of its own and runs the same CLI core in
 * this one (`runCli`, test/support/cli-in-process.ts): a run stopped at an approval has exited,
 * so its answer is a fresh CLI over the journal; the pause, resume, cancel and signal sent to a
 * spawned run come from this process, which is another process than the run's.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, validatePlanIR } from '../../compiler/index.js';
import { eventSchemaErrors } from '../scheduler/event-schema.js';
import { openSqlite } from '../backend/sqlite/driver.js';
import { openBackend } from '../backend/index.js';
import { input, lit, plan, resource, step } from './ir-builder.js';
import { runCli as cli } from '../../test/support/cli-in-process.js';
import { local, orch, orchAsync, projectDir, REPO, writePlan } from './helpers.js';

const SOURCE = `
module demo.shop

capability work {
  kind tool
  input { value: number, ms: int = 0 }
  output { step: string, attempt: int, value: number }
  handler "./handlers.js#work"
  timeout 10s
  idempotent true
}

capability double {
  kind tool
  input { value: number }
  output { value: number }
  handler "./handlers.js#double"
}

resource laptop {
  kind local_device
  provides cpu
}

plan doubling {
  goal "Double a number twice"
  input { n: number }
  step first = work(value: input.n)
  step second = double(value: first.output.value)
  step third = double(value: second.output.value)
  output { result: third.output.value }
}
`;

const BROKEN = `
plan broken {
  step a = nothing_here(x: 1)
}
`;

function eventTypes(db: string, runId: string): string[] {
  if (!existsSync(db)) return [];
  const d = openSqlite(db, { readonly: true });
  try {
    const rows = d.prepare('SELECT type FROM events WHERE run_id = ? ORDER BY seq').all(runId) as { type: string }[];
    return rows.map((r) => r.type);
  } catch {
    return []; // the writer has not created the schema yet
  } finally {
    d.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `ir` as an older schema has it: each object keeps only the properties that schema declares. */
function olderIR(ir: Record<string, unknown>, root: Record<string, unknown>): Record<string, unknown> {
  const defs = (root.definitions ?? root.$defs ?? {}) as Record<string, Record<string, unknown>>;
  const resolve = (s: Record<string, unknown>): Record<string, unknown> =>
    typeof s.$ref === 'string' ? resolve(defs[s.$ref.split('/').pop()!]!) : s;
  const strip = (value: unknown, schema: Record<string, unknown>): void => {
    const s = resolve(schema);
    if (Array.isArray(value)) {
      if (s.items && typeof s.items === 'object') for (const v of value) strip(v, s.items as Record<string, unknown>);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    const o = value as Record<string, unknown>;
    const props = s.properties as Record<string, Record<string, unknown>> | undefined;
    if (props) {
      for (const k of Object.keys(o)) if (!(k in props) && s.additionalProperties === false) delete o[k];
      for (const [k, v] of Object.entries(o)) if (props[k]) strip(v, props[k]);
    } else if (s.additionalProperties && typeof s.additionalProperties === 'object') {
      for (const v of Object.values(o)) strip(v, s.additionalProperties as Record<string, unknown>);
    }
  };
  strip(ir, root);
  return ir;
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000; // CLI start-up can be slow on a loaded machine
  while (Date.now() < deadline) {
    if (check()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('orch run', () => {
  it('compiles and runs an .orch file; --json prints the execution result shape; exit 0', async () => {
    const project = projectDir();
    writeFileSync(join(project, 'shop.orch'), SOURCE);
    const r = orch(['run', 'shop.orch', '--input', '{"n": 5}', '--json', '--workers', '2'], project);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(result).sort()).toEqual(
      ['planId', 'runId', 'status', 'started_by', 'steps', 'output', 'error', 'metadata', 'startedAt', 'completedAt'].sort(),
    );
    expect(result).toMatchObject({ planId: 'doubling', status: 'completed', output: { result: 20 }, error: null });
    expect(Object.keys((result.steps as object[])[0]!).sort()).toEqual(
      // v0.3 (§8.1): each step gains its actual `cost` (and `usage` when an attempt reported tokens).
      ['stepId', 'status', 'output', 'error', 'attempts', 'resource', 'duration', 'startedAt', 'completedAt', 'cost'].sort(),
    );
    expect(Object.keys(result.metadata as object).sort()).toEqual(
      ['totalDuration', 'totalCost', 'totalSteps', 'completedSteps', 'failedSteps', 'skippedSteps', 'cancelledSteps'].sort(),
    );
    expect((result.steps as { resource: string }[])[0]!.resource).toBe('laptop');
    // the default journal location, and the history commands over it (in-process: they only read it)
    const runs = JSON.parse((await cli(['runs', '--json'], project)).stdout) as { runs: { runId: string; status: string }[] };
    expect(runs.runs[0]).toMatchObject({ runId: result.runId, status: 'completed' });
    const text = await cli(['runs'], project);
    expect(text.stdout).toMatch(/RUN\s+PLAN\s+STATUS\s+STARTED\s+DURATION\s+COST/);
    const timeline = await cli(['timeline', String(result.runId)], project);
    expect(timeline.code).toBe(0);
    expect(timeline.stdout).toMatch(/plan_created/);
    // §8.6: the run's version, the SHA-256 of its IR, as orch runs --json gives it.
    const irHash = (runs.runs[0] as { irHash?: string }).irHash!;
    expect(irHash).toMatch(/^[0-9a-f]{64}$/);
    expect(timeline.stdout).toContain(`version ${irHash.slice(0, 12)}`);
    expect(timeline.stdout).toMatch(/step_completed\s+third/);
    const stats = await cli(['timeline', String(result.runId), '--stats'], project);
    expect(stats.stdout).toMatch(/total duration/);
    expect(stats.stdout).toMatch(/avg step duration/);
    expect(stats.stdout).toMatch(/step_completed\s+3/);
    const exported = JSON.parse((await cli(['runs', 'export', String(result.runId)], project)).stdout) as {
      run: { status: string };
      events: { type: string }[];
    };
    expect(exported.run.status).toBe('completed');
    expect(exported.events.map((e) => e.type)).toContain('execution_completed');
  });

  it('--quiet prints no progress, only the summary; without it a pipe gets one line per step', async () => {
    const project = projectDir();
    writeFileSync(join(project, 'shop.orch'), SOURCE);
    const loud = await cli(['run', 'shop.orch', '--input', '{"n": 1}', '--workers', '1'], project);
    expect(loud.code, loud.stderr).toBe(0);
    expect(loud.stderr).toMatch(/^completed first/m);
    const quiet = await cli(['run', 'shop.orch', '--input', '{"n": 1}', '--workers', '1', '--quiet'], project);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).toBe('');
    expect(quiet.stdout).toMatch(/^run \S+ \(doubling\): completed in .* 3\/3 steps completed/);
  });

  it('runs prune deletes finished runs older than the age, with their events; config retention does it on its own', async () => {
    const project = projectDir();
    writeFileSync(join(project, 'shop.orch'), SOURCE);
    const ids = ['old', 'new', 'stuck'];
    for (const id of ids) {
      const r = await cli(['run', 'shop.orch', '--input', '{"n": 1}', '--workers', '1', '--run-id', id, '--quiet'], project);
      expect(r.code, r.stderr).toBe(0);
    }
    const dbFile = join(project, '.orch', 'runs.db');
    const age = (id: string, days: number, status?: string) => {
      const db = openSqlite(dbFile);
      try {
        db.prepare('UPDATE runs SET completed_at = ?, status = COALESCE(?, status) WHERE id = ?').run(Date.now() - days * 86_400_000, status ?? null, id);
      } finally {
        db.close();
      }
    };
    age('old', 40);
    // A run still running is kept however old.
    age('stuck', 40, 'running');
    const bad = await cli(['runs', 'prune', '--older-than', 'soon'], project);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--older-than must be an age such as 30d/);
    // The context's events (§9.4) go by the same cutoff: one journaled 40 days ago, one now.
    const backend = await openBackend(dbFile);
    const contextJournal = await backend.contextJournal();
    await contextJournal.append([
      { type: 'context_updated', signal: 'mode', time: Date.now() - 40 * 86_400_000, data: { value: 'away', source: 'api', at: 0 } },
      { type: 'context_updated', signal: 'mode', time: Date.now(), data: { value: 'home', source: 'api', at: 0 } },
    ]);
    await contextJournal.close();
    await backend.close();
    const pruned = await cli(['runs', 'prune', '--older-than', '30d', '--json'], project);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(JSON.parse(pruned.stdout)).toEqual({ runs: 1, events: expect.any(Number), context_events: 1 });
    expect(JSON.parse(pruned.stdout).events).toBeGreaterThan(5);
    const left = (JSON.parse((await cli(['runs', '--json'], project)).stdout) as { runs: { runId: string }[] }).runs.map((r) => r.runId).sort();
    expect(left).toEqual(['new', 'stuck']);
    expect((await cli(['timeline', 'old'], project)).code).toBe(2);
    // retention in the project's config: the next run start prunes what aged past it.
    age('new', 3);
    writeFileSync(join(project, 'orch.config.json'), JSON.stringify({ retention: '2d' }));
    expect((await cli(['run', 'shop.orch', '--input', '{"n": 1}', '--workers', '1', '--run-id', 'newest', '--quiet'], project)).code).toBe(0);
    const after = (JSON.parse((await cli(['runs', '--json'], project)).stdout) as { runs: { runId: string }[] }).runs.map((r) => r.runId).sort();
    expect(after).toEqual(['newest', 'stuck']);
    writeFileSync(join(project, 'orch.config.json'), JSON.stringify({ retention: 'forever' }));
    const refused = await cli(['run', 'shop.orch', '--input', '{"n": 1}', '--workers', '1', '--quiet'], project);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/retention must be an age such as "30d"/);
    void ids;
  });

  it('exit 1 with diagnostics for a broken .orch; exit 2 for a bad IR (JSON path) or a bad input', async () => {
    const project = projectDir();
    writeFileSync(join(project, 'broken.orch'), BROKEN);
    const broken = await cli(['run', 'broken.orch'], project);
    expect(broken.code).toBe(1);
    // As orch check prints it: the path as given from here, the code in brackets, a code frame.
    expect(broken.stderr).toMatch(/^broken\.orch:\d+:\d+: error\[E0101\]: .*\n\s*\d+ \| .*\n\s*\| +\^+/m);
    expect(broken.stderr).toContain('1 error, 0 warnings in 1 file');

    writeFileSync(join(project, 'bad.json'), JSON.stringify({ version: 'orch.plan/v1', plan: 'x', steps: [{ id: 3 }] }));
    const bad = await cli(['run', 'bad.json'], project);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^orch: bad\.json is not a valid orch\.plan\/v1 IR: \/\S*: /);
    expect(bad.stderr).not.toMatch(/at .*\.js:\d+/);

    writeFileSync(join(project, 'shop.orch'), SOURCE);
    const input = await cli(['run', 'shop.orch', '--input', '{"n": "five"}'], project);
    expect(input.code).toBe(2);
    expect(input.stderr).toMatch(/^orch: input does not match plan doubling: \/n: must be number/);
    const missing = await cli(['run', 'shop.orch', '--input', '@nope.json'], project);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read --input file nope\.json/);
    expect((await cli(['timeline', 'no-such-run'], project)).code).toBe(2);
  });

  it('runs an orch.plan/v1 and an orch.plan/v2 IR file as written by earlier versions (§7.4, §9)', async () => {
    const project = projectDir();
    writeFileSync(join(project, 'shop.orch'), SOURCE);
    const out = compile({ entry: join(project, 'shop.orch') });
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    for (const version of [1, 2] as const) {
      const schema = JSON.parse(readFileSync(join(REPO, 'compiler', 'schema', `orch.plan.v${version}.schema.json`), 'utf8')) as Record<string, unknown>;
      const ir = olderIR(JSON.parse(JSON.stringify(out.plans[0])) as Record<string, unknown>, schema);
      ir.version = `orch.plan/v${version}`;
      expect(validatePlanIR(ir)).toMatchObject({ ok: true });
      writeFileSync(join(project, `v${version}.json`), JSON.stringify(ir));
      const r = await cli(['run', `v${version}.json`, '--input', '{"n": 2}', '--json'], project);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ status: 'completed', output: { result: 8 } });
    }
  });

  it('a failing run exits 1 and says which step failed', async () => {
    const project = projectDir();
    const p = plan({ base_dir: '.', capabilities: [local('boom', 'throws')], steps: [step({ id: 'boom', capability: 'boom' })] });
    const file = writePlan(project, p);
    const r = await cli(['run', file], project);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/failed/);
    expect(r.stdout).toMatch(/step boom failed: handler exploded/);
  });

  it('orch runs --stats: runs by status, success rate, and the local ratio and privacy score of the steps that ran', async () => {
    const project = projectDir();
    const p = plan({
      base_dir: '.',
      resources: [resource('phone', { kind: 'edge_gateway', tier: 'edge' }), resource('cloud', { kind: 'cloud_region', tier: 'cloud' })],
      capabilities: [local('echo', 'echo')],
      steps: [
        step({ id: 'near', capability: 'echo', resource: 'phone', data: 'personal', args: { value: lit('a') } }),
        step({ id: 'far', capability: 'echo', resource: 'cloud', data: 'personal', args: { value: lit('b') } }),
        step({ id: 'plain', capability: 'echo', resource: 'cloud', args: { value: lit('c') } }),
      ],
    });
    const file = writePlan(project, p);
    const db = join(project, 'runs.db');
    expect((await cli(['run', file, '--db', db, '--quiet'], project)).code).toBe(0);
    const r = await cli(['runs', '--db', db, '--stats', '--json'], project);
    expect(r.code, r.stderr).toBe(0);
    const { stats } = JSON.parse(r.stdout);
    // Of the two steps touching personal data one ran on the edge: 50 %; none ran on the local tier.
    expect(stats).toMatchObject({ runs: 1, byStatus: { completed: 1 }, successRate: 1, finishedSteps: 3, localRatio: 0, privacyScore: 0.5 });
    expect((await cli(['runs', '--db', db, '--stats'], project)).stdout).toMatch(/1 runs \(1 completed\); success 100%.*\n3 finished steps; local ratio 0%; privacy score 50%/);
  });

  it('§8.1/§8.2: each step of orch run --json has its actual cost and, when reported, usage; orch runs --stats spends by plan, capability and model', async () => {
    const project = projectDir(JSON.stringify({ prices: { 'test-model': { input_per_mtok: 1, output_per_mtok: 2 } } }));
    writeFileSync(
      join(project, 'usage.js'),
      `export function ask(input, ctx) { ctx.usage({ input_tokens: 1000, output_tokens: 500, model: 'test-model' }); ctx.usage({ input_tokens: 1000 }); return { ok: true }; }
export function quiet() { return { ok: true }; }`,
    );
    writeFileSync(
      join(project, 'spend.orch'),
      `capability ask { input {} output { ok: bool } handler "./usage.js#ask" cost 1usd }
capability quiet { input {} output { ok: bool } handler "./usage.js#quiet" cost 0.25usd }
plan spend { step a = ask()  step b = quiet() }
`,
    );
    const db = join(project, 'runs.db');
    const run = await cli(['run', 'spend.orch', '--json', '--db', db], project);
    expect(run.code, run.stderr).toBe(0);
    const steps = Object.fromEntries((JSON.parse(run.stdout) as { steps: { stepId: string; cost: number; usage?: unknown }[] }).steps.map((s) => [s.stepId, s]));
    // 2000 input tokens × 1/M + 500 output tokens × 2/M, not the 1usd estimate; a silent handler costs its estimate and has no usage.
    expect(steps.a!.cost).toBeCloseTo(0.003, 9);
    expect(steps.a!.usage).toMatchObject({ input_tokens: 2000, output_tokens: 500, model: 'test-model' });
    expect(steps.b!.cost).toBeCloseTo(0.25, 9);
    expect(steps.b).not.toHaveProperty('usage');
    const r = await cli(['runs', '--db', db, '--stats', '--json'], project);
    expect(r.code, r.stderr).toBe(0);
    // Per run: its actual spend.
    expect((JSON.parse(r.stdout) as { runs: { cost: number }[] }).runs.map((x) => x.cost)).toEqual([expect.closeTo(0.253, 9)]);
    const { spend } = (JSON.parse(r.stdout) as { stats: { spend: Record<string, Record<string, { cost: number; input_tokens: number; output_tokens: number }>> } }).stats;
    expect(spend.byModel!['test-model']).toMatchObject({ input_tokens: 2000, output_tokens: 500 });
    expect(spend.byModel!['test-model']!.cost).toBeCloseTo(0.003, 9);
    expect(Object.keys(spend.byCapability!).sort()).toEqual([expect.stringMatching(/(^|\.)ask$/), expect.stringMatching(/(^|\.)quiet$/)]);
    expect(Object.values(spend.byPlan!).map((t) => t.cost)).toEqual([expect.closeTo(0.253, 9)]);
    const text = await cli(['runs', '--db', db, '--stats'], project);
    expect(text.stdout).toMatch(/spent by model: test-model 0\.003 \(2000 in, 500 out tokens\)/);
    expect(text.stdout).toMatch(/spent by capability: .*ask 0\.003/);
  });

  it("§8.2: orch runs --stats counts a sub-plan's spend by the capability that spent it, once, with or without --all", async () => {
    const project = projectDir('{}');
    writeFileSync(join(project, 'spend.js'), `export function pay(input, ctx) { ctx.usage({ cost: 0.3 }); return { ok: true }; }`);
    writeFileSync(
      join(project, 'sub.orch'),
      `capability pay { input {} output { ok: bool } handler "./spend.js#pay" cost 0.1usd }
plan child { step s = pay() }
plan parent { step k = run child()  step t = pay() }
`,
    );
    const db = join(project, 'runs.db');
    const run = await cli(['run', 'sub.orch', '--plan', 'parent', '--json', '--db', db], project);
    expect(run.code, run.stderr).toBe(0);
    for (const args of [[], ['--all']]) {
      const r = await cli(['runs', '--db', db, '--stats', '--json', ...args], project);
      expect(r.code, r.stderr).toBe(0);
      const { stats } = JSON.parse(r.stdout) as { stats: { cost: number; spend: Record<string, Record<string, { cost: number }>> } };
      // The parent's 0.6 is its own step's 0.3 and its sub-plan's 0.3 — no "" capability for the run step, nothing twice.
      expect(stats.cost).toBeCloseTo(0.6, 9);
      expect(Object.keys(stats.spend.byCapability!)).toEqual([expect.stringMatching(/(^|\.)pay$/)]);
      expect(Object.values(stats.spend.byCapability!)[0]!.cost).toBeCloseTo(0.6, 9);
      expect(Object.values(stats.spend.byPlan!).reduce((n, t) => n + t.cost, 0)).toBeCloseTo(0.6, 9);
    }
  });

  it('orch retry runs a failed run again as a new run, from its journal (exit 0); a completed run is exit 2', async () => {
    const project = projectDir();
    writeFileSync(
      join(project, 'once.js'),
      `import { existsSync, readFileSync, writeFileSync } from 'node:fs';
export function once({ marker }) {
  if (existsSync(marker)) return { value: 'second' };
  writeFileSync(marker, 'x');
  throw new Error('first time');
}
`,
    );
    const p = plan({
      base_dir: '.',
      capabilities: [{ ...local('once', 'once'), handler: { module: './once.js', export: 'once' } }],
      input: { type: 'object', properties: { marker: { type: 'string' } }, required: ['marker'] },
      steps: [step({ id: 'a', capability: 'once', args: { marker: input('marker') } })],
    });
    const file = writePlan(project, p);
    const db = join(project, 'runs.db');
    const first = await cli(['run', file, '--db', db, '--json', '--input', JSON.stringify({ marker: join(project, 'seen') })], project);
    expect(first.code).toBe(1);
    const failed = JSON.parse(first.stdout);
    expect(failed.status).toBe('failed');
    const again = await cli(['retry', failed.runId, '--db', db, '--json'], project);
    expect(again.code, again.stderr).toBe(0);
    const retried = JSON.parse(again.stdout);
    expect(retried).toMatchObject({ status: 'completed' });
    expect(retried.runId).not.toBe(failed.runId);
    expect(retried.steps.find((x: { stepId: string }) => x.stepId === 'a').output).toEqual({ value: 'second' });
    const done = await cli(['retry', retried.runId, '--db', db], project);
    expect(done.code).toBe(2);
    expect(done.stderr).toMatch(/only a failed, timed-out or cancelled run can be retried/);
  });
});

describe('approvals and controls across processes', () => {
  it('run stops at an approval (paused, exit 1); orch signal approve continues it to completion', async () => {
    const project = projectDir();
    const p = plan({
      base_dir: '.',
      capabilities: [
        { ...local('std.capabilities.approval', 'echo'), kind: 'human', handler: { builtin: 'approval' } },
        local('echo', 'echo'),
      ],
      steps: [
        step({ id: 'ok', capability: 'std.capabilities.approval', kind: 'human', args: { approver: lit('lead'), summary: lit('go?') } }),
        step({ id: 'send', capability: 'echo', deps: ['ok'], args: { by: { op: 'get', object: { op: 'get', object: { op: 'step', id: 'ok' }, key: 'output' }, key: 'approver' } } }),
      ],
    });
    const file = writePlan(project, p);
    const first = orch(['run', file, '--run-id', 'appr-1'], project);
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(/paused/);
    expect(first.stdout).toMatch(/orch signal appr-1 ok approve\|reject/);
    const unknown = await cli(['signal', 'appr-1', 'nope', 'approve'], project);
    expect(unknown.code).toBe(2);
    const second = orch(['signal', 'appr-1', 'ok', 'approve', '--by', 'ada', '--json'], project);
    expect(second.code, second.stderr).toBe(0);
    const result = JSON.parse(second.stdout) as { status: string; steps: { stepId: string; output: unknown }[] };
    expect(result.status).toBe('completed');
    expect(result.steps.find((s) => s.stepId === 'send')!.output).toEqual({ by: 'ada' });
    expect((await cli(['signal', 'appr-1', 'ok', 'approve'], project)).code).toBe(2);

    const rejected = await cli(['run', file, '--run-id', 'appr-2'], project);
    expect(rejected.code).toBe(1);
    const no = await cli(['signal', 'appr-2', 'ok', 'reject', '--json'], project);
    expect(no.code).toBe(1);
    expect((JSON.parse(no.stdout) as { status: string }).status).toBe('failed');
  });

  it('inside for each an approval is answered per instance: the hint names ok[i], a bare id is refused, a step cancel waits for the resume', async () => {
    const project = projectDir();
    writeFileSync(join(project, 'h.js'), 'export async function work(input) { return { done: input.item }; }\n');
    writeFileSync(
      join(project, 'fe.orch'),
      `capability work {
  kind tool
  input { item: string }
  handler "./h.js#work"
}
plan per_item {
  input { items: list<string> }
  for each item in input.items {
    step ok = approval(approver: "lead", summary: "go?")
    step ship = work(item: item) { after ok }
  }
}
`,
    );
    const first = await cli(['run', 'fe.orch', '--run-id', 'fe-1', '--input', '{"items":["a","b","c"]}', '--quiet'], project);
    expect(first.code).toBe(1);
    expect(first.stdout).toContain('waiting for approval: orch signal fe-1 ok[0] approve|reject');
    expect(first.stdout).toContain('waiting for approval: orch signal fe-1 ok[2] approve|reject');
    // The bare step id answers nothing: it is refused, naming the instances that wait.
    const bare = await cli(['signal', 'fe-1', 'ok', 'approve'], project);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('step ok runs once per item: answer one instance, e.g. `orch signal fe-1 ok[0] approve` (waiting: ok[0], ok[1], ok[2])');
    // A step cancel sent while no process runs the run is applied when the next one resumes it.
    expect((await cli(['cancel', 'fe-1', '--step', 'ok[0]'], project)).code).toBe(0);
    const second = await cli(['signal', 'fe-1', 'ok[1]', 'approve', '--json'], project);
    expect(second.code).toBe(1);
    const result = JSON.parse(second.stdout) as { status: string; waiting: string[] };
    expect(result).toMatchObject({ status: 'paused', waiting: ['ok[2]'] });
    const t = JSON.parse((await cli(['timeline', 'fe-1', '--json'], project)).stdout) as { events: { type: string; stepId: string | null }[] };
    const of = (key: string) => t.events.filter((e) => e.stepId === key).map((e) => e.type);
    expect(of('ok[0]').at(-1)).toBe('step_cancelled');
    expect(of('ship[0]')).toEqual(['step_skipped']);
    expect(of('ship[1]')).toEqual(['step_queued', 'step_started', 'step_completed']);
    // Printed as the journal holds them: every event of --json and of an export validates against
    // the published orch.events/v2 schema as it stands (ts in epoch ms, the run id on each).
    for (const e of t.events) expect(eventSchemaErrors(e), JSON.stringify(e)).toEqual([]);
    const exported = JSON.parse((await cli(['runs', 'export', 'fe-1'], project)).stdout) as { events: { runId: string }[] };
    expect(exported.events).toEqual(t.events);
    expect(exported.events.every((e) => e.runId === 'fe-1')).toBe(true);
  });

  it('inside repeat an approval is answered per iteration: a bare id is refused naming ok#k, and ok#k is applied', async () => {
    const project = projectDir();
    writeFileSync(join(project, 'h.js'), 'export async function review(input) { return { approved: input.i >= 1 }; }\n');
    writeFileSync(
      join(project, 'loop.orch'),
      `capability review {
  kind tool
  input { i: int }
  output { approved: bool }
  handler "./h.js#review"
}
plan rounds {
  repeat rv max 3 until chk.output.approved {
    step ok = approval(approver: "lead", summary: "iteration \${rv.index}")
    step chk = review(i: rv.index) { after ok }
  }
  output { it: rv.iterations }
}
`,
    );
    const first = await cli(['run', 'loop.orch', '--run-id', 'rp-1', '--quiet'], project);
    expect(first.code).toBe(1);
    expect(first.stdout).toContain('orch signal rp-1 ok#0 approve|reject');
    // Before, the bare id was recorded, silently matched nothing and the run paused again (exit 1).
    const bare = await cli(['signal', 'rp-1', 'ok', 'approve'], project);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('step ok runs once per iteration: answer one instance, e.g. `orch signal rp-1 ok#0 approve` (waiting: ok#0)');
    expect((await cli(['signal', 'rp-1', 'ok#0', 'approve'], project)).stdout).toContain('ok#1');
    const done = await cli(['signal', 'rp-1', 'ok#1', 'approve', '--json'], project);
    expect(done.code).toBe(0);
    expect((JSON.parse(done.stdout) as { output: unknown }).output).toEqual({ it: 2 });
  });

  it('an approval two for each blocks deep is answered by the key its hint names (ok[1][0])', async () => {
    const project = projectDir();
    writeFileSync(
      join(project, 'nest.orch'),
      `plan nested {
  input { rows: list<list<string>> }
  for each r in input.rows {
    for each c in r {
      step ok = approval(approver: "ops", summary: "go?")
    }
  }
}
`,
    );
    const first = await cli(['run', 'nest.orch', '--run-id', 'nest-1', '--input', '{"rows":[["a"],["b"]]}', '--quiet'], project);
    expect(first.code).toBe(1);
    expect(first.stdout).toContain('waiting for approval: orch signal nest-1 ok[1][0] approve|reject');
    const one = await cli(['signal', 'nest-1', 'ok[1][0]', 'approve', '--json'], project);
    expect(one.code, one.stderr).toBe(1);
    expect(JSON.parse(one.stdout)).toMatchObject({ status: 'paused', waiting: ['ok[0][0]'] });
    const two = await cli(['signal', 'nest-1', 'ok[0][0]', 'approve', '--quiet'], project);
    expect(two.code, two.stderr).toBe(0);
  });

  it('an approval inside a sub-plan stops the run too: the hint names sub/ok, and the answer continues both runs', async () => {
    const project = projectDir();
    writeFileSync(join(project, 'h.js'), 'export async function work(input) { return { by: input.by }; }\n');
    writeFileSync(
      join(project, 'sub.orch'),
      `capability work {
  kind tool
  input { by: string }
  handler "./h.js#work"
}
plan review {
  step ok = approval(approver: "lead", summary: "go?")
  output { by: ok.output.approver }
}
plan launch {
  step sub = run review()
  step ship = work(by: sub.output.by)
}
`,
    );
    const first = await cli(['run', 'sub.orch', '--plan', 'launch', '--run-id', 'sp-1', '--quiet'], project);
    expect(first.code, first.stderr).toBe(1);
    expect(first.stdout).toMatch(/paused/);
    expect(first.stdout).toContain('waiting for approval: orch signal sp-1 sub/ok approve|reject');
    // The sub-plan stopped where it stood: paused, not failed.
    const all = JSON.parse((await cli(['runs', '--all', '--json'], project)).stdout) as { runs: { runId: string; status: string; irHash: string | null }[] };
    expect(all.runs.find((r) => r.runId === 'sp-1/sub')?.status).toBe('paused');
    // §8.6: every run records its version — a sub-plan run too (the review plan's IR, not launch's),
    // and orch runs and orch timeline show the one its plan_created recorded.
    const subTimeline = JSON.parse((await cli(['timeline', 'sp-1/sub', '--json'], project)).stdout) as {
      irHash: string | null;
      events: { type: string; data: { ir_hash?: string } }[];
    };
    const recorded = subTimeline.events.find((e) => e.type === 'plan_created')!.data.ir_hash!;
    expect(recorded).toMatch(/^[0-9a-f]{64}$/);
    expect(subTimeline.irHash).toBe(recorded);
    expect(all.runs.find((r) => r.runId === 'sp-1/sub')?.irHash).toBe(recorded);
    expect(all.runs.find((r) => r.runId === 'sp-1')?.irHash).not.toBe(recorded);
    expect((await cli(['runs', '--all'], project)).stdout).toMatch(new RegExp(`^sp-1/sub\\s.*${recorded.slice(0, 12)}$`, 'm'));
    const second = await cli(['signal', 'sp-1', 'sub/ok', 'approve', '--by', 'ada', '--json'], project);
    expect(second.code, second.stderr).toBe(0);
    const result = JSON.parse(second.stdout) as { status: string; steps: { stepId: string; output: unknown }[] };
    expect(result.status).toBe('completed');
    expect(result.steps.find((s) => s.stepId === 'ship')!.output).toEqual({ by: 'ada' });
  });

  it('with --wait-for-signals the run process waits and a signal from another process completes it', async () => {
    const project = projectDir();
    const db = join(project, '.orch', 'runs.db');
    const p = plan({
      base_dir: '.',
      capabilities: [
        { ...local('std.capabilities.approval', 'echo'), kind: 'human', handler: { builtin: 'approval' } },
        local('echo', 'echo'),
      ],
      steps: [
        step({ id: 'ok', capability: 'std.capabilities.approval', kind: 'human', args: { approver: lit('lead') } }),
        step({ id: 'after', capability: 'echo', deps: ['ok'] }),
      ],
    });
    const file = writePlan(project, p);
    const { done } = orchAsync(['run', file, '--run-id', 'wait-1', '--wait-for-signals', '--json'], project);
    // Waiting for nothing but a human, the run is paused (LANGUAGE.md §7.4) though its process waits on.
    await until(() => eventTypes(db, 'wait-1').includes('execution_paused'), 'execution_paused');
    const listed = await cli(['runs', '--json'], project);
    expect((JSON.parse(listed.stdout) as { runs: { runId: string; status: string }[] }).runs.find((r) => r.runId === 'wait-1')?.status).toBe('paused');
    const resume = await cli(['resume', 'wait-1'], project);
    expect(resume.code).toBe(2);
    expect(resume.stderr).toMatch(/waits for approval of ok: answer with `orch signal wait-1 STEP approve`/);
    const sig = await cli(['signal', 'wait-1', 'ok', 'approve'], project);
    expect(sig.code, sig.stderr).toBe(0);
    expect(sig.stdout).toMatch(/delivered by process \d+/);
    const exit = await done;
    expect(exit.code, exit.stderr).toBe(0);
    expect((JSON.parse(exit.stdout) as { status: string }).status).toBe('completed');
    const types = eventTypes(db, 'wait-1');
    expect(types.slice(types.indexOf('execution_paused'))).toEqual([
      'execution_paused', 'execution_resumed', 'step_completed', 'step_queued', 'step_started', 'step_completed', 'execution_completed',
    ]);
  });

  it('pause, resume and cancel reach a run executing in another process', async () => {
    const project = projectDir();
    const db = join(project, '.orch', 'runs.db');
    const steps = Array.from({ length: 100 }, (_, i) =>
      step({ id: `s${i}`, capability: 'work', deps: i ? [`s${i - 1}`] : [], args: { ms: lit(100) } }),
    );
    const file = writePlan(project, plan({ base_dir: '.', capabilities: [local('work', 'work')], steps }));
    const { done } = orchAsync(['run', file, '--run-id', 'ctl-1', '--json'], project);
    await until(() => eventTypes(db, 'ctl-1').includes('step_completed'), 'the first step');
    const paused = await cli(['pause', 'ctl-1'], project);
    expect(paused.code, paused.stderr).toBe(0);
    await until(() => eventTypes(db, 'ctl-1').includes('execution_paused'), 'execution_paused');
    // while paused nothing new starts: the number of started steps stays put
    const startedAtPause = eventTypes(db, 'ctl-1').filter((t) => t === 'step_started').length;
    await sleep(300);
    const startedLater = eventTypes(db, 'ctl-1').filter((t) => t === 'step_started').length;
    expect(startedLater).toBeLessThanOrEqual(startedAtPause + 1);
    const resumed = await cli(['resume', 'ctl-1', '--json'], project);
    expect(resumed.code, resumed.stderr).toBe(0);
    // Resumed in the process running it: --json is still one JSON document, not that line.
    expect(JSON.parse(resumed.stdout)).toMatchObject({ runId: 'ctl-1', requested: 'resume', message: expect.stringMatching(/^resume requested for ctl-1/) });
    await until(() => eventTypes(db, 'ctl-1').includes('execution_resumed'), 'execution_resumed');
    const cancelled = await cli(['cancel', 'ctl-1'], project);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    const exit = await done;
    expect(exit.code).toBe(1);
    expect((JSON.parse(exit.stdout) as { status: string }).status).toBe('cancelled');
    expect(eventTypes(db, 'ctl-1').at(-1)).toBe('execution_cancelled');
    expect((await cli(['cancel', 'ctl-1'], project)).code).toBe(2);
  });

  it('orch timeline shows a step stopped with its run as step_cancelled, with how long it ran and why', async () => {
    const project = projectDir();
    const db = join(project, '.orch', 'runs.db');
    const file = writePlan(project, plan({ base_dir: '.', capabilities: [local('work', 'work')], steps: [step({ id: 'long', capability: 'work', args: { ms: lit(20_000) } })] }));
    const { done } = orchAsync(['run', file, '--run-id', 'tl-1', '--json'], project);
    await until(() => eventTypes(db, 'tl-1').includes('step_started'), 'the step to start');
    await sleep(50);
    expect((await cli(['cancel', 'tl-1'], project)).code).toBe(0);
    expect((await done).code).toBe(1);
    const timeline = await cli(['timeline', 'tl-1'], project);
    expect(timeline.code, timeline.stderr).toBe(0);
    const line = timeline.stdout.split('\n').find((l) => /step_cancelled/.test(l));
    expect(line).toMatch(/step_cancelled\s+long \((\d+(\.\d+)?)(ms|s)\)\s+run cancelled/);
    const json = JSON.parse((await cli(['timeline', 'tl-1', '--json'], project)).stdout) as { events: { type: string; stepId: string | null; data: { reason?: string } }[] };
    expect(json.events.filter((e) => e.stepId === 'long').map((e) => e.type)).toEqual(['step_queued', 'step_started', 'step_cancelled']);
  });

  it('after a crash, an in-flight non-idempotent step is failed-unknown unless --rerun-in-flight', async () => {
    const project = projectDir();
    const db = join(project, '.orch', 'runs.db');
    const p = plan({
      base_dir: '.',
      capabilities: [local('slow', 'work', { idempotent: false })],
      // Killed as soon as it started: long enough to be in flight, short enough to run again.
      steps: [step({ id: 'charge', capability: 'slow', args: { ms: lit(1500) } })],
    });
    const file = writePlan(project, p);
    const cases = [
      ['nid-1', [], 'failed'],
      ['nid-2', ['--rerun-in-flight'], 'completed'],
    ] as const;
    // Both runs at once (two processes on one journal), each killed once its step started.
    await Promise.all(
      cases.map(async ([runId]) => {
        const { child, done } = orchAsync(['run', file, '--run-id', runId], project);
        await until(() => eventTypes(db, runId).includes('step_started'), `${runId}: step_started`);
        child.kill('SIGKILL');
        await done;
      }),
    );
    for (const [runId, flags, expected] of cases) {
      const r = await cli(['resume', runId, '--json', ...flags], project);
      const result = JSON.parse(r.stdout) as { status: string; steps: { error: string | null }[] };
      expect(result.status).toBe(expected);
      if (expected === 'failed') expect(result.steps[0]!.error).toMatch(/failed-unknown.*not idempotent/);
    }
  });
});
