#!/usr/bin/env node
// Installs code-server into its cache folder outside the repository, once (a few minutes on a
// fresh machine). A plain script, not TypeScript, so that `.ci/run` can start it alongside
// `npm ci` — before anything is built — and the VS Code test finds it done; the test calls the
// same script when it runs first. Prints the folder. Concurrent callers wait on one install.
//
// Offline-install facts this encodes: the postinstall refuses root without
// npm_config_unsafe_perm; node-pty's postinstall runs `npx node-gyp` (npm_config_yes); and
// @vscode/ripgrep downloads a binary unless `$TMPDIR/vscode-ripgrep-cache-1.15.11/` already holds
// its tarball — which we make from Debian's /usr/bin/rg.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const CODE_SERVER_VERSION = '4.100.3';
const RIPGREP_CACHE = 'vscode-ripgrep-cache-1.15.11';
const RIPGREP_TARBALL = 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz';
/** A lock older than this belongs to an install that died: it is taken over. */
const STALE_LOCK_MS = 30 * 60_000;

const dir = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'orch-test', `code-server-${CODE_SERVER_VERSION}`);
const entry = join(dir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const lock = `${dir}.lock`;
/** Written once npm has finished: code-server's entry exists well before its postinstall is done. */
const marker = join(dir, 'installed');
/** An install from before the marker (no lock beside it) counts as done too. */
const installed = () => existsSync(marker) || (existsSync(entry) && !existsSync(lock));

function takeLock() {
  mkdirSync(join(dir, '..'), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      return;
    } catch {
      if (existsSync(marker)) return;
      try {
        if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true });
      } catch {
        // The other install just finished and removed its lock.
      }
      // Another process is installing: wait for it (Atomics.wait is a synchronous sleep).
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
    }
  }
}

function install() {
  const tmp = join(dir, 'tmp');
  mkdirSync(join(tmp, RIPGREP_CACHE), { recursive: true });
  const tarball = join(tmp, RIPGREP_CACHE, RIPGREP_TARBALL);
  if (!existsSync(tarball)) {
    // Made under another name and renamed when whole: a tarball left by a failed attempt (tar
    // writes its archive even when `rg` is missing) would be "the cached download" of every later
    // install, which then finds no rg in it and tries GitHub.
    const staging = mkdtempSync(join(tmp, 'rg-'));
    const cp = spawnSync('cp', ['/usr/bin/rg', join(staging, 'rg')], { encoding: 'utf8' });
    const partial = `${tarball}.partial`;
    const tar = cp.status === 0 ? spawnSync('tar', ['-czf', partial, '-C', staging, 'rg'], { encoding: 'utf8' }) : cp;
    rmSync(staging, { recursive: true, force: true });
    if (tar.status !== 0) {
      rmSync(partial, { force: true });
      throw new Error(`cannot make the ripgrep tarball from /usr/bin/rg (Debian's ripgrep): ${tar.stderr}`);
    }
    renameSync(partial, tarball);
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'orch-test-code-server', private: true }) + '\n');
  const npm = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', `code-server@${CODE_SERVER_VERSION}`], {
    cwd: dir,
    env: { ...process.env, TMPDIR: tmp, npm_config_unsafe_perm: 'true', npm_config_yes: 'true' },
    encoding: 'utf8',
    timeout: 25 * 60_000,
  });
  if (npm.status !== 0 || !existsSync(entry)) {
    rmSync(join(dir, 'node_modules'), { recursive: true, force: true });
    const tail = `${npm.stdout}${npm.stderr}`.split('\n').filter((l) => !/Unknown (env|user|cli) config/.test(l)).slice(-40).join('\n');
    throw new Error(`installing code-server failed (exit ${npm.status}):\n${tail}`);
  }
  writeFileSync(marker, `${new Date().toISOString()}\n`);
}

if (!installed()) {
  takeLock();
  try {
    if (!existsSync(marker)) {
      console.error(`installing code-server ${CODE_SERVER_VERSION} into ${dir} (once)`);
      install();
    }
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    process.exitCode = 1;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
if (!process.exitCode) console.log(dir);
