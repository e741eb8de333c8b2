/**
 * A scripted language-model server for tests: a node:http server that speaks
 * `POST /v1/chat/completions` (OpenAI Chat Completions) and `POST /v1/messages` (Anthropic
 * Messages), answers from a script, and records every request (path, headers, parsed body) so a
 * test can assert what was sent. No model is involved: each answer is the next scripted reply, or
 * what the `reply` function makes of the request.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedReply {
  /** Plain text, or a JSON value (sent as JSON text, or as the tool call's input on /v1/messages). */
  readonly answer?: string | object;
  readonly input_tokens?: number;
  readonly output_tokens?: number;
  /** Answer with this HTTP status and an error body instead. */
  readonly status?: number;
  /** Wait this long before answering (ms). */
  readonly delayMs?: number;
  /** Refuse: Chat Completions `message.refusal` (no content), Messages `stop_reason: "refusal"`. */
  readonly refusal?: string;
  /** Chat Completions `finish_reason` (default `stop`); `content_filter` sends no content. */
  readonly finishReason?: string;
  /** Answer without a `usage` object, as some gateways and local servers do. */
  readonly noUsage?: boolean;
  /** Answer HTTP 200 with exactly this body (a gateway's own shape, e.g. an `error` object). */
  readonly body?: object;
  /** Send the status line and half the body, then drop the connection. */
  readonly cutOff?: boolean;
}

export interface RecordedRequest {
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: Record<string, unknown>;
  /** The raw request text, for "no secret anywhere" checks. */
  readonly raw: string;
}

export interface ModelServer {
  /** e.g. `http://127.0.0.1:PORT/v1` (Chat Completions base URL). */
  readonly openaiUrl: string;
  /** e.g. `http://127.0.0.1:PORT` (Messages base URL: the SDK appends /v1/messages). */
  readonly anthropicUrl: string;
  readonly requests: RecordedRequest[];
  /** Replies used in order; when empty, `fallback` answers. */
  script(...replies: ScriptedReply[]): void;
  close(): Promise<void>;
}

export async function startModelServer(
  fallback: (req: RecordedRequest) => ScriptedReply = () => ({ answer: 'ok', input_tokens: 10, output_tokens: 5 }),
): Promise<ModelServer> {
  const queue: ScriptedReply[] = [];
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        /* recorded as is */
      }
      const path = (req.url ?? '').split('?')[0]!;
      const rec: RecordedRequest = { path, headers: req.headers, body, raw };
      requests.push(rec);
      const reply = queue.shift() ?? fallback(rec);
      const send = () => {
        if (reply.status && reply.status >= 400) {
          res.writeHead(reply.status, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ type: 'error', error: { type: 'api_error', message: `scripted failure ${reply.status}` } }));
          return;
        }
        if (reply.body) return json(res, reply.body);
        const answer = path.endsWith('/chat/completions') ? chatAnswer(body, reply) : path.endsWith('/messages') ? messagesAnswer(body, reply) : null;
        if (answer === null) return res.writeHead(404).end();
        if (reply.noUsage) delete (answer as { usage?: unknown }).usage;
        if (!reply.cutOff) return json(res, answer);
        const text = JSON.stringify(answer);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(text.length) });
        res.write(text.slice(0, text.length >> 1), () => res.destroy());
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    openaiUrl: `http://127.0.0.1:${port}/v1`,
    anthropicUrl: `http://127.0.0.1:${port}`,
    requests,
    script: (...replies) => void queue.push(...replies),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function json(res: import('node:http').ServerResponse, value: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

function text(answer: ScriptedReply['answer']): string {
  return answer === undefined ? '' : typeof answer === 'string' ? answer : JSON.stringify(answer);
}

function chatAnswer(body: Record<string, unknown>, r: ScriptedReply) {
  return {
    id: 'chatcmpl-test',
    object: 'chat.completion',
    created: 0,
    model: String(body.model ?? 'unknown'),
    choices: [{ index: 0, finish_reason: r.finishReason ?? 'stop', logprobs: null, message: { role: 'assistant', content: r.refusal !== undefined || r.finishReason === 'content_filter' ? null : text(r.answer), refusal: r.refusal ?? null } }],
    usage: { prompt_tokens: r.input_tokens ?? 0, completion_tokens: r.output_tokens ?? 0, total_tokens: (r.input_tokens ?? 0) + (r.output_tokens ?? 0) },
  };
}

function messagesAnswer(body: Record<string, unknown>, r: ScriptedReply) {
  const tools = body.tools as { name: string }[] | undefined;
  const tool = tools?.[0];
  let input: unknown = r.answer;
  if (typeof input === 'string') {
    try {
      input = JSON.parse(input);
    } catch {
      /* a string the test meant as a (wrong) tool input */
    }
  }
  const content = r.refusal !== undefined ? [{ type: 'text', text: r.refusal }] : tool ? [{ type: 'tool_use', id: 'toolu_test', name: tool.name, input }] : [{ type: 'text', text: text(r.answer) }];
  return {
    id: 'msg_test',
    type: 'message',
    role: 'assistant',
    model: String(body.model ?? 'unknown'),
    content,
    stop_reason: r.refusal !== undefined ? 'refusal' : tool ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: r.input_tokens ?? 0, output_tokens: r.output_tokens ?? 0 },
  };
}
