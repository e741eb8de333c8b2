/**
 * Who started a run as the dashboard's run view and inbox and `orch timeline` show it (LANGUAGE.md
 * §9.1): one line per way in, from the recorded `started_by`.
 */
import { describe, expect, it } from 'vitest';
import { originNote, starterIn, starterLabel } from '../render/starter-label.js';

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

describe('originNote', () => {
  const pat = { subject: 'pat', issuer: 'os', method: 'cli' };
  it('says who started a run, who caused it, and the run it came from: a retry, an after chain, a fork, a sub-plan', () => {
    expect(originNote({ started_by: pat })).toBe('started by pat on the command line');
    expect(originNote({ started_by: pat, retryOf: 'r-1' })).toBe('started by pat on the command line · retry of r-1');
    expect(originNote({ started_by: { subject: 'system:trigger/t', issuer: 'orch', method: 'trigger' }, caused_by: { subject: 'alice', issuer: 'local', method: 'token' }, chained_from: 'r-2' })).toBe(
      'started by trigger t · caused by alice (token) · after r-2',
    );
    expect(originNote({ started_by: pat, forked_from: { run: 'r-3', step: 'ask' } })).toBe('started by pat on the command line · fork of r-3 at ask');
    expect(originNote({ started_by: pat, parentRunId: 'r-4' })).toBe('started by pat on the command line · sub-plan of r-4');
    expect(originNote({ parentRunId: null })).toBe('');
  });
});
