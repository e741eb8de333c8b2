/**
 * Who started a run as the dashboard's run view and inbox and `orch timeline` show it (LANGUAGE.md
 * §9.1): one line per way in, from the recorded `started_by`.
 */
import { describe, expect, it } from 'vitest';
import { starterIn, starterLabel } from '../render/starter-label.js';

describe('starterLabel', () => {
  it('names the trigger, the OS user on the command line, and a person with how they signed in', () => {
    expect(starterLabel({ subject: 'system:trigger/nightly', issuer: 'orch', method: 'trigger' })).toBe('trigger nightly');
    expect(starterLabel({ subject: 'pat', issuer: 'os', method: 'cli' })).toBe('pat on the command line');
    expect(starterLabel({ subject: 'alice', issuer: 'local', method: 'token' })).toBe('alice (token)');
    expect(starterLabel({ subject: 'u-1', issuer: 'https://id.example.com', method: 'oidc', name: 'Alice Doe' })).toBe('Alice Doe <u-1> (oidc, https://id.example.com)');
  });

  it('reads a starter out of an API answer, and nothing out of anything else', () => {
    expect(starterIn({ subject: 'alice', issuer: 'local', method: 'token', extra: 1 })).toEqual({ subject: 'alice', issuer: 'local', method: 'token' });
    for (const v of [null, 'alice', { subject: 'alice' }, { subject: 1, issuer: 'local', method: 'token' }]) expect(starterIn(v)).toBeNull();
  });
});
