/**
 * LANGUAGE.md §8.4: `notify` and `email` deliver through the channels of orch.config — e-mail to a
 * real SMTP server (smtp-server, messages parsed with mailparser), Slack and generic webhooks to a
 * local HTTP server — and `delivered` is true only when the transport accepted the message.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, type PlanIR } from '../../compiler/index.js';
import { Runtime } from '../index.js';
import type { ExecutionResult, RunEvent } from '../scheduler/types.js';
import { tempDir } from './helpers.js';

const SMTP_PASSWORD = 'smtp-pass-7f3a9c';
const HOOK_TOKEN = 'hook-token-51be2d';
const LITERAL_SMTP = 'literal-smtp-2b8e41';
const LITERAL_URL = 'literal-url-c93d07';

let smtp: SMTPServer;
let smtpPort = 0;
const mails: ParsedMail[] = [];
const logins: string[] = [];

/** Whether each next RCPT TO of busy@… is deferred (451) before it is taken. */
const deferrals: boolean[] = [];

let web: Server;
let webPort = 0;
const posts: { path: string; headers: IncomingMessage['headers']; body: unknown }[] = [];
/** Answers for the next POSTs to /flaky (then 200). */
const flaky: number[] = [];

let closedPort = 0;
let notSmtp: NetServer;
/** Peers that take the connection and say nothing, and one that greets as SMTP and then nothing. */
let silent: NetServer;
let greetsOnly: NetServer;
/** Its connections, ended at the close: a client that gave up on it may leave one open. */
const peers = new Set<Socket>();

let rt: Runtime;
let withChannels: string;
let without: string;

function project(config: object | null): string {
  const dir = tempDir('orch-chan-');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  if (config) writeFileSync(join(dir, 'orch.config.json'), JSON.stringify(config));
  return dir;
}

function planIn(dir: string, text: string): PlanIR {
  const file = join(dir, `p${Math.random().toString(36).slice(2)}.orch`);
  writeFileSync(file, text);
  const out = compile({ entry: file });
  expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return out.plans[0]!;
}

async function run(plan: PlanIR): Promise<{ result: ExecutionResult; events: RunEvent[] }> {
  const events: RunEvent[] = [];
  const active = await rt.start(plan, { onEvent: (e) => events.push(e) });
  return { result: await active.result, events };
}

const outputOf = (r: ExecutionResult, id: string) => r.steps.find((s) => s.stepId === id)!;

