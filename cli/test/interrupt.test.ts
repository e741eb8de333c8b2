/**
 * Issue 34 item 3: Ctrl-C of a real `orch run`. The first SIGINT starts nothing more, lets the
 * running step finish and leaves the run `interrupted`; `orch resume` completes it. A second
 * SIGINT exits at once, and the run is still resumable.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { orch } from '../../examples/test/cli.js';

const BIN = fileURLToPath(new URL('../../bin/orch.js', import.meta.url));

/** `slow` writes started.txt, then holds until release.txt exists; `quick` just answers. */
function project(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'orch-sigint-'));
  writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
  writeFileSync(
    path.join(dir, 'h.mjs'),
    `import { existsSync, writeFileSync, appendFileSync } from 'node:fs';
export async function slow() {
  appendFileSync(${JSON.stringify(path.join(dir, 'ran.txt'))}, 'slow\\n');
  writeFileSync(${JSON.stringify(path.join(dir, 'started.txt'))}, 'x');
  for (let i = 0; i < 600 && !existsSync(${JSON.stringify(path.join(dir, 'release.txt'))}); i++) await new Promise((r) => setTimeout(r, 50));
  return { n: 1 };
}
export function quick(i) {
  appendFileSync(${JSON.stringify(path.join(dir, 'ran.txt'))}, 'quick\\n');
  return { n: i.n + 1 };
}
`,
  );
  writeFileSync(
    path.join(dir, 'p.orch'),
    `capability slow {
  kind tool
  output { n: int }
  handler "./h.mjs#slow"
  idempotent true
}
capability quick {
  kind tool
  input { n: int }
  output { n: int }
  handler "./h.mjs#quick"
}
plan p {
  step a = slow()
  step b = quick(n: a.output.n)
  output { n: b.output.n }
}
`,
  );
  return dir;
}

async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** `orch run` in `dir`, with its stderr as it comes. */
function start(dir: string, runId: string) {
  const child = spawn(process.execPath, [BIN, 'run', 'p.orch', '--run-id', runId, '--db', 'runs.db', '--workers', '1'], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1' },
  });
  const out = { stderr: '', stdout: '' };
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out.stderr += d));
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out.stdout += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out, exited };
}

function status(dir: string, runId: string): string {
  const r = orch(['runs', '--json', '--db', 'runs.db'], { cwd: dir });
  const rows = JSON.parse(r.stdout) as { runs: { runId: string; status: string }[] };
  return rows.runs.find((x) => x.runId === runId)?.status ?? `not found in ${r.stdout}`;
}

describe('Ctrl-C of orch run', () => {
  it('the first SIGINT lets the running step finish, starts nothing more, and leaves the run resumable', async () => {
    const dir = project();
    const run = start(dir, 'r1');
    await until('step a to start', () => existsSync(path.join(dir, 'started.txt')));
    run.child.kill('SIGINT');
    await until('the interrupt notice', () => run.out.stderr.includes('no new step starts'));
    writeFileSync(path.join(dir, 'release.txt'), 'go');
    expect(await run.exited).toBe(130);
    expect(run.out.stderr).toContain('orch resume r1');
    expect(status(dir, 'r1')).toBe('interrupted');
    // a finished; b never started.
    expect(readFileSync(path.join(dir, 'ran.txt'), 'utf8')).toBe('slow\n');
    const resumed = orch(['resume', 'r1', '--db', 'runs.db', '--json', '--workers', '1'], { cwd: dir });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect((JSON.parse(resumed.stdout) as { output: unknown }).output).toEqual({ n: 2 });
    // a was not run again; b ran once.
    expect(readFileSync(path.join(dir, 'ran.txt'), 'utf8')).toBe('slow\nquick\n');
  });

  it('a second SIGINT exits at once; the run is still resumable', async () => {
    const dir = project();
    const run = start(dir, 'r2');
    await until('step a to start', () => existsSync(path.join(dir, 'started.txt')));
    run.child.kill('SIGINT');
    await until('the interrupt notice', () => run.out.stderr.includes('no new step starts'));
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);
    expect(run.out.stderr).toContain('exiting now');
    writeFileSync(path.join(dir, 'release.txt'), 'go');
    const resumed = orch(['resume', 'r2', '--db', 'runs.db', '--json', '--workers', '1'], { cwd: dir });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect((JSON.parse(resumed.stdout) as { status: string }).status).toBe('completed');
  });
});
