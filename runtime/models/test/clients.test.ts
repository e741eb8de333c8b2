import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startModelServer, type ModelServer } from '../../../test/support/model-server.js';
import { modelClientFor, parseModelsConfig, priceOf } from '../index.js';

let server: ModelServer;
beforeAll(async () => void (server = await startModelServer()));
afterAll(() => server.close());

const schema = { type: 'object', properties: { title: { type: 'string' } }, required: ['title'] };

describe('model clients over the real SDKs', () => {
  it('Chat Completions: sends system, prompt, limits and the JSON Schema; reads text and usage', async () => {
    const cfg = parseModelsConfig({ endpoints: { local: { api: 'openai', base_url: server.openaiUrl, api_key: 'secret:K' } } }, 'orch.config.json');
    const client = modelClientFor(cfg.endpoints[0]!, (n) => (n === 'K' ? 'sk-test-123456' : ''));
    server.script({ answer: { title: 'Hi' }, input_tokens: 12, output_tokens: 3 });
    const before = server.requests.length;
    const a = await client.complete({ model: 'm1', system: 'be short', messages: [{ role: 'user', content: 'hello' }], max_tokens: 50, temperature: 0.2, json_schema: { name: 'out', schema } });
    expect(a).toEqual({ text: '{"title":"Hi"}', input_tokens: 12, output_tokens: 3, model: 'm1' });
    const req = server.requests[before]!;
    expect(req.path).toBe('/v1/chat/completions');
    expect(req.headers.authorization).toBe('Bearer sk-test-123456');
    expect(req.body).toMatchObject({
      model: 'm1',
      max_tokens: 50,
      temperature: 0.2,
      messages: [{ role: 'system', content: 'be short' }, { role: 'user', content: 'hello' }],
      response_format: { type: 'json_schema', json_schema: { name: 'out', schema } },
    });
  });

  it('Messages: forces one tool whose input schema is the output schema; reads its input', async () => {
    const cfg = parseModelsConfig({ endpoints: { claude: { api: 'anthropic', base_url: server.anthropicUrl, api_key: 'plain-key-abc' } } }, 'f');
    const client = modelClientFor(cfg.endpoints[0]!, () => '');
    server.script({ answer: { title: 'Yo' }, input_tokens: 7, output_tokens: 2 });
    const before = server.requests.length;
    const a = await client.complete({ model: 'claude-x', system: 'sys', messages: [{ role: 'user', content: 'p' }], json_schema: { name: 'out', schema } });
    expect(a).toEqual({ text: '{"title":"Yo"}', input_tokens: 7, output_tokens: 2, model: 'claude-x' });
    const req = server.requests[before]!;
    expect(req.path).toBe('/v1/messages');
    expect(req.body).toMatchObject({ model: 'claude-x', system: 'sys', tools: [{ name: 'out', input_schema: schema }], tool_choice: { type: 'tool', name: 'out' } });
    expect(typeof req.body.max_tokens).toBe('number');
  });

  it('a plain-text answer, and an HTTP error as a thrown error (no SDK retries)', async () => {
    const cfg = parseModelsConfig({ endpoints: { local: { base_url: server.openaiUrl } } }, 'f');
    const client = modelClientFor(cfg.endpoints[0]!, () => '');
    server.script({ answer: 'plain words', input_tokens: 1, output_tokens: 2 });
    expect((await client.complete({ model: 'm', messages: [{ role: 'user', content: 'x' }] })).text).toBe('plain words');
    const before = server.requests.length;
    server.script({ status: 500 });
    await expect(client.complete({ model: 'm', messages: [{ role: 'user', content: 'x' }] })).rejects.toThrow(/500/);
    expect(server.requests.length - before).toBe(1);
  });

  it("an HTTP 200 with no choice but an error object (some gateways) fails naming the endpoint's message", async () => {
    const cfg = parseModelsConfig({ endpoints: { local: { base_url: server.openaiUrl } } }, 'f');
    const client = modelClientFor(cfg.endpoints[0]!, () => '');
    server.script({ body: { error: { message: 'upstream overloaded', type: 'server_error' } } });
    await expect(client.complete({ model: 'm', messages: [{ role: 'user', content: 'x' }] })).rejects.toThrow('model m answered with no choice: upstream overloaded');
  });

  it('an HTTP server that does not speak the API (a web page, another JSON) fails the call, over either API — the Messages client answered it as an empty text (§9.1)', async () => {
    let body = '';
    let type = 'text/html';
    const peer = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': type });
      res.end(body);
    });
    await new Promise<void>((r) => peer.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(peer.address() as AddressInfo).port}`;
    try {
      const cfg = parseModelsConfig({ endpoints: { chat: { api: 'openai', base_url: `${base}/v1` }, claude: { api: 'anthropic', base_url: base, api_key: 'k' } } }, 'f');
      const [chat, claude] = cfg.endpoints.map((e) => modelClientFor(e, () => ''));
      const ask = (c: typeof chat) => c!.complete({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
      body = '<html><body>It works!</body></html>';
      await expect(ask(chat)).rejects.toThrow('model m answered with no choice: the peer does not speak the Chat Completions API (it answered "<html><body>It works!</body></html>")');
      await expect(ask(claude)).rejects.toThrow('model m answered with no content: the peer does not speak the Messages API (it answered "<html><body>It works!</body></html>")');
      type = 'application/json';
      body = '{"status":"ok"}';
      await expect(ask(chat)).rejects.toThrow('model m answered with no choice: the peer does not speak the Chat Completions API (it answered {"status":"ok"})');
      await expect(ask(claude)).rejects.toThrow('model m answered with no content: the peer does not speak the Messages API (it answered {"status":"ok"})');
      // A gateway's own error object is its message, as before.
      body = '{"type":"error","error":{"type":"overloaded_error","message":"upstream overloaded"}}';
      await expect(ask(claude)).rejects.toThrow('model m answered with no content: upstream overloaded');
    } finally {
      await new Promise<void>((r) => peer.close(() => r()));
    }
  });

  it('config: bad entries are errors naming the file; prices compute per million tokens', () => {
    expect(() => parseModelsConfig({ endpoints: { x: { api: 'grpc' } } }, 'orch.config.json')).toThrow(/orch.config.json: endpoints.x.api/);
    expect(() => parseModelsConfig({ prices: { m: { input_per_mtok: 1 } } }, 'c')).toThrow(/prices.m/);
    const cfg = parseModelsConfig({ prices: { m: { input_per_mtok: 0.15, output_per_mtok: 0.6 } } }, 'c');
    expect(priceOf(cfg.prices.m!, 1_000_000, 500_000)).toBeCloseTo(0.45);
  });
});
