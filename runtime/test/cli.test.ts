/**
 * The run commands through the real CLI (bin/orch.js → dist/): compiling and running an .orch
 * project, exit codes, the --json result shape, approvals across processes, pause/resume/cancel
 * from another process, history commands, non-idempotent steps after a crash.
 */
import Database from 'better-sqlite3';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lit, plan, step } from './ir-builder.js';
import { local, orch, orchAsync, projectDir, writePlan } from './helpers.js';

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
  const d = new Database(db, { readonly: true });
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

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000; // CLI start-up can be slow on a loaded machine
  while (Date.now() < deadline) {
    if (check()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('orch run', () => {
  it('compiles and runs an .orch file; --json prints the execution result shape; exit 0', () => {
    const project = projectDir();
    writeFileSync(join(project, 'shop.orch'), SOURCE);
    const r = orch(['run', 'shop.orch', '--input', '{"n": 5}', '--json', '--workers', '2'], project);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(result).sort()).toEqual(
      ['planId', 'runId', 'status', 'steps', 'output', 'error', 'metadata', 'startedAt', 'completedAt'].sort(),
    );
    expect(result).toMatchObject({ planId: 'doubling', status: 'completed', output: { result: 20 }, error: null });
    expect(Object.keys((result.steps as object[])[0]!).sort()).toEqual(
      ['stepId', 'status', 'output', 'error', 'attempts', 'resource', 'duration', 'startedAt', 'completedAt'].sort(),
    );
    expect(Object.keys(result.metadata as object).sort()).toEqual(
      ['totalDuration', 'totalCost', 'totalSteps', 'completedSteps', 'failedSteps', 'skippedSteps'].sort(),
    );
    expect((result.steps as { resource: string }[])[0]!.resource).toBe('laptop');
    // the default journal location, and the history commands over it
    const runs = JSON.parse(orch(['runs', '--json'], project).stdout) as { runs: { runId: string; status: string }[] };
    expect(runs.runs[0]).toMatchObject({ runId: result.runId, status: 'completed' });
    const text = orch(['runs'], project);
    expect(text.stdout).toMatch(/RUN\s+PLAN\s+STATUS\s+STARTED\s+DURATION\s+COST/);
    const timeline = orch(['timeline', String(result.runId)], project);
    expect(timeline.code).toBe(0);
    expect(timeline.stdout).toMatch(/plan_created/);
    expect(timeline.stdout).toMatch(/step_completed\s+third/);
    const stats = orch(['timeline', String(result.runId), '--stats'], project);
    expect(stats.stdout).toMatch(/total duration/);
    expect(stats.stdout).toMatch(/avg step duration/);
    expect(stats.stdout).toMatch(/step_completed\s+3/);
    const exported = JSON.parse(orch(['runs', 'export', String(result.runId)], project).stdout) as {
      run: { status: string };
      events: { type: string }[];
    };
    expect(exported.run.status).toBe('completed');
    expect(exported.events.map((e) => e.type)).toContain('execution_completed');
  });

  it('exit 1 with diagnostics for a broken .orch; exit 2 for a bad IR (JSON path) or a bad input', () => {
    const project = projectDir();
    writeFileSync(join(project, 'broken.orch'), BROKEN);
    const broken = orch(['run', 'broken.orch'], project);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/broken\.orch:\d+:\d+: error E0101/);

    writeFileSync(join(project, 'bad.json'), JSON.stringify({ version: 'orch.plan/v1', plan: 'x', steps: [{ id: 3 }] }));
    const bad = orch(['run', 'bad.json'], project);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^orch: bad\.json is not a valid orch\.plan\/v1 IR: \/\S*: /);
    expect(bad.stderr).not.toMatch(/at .*\.js:\d+/);

    writeFileSync(join(project, 'shop.orch'), SOURCE);
    const input = orch(['run', 'shop.orch', '--input', '{"n": "five"}'], project);
    expect(input.code).toBe(2);
    expect(input.stderr).toMatch(/^orch: input does not match plan doubling: \/n: must be number/);
    const missing = orch(['run', 'shop.orch', '--input', '@nope.json'], project);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read --input file nope\.json/);
    expect(orch(['timeline', 'no-such-run'], project).code).toBe(2);
  });

  it('a failing run exits 1 and says which step failed', () => {
    const project = projectDir();
    const p = plan({ base_dir: '.', capabilities: [local('boom', 'throws')], steps: [step({ id: 'boom', capability: 'boom' })] });
    const file = writePlan(project, p);
    const r = orch(['run', file], project);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/failed/);
    expect(r.stdout).toMatch(/step boom failed: handler exploded/);
  });
});

