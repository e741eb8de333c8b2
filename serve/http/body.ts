/**
 * JSON bodies for Fastify: `application/json` and `application/*+json` (with any parameters; a
 * charset other than UTF-8 is a 415, and so is every other type, `text/plain` too), parsed by Fastify's own
 * parser (secure-json-parse) configured to refuse a `__proto__` key and a `constructor.prototype`
 * anywhere in the body (400: prototype poisoning never reaches a handler, a context signal or a
 * `when`), nested no deeper than `MAX_JSON_DEPTH` (400, before anything walks it), and then only
 * read as data (nothing a client sends is ever evaluated). An empty body is `undefined`, so
 * routes whose body is optional accept a bare POST.
 */
import type { FastifyInstance } from 'fastify';

export const DEFAULT_BODY_LIMIT = 1024 * 1024;
/** How deep objects and lists may nest in a body: plan inputs and signals need far less; a 20,000-deep one is refused. */
export const MAX_JSON_DEPTH = 128;

export class BodyError extends Error {
  constructor(
    readonly statusCode: 400 | 415,
    message: string,
  ) {
    super(message);
  }
}

/** Whether `text`'s objects and lists nest deeper than `max` (strings skipped; the text need not be valid JSON). */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** A JSON media type, with or without parameters (Fastify matches against `type/subtype; k="v"`). */
const JSON_TYPE = /^application\/([\w.+-]*\+)?json(;|$)/i;

/** The `charset` of a content type, lower-cased; undefined when it names none. */
export function charsetOf(contentType: string | undefined): string | undefined {
  const m = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(contentType ?? '');
  return m ? m[1]!.toLowerCase() : undefined;
}

/** The 415's message for a body of another type. */
export function notJson(contentType: string | undefined): string {
  return `expected a JSON body (Content-Type: application/json), got "${contentType ?? ''}"`;
}

export function addJsonParser(app: FastifyInstance): void {
  const secure = app.getDefaultJsonParser('error', 'error');
  // JSON is the only body the API reads: a text body is a 415 like any other type, not a string a
  // route's schema refuses — but an empty body of any type is no body (`fetch` gives a bare POST text/plain).
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (req, body, done) =>
    (body as Buffer).length === 0 ? done(null, undefined) : done(new BodyError(415, notJson(req.headers['content-type'])), undefined),
  );
  app.addContentTypeParser(JSON_TYPE, { parseAs: 'string' }, (req, text, done) => {
    // JSON is UTF-8 (RFC 8259); a body in another charset would be read wrong, so it is refused.
    const charset = charsetOf(req.headers['content-type']);
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')
      return done(new BodyError(415, `expected a JSON body in UTF-8, got charset "${charset}"`), undefined);
    const s = text as string;
    if (s.trim() === '') return done(null, undefined);
    if (nestsDeeperThan(s, MAX_JSON_DEPTH)) return done(new BodyError(400, `request body nests objects or lists more than ${MAX_JSON_DEPTH} levels deep`), undefined);
    secure(req, s, (err, body) => {
      if (!err) return done(null, body);
      done(new BodyError(400, whyNotJson(s)), undefined);
    });
  });
}

/** The 400's message: a syntax error, or a body that is JSON but poisons prototypes. */
function whyNotJson(text: string): string {
  try {
    JSON.parse(text);
    return 'request body may not hold a "__proto__" key or a "constructor" with a "prototype"';
  } catch (err) {
    return `request body is not valid JSON: ${(err as Error).message}`;
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