beforeAll(async () => {
  smtp = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    onAuth(auth, _session, cb) {
      logins.push(auth.username ?? '');
      if (auth.password === SMTP_PASSWORD) cb(null, { user: auth.username });
      // Echoes what it was sent, as careless servers do: Orch must not pass it on.
      else cb(new Error(`bad password ${auth.password}`));
    },
    onRcptTo(address, _session, cb) {
      const to = address.address;
      if (to.startsWith('nobody@')) return cb(Object.assign(new Error('5.1.1 no such user'), { responseCode: 550 }));
      if (to.startsWith('busy@') && deferrals.shift()) return cb(Object.assign(new Error('4.2.1 mailbox busy, try later'), { responseCode: 451 }));
      cb();
    },
    onData(stream, _session, cb) {
      simpleParser(stream).then((m) => (mails.push(m), cb()), cb);
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
  smtpPort = (smtp.server.address() as AddressInfo).port;

  web = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += String(d)));
    req.on('end', () => {
      posts.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(body || 'null') });
      // A hook that moved: 302 (a client following it would GET, dropping the message) or 308 (kept).
      if (req.url === '/moved' || req.url === '/kept') return void res.writeHead(req.url === '/moved' ? 302 : 308, { location: '/landing' }).end();
      // The same server under another host name: the channel's headers must not follow there.
      if (req.url === '/elsewhere') return void res.writeHead(308, { location: `http://localhost:${webPort}/landing` }).end();
      // A web framework's 404 page quotes the path it was sent to: a Slack hook's path is its credential.
      if (req.url?.startsWith('/services/')) return void res.writeHead(404).end(`Cannot POST ${req.url} (did you mean ${decodeURIComponent(req.url)}?)`);
      const status = req.url === '/flaky' ? (flaky.shift() ?? 200) : req.url === '/gone' ? 404 : 200;
      res.writeHead(status).end(status === 200 ? 'ok' : 'nope');
    });
  });
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  webPort = (web.address() as AddressInfo).port;

  // A port nobody listens on, and a service that answers with something else than SMTP.
  const closed = createNetServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  closedPort = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  notSmtp = createNetServer((socket) => (peers.add(socket), socket.on('error', () => undefined), socket.write('SSH-2.0-OpenSSH_9.2\r\n')));
  await new Promise<void>((r) => notSmtp.listen(0, '127.0.0.1', r));
  const notSmtpPort = (notSmtp.address() as AddressInfo).port;
  silent = createNetServer((socket) => (peers.add(socket), socket.on('error', () => undefined)));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const silentPort = (silent.address() as AddressInfo).port;
  greetsOnly = createNetServer((socket) => (peers.add(socket), socket.on('error', () => undefined), socket.write('220 mail.example.com ESMTP\r\n')));
  await new Promise<void>((r) => greetsOnly.listen(0, '127.0.0.1', r));
  const greetsOnlyPort = (greetsOnly.address() as AddressInfo).port;

  process.env.ORCH_TEST_SMTP_PASSWORD = SMTP_PASSWORD;
  withChannels = project({
    secrets: { HOOK_TOKEN },
    channels: {
      ops: { email: { smtp: `smtp://127.0.0.1:${smtpPort}`, user: 'orch', password: 'secret:ORCH_TEST_SMTP_PASSWORD', from: 'orch@example.com', to: ['ops@example.com'] } },
      email: { email: { smtp: `smtp://127.0.0.1:${smtpPort}`, user: 'orch', password: 'secret:ORCH_TEST_SMTP_PASSWORD', from: 'digest@example.com' } },
      '#wins': { slack: `http://127.0.0.1:${webPort}/slack` },
      audit: { webhook: { url: `http://127.0.0.1:${webPort}/audit`, headers: { 'x-token': 'secret:HOOK_TOKEN' } } },
      flaky: { webhook: { url: `http://127.0.0.1:${webPort}/flaky` } },
      gone: { webhook: { url: `http://127.0.0.1:${webPort}/gone` } },
      moved: { webhook: { url: `http://127.0.0.1:${webPort}/moved` } },
      kept: { slack: `http://127.0.0.1:${webPort}/kept` },
      elsewhere: { webhook: { url: `http://127.0.0.1:${webPort}/elsewhere`, headers: { 'x-token': 'secret:HOOK_TOKEN' } } },
      down: { email: { smtp: `smtp://127.0.0.1:${closedPort}`, from: 'orch@example.com', to: ['ops@example.com'] } },
      // Credentials written as literals, not `secret:` references.
      literal: { email: { smtp: `smtp://orch:${LITERAL_SMTP}@127.0.0.1:${smtpPort}`, from: 'orch@example.com', to: ['ops@example.com'] } },
      creds: { webhook: { url: `http://hook:${LITERAL_URL}@127.0.0.1:${webPort}/audit` } },
      badauth: { email: { smtp: `smtp://127.0.0.1:${smtpPort}`, user: 'wrong-user', password: 'not-it', from: 'orch@example.com', to: ['ops@example.com'] } },
      // Written without a scheme: not a URL Orch can send to (mail.example.com: would parse as a scheme).
      noscheme: { email: { smtp: 'mail.example.com:587', from: 'orch@example.com', to: ['ops@example.com'] } },
      nourl: { webhook: { url: 'hooks.example.com/orch' } },
      ssh: { email: { smtp: `smtp://127.0.0.1:${notSmtpPort}`, from: 'orch@example.com', to: ['ops@example.com'] } },
      sshhook: { webhook: { url: `http://127.0.0.1:${notSmtpPort}/hook` } },
      mutehook: { webhook: { url: `http://127.0.0.1:${silentPort}/hook` } },
      muteslack: { slack: `http://127.0.0.1:${silentPort}/services/T0/B0/x` },
      mutesmtp: { email: { smtp: `smtp://127.0.0.1:${greetsOnlyPort}`, from: 'orch@example.com', to: ['ops@example.com'] } },
    },
  });
  without = project({});
  rt = await Runtime.open({ db: join(withChannels, 'runs.db'), workers: 1, controlPollMs: 50 });
});