describe('approvals and controls across processes', () => {
  it('run stops at an approval (paused, exit 1); orch signal approve continues it to completion', () => {
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
    const unknown = orch(['signal', 'appr-1', 'nope', 'approve'], project);
    expect(unknown.code).toBe(2);
    const second = orch(['signal', 'appr-1', 'ok', 'approve', '--by', 'ada', '--json'], project);
    expect(second.code, second.stderr).toBe(0);
    const result = JSON.parse(second.stdout) as { status: string; steps: { stepId: string; output: unknown }[] };
    expect(result.status).toBe('completed');
    expect(result.steps.find((s) => s.stepId === 'send')!.output).toEqual({ by: 'ada' });
    expect(orch(['signal', 'appr-1', 'ok', 'approve'], project).code).toBe(2);

    const rejected = orch(['run', file, '--run-id', 'appr-2'], project);
    expect(rejected.code).toBe(1);
    const no = orch(['signal', 'appr-2', 'ok', 'reject', '--json'], project);
    expect(no.code).toBe(1);
    expect((JSON.parse(no.stdout) as { status: string }).status).toBe('failed');
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
    await until(() => eventTypes(db, 'wait-1').includes('step_started'), 'the approval step');
    const sig = orch(['signal', 'wait-1', 'ok', 'approve'], project);
    expect(sig.code, sig.stderr).toBe(0);
    expect(sig.stdout).toMatch(/delivered by process \d+/);
    const exit = await done;
    expect(exit.code, exit.stderr).toBe(0);
    expect((JSON.parse(exit.stdout) as { status: string }).status).toBe('completed');
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
    const paused = orch(['pause', 'ctl-1'], project);
    expect(paused.code, paused.stderr).toBe(0);
    await until(() => eventTypes(db, 'ctl-1').includes('execution_paused'), 'execution_paused');
    // while paused nothing new starts: the number of started steps stays put
    const startedAtPause = eventTypes(db, 'ctl-1').filter((t) => t === 'step_started').length;
    await sleep(300);
    const startedLater = eventTypes(db, 'ctl-1').filter((t) => t === 'step_started').length;
    expect(startedLater).toBeLessThanOrEqual(startedAtPause + 1);
    const resumed = orch(['resume', 'ctl-1'], project);
    expect(resumed.code, resumed.stderr).toBe(0);
    await until(() => eventTypes(db, 'ctl-1').includes('execution_resumed'), 'execution_resumed');
    const cancelled = orch(['cancel', 'ctl-1'], project);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    const exit = await done;
    expect(exit.code).toBe(1);
    expect((JSON.parse(exit.stdout) as { status: string }).status).toBe('cancelled');
    expect(eventTypes(db, 'ctl-1').at(-1)).toBe('execution_cancelled');
    expect(orch(['cancel', 'ctl-1'], project).code).toBe(2);
  });

  it('after a crash, an in-flight non-idempotent step is failed-unknown unless --rerun-in-flight', async () => {
    const project = projectDir();
    const db = join(project, '.orch', 'runs.db');
    const p = plan({
      base_dir: '.',
      capabilities: [local('slow', 'work', { idempotent: false })],
      steps: [step({ id: 'charge', capability: 'slow', args: { ms: lit(3000) } })],
    });
    const file = writePlan(project, p);
    for (const [runId, flags, expected] of [
      ['nid-1', [], 'failed'],
      ['nid-2', ['--rerun-in-flight'], 'completed'],
    ] as const) {
      const { child, done } = orchAsync(['run', file, '--run-id', runId], project);
      await until(() => eventTypes(db, runId).includes('step_started'), 'step_started');
      child.kill('SIGKILL');
      await done;
      const r = orch(['resume', runId, '--json', ...flags], project);
      const result = JSON.parse(r.stdout) as { status: string; steps: { error: string | null }[] };
      expect(result.status).toBe(expected);
      if (expected === 'failed') expect(result.steps[0]!.error).toMatch(/failed-unknown.*not idempotent/);
    }
  });
});
