/**
 * A real MQTT broker for tests (LANGUAGE.md §9.4's sources): Debian's mosquitto on free ports of
 * 127.0.0.1, configured in a temporary directory — one open listener and one whose clients must
 * log in (a password file made by `mosquitto_passwd -b`). `restart()` stops the broker and starts
 * it again on the same ports, for the reconnect case; retained messages are kept across it only
 * in memory (persistence off), as a fresh broker would.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './pg-cluster.js';
import { waitUntil } from './wait.js';

export const MOSQUITTO = process.env.MOSQUITTO ?? '/usr/sbin/mosquitto';

export interface TestBroker {
  /** `mqtt://127.0.0.1:PORT`, anyone may connect. */
  readonly url: string;
  /** `mqtt://127.0.0.1:PORT`, only `user` with `password`. */
  readonly securedUrl: string;
  readonly user: string;
  readonly password: string;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startMosquitto(): Promise<TestBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'orch-mosquitto-'));
  chmodSync(dir, 0o755);
  const [open, secured] = [await freePort(), await freePort()];
  const user = 'orch';
  const password = 'pw-' + Math.random().toString(36).slice(2);
  const passwd = join(dir, 'passwd');
  writeFileSync(passwd, '');
  execFileSync('mosquitto_passwd', ['-b', passwd, user, password]);
  chmodSync(passwd, 0o644);
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      // Run as the user the tests run as (root in CI would otherwise switch to `mosquitto`).
      `user ${process.getuid?.() === 0 ? 'root' : (process.env.USER ?? 'nobody')}`,
      'per_listener_settings true',
      'persistence false',
      'log_dest stderr',
      'log_type error',
      `listener ${open} 127.0.0.1`,
      'allow_anonymous true',
      `listener ${secured} 127.0.0.1`,
      'allow_anonymous false',
      `password_file ${passwd}`,
      '',
    ].join('\n'),
  );
  let proc: ChildProcess | null = null;
  let stderr = '';
  const start = async () => {
    stderr = '';
    const p = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    proc = p;
    let exited = false;
    p.once('exit', () => (exited = true));
    await waitUntil(async () => {
      if (exited) throw new Error(`mosquitto exited: ${stderr}`);
      return (await accepts(open)) && (await accepts(secured));
    }, 'mosquitto to listen', 10_000);
  };
  const stopNow = async () => {
    const p = proc;
    proc = null;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((done) => {
      p.once('exit', () => done());
      p.kill('SIGTERM');
    });
  };
  await start();
  return {
    url: `mqtt://127.0.0.1:${open}`,
    securedUrl: `mqtt://127.0.0.1:${secured}`,
    user,
    password,
    restart: async () => {
      await stopNow();
      await start();
    },
    stop: async () => {
      await stopNow();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = createConnection({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      done(true);
    });
    s.once('error', () => done(false));
  });
}
