/**
 * `orch ARGS…` run inside the test process — the same CLI core (`cli/index.ts`'s `main`, what
 * bin/orch.js runs) without the ~0.7 s of starting a process. For CLI behaviour that needs no
 * process of its own: exit codes, output, what lands in the journal. What is about processes
 * (signals, crashes, two processes on one journal, the launcher itself) stays an end-to-end spawn.
 *
 * It runs the sources (as vitest loads them), not dist/. For the call's duration it captures
 * process.stdout and process.stderr, changes to `cwd` and sets `env` (NO_COLOR=1 by default), and
 * restores all of it after: one call at a time (concurrent callers queue), in a forked test process
 * (vitest's `forks` pool; a worker thread cannot chdir).
 */
import { main } from '../../cli/index.js';

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The call in progress: calls from concurrent tests (`describe.concurrent`) wait their turn. */
let previous: Promise<unknown> = Promise.resolve();

export function runCli(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const call = previous.then(() => runAlone(args, cwd, env));
  previous = call.catch(() => undefined);
  return call;
}

async function runAlone(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<CliResult> {
  const saved = { cwd: process.cwd(), exitCode: process.exitCode, out: process.stdout.write, err: process.stderr.write };
  const overrides: NodeJS.ProcessEnv = { NO_COLOR: '1', ...env };
  const savedEnv = new Map(Object.keys(overrides).map((k) => [k, process.env[k]]));
  let stdout = '';
  let stderr = '';
  const capture =
    (append: (s: string) => void) =>
    (chunk: string | Uint8Array, encoding?: BufferEncoding | ((err?: Error | null) => void), cb?: (err?: Error | null) => void): boolean => {
      append(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString(typeof encoding === 'string' ? encoding : 'utf8'));
      const done = typeof encoding === 'function' ? encoding : cb;
      if (done) queueMicrotask(() => done());
      return true;
    };
  try {
    for (const [k, v] of Object.entries(overrides)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    process.chdir(cwd);
    process.exitCode = undefined;
    process.stdout.write = capture((s) => (stdout += s)) as typeof process.stdout.write;
    process.stderr.write = capture((s) => (stderr += s)) as typeof process.stderr.write;
    const code = await main(['node', 'orch', ...args]);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
    process.exitCode = saved.exitCode;
    process.chdir(saved.cwd);
    for (const [k, v] of savedEnv) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
