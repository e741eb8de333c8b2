/**
 * A real MQTT broker for tests (LANGUAGE.md §9.4's sources): Debian's mosquitto on free ports of
 * 127.0.0.1, configured in a temporary directory — one open listener and one whose clients must
 * log in (a password file made by `mosquitto_passwd -b`), and with `{ tls: true }` an `mqtts://`
 * listener whose certificate a CA made here by openssl signed (for 127.0.0.1), with a second CA
 * that signed nothing, for the refused case. `restart()` stops the broker and starts
 * it again on the same ports, for the reconnect case; retained messages are kept across it only
 * in memory (persistence off), as a fresh broker would. `setPassword()` changes the password the
 * secured listener wants from the next (re)start on, for the refused-reconnection case.
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
  /** With `{ tls: true }`: `mqtts://127.0.0.1:PORT`, the CA that signed its certificate, and one that did not (PEM files). */
  readonly tls?: { readonly url: string; readonly caFile: string; readonly wrongCaFile: string };
  restart(): Promise<void>;
  /** The password `user` needs from the next `restart()` on. */
  setPassword(password: string): void;
  stop(): Promise<void>;
}

export async function startMosquitto(opts: { readonly tls?: boolean } = {}): Promise<TestBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'orch-mosquitto-'));
  chmodSync(dir, 0o755);
  const [open, secured] = [await freePort(), await freePort()];
  const tls = opts.tls ? { port: await freePort(), ...certificates(dir) } : null;
  const user = 'orch';
  const password = 'pw-' + Math.random().toString(36).slice(2);
  const passwd = join(dir, 'passwd');
  const setPassword = (pw: string) => {
    writeFileSync(passwd, '');
    execFileSync('mosquitto_passwd', ['-b', passwd, user, pw]);
    chmodSync(passwd, 0o644);
  };
  setPassword(password);
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
      ...(tls ? [`listener ${tls.port} 127.0.0.1`, 'allow_anonymous true', `cafile ${tls.caFile}`, `certfile ${tls.certFile}`, `keyfile ${tls.keyFile}`] : []),
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
      return (await accepts(open)) && (await accepts(secured)) && (!tls || (await accepts(tls.port)));
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
    ...(tls ? { tls: { url: `mqtts://127.0.0.1:${tls.port}`, caFile: tls.caFile, wrongCaFile: tls.wrongCaFile } } : {}),
    restart: async () => {
      await stopNow();
      await start();
    },
    setPassword,
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

/** A CA, the broker's certificate for 127.0.0.1 signed by it, and a CA that signed nothing (P-256 keys: quick to make). */
function certificates(dir: string): { caFile: string; certFile: string; keyFile: string; wrongCaFile: string } {
  const f = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=orch test CA');
  ssl('req', '-x509', ...ec, '-keyout', f('wrong-ca.key'), '-out', f('wrong-ca.pem'), '-days', '2', '-subj', '/CN=orch test CA');
  ssl('req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1');
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  ssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.pem'), '-days', '2', '-extfile', f('san.ext'));
  chmodSync(f('server.key'), 0o644);
  return { caFile: f('ca.pem'), certFile: f('server.pem'), keyFile: f('server.key'), wrongCaFile: f('wrong-ca.pem') };
}
