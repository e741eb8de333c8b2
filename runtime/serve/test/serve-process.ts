/**
 * Starts a REAL `orch serve` process (node bin/orch.js serve …) on 127.0.0.1 with port 0, and
 * reads the bound URL from its start-up banner on stdout.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const FIXTURES = join(REPO, 'runtime/serve/test/fixtures');
export const TOKEN = 'test-token-0123456789';
/** `tsc` over the whole project, on a machine other test files keep busy. */
export const BUILD_TIMEOUT_MS = 300_000;

/** Builds dist/ when the serve sources are newer than it (tests spawn the compiled CLI). */
export function ensureBuilt(): void {
  const built = join(REPO, 'dist/runtime/serve/main.js');
  const newest = newestMtime([join(REPO, 'runtime'), join(REPO, 'compiler'), join(REPO, 'language')]);
  if (existsSync(built) && statSync(built).mtimeMs >= newest) return;
  const lock = join(REPO, 'dist/.serve-test-build.lock');
  mkdirSync(join(REPO, 'dist'), { recursive: true });
  for (let i = 0; i < 1400; i++) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      spawnSync('sleep', ['0.2']);
    }
  }
  try {
    if (existsSync(built) && statSync(built).mtimeMs >= newest) return;
    // tsc still emits when other areas have type errors; only a missing output is fatal.
    spawnSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.build.json')], {
      cwd: REPO,
      stdio: 'ignore',
    });
    if (!existsSync(built)) throw new Error('build did not produce dist/runtime/serve/main.js');
  } finally {
    try {
      rmdirSync(lock);
    } catch {
      /* already gone */
    }
  }
}

function newestMtime(dirs: string[]): number {
  let newest = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'test' && e.name !== 'node_modules') walk(p);
      } else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) {
        newest = Math.max(newest, statSync(p).mtimeMs);
      }
    }
  };
  for (const d of dirs) if (existsSync(d)) walk(d);
  return newest;
}

export function tempDir(prefix = 'orch-serve-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface ServeProcess {
  readonly url: string;
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** SIGTERM and wait for exit; resolves to the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL (a crash) and wait for the process to be gone. */
  kill9(): Promise<void>;
}

export async function startServe(
  files: string[],
  opts: { db: string; args?: string[]; token?: string | null; timeoutMs?: number } ,
): Promise<ServeProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.ORCH_TOKEN;
  if (opts.token !== null) env.ORCH_TOKEN = opts.token ?? TOKEN;
  const child = spawn(
    process.execPath,
    [join(REPO, 'bin/orch.js'), 'serve', ...files, '--port', '0', '--db', opts.db, ...(opts.args ?? [])],
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
      return exited;
    },
    kill9: async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
