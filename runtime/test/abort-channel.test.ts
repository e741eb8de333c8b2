/**
 * A worker's side of an attempt's abort (executor/abort-channel.ts): `ctx.signal` is made only
 * when a handler reads it, so it must behave as if it had been there all along — already aborted
 * when the abort came first, firing when it comes later, with the first reason either way.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RunningAttempt, RunningAttempts, sendAbort } from '../executor/abort-channel.js';

describe('a running attempt', () => {
  it('read after its abort, its signal is already aborted with the reason as an AbortError', () => {
    const attempt = new RunningAttempt();
    attempt.abort('timeout');
    expect(attempt.reason).toBe('timeout');
    expect(attempt.signal.aborted).toBe(true);
    expect(attempt.signal.reason).toMatchObject({ name: 'AbortError', message: 'timeout' });
  });

  it('read before its abort, its signal fires once, with the first reason', () => {
    const attempt = new RunningAttempt();
    const signal = attempt.signal;
    const fired = vi.fn();
    signal.addEventListener('abort', fired);
    expect(signal.aborted).toBe(false);
    attempt.abort('cancelled: run cancelled');
    attempt.abort('timeout');
    expect(fired).toHaveBeenCalledTimes(1);
    expect(attempt.signal).toBe(signal);
    expect(signal.reason).toMatchObject({ name: 'AbortError', message: 'cancelled: run cancelled' });
  });

  it('never aborted, its signal stays quiet', () => {
    const attempt = new RunningAttempt();
    expect(attempt.reason).toBeNull();
    expect(attempt.signal.aborted).toBe(false);
  });
});

describe("a worker's running attempts", () => {
  const opened: RunningAttempts[] = [];
  afterEach(() => {
    for (const a of opened.splice(0)) for (const k of ['a', 'b', 'c']) a.end(k);
  });

  it('an abort sent for a running attempt reaches it, and one sent before it began is there when it begins', async () => {
    const attempts = new RunningAttempts();
    opened.push(attempts);
    const a = attempts.begin('a');
    const signal = a.signal;
    const b = attempts.begin('b');
    sendAbort('a', 'timeout');
    await vi.waitFor(() => expect(signal.aborted).toBe(true));
    expect(signal.reason).toMatchObject({ message: 'timeout' });
    // b was never read nor aborted
    expect(b.reason).toBeNull();

    sendAbort('c', 'cancelled: lost race');
    // The abort of c travels like a's did: once a later abort of b arrived, c's has too.
    sendAbort('b', 'cancelled by user');
    await vi.waitFor(() => expect(b.reason).toBe('cancelled by user'));
    const c = attempts.begin('c');
    expect(c.reason).toBe('cancelled: lost race');
    expect(c.signal.aborted).toBe(true);
  });
});