afterAll(async () => {
  await rt?.close();
  await new Promise((r) => smtp?.close(() => r(undefined)));
  await new Promise((r) => web?.close(() => r(undefined)));
  for (const p of peers) p.destroy();
  await new Promise((r) => notSmtp?.close(() => r(undefined)));
  await new Promise((r) => silent?.close(() => r(undefined)));
  await new Promise((r) => greetsOnly?.close(() => r(undefined)));
});

describe('notify and email through configured channels', () => {
  it('delivers e-mail over SMTP, Slack and webhook messages, and says delivered only then', async () => {
    const plan = planIn(withChannels, `
plan tell {
  step mail = notify(channel: "ops", text: "disk almost full\\non db-1", level: "warning")
  step slack = notify(channel: "#wins", text: "shipped")
  step hook = notify(channel: "audit", text: "audited", level: "critical")
  step digest = email(to: ["ann@example.com", "bob@example.com"], subject: "Digest", text: "total 42", html: "<p>total <b>42</b></p>")
}
`);
    const { result, events } = await run(plan);
    expect(result.status).toBe('completed');
    for (const id of ['mail', 'slack', 'hook', 'digest']) expect(outputOf(result, id).output).toMatchObject({ delivered: true });

    const alert = mails.find((m) => m.from?.text === 'orch@example.com')!;
    expect(alert.to).toMatchObject({ text: 'ops@example.com' });
    expect(alert.subject).toBe('WARNING: disk almost full');
    expect(alert.text?.trim()).toBe('disk almost full\non db-1');
    const digest = mails.find((m) => m.subject === 'Digest')!;
    expect(digest.from?.text).toBe('digest@example.com');
    expect(digest.to).toMatchObject({ text: 'ann@example.com, bob@example.com' });
    expect(digest.text?.trim()).toBe('total 42');
    expect(digest.html).toContain('<b>42</b>');
    expect(logins).toContain('orch');

    expect(posts.find((p) => p.path === '/slack')?.body).toEqual({ text: 'shipped' });
    const hook = posts.find((p) => p.path === '/audit')!;
    expect(hook.headers['x-token']).toBe(HOOK_TOKEN);
    expect(hook.body).toMatchObject({ channel: 'audit', text: 'audited', level: 'critical', step_id: 'hook' });

    // The channel secrets never reach the journal.
    const journal = JSON.stringify(events);
    expect(journal).not.toContain(SMTP_PASSWORD);
    expect(journal).not.toContain(HOOK_TOKEN);
  });

  it('fails the step on a channel that is not configured', async () => {
    // notify's retry policy (2, exponential from 1 s) does not apply: retrying cannot configure it.
    const { result, events } = await run(planIn(withChannels, 'plan lost { step n = notify(channel: "pager", text: "x") }'));
    expect(result.status).toBe('failed');
    expect(outputOf(result, 'n').error).toBe('channel "pager" is not configured');
    expect(outputOf(result, 'n').attempts).toBe(1);
    // §9.1: an unknown channel cannot heal — the journal says so.
    expect(events.find((e) => e.type === 'step_failed')!.data).toMatchObject({ permanent: true });
    // Only the config's own entries are channels: not a name every object has.
    for (const name of ['__proto__', 'toString']) {
      const other = await run(planIn(withChannels, `plan lost2 { step n = notify(channel: "${name}", text: "x") }`));
      expect(outputOf(other.result, 'n').error).toBe(`channel "${name}" is not configured`);
    }
  });

  it('a refused webhook (HTTP 404) is permanent: one attempt, whatever the retry policy (§9.1)', async () => {
    const before = posts.filter((p) => p.path === '/gone').length;
    const { result, events } = await run(planIn(withChannels, 'plan refused { step n = notify(channel: "gone", text: "x") { retry 2 backoff fixed 10ms } }'));
    expect(result.status).toBe('failed');
    expect(posts.filter((p) => p.path === '/gone').length - before).toBe(1);
    expect(outputOf(result, 'n').error).toMatch(/^webhook channel "gone" \(HTTP 127\.0\.0\.1:\d+\) refused the message: HTTP 404/);
    expect(events.find((e) => e.type === 'step_failed')!.data).toMatchObject({ permanent: true });
  });

  it('a refusal that quotes the hook\'s path (a Slack URL\'s credential, here a secret) prints *** in its place, never the path', async () => {
    const hook = `http://127.0.0.1:${webPort}/services/T0001/B0002/XyZsecretHookToken?x=1`;
    const dir = project({ secrets: { SLACK_HOOK: hook }, channels: { team: { slack: 'secret:SLACK_HOOK' } } });
    const { result, events } = await run(planIn(dir, 'plan quoted { step n = notify(channel: "team", text: "x") }'));
    const error = String(outputOf(result, 'n').error);
    expect(error).toMatch(/^slack channel "team" \(HTTP 127\.0\.0\.1:\d+\) refused the message: HTTP 404 Cannot POST \*\*\* \(did you mean \*\*\*\?\)$/);
    expect(JSON.stringify(events)).not.toContain('XyZsecretHookToken');
  });

  it('transport errors name the channel and the transport; a peer that is not SMTP says so at once', async () => {
    const { result } = await run(planIn(withChannels, `plan broken {
  step refused = notify(channel: "down", text: "x") { retry 0  on_failure continue }
  step other = notify(channel: "ssh", text: "x") { retry 0  on_failure continue }
}`));
    expect(outputOf(result, 'refused').error).toBe(`channel "down" (SMTP 127.0.0.1:${closedPort}): connection refused`);
    expect(outputOf(result, 'other').error).toMatch(/^channel "ssh" \(SMTP 127\.0\.0\.1:\d+\): the peer does not speak SMTP \(Invalid greeting/);
    const hook = await run(planIn(withChannels, 'plan not_http { step n = notify(channel: "sshhook", text: "x") { retry 0 } }'));
    expect(outputOf(hook.result, 'n').error).toMatch(/^webhook channel "sshhook" \(HTTP 127\.0\.0\.1:\d+\): the peer does not speak HTTP \(Response does not match the HTTP\/1\.1 protocol/);
  });

  it('a peer that takes the connection and answers nothing fails each attempt within the silent-peer bound, naming channel and transport (§9.1)', async () => {
    process.env.ORCH_SILENT_PEER_MS = '300';
    try {
      const { result } = await run(planIn(withChannels, `plan mute {
  step hook = notify(channel: "mutehook", text: "x") { retry 1 backoff fixed 10ms  on_failure continue }
  step slack = notify(channel: "muteslack", text: "x") { retry 1 backoff fixed 10ms  on_failure continue }
  step mail = notify(channel: "mutesmtp", text: "x") { retry 1 backoff fixed 10ms  on_failure continue }
}`));
      expect(outputOf(result, 'hook')).toMatchObject({ attempts: 2, error: expect.stringMatching(/^webhook channel "mutehook" \(HTTP 127\.0\.0\.1:\d+\): no HTTP answer within 0\.3 s \(is it an HTTP server\?\)$/) });
      expect(outputOf(result, 'slack')).toMatchObject({ attempts: 2, error: expect.stringMatching(/^slack channel "muteslack" \(HTTP 127\.0\.0\.1:\d+\): no HTTP answer within 0\.3 s \(is it an HTTP server\?\)$/) });
      // It greeted (it speaks SMTP): its silence after EHLO has a reply's bound, three silent ones.
      expect(outputOf(result, 'mail')).toMatchObject({ attempts: 2, error: expect.stringMatching(/^channel "mutesmtp" \(SMTP 127\.0\.0\.1:\d+\): no SMTP answer within 0\.9 s$/) });
    } finally {
      delete process.env.ORCH_SILENT_PEER_MS;
    }
  });

  it('a password written as a literal (in an smtp:// or webhook URL) reaches neither the result nor an event, when a server or fetch quotes it', async () => {
    const { result, events } = await run(planIn(withChannels, `plan literal {
  step mail = notify(channel: "literal", text: "x") { retry 0  on_failure continue }
  step hook = notify(channel: "creds", text: "x") { retry 0  on_failure continue }
}`));
    expect(outputOf(result, 'mail').error).toMatch(/^channel "literal" \(SMTP 127\.0\.0\.1:\d+\): .*bad password \*\*\*/);
    expect(outputOf(result, 'hook').error).toMatch(/webhook channel "creds" .*\*\*\*/);
    const shown = JSON.stringify([result, events, await rt.store!.load(result.runId)]);
    expect(shown).not.toContain(LITERAL_SMTP);
    expect(shown).not.toContain(LITERAL_URL);
  });

  it('an SMTP 5xx answer (credentials refused, a recipient unknown) is permanent; a 4xx one is retried (§9.1)', async () => {
    const { result, events } = await run(planIn(withChannels, `plan smtp_refusals {
  step auth = notify(channel: "badauth", text: "x") { retry 2 backoff fixed 10ms  on_failure continue }
  step unknown = email(to: ["nobody@example.com"], subject: "u", text: "x") { retry 2 backoff fixed 10ms  on_failure continue }
}`));
    expect(logins.filter((u) => u === 'wrong-user')).toHaveLength(1);
    expect(outputOf(result, 'auth').error).toMatch(/^channel "badauth" \(SMTP 127\.0\.0\.1:\d+\): 535 /);
    expect(outputOf(result, 'unknown').attempts).toBe(1);
    expect(outputOf(result, 'unknown').error).toMatch(/^channel "email" \(SMTP 127\.0\.0\.1:\d+\): .*550 /);
    for (const id of ['auth', 'unknown']) expect(events.find((e) => e.type === 'step_failed' && e.stepId === id)!.data).toMatchObject({ permanent: true });

    deferrals.push(true);
    const again = await run(planIn(withChannels, 'plan smtp_later { step later = email(to: ["busy@example.com"], subject: "later", text: "x") { retry 2 backoff fixed 10ms } }'));
    expect(again.result.status).toBe('completed');
    expect(outputOf(again.result, 'later').attempts).toBe(2);
    expect(mails.filter((m) => m.subject === 'later')).toHaveLength(1);
  });

  it('addresses nodemailer refuses before any SMTP exchange (none is an address) fail for good: another attempt would refuse them again (§9.1)', async () => {
    const { result, events } = await run(planIn(withChannels, 'plan malformed { step bad = email(to: ["not an address"], subject: "bad", text: "x") { retry 2 backoff fixed 10ms } }'));
    expect(result.status).toBe('failed');
    expect(outputOf(result, 'bad').attempts).toBe(1);
    expect(outputOf(result, 'bad').error).toMatch(/^channel "email" \(SMTP 127\.0\.0\.1:\d+\): No recipients defined/);
    expect(events.find((e) => e.type === 'step_failed')!.data).toMatchObject({ permanent: true });
  });

  it('a message some recipients took is not sent again to them: the rest refused fails it for good', async () => {
    const { result, events } = await run(planIn(withChannels, 'plan partly { step some = email(to: ["ann@example.com", "nobody@example.com"], subject: "partly", text: "x") { retry 2 backoff fixed 10ms } }'));
    expect(result.status).toBe('failed');
    expect(mails.filter((m) => m.subject === 'partly')).toHaveLength(1);
    expect(outputOf(result, 'some').error).toMatch(/^channel "email" \(SMTP 127\.0\.0\.1:\d+\): the SMTP server refused nobody@example\.com/);
    expect(events.find((e) => e.type === 'step_failed')!.data).toMatchObject({ permanent: true });
  });

  it('a channel whose smtp or webhook address is not a URL of its transport fails for good, naming the channel', async () => {
    const { result, events } = await run(planIn(withChannels, `plan misconfigured {
  step mail = notify(channel: "noscheme", text: "x") { retry 2 backoff fixed 10ms  on_failure continue }
  step hook = notify(channel: "nourl", text: "x") { retry 2 backoff fixed 10ms  on_failure continue }
}`));
    expect(outputOf(result, 'mail').error).toBe('channel "noscheme": "smtp" must be an smtp:// or smtps:// URL (smtp://host:port)');
    expect(outputOf(result, 'hook').error).toBe('channel "nourl": the webhook URL must be an http:// or https:// URL');
    for (const id of ['mail', 'hook']) {
      expect(outputOf(result, id).attempts).toBe(1);
      expect(events.find((e) => e.type === 'step_failed' && e.stepId === id)!.data).toMatchObject({ permanent: true });
    }
  });

  it('a hook redirected with 307/308 gets the message where it leads; a 301/302/303, which would drop it, fails for good (and so does one to another host)', async () => {
    const landed = () => posts.filter((p) => p.path === '/landing');
    const before = landed().length;
    const { result, events } = await run(planIn(withChannels, `plan redirected {
  step kept = notify(channel: "kept", text: "still here")
  step moved = notify(channel: "moved", text: "lost?") { retry 2 backoff fixed 10ms  on_failure continue }
  step away = notify(channel: "elsewhere", text: "token?") { retry 2 backoff fixed 10ms  on_failure continue }
}`));
    expect(outputOf(result, 'kept').output).toMatchObject({ delivered: true });
    expect(landed().slice(before).map((p) => p.body)).toEqual([{ text: 'still here' }]);
    expect(outputOf(result, 'moved').error).toMatch(/^webhook channel "moved" \(HTTP 127\.0\.0\.1:\d+\) refused the message: HTTP 302, a redirect not followed \(it would drop the message or send its headers to another host\): set the URL it leads to$/);
    expect(outputOf(result, 'moved').attempts).toBe(1);
    expect(outputOf(result, 'away').error).toMatch(/^webhook channel "elsewhere" .* HTTP 308, a redirect not followed/);
    expect(events.find((e) => e.type === 'step_failed' && e.stepId === 'moved')!.data).toMatchObject({ permanent: true });
  });

  it('retries a transport failure (an HTTP 500) under the capability retry policy', async () => {
    flaky.push(500);
    const { result } = await run(planIn(withChannels, 'plan again { step n = notify(channel: "flaky", text: "x") { retry 2 backoff fixed 10ms } }'));
    expect(result.status).toBe('completed');
    expect(outputOf(result, 'n').attempts).toBe(2);
  });

  it('keeps v0.2 behaviour without any channels: the message goes to the log, delivered is false', async () => {
    const { result, events } = await run(planIn(without, 'plan quiet { step n = notify(channel: "ops", text: "hello") }'));
    expect(result.status).toBe('completed');
    expect(outputOf(result, 'n').output).toEqual({ delivered: false, channel: 'ops' });
    expect(events.some((e) => e.type === 'step_log' && JSON.stringify(e.data).includes('[ops] hello'))).toBe(true);
  });

  it('"channels": {} is no channels: notify goes to the log as without the key; email still needs a channel', async () => {
    const empty = project({ channels: {} });
    const { result, events } = await run(planIn(empty, 'plan quiet { step n = notify(channel: "ops", text: "hello") }'));
    expect(result.status).toBe('completed');
    expect(outputOf(result, 'n').output).toEqual({ delivered: false, channel: 'ops' });
    expect(events.some((e) => e.type === 'step_log' && JSON.stringify(e.data).includes('[ops] hello'))).toBe(true);
    const mail = await run(planIn(empty, 'plan mail { step m = email(to: ["a@example.com"], subject: "s", text: "t") }'));
    expect(outputOf(mail.result, 'm').status).toBe('failed');
  });
});

describe('W0803: channels the config does not define', () => {
  const codes = (dir: string, text: string) => {
    const file = join(dir, `w${Math.random().toString(36).slice(2)}.orch`);
    writeFileSync(file, text);
    return compile({ entry: file }).diagnostics.map((d) => `${d.code} ${d.message}`);
  };
  it('warns at the channel argument of notify and email when the config lacks it', () => {
    expect(codes(withChannels, 'plan a { step n = notify(channel: "pager", text: "x") }')).toEqual([
      expect.stringMatching(/^W0803 channel "pager" is not defined in "channels" of .*orch\.config\.json/),
    ]);
    // A name found on every object, not among the config's channels.
    for (const name of ['toString', '__proto__', 'constructor'])
      expect(codes(withChannels, `plan t { step n = notify(channel: "${name}", text: "x") }`)).toEqual([expect.stringMatching(new RegExp(`^W0803 channel "${name}" is not defined`))]);
    expect(codes(withChannels, 'plan b { step n = notify(channel: "ops", text: "x") step m = email(to: ["a@example.com"], subject: "s", text: "t") }')).toEqual([]);
  });
  it('warns at an email through a Slack or webhook channel, which cannot send it; notify may use any', () => {
    expect(codes(withChannels, 'plan e { step m = email(to: ["a@example.com"], subject: "s", text: "t", channel: "#wins") step w = email(to: ["a@example.com"], subject: "s", text: "t", channel: "audit") }')).toEqual([
      'W0803 channel "#wins" is a slack channel: email sends through an email channel, so the step will fail when it runs',
      'W0803 channel "audit" is a webhook channel: email sends through an email channel, so the step will fail when it runs',
    ]);
    expect(codes(withChannels, 'plan f { step n = notify(channel: "#wins", text: "x") step o = notify(channel: "ops", text: "x") }')).toEqual([]);
  });
  it('warns at a channel whose entry names no transport (or is no object): orch run fails the step, so check says so', () => {
    const odd = project({ channels: { pigeon: { 'carrier-pigeon': 1 }, blank: null, ops: { slack: 'http://127.0.0.1:9/x' } } });
    expect(codes(odd, 'plan g { step n = notify(channel: "pigeon", text: "x") step m = email(to: ["a@example.com"], subject: "s", text: "t", channel: "blank") step o = notify(channel: "ops", text: "x") }')).toEqual([
      // The key orch does not read is said at the key, in the config (compiler/config-keys.ts).
      'W0803 "carrier-pigeon" of channel "pigeon" in orch.config "channels" is not a key orch reads, so it is ignored (known: email, slack, webhook, internal)',
      'W0803 channel "pigeon" of orch.config "channels" names no transport ("email", "slack" or "webhook"): the step will fail when it runs',
      'W0803 channel "blank" of orch.config "channels" names no transport ("email", "slack" or "webhook"): the step will fail when it runs',
    ]);
  });
  it('warns at the entries orch run refuses as it reads them: email without smtp or from, a "type" key, a webhook without a url; notify through an email channel with no "to"', async () => {
    const odd = project({
      channels: {
        nofrom: { email: { smtp: 'smtp://127.0.0.1:9', to: ['a@example.com'] } },
        typed: { type: 'webhook', url: 'http://127.0.0.1:9/x' },
        hook: { webhook: { headers: {} } },
        noto: { email: { smtp: 'smtp://127.0.0.1:9', from: 'orch@example.com' } },
      },
    });
    expect(codes(odd, 'plan h { step a = notify(channel: "nofrom", text: "x") step b = notify(channel: "typed", text: "x") step c = notify(channel: "hook", text: "x") step d = notify(channel: "noto", text: "x") step e = email(to: ["a@example.com"], subject: "s", text: "t", channel: "noto") }')).toEqual([
      'W0803 "type" of channel "typed" in orch.config "channels" is not a key orch reads, so it is ignored (known: email, slack, webhook, internal)',
      'W0803 "url" of channel "typed" in orch.config "channels" is not a key orch reads, so it is ignored (known: email, slack, webhook, internal)',
      'W0803 channel "nofrom" of orch.config "channels": email needs "smtp" (smtp://host:port) and "from": the step will fail when it runs',
      'W0803 channel "typed" of orch.config "channels" names no transport ("email", "slack" or "webhook"): the step will fail when it runs',
      'W0803 channel "hook" of orch.config "channels" names no transport ("email", "slack" or "webhook"): the step will fail when it runs',
      'W0803 email channel "noto" of orch.config "channels" has no recipients ("to"), and notify names none: the step will fail when it runs',
    ]);
    // What check warns about, orch run refuses at the first attempt, for good.
    const { result } = await run(planIn(odd, 'plan i { step a = notify(channel: "noto", text: "x") }'));
    expect(outputOf(result, 'a').error).toBe('email channel "noto" has no recipients ("to")');
  });
  it('warns at a channel URL orch run refuses (smtp not smtp://, a hook not http(s)://), never quoting it; a "secret:" URL is known only at run time', async () => {
    const odd = project({
      channels: {
        hostport: { email: { smtp: 'mail.example.com:587', from: 'orch@example.com', to: ['a@example.com'] } },
        ftp: { slack: 'ftp://hooks.example.com/services/T0/B0/SECRET-PATH' },
        relative: { webhook: { url: '/hook' } },
        hidden: { slack: 'secret:SLACK_URL' },
      },
    });
    const found = codes(odd, 'plan u { step a = email(to: ["a@example.com"], subject: "s", text: "t", channel: "hostport") step b = notify(channel: "ftp", text: "x") step c = notify(channel: "relative", text: "x") step d = notify(channel: "hidden", text: "x") }');
    expect(found).toEqual([
      'W0803 channel "hostport" of orch.config "channels": "smtp" must be an smtp:// or smtps:// URL (smtp://host:port): the step will fail when it runs',
      'W0803 channel "ftp" of orch.config "channels": the slack URL must be an http:// or https:// URL: the step will fail when it runs',
      'W0803 channel "relative" of orch.config "channels": the webhook URL must be an http:// or https:// URL: the step will fail when it runs',
    ]);
    expect(found.join('\n')).not.toContain('SECRET-PATH');
    // What check warns about, orch run refuses at the first attempt, for good.
    const { result } = await run(planIn(odd, 'plan v { step b = notify(channel: "ftp", text: "x") }'));
    expect(outputOf(result, 'b').error).toBe('channel "ftp": the slack URL must be an http:// or https:// URL');
  });

  it('stays silent for notify without any channels (v0.2), not for email', () => {
    expect(codes(without, 'plan c { step n = notify(channel: "ops", text: "x") }')).toEqual([]);
    // `"channels": {}` declares none: the same.
    expect(codes(project({ channels: {} }), 'plan c { step n = notify(channel: "ops", text: "x") }')).toEqual([]);
    expect(codes(without, 'plan d { step m = email(to: ["a@example.com"], subject: "s", text: "t") }')).toEqual([expect.stringMatching(/^W0803 channel "email"/)]);
  });
});
