/**
 * What `npm run bench -- test` asserts besides speed: the tests slept for no real time and opened
 * no network connection. Counts, in this thread, every timer of a real duration (≥ 1 ms — a 0 ms
 * timer or `setImmediate` only yields) and every socket connect (TCP, IPC, TLS all go through
 * `net.Socket#connect`).
 */
import net from 'node:net';

export interface Guard {
  readonly sleeps: () => number;
  readonly connects: () => number;
  readonly release: () => void;
}

export function guardRealWorld(): Guard {
  let sleeps = 0;
  let connects = 0;
  const { setTimeout: st, setInterval: si } = globalThis;
  const connect = net.Socket.prototype.connect;
  const counted = <F extends (fn: () => void, ms?: number) => unknown>(f: F): F =>
    ((fn: () => void, ms?: number, ...rest: unknown[]) => {
      if ((ms ?? 0) >= 1) sleeps++;
      return (f as unknown as (...a: unknown[]) => unknown)(fn, ms, ...rest);
    }) as unknown as F;
  globalThis.setTimeout = counted(st) as typeof setTimeout;
  globalThis.setInterval = counted(si) as typeof setInterval;
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    connects++;
    return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof connect;
  return {
    sleeps: () => sleeps,
    connects: () => connects,
    release: () => {
      globalThis.setTimeout = st;
      globalThis.setInterval = si;
      net.Socket.prototype.connect = connect;
    },
  };
}
