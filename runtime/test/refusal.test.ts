/**
 * Which HTTP answers are refusals another attempt would meet again (LANGUAGE.md §9.1): a 4xx other
 * than 408, 409, 425 and 429 — permanent, the call's own except a 401/403, which is the resource's
 * (its endpoint's key), so another resource may still be tried.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { connect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { isRefusal, refusalOwner, shownUrl, transportReason } from '../transport-error.js';

describe('refusals (§9.1)', () => {
  it('a 4xx is a refusal except 408, 409, 425 and 429; nothing else is', () => {
    for (const s of [400, 401, 403, 404, 405, 410, 413, 422, 451, 499]) expect(isRefusal(s), String(s)).toBe(true);
    for (const s of [200, 302, 399, 408, 409, 425, 429, 500, 502, 503]) expect(isRefusal(s), String(s)).toBe(false);
  });

  it("a 401 or 403 is the resource's, any other refusal the call's", () => {
    expect([401, 403].map(refusalOwner)).toEqual(['resource', 'resource']);
    expect([400, 404, 422].map(refusalOwner)).toEqual(['call', 'call', 'call']);
  });
});

describe('shownUrl: a URL as messages show it', () => {
  it('keeps scheme, host, port and path; drops user, password, query and fragment', () => {
    expect(shownUrl('https://u:p4ss@otel.example:4318/v1/traces?api_key=k#x')).toBe('https://otel.example:4318/v1/traces');
    expect(shownUrl('mqtt://user:pw@broker:1883')).toBe('mqtt://broker:1883');
    expect(shownUrl('https://api.anthropic.com')).toBe('https://api.anthropic.com');
    expect(shownUrl('http://127.0.0.1:3000/')).toBe('http://127.0.0.1:3000/');
    expect(shownUrl('not a url //u:p@h/x?key=k')).toBe('not a url //h/x');
  });
});

describe('transportReason: TLS failures in words (§9.1)', () => {
  const listen = async (server: Server): Promise<number> => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return (server.address() as AddressInfo).port;
  };

  it("TLS to a peer that speaks plain SMTP or HTTP says so — an smtps channel showed OpenSSL's line ('…:error:0A00010B:SSL routines:…'), an https one 'fetch failed (ERR_SSL_WRONG_VERSION_NUMBER)'", async () => {
    const smtp = createServer((socket) => socket.on('error', () => undefined).write('220 mail.example ESMTP\r\n'));
    const http = createHttpServer((_req, res) => res.end('plain'));
    try {
      const smtpPort = await listen(smtp);
      const tlsError = await new Promise<Error>((resolve) => connect({ host: '127.0.0.1', port: smtpPort, rejectUnauthorized: false }).once('error', resolve));
      expect(transportReason(tlsError)).toBe('the peer does not speak TLS (wrong version number)');
      const httpPort = await listen(http);
      const fetchError = await fetch(`https://127.0.0.1:${httpPort}/`).then(() => null, (e: unknown) => e);
      expect(transportReason(fetchError)).toBe('the peer does not speak TLS (wrong version number)');
    } finally {
      smtp.close();
      http.close();
    }
  });

  it("a certificate that is not trusted says why, not 'fetch failed (DEPTH_ZERO_SELF_SIGNED_CERT)'", () => {
    const cause = Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    expect(transportReason(new TypeError('fetch failed', { cause }))).toBe('its TLS certificate is not trusted: self-signed certificate');
    expect(transportReason(Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' }))).toBe('its TLS certificate is not trusted: certificate has expired');
  });
});
