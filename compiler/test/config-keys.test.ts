/**
 * A key of an orch.config.json endpoint, channel or source that nothing reads is W0803 at the key
 * (with "did you mean" when a known key is close): the runtime passes over it, so `"baseurl"` sent
 * the prompt to the provider's default URL without a word.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { check } from '../index.js';
import { keyOffset } from '../project-config.js';
import { diskHost } from '../load.js';

const dir = mkdtempSync(join(tmpdir(), 'orch-config-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PLAN = 'plan p {\n  input { x: int = 1 }\n  output { y: input.x }\n}\n';

/** The W0803s of checking a plan beside `config` (written as `text` when given), as `line:col message`. */
function w0803(config: object, text = JSON.stringify(config, null, 2)): { file: string; at: string; message: string }[] {
  const sub = mkdtempSync(join(dir, 'p-'));
  writeFileSync(join(sub, 'orch.config.json'), text);
  writeFileSync(join(sub, 'main.orch'), PLAN);
  return check({ entry: join(sub, 'main.orch'), host: diskHost })
    .filter((d) => d.code === 'W0803')
    .map((d) => ({ file: d.file.slice(sub.length + 1), at: `${d.range.start.line}:${d.range.start.column}-${d.range.end.column}`, message: d.message }));
}

describe('W0803 for a config key nothing reads', () => {
  it('an endpoint’s mistyped base_url, at the key, with what was meant', () => {
    const text = '{\n  "endpoints": {\n    "openai": { "api": "openai", "baseurl": "https://gw.example.com/v1" }\n  }\n}\n';
    expect(w0803({}, text)).toEqual([
      {
        file: 'orch.config.json',
        at: '3:34-43',
        message: '"baseurl" of endpoint "openai" in orch.config "endpoints" is not a key orch reads, so it is ignored; did you mean "base_url"?',
      },
    ]);
  });

  it('each typo at its own place: the same key in two endpoints, a key nothing is close to', () => {
    const got = w0803({ endpoints: { a: { api_kye: 'secret:A' }, b: { api: 'openai', api_kye: 'secret:B', colour: 'blue' } } });
    expect(got.map((d) => `${d.at} ${d.message.split(' in orch.config')[0]}`)).toEqual([
      '4:7-16 "api_kye" of endpoint "a"',
      '8:7-16 "api_kye" of endpoint "b"',
      '9:7-15 "colour" of endpoint "b"',
    ]);
    expect(got[0]!.message).toMatch(/did you mean "api_key"\?$/);
    expect(got[2]!.message).toMatch(/ignored \(known: api, base_url, api_key, tier, accepts\)$/);
  });

  it('a channel’s and a source’s, and a key inside a channel’s transport', () => {
    const got = w0803({
      channels: { ops: { email: { smtp: 'smtp://mail.example.com:587', frm: 'orch@example.com', to: ['a@example.com'] }, internl: true } },
      sources: { home: { mqtt: 'mqtt://127.0.0.1:1883', usename: 'orch' } },
    }).map((d) => d.message);
    expect(got).toEqual([
      '"frm" of "email" of channel "ops" in orch.config "channels" is not a key orch reads, so it is ignored; did you mean "from"?',
      '"internl" of channel "ops" in orch.config "channels" is not a key orch reads, so it is ignored; did you mean "internal"?',
      '"usename" of source "home" in orch.config "sources" is not a key orch reads, so it is ignored; did you mean "username"?',
    ]);
  });

  it('every key the runtime or the compiler reads passes', () => {
    expect(
      w0803({
        endpoints: { o: { api: 'openai', base_url: 'http://127.0.0.1:11434/v1', api_key: 'k', tier: 'local', accepts: 'personal' } },
        channels: {
          e: { email: { smtp: 'smtp://m.example.com:25', user: 'u', password: 'secret:P', from: 'a@example.com', to: 'b@example.com' }, internal: true },
          s: { slack: { url: 'https://hooks.example.com/s' } },
          w: { webhook: { url: 'https://hooks.example.com/w', headers: { 'x-token': 'secret:T' } } },
        },
        sources: { m: { mqtt: 'mqtt://127.0.0.1', username: 'u', password: 'p', ca: 'ca.pem', protocol: 5 }, h: { webhook: { token: 'secret:T' } } },
      }),
    ).toEqual([]);
  });
});

describe('keyOffset', () => {
  it('finds every key path of any JSON object at its opening quote, however it is spaced', () => {
    const key = fc.string({ maxLength: 6 });
    const obj = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, fc.jsonValue({ maxDepth: 1 }), tie('object')),
      object: fc.dictionary(key, tie('value'), { maxKeys: 4 }),
    })).object as fc.Arbitrary<Record<string, unknown>>;
    fc.assert(
      fc.property(obj, fc.constantFrom(undefined, 2, '\t'), (o, indent) => {
        const text = JSON.stringify(o, null, indent);
        const seen = new Set<number>();
        const walk = (v: unknown, path: string[]): void => {
          if (v === null || typeof v !== 'object' || Array.isArray(v)) return;
          for (const [k, inner] of Object.entries(v)) {
            const at = keyOffset(text, [...path, k]);
            expect(text.startsWith(`${JSON.stringify(k)}:`, at)).toBe(true);
            expect(seen.has(at)).toBe(false);
            seen.add(at);
            walk(inner, [...path, k]);
          }
        };
        walk(o, []);
        expect(keyOffset(text, ['\u0000absent'])).toBe(-1);
      }),
      { numRuns: 200 },
    );
  });
});
