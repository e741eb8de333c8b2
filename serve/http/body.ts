/**
 * JSON bodies for Fastify: `application/json` and `application/*+json`, parsed with `JSON.parse`
 * and then only read as data (nothing a client sends is ever evaluated). An empty body is
 * `undefined`, so routes whose body is optional accept a bare POST.
 */
import type { FastifyInstance } from 'fastify';

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

export class BodyError extends Error {
  constructor(
    readonly statusCode: 400,
    message: string,
  ) {
    super(message);
  }
}

export function addJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser(['application/json']);
  app.addContentTypeParser(/^application\/([\w.+-]*\+)?json$/i, { parseAs: 'string' }, (_req, text, done) => {
    const s = text as string;
    if (s.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(s) as unknown);
    } catch (err) {
      done(new BodyError(400, `request body is not valid JSON: ${(err as Error).message}`), undefined);
    }
  });
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
