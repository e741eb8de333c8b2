/**
 * orch.config `"sources"` (LANGUAGE.md §9.4, with §8's `"secret:NAME"` values): any field may be a
 * reference — the broker's URL too, credentials and all — and a literal credential is taken as a
 * channel takes one; every error names the source and the field, never a value.
 */
import { describe, expect, it } from 'vitest';
import { parseSourcesConfig } from '../context/sources/config.js';

const SECRETS: Record<string, string> = { MQTT_URL: 'mqtt://orch:url-pw-1@127.0.0.1:1883', PW: 'field-pw-2', TOKEN: 'tok-3' };
const parse = (raw: unknown) => parseSourcesConfig(raw, (n) => SECRETS[n], '/');
const failure = (raw: unknown): string => {
  try {
    parse(raw);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('accepted');
};

describe('orch.config sources', () => {
  it('takes the broker URL from a secret, with the credentials it holds', () => {
    expect(parse({ home: { mqtt: 'secret:MQTT_URL' } }).get('home')).toEqual({ kind: 'mqtt', url: SECRETS.MQTT_URL, protocolVersion: 4 });
  });

  it('takes literal credentials as channels do (redacted by the config, not refused)', () => {
    expect(parse({ home: { mqtt: 'mqtt://u:lit@h:1883', username: 'u', password: 'lit-pw' } }).get('home')).toMatchObject({ url: 'mqtt://u:lit@h:1883', username: 'u', password: 'lit-pw' });
    expect(parse({ hook: { webhook: { token: 'lit-token' } } }).get('hook')).toEqual({ kind: 'webhook', token: 'lit-token' });
    expect(parse({ home: { mqtt: 'mqtt://h', password: 'secret:PW' }, hook: { webhook: { token: 'secret:TOKEN' } } })).toEqual(
      new Map<string, unknown>([
        ['home', { kind: 'mqtt', url: 'mqtt://h', protocolVersion: 4, password: 'field-pw-2' }],
        ['hook', { kind: 'webhook', token: 'tok-3' }],
      ]),
    );
  });

  it('names the field of every mistake, never a value', () => {
    const cases: [unknown, RegExp][] = [
      [{ home: { mqtt: 'mqtt://[bad' } }, /^orch\.config sources\.home\.mqtt must be an mqtt:\/\/ or mqtts:\/\/ URL/],
      [{ home: { mqtt: 'http://u:leak-1@h' } }, /^orch\.config sources\.home\.mqtt must be an mqtt:\/\//],
      [{ home: { mqtt: 'secret:UNSET' } }, /^orch\.config sources\.home\.mqtt: secret "UNSET" is not set/],
      [{ home: { mqtt: 'mqtt://h', password: 'secret:UNSET' } }, /^orch\.config sources\.home\.password: secret "UNSET" is not set/],
      [{ hook: { webhook: { token: 'secret:UNSET' } } }, /^orch\.config sources\.hook\.webhook\.token: secret "UNSET" is not set/],
      [{ hook: { webhook: { token: '' } } }, /^orch\.config sources\.hook\.webhook\.token must not be empty/],
      [{ both: { mqtt: 'mqtt://h', webhook: { token: 'secret:TOKEN' } } }, /^orch\.config sources\.both must have either "mqtt" or "webhook"/],
      [{ home: { mqtt: 'mqtt://h', password: 5 } }, /^orch\.config sources\.home\.password must be a string/],
    ];
    for (const [raw, expected] of cases) {
      const message = failure(raw);
      expect(message).toMatch(expected);
      expect(message).not.toMatch(/leak-1|\[bad/);
    }
    // A secret URL that is not an MQTT one is refused without quoting it.
    SECRETS.HTTP_URL = 'http://u:leak-2@h';
    expect(failure({ home: { mqtt: 'secret:HTTP_URL' } })).not.toContain('leak-2');
  });
});
