/**
 * Handler output (LANGUAGE.md §7.3) with the real CLI and real worker threads: what a handler
 * prints with console.log / process.stdout / process.stderr, and ctx.log, becomes `step_log`
 * journal events with secrets redacted, shown by `orch timeline`; none of it reaches orch's own
 * stdout, so `orch run --json` prints exactly one JSON document. Lines are journaled while the
 * step runs, each once; what a handler wrote before it hung past its timeout, or before its
 * worker exited, is journaled too.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqlite } from '../backend/sqlite/driver.js';
import { orch, orchAsync, projectDir } from './helpers.js';

const SECRET = 'sk-live-0123456789abcdef';

const HANDLERS = `
export async function leaky(input, ctx) {
  console.log('token is', input.token);
  console.error('also on stderr:', ctx.secrets.API_TOKEN);
  process.stdout.write('partial line without newline');
  ctx.log('via ctx.log');
  return { ok: true };
}
export async function after(input, ctx) {
  console.log('second step');
  return { ok: true };
}
`;

const SOURCE = `
capability leaky {
  kind tool
  input { token: string }
  handler "./out.js#leaky"
}
capability after {
  kind tool
  handler "./out.js#after"
}
plan noisy {
  step a = leaky(token: secret("API_TOKEN"))
  step b = after() { after a }
}
`;

describe('handler output', () => {
  it('never reaches orch stdout; becomes redacted step_log events shown by timeline', () => {
    const dir = projectDir();
    writeFileSync(join(dir, 'out.js'), HANDLERS);
    writeFileSync(join(dir, 'main.orch'), SOURCE);
    const r = orch(['run', 'main.orch', '--json', '--run-id', 'noisy-1'], dir, { API_TOKEN: SECRET });
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { status: string };
    expect(result.status).toBe('completed');
    expect(r.stdout).not.toContain(SECRET);
    expect(r.stdout).not.toContain('token is');
    expect(r.stderr).not.toContain(SECRET);

    const t = orch(['timeline', 'noisy-1', '--json'], dir);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).not.toContain(SECRET);
    const events = (JSON.parse(t.stdout) as { events: { type: string; stepId: string; data: { line: string } }[] }).events;
    const lines = events.filter((e) => e.type === 'step_log').map((e) => `${e.stepId}: ${e.data.line}`);
    expect(lines).toEqual([
      'a: token is ***',
      'a: [stderr] also on stderr: ***',
      'a: via ctx.log',
      'a: partial line without newline',
      'b: second step',
    ]);
    const text = orch(['timeline', 'noisy-1'], dir);
    expect(text.stdout).toMatch(/step_log\s+a\s+token is \*\*\*/);
  });

  it('keeps what a handler wrote before it hung past its timeout or exited its worker', () => {
    const dir = projectDir();
    writeFileSync(
      join(dir, 'out.js'),
      `export async function hangs(input, ctx) {
  console.log('working on', input.token);
  ctx.log('attempt', ctx.attempt, 'waiting');
  await new Promise(() => {}); // never settles, and ignores ctx.signal
}
export async function exits(input, ctx) {
  ctx.log('about to exit');
  setTimeout(() => process.exit(3), 50);
  await new Promise(() => {});
}
`,
    );
    const CAPS = `capability hangs {
  kind tool
  input { token: string }
  handler "./out.js#hangs"
  timeout 2s
  retry 1
}
capability exits {
  kind tool
  handler "./out.js#exits"
}
`;
    writeFileSync(join(dir, 'hang.orch'), `${CAPS}plan stuck {\n  step h = hangs(token: secret("API_TOKEN"))\n}\n`);
    writeFileSync(join(dir, 'exit.orch'), `${CAPS}plan gone {\n  step x = exits()\n}\n`);
    const eventsOf = (file: string, runId: string) => {
      const r = orch(['run', file, '--json', '--run-id', runId], dir, { API_TOKEN: SECRET });
      expect(r.code, r.stderr).toBe(1);
      const t = orch(['timeline', runId, '--json'], dir);
      expect(t.code, t.stderr).toBe(0);
      expect(t.stdout).not.toContain(SECRET);
      return (JSON.parse(t.stdout) as { events: { type: string; stepId: string; data: { line?: string; attempt?: number; error?: string } }[] }).events;
    };
    const of = (events: ReturnType<typeof eventsOf>, id: string) =>
      events.filter((e) => e.stepId === id && e.type !== 'step_queued').map((e) => (e.type === 'step_log' ? `log ${e.data.attempt}: ${e.data.line}` : e.type));
    const hung = eventsOf('hang.orch', 'stuck-1');
    // Each timed-out attempt's lines come before the event that ends it.
    expect(of(hung, 'h')).toEqual([
      'step_started', 'log 1: working on ***', 'log 1: attempt 1 waiting', 'step_retried',
      'step_started', 'log 2: working on ***', 'log 2: attempt 2 waiting', 'step_failed',
    ]);
    expect(hung.find((e) => e.type === 'step_failed')!.data.error).toMatch(/timed out after 2000ms/);
    const gone = eventsOf('exit.orch', 'gone-1');
    expect(of(gone, 'x')).toEqual(['step_started', 'log 1: about to exit', 'step_failed']);
    expect(gone.find((e) => e.type === 'step_failed')!.data.error).toMatch(/exited the worker/);
  });

  it('journals lines while the step runs, and each line once', async () => {
    const dir = projectDir();
    const flag = join(dir, 'go-on');
    writeFileSync(
      join(dir, 'out.js'),
      `import { existsSync } from 'node:fs';
export async function slow(input, ctx) {
  ctx.log('halfway');
  console.log('still going');
  while (!existsSync(input.flag)) await new Promise((r) => setTimeout(r, 20));
  ctx.log('done');
  return { ok: true };
}
`,
    );
    writeFileSync(join(dir, 'main.orch'), `capability slow {\n  kind tool\n  input { flag: string }\n  handler "./out.js#slow"\n}\nplan live {\n  step s = slow(flag: ${JSON.stringify(flag)})\n}\n`);
    const { done } = orchAsync(['run', 'main.orch', '--run-id', 'live-1', '--quiet'], dir);
    const db = join(dir, '.orch', 'runs.db');
    const journaled = (): { type: string; data: string | null }[] => {
      if (!existsSync(db)) return [];
      const d = openSqlite(db, { readonly: true });
      try {
        return d.prepare("SELECT type, data FROM events WHERE run_id = 'live-1' ORDER BY seq").all() as { type: string; data: string | null }[];
      } catch {
        return []; // the schema is not there yet
      } finally {
        d.close();
      }
    };
    const deadline = Date.now() + 30_000;
    while (journaled().filter((e) => e.type === 'step_log').length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    // Both lines are in the journal while the handler still waits for the flag.
    const whileRunning = journaled();
    expect(whileRunning.map((e) => e.type)).not.toContain('step_completed');
    expect(whileRunning.filter((e) => e.type === 'step_log').map((e) => (JSON.parse(e.data!) as { line: string }).line)).toEqual(['halfway', 'still going']);
    writeFileSync(flag, '');
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
    const t = orch(['timeline', 'live-1', '--json'], dir);
    const events = (JSON.parse(t.stdout) as { events: { type: string; data: { line?: string } }[] }).events;
    expect(events.filter((e) => e.type === 'step_log' || e.type === 'step_completed').map((e) => e.data.line ?? e.type)).toEqual(['halfway', 'still going', 'done', 'step_completed']);
  });

  it("journals a compensation's lines as its step's, before step_compensated", () => {
    const dir = projectDir();
    writeFileSync(
      join(dir, 'out.js'),
      `export async function book(input, ctx) {
  ctx.log('booked', input.what);
  return { ok: true };
}
export async function unbook(input, ctx) {
  console.log('undoing', input.what, 'with', input.token);
  ctx.log('undone');
  return { ok: true };
}
export async function boom() {
  throw new Error('no room');
}
`,
    );
    writeFileSync(
      join(dir, 'main.orch'),
      `capability book {
  kind tool
  input { what: string }
  handler "./out.js#book"
}
capability unbook {
  kind tool
  input { what: string, token: string }
  handler "./out.js#unbook"
}
capability boom {
  kind tool
  handler "./out.js#boom"
}
plan trip {
  on_failure rollback
  step flight = book(what: "flight") {
    compensate unbook(what: "flight", token: secret("API_TOKEN"))
  }
  step hotel = boom() {
    after flight
  }
}
`,
    );
    const r = orch(['run', 'main.orch', '--json', '--run-id', 'trip-1'], dir, { API_TOKEN: SECRET });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).not.toContain('undoing');
    const t = orch(['timeline', 'trip-1', '--json'], dir);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).not.toContain(SECRET);
    const events = (JSON.parse(t.stdout) as { events: { type: string; stepId: string; data: { line?: string; compensation?: boolean } }[] }).events;
    const flight = events
      .filter((e) => e.stepId === 'flight' && (e.type === 'step_log' || e.type === 'step_compensated'))
      .map((e) => (e.type === 'step_log' ? `${e.data.compensation ? 'compensation' : 'attempt'}: ${e.data.line}` : e.type));
    expect(flight).toEqual(['attempt: booked flight', 'compensation: undoing flight with ***', 'compensation: undone', 'step_compensated']);
    const text = orch(['timeline', 'trip-1'], dir);
    expect(text.stdout).toMatch(/step_log\s+flight\s+compensation: undone/);
  });

  it("journals what a handler module prints while it loads as the loading step's lines", () => {
    const dir = projectDir();
    writeFileSync(
      join(dir, 'out.js'),
      `console.log('module loading');
process.stdout.write('{"not": "the result"}\\n');
console.error('loaded with a warning');
export async function hello() {
  return { ok: true };
}
`,
    );
    writeFileSync(join(dir, 'main.orch'), `capability hello {\n  kind tool\n  handler "./out.js#hello"\n}\nplan greet {\n  step g = hello()\n}\n`);
    const r = orch(['run', 'main.orch', '--json', '--run-id', 'greet-1'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { status: string }).status).toBe('completed');
    expect(r.stdout).not.toContain('module loading');
    const t = orch(['timeline', 'greet-1', '--json'], dir);
    const events = (JSON.parse(t.stdout) as { events: { type: string; stepId: string; data: { line?: string } }[] }).events;
    expect(events.filter((e) => e.type === 'step_log').map((e) => `${e.stepId}: ${e.data.line}`)).toEqual([
      'g: module loading',
      'g: {"not": "the result"}',
      'g: [stderr] loaded with a warning',
    ]);
  });

  it('what the project config and its policy hooks print goes to stderr: orch run --json stays one JSON document', () => {
    const dir = projectDir();
    writeFileSync(join(dir, 'main.orch'), 'plan quiet {\n  step w = wait 1ms\n}\n');
    writeFileSync(
      join(dir, 'orch.config.mjs'),
      `console.log('config loaded');
export default {
  hooks: {
    preExecution(step) { console.log('pre', step.stepId); return { allow: true }; },
    async postExecution(step) { console.info('post', step.stepId); },
  },
};
`,
    );
    const r = orch(['run', 'main.orch', '--json'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { status: string }).status).toBe('completed');
    expect(r.stdout).not.toMatch(/config loaded|pre w|post w/);
    expect(r.stderr).toContain('config loaded');
    expect(r.stderr).toContain('pre w');
    expect(r.stderr).toContain('post w');
  });

  it('what the project config and its policy hooks write to process.stdout goes to stderr too, even after an await', () => {
    const dir = projectDir();
    writeFileSync(join(dir, 'main.orch'), 'plan quiet {\n  step w = wait 1ms\n}\n');
    writeFileSync(
      join(dir, 'orch.config.mjs'),
      `process.stdout.write('config raw\\n');
export default {
  hooks: {
    async preExecution(step) {
      process.stdout.write('pre raw ' + step.stepId + '\\n');
      await new Promise((r) => setTimeout(r, 5));
      process.stdout.write('pre late ' + step.stepId + '\\n');
      return { allow: true };
    },
    postExecution(step) { process.stdout.write('post raw ' + step.stepId + '\\n'); },
  },
};
`,
    );
    const r = orch(['run', 'main.orch', '--json'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { status: string }).status).toBe('completed');
    for (const line of ['config raw', 'pre raw w', 'pre late w', 'post raw w']) expect(r.stderr).toContain(line);
  });
});
