/**
 * A real VS Code workbench for end-to-end tests: code-server 4.100.3 (the last release whose
 * engines accept Node 20), installed once into a cache folder outside the repository and reused,
 * started on a free 127.0.0.1 port with throw-away user data, and stopped by its process group.
 * How it is installed offline: install-code-server.mjs.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../../lsp/test/client.js';

export const CODE_SERVER_VERSION = '4.100.3';

export function cacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'orch-test', `code-server-${CODE_SERVER_VERSION}`);
}

export function codeServerEntry(dir = cacheDir()): string {
  return join(dir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
}

/** Why code-server cannot be installed here, or undefined when it can. */
export function missingPrerequisites(): string | undefined {
  if (existsSync(codeServerEntry())) return undefined;
  const missing = [['/usr/bin/rg', 'ripgrep'], ['/usr/include/krb5.h', 'libkrb5-dev'], ['/usr/bin/make', 'build-essential'], ['/usr/bin/g++', 'g++']]
    .filter(([path]) => !existsSync(path!)).map(([, pkg]) => pkg);
  return missing.length ? `missing apt packages: ${missing.join(', ')}` : undefined;
}

/**
 * Installs code-server into the cache folder when it is not there yet (minutes, once), through
 * install-code-server.mjs — which `.ci/run` starts early, alongside `npm ci`; this waits for it.
 */
export function ensureCodeServer(log: (line: string) => void = () => undefined): string {
  const dir = cacheDir();
  if (existsSync(join(dir, 'installed')) || (existsSync(codeServerEntry(dir)) && !existsSync(`${dir}.lock`))) return dir;
  log(`installing code-server ${CODE_SERVER_VERSION} into ${dir} (once, or waiting for the install under way)`);
  const r = spawnSync(process.execPath, [join(REPO, 'vscode-extension', 'test', 'install-code-server.mjs')], { encoding: 'utf8', timeout: 30 * 60_000 });
  if (r.status !== 0 || !existsSync(codeServerEntry(dir))) throw new Error(r.stderr || `installing code-server failed (exit ${r.status})`);
  return dir;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface RunningCodeServer {
  readonly url: string;
  readonly userDataDir: string;
  readonly logs: string[];
  stop(): Promise<void>;
}

/** The editor's own Node with an empty PATH: nothing like `orch` can be found on it. */
export function emptyPathEnv(home: string): NodeJS.ProcessEnv {
  const emptyBin = join(home, 'empty-bin');
  mkdirSync(emptyBin, { recursive: true });
  const env: NodeJS.ProcessEnv = {};
  for (const k of ['LANG', 'LC_ALL', 'TZ']) if (process.env[k]) env[k] = process.env[k];
  return { ...env, HOME: home, PATH: emptyBin, XDG_CONFIG_HOME: join(home, '.config'), XDG_DATA_HOME: join(home, '.local', 'share'), TMPDIR: tmpdir() };
}

function codeServerArgs(home: string): string[] {
  return ['--user-data-dir', join(home, 'user-data'), '--extensions-dir', join(home, 'extensions'), '--config', join(home, 'config.yaml')];
}

export function installExtension(home: string, vsix: string): void {
  writeFileSync(join(home, 'config.yaml'), 'auth: none\ncert: false\n');
  const r = spawnSync(process.execPath, [codeServerEntry(), ...codeServerArgs(home), '--install-extension', vsix, '--force'], {
    env: emptyPathEnv(home),
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`installing the .vsix failed: ${r.stdout}\n${r.stderr}`);
}

export async function startCodeServer(home: string, folder: string, settings: Record<string, unknown>): Promise<RunningCodeServer> {
  const user = join(home, 'user-data', 'User');
  mkdirSync(user, { recursive: true });
  writeFileSync(join(user, 'settings.json'), JSON.stringify(settings, null, 2));
  const port = await freePort();
  const logs: string[] = [];
  const child: ChildProcess = spawn(process.execPath, [
    codeServerEntry(), ...codeServerArgs(home), '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none',
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override',
    '--disable-file-downloads', '--ignore-last-opened', folder,
  ], { env: emptyPathEnv(home), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stdout!.on('data', (b: Buffer) => logs.push(b.toString()));
  child.stderr!.on('data', (b: Buffer) => logs.push(b.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`code-server exited (${child.exitCode}):\n${logs.join('')}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`code-server did not start:\n${logs.join('')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    userDataDir: join(home, 'user-data'),
    logs,
    async stop() {
      if (child.exitCode !== null) return;
      // Its extension host, language server and terminals are children: end the whole group.
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
