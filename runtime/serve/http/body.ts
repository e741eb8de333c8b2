/**
 * Reads a JSON request body with a hard size limit. Nothing a client sends is ever evaluated:
 * the body is parsed with `JSON.parse` and then only read as data.
 */
import type { IncomingMessage } from 'node:http';

export const DEFAULT_BODY_LIMIT = 1024 * 1024;
const DRAIN_FACTOR = 8;

export type BodyResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly status: 400 | 413 | 415; readonly error: string };

export async function readJsonBody(req: IncomingMessage, limit = DEFAULT_BODY_LIMIT): Promise<BodyResult> {
  const type = req.headers['content-type'];
  if (type !== undefined && !/^application\/([\w.+-]*\+)?json\b/i.test(type)) {
    await drain(req, limit);
    return { ok: false, status: 415, error: `expected a JSON body (Content-Type: application/json), got "${type}"` };
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return { ok: false, status: 413, error: `request body is larger than ${limit} bytes` };
  }
  const { chunks, tooLarge } = await collect(req, limit);
  if (tooLarge) return { ok: false, status: 413, error: `request body is larger than ${limit} bytes` };
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, status: 400, error: `request body is not valid JSON: ${(err as Error).message}` };
  }
}

/** Reads the whole body, keeping at most `limit` bytes (the rest is drained, not stored). */
function collect(req: IncomingMessage, limit: number): Promise<{ chunks: Buffer[]; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (!tooLarge) tooLarge = true;
      // Draining lets a modest overshoot still read its 413; a flood is cut off instead.
      if (size > limit * DRAIN_FACTOR) {
        req.destroy();
        resolve({ chunks: [], tooLarge: true });
      }
    });
    req.on('end', () => resolve({ chunks, tooLarge }));
    req.on('error', reject);
  });
}

async function drain(req: IncomingMessage, limit: number): Promise<void> {
  await collect(req, limit);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
