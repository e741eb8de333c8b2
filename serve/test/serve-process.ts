/**
 * Starts a REAL `orch serve` process (node bin/orch.js serve …) on 127.0.0.1 with port 0, and
 * reads the bound URL from its start-up banner on stdout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURES = join(REPO, 'serve/test/fixtures');
export const TOKEN = 'test-token-0123456789';

export function tempDir(prefix = 'orch-serve-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** How long `stop` waits after SIGTERM before it kills the server and fails. */
const STOP_WAIT_MS = 20_000;

export interface ServeProcess {
  readonly url: string;
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** SIGTERM and wait for exit; resolves to the exit code, rejects if it had to be killed. */
  stop(): Promise<number | null>;
  /** SIGKILL (a crash) and wait for the process to be gone. */
  kill9(): Promise<void>;
}

export async function startServe(
  files: string[],
  opts: { db: string; args?: string[]; token?: string | null; timeoutMs?: number; uiMode?: boolean },
): Promise<ServeProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.ORCH_TOKEN;
  if (opts.token !== null) env.ORCH_TOKEN = opts.token ?? TOKEN;
  const child = spawn(
    process.execPath,
    [join(REPO, 'bin/orch.js'), opts.uiMode ? 'ui' : 'serve', ...files, '--port', '0', '--db', opts.db, ...(opts.args ?? [])],
    { cwd: FIXTURES, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`orch serve did not start:\n${out}\n${err}`)), opts.timeoutMs ?? 30_000);
    const check = () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`orch serve exited with ${code} before listening:\n${out}\n${err}`));
    });
  });
  return {
    url,
    child,
    stdout: () => out,
    stderr: () => err,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      // A server stops within its grace period and its own stop limit (serve/main.ts), or exits
      // 1 saying what it waited for; one that does neither fails the test instead of hanging it.
      let killed = false;
      const hung = setTimeout(() => (killed = child.kill('SIGKILL')), STOP_WAIT_MS);
      const code = await exited;
      clearTimeout(hung);
      if (killed) throw new Error(`orch serve did not exit within ${STOP_WAIT_MS / 1000}s of SIGTERM:\n${err}`);
      return code;
    },
    kill9: async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
