/**
 * Browser auth and secrecy on a real `orch serve`: the login page takes the token once (POST
 * body), the session cookie is HttpOnly + SameSite=Strict, every state-changing request from a
 * session needs the CSRF token, the bearer header keeps working, and neither the token nor a
 * secret shows up in a URL, a log line, a page, a response or the live stream.
 */
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, waitFor } from './http-helpers.js';
import { startServe, tempDir, TOKEN, type ServeProcess } from './serve-process.js';

const SECRET = 'sk-live-7f3c9a1e-never-show-me';
let serve: ServeProcess;

beforeAll(async () => {
  process.env.DASH_SECRET = SECRET;
  try {
    serve = await startServe(['dashboard.orch'], { db: join(tempDir(), 'runs.db') });
  } finally {
    delete process.env.DASH_SECRET;
  }
});
afterAll(async () => {
  await serve?.stop();
});

/** Signs in like the login page does; resolves to the cookie header and the CSRF token. */
async function signIn(): Promise<{ cookie: string; csrf: string; setCookie: string[] }> {
  const r = await http(serve.url, 'POST', '/session', { body: { token: TOKEN, name: 'Sam' } });
  expect(r.status).toBe(201);
  const setCookie = r.headers['set-cookie'] as string[];
  const pairs = setCookie.map((c) => c.split(';')[0]!);
  const csrf = pairs.find((p) => p.startsWith('orch_csrf='))!.slice('orch_csrf='.length);
  return { cookie: pairs.join('; '), csrf, setCookie };
}

/** Reads `GET /stream` for `ms` milliseconds with the given headers. */
function readStream(headers: Record<string, string>, ms: number, path = '/stream'): Promise<{ status: number; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, serve.url), { headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      const done = () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), text });
      res.on('end', done);
      setTimeout(() => {
        req.destroy();
        done();
      }, ms);
    });
    req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(e)));
    req.end();
  });
}

describe('dashboard auth', () => {
  it('without a session: the page redirects to the login page, the API and the stream answer 401', async () => {
    const page = await http(serve.url, 'GET', '/');
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe('/login');
    expect((await http(serve.url, 'GET', '/runs')).status).toBe(401);
    expect((await readStream({}, 300)).status).toBe(401);
    const login = await http(serve.url, 'GET', '/login');
    expect(login.status).toBe(200);
    expect(login.text).toContain('/ui/app.js');
    expect(login.headers['content-security-policy']).toMatch(/script-src 'self'/);
  });

  it('a wrong token does not open a session', async () => {
    const r = await http(serve.url, 'POST', '/session', { body: { token: `${TOKEN}x` } });
    expect(r.status).toBe(401);
    expect(r.headers['set-cookie']).toBeUndefined();
  });

  it('the session cookie is HttpOnly and SameSite=Strict; the CSRF cookie is readable by the page', async () => {
    const { setCookie } = await signIn();
    const session = setCookie.find((c) => c.startsWith('orch_session='))!;
    expect(session).toMatch(/HttpOnly/i);
    expect(session).toMatch(/SameSite=Strict/i);
    expect(session).toMatch(/Path=\//);
    const csrf = setCookie.find((c) => c.startsWith('orch_csrf='))!;
    expect(csrf).not.toMatch(/HttpOnly/i);
    expect(csrf).toMatch(/SameSite=Strict/i);
  });

  it('a session reads freely, but a POST without the right CSRF token is 403', async () => {
    const { cookie, csrf } = await signIn();
    expect((await http(serve.url, 'GET', '/runs', { headers: { cookie } })).status).toBe(200);
    const page = await http(serve.url, 'GET', '/', { headers: { cookie } });
    expect(page.status).toBe(200);
    const body = { plan: 'chain', input: { tag: 'csrf' } };
    const none = await http(serve.url, 'POST', '/runs', { headers: { cookie }, body });
    expect(none.status).toBe(403);
    expect(none.json.error).toMatch(/CSRF/);
    const wrong = await http(serve.url, 'POST', '/runs', { headers: { cookie, 'x-csrf-token': `${csrf}x` }, body });
    expect(wrong.status).toBe(403);
    const ok = await http(serve.url, 'POST', '/runs', { headers: { cookie, 'x-csrf-token': csrf }, body });
    expect(ok.status).toBe(202);
    // Scripts keep using the bearer header, no cookie and no CSRF token.
    expect((await http(serve.url, 'POST', '/runs', { token: TOKEN, body })).status).toBe(202);
  });

  it('signing out ends the session', async () => {
    const { cookie, csrf } = await signIn();
    expect((await http(serve.url, 'POST', '/session/logout', { headers: { cookie, 'x-csrf-token': csrf } })).status).toBe(204);
    expect((await http(serve.url, 'GET', '/runs', { headers: { cookie } })).status).toBe(401);
  });
});

describe('dashboard secrecy', () => {
  it('the live stream carries run events to scripts, with secrets redacted', async () => {
    const streamed = readStream({ authorization: `Bearer ${TOKEN}` }, 4000);
    await new Promise((r) => setTimeout(r, 300));
    const start = await http(serve.url, 'POST', '/runs', { token: TOKEN, body: { plan: 'leaky' } });
    expect(start.status).toBe(202);
    const s = await streamed;
    expect(s.status).toBe(200);
    expect(s.type).toMatch(/^text\/event-stream/);
    const messages = s.text
      .split('\n\n')
      .filter((m) => m.includes('event: run'))
      .map((m) => JSON.parse(/^data: (.*)$/m.exec(m)![1]!) as { runId: string; event: { type: string } });
    const mine = messages.filter((m) => m.runId === start.json.runId).map((m) => m.event.type);
    expect(mine).toContain('step_completed');
    expect(mine).toContain('execution_completed');
    expect(s.text).toContain('key=***');
    expect(s.text).not.toContain(SECRET);
  });

  it('no page, response or log line holds the token or a secret', async () => {
    const { cookie } = await signIn();
    const id = (await http(serve.url, 'POST', '/runs', { token: TOKEN, body: { plan: 'leaky' } })).json.runId;
    await waitFor(async () => ((await http(serve.url, 'GET', `/runs/${id}`, { token: TOKEN })).json.status === 'completed' ? true : undefined), 15_000, 'leaky to finish');
    const bodies: string[] = [];
    for (const path of ['/', '/login', '/ui/app.js', '/ui/app.css', '/runs', `/runs/${id}`, `/runs/${id}/timeline`, `/runs/${id}/plan`, '/approvals', '/resources', '/triggers', '/session']) {
      const r = await http(serve.url, 'GET', path, { headers: { cookie } });
      expect(r.status, path).toBe(200);
      bodies.push(r.text);
    }
    const all = bodies.join('\n');
    expect(all).toContain('key=***');
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain(TOKEN);
    // The token went in a POST body, never a URL; the server logs neither it nor the secret.
    expect(serve.stderr()).not.toContain(TOKEN);
    expect(serve.stderr()).not.toContain(SECRET);
  });
});
