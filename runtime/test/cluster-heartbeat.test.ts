/**
 * The worker's heartbeat decisions (runtime/cluster/heartbeat.ts), alone: the three rules that
 * issue #49's partitions broke — one beat in flight, an answer speaks only for its own id, and a
 * cut-off worker gives its handlers up before its lease lapses.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cutOffAfterMs, decideHeartbeat, startHeartbeat, type HeartbeatCommand, type HeartbeatEvent, type HeartbeatState } from '../cluster/heartbeat.js';

const T = { heartbeatMs: 1000, deadAfterMs: 5000 };

function feed(state: HeartbeatState, events: readonly HeartbeatEvent[]): { state: HeartbeatState; commands: HeartbeatCommand[] } {
  const commands: HeartbeatCommand[] = [];
  for (const e of events) {
    const d = decideHeartbeat(state, e, T);
    state = d.state;
    commands.push(...d.commands);
  }
  return { state, commands };
}
const ticks = (from: number, n: number): HeartbeatEvent[] => Array.from({ length: n }, (_, i) => ({ kind: 'tick', now: from + (i + 1) * T.heartbeatMs }));

describe('the worker heartbeat', () => {
  it('beats once per tick while answers come back', () => {
    let s = startHeartbeat(0);
    for (let i = 1; i <= 5; i++) {
      const d = decideHeartbeat(s, { kind: 'tick', now: i * 1000 }, T);
      expect(d.commands).toEqual([{ kind: 'beat' }]);
      s = decideHeartbeat(d.state, { kind: 'answered', now: i * 1000 + 5, sentAt: i * 1000, id: 'w1', current: 'w1', alive: true }, T).state;
    }
    expect(s.lastAliveAt).toBe(5000);
    expect(s.cutOffSince).toBeNull();
  });

  it('sends no second beat while one hangs (a cut link), and counts itself cut off a heartbeat before its lease lapses', () => {
    const { state, commands } = feed(startHeartbeat(0), ticks(0, 10));
    expect(commands.filter((c) => c.kind === 'beat')).toHaveLength(1);
    const cut = commands.filter((c) => c.kind === 'cut-off');
    expect(cut).toEqual([{ kind: 'cut-off', silentMs: cutOffAfterMs(T) }]);
    expect(cutOffAfterMs(T)).toBe(4000);
    expect(state.cutOffSince).toBe(4000);
  });

  it('registers again once when its id was declared dead, and ignores "not alive" answers for an id it no longer holds', () => {
    let { state, commands } = feed(startHeartbeat(0), ticks(0, 7));
    // The hung beat comes back after the heal: the id was declared dead.
    ({ state, commands } = feed(state, [{ kind: 'answered', now: 7100, sentAt: 1000, id: 'w1', current: 'w1', alive: false }]));
    expect(commands).toEqual([{ kind: 'renew', dead: 'w1' }]);
    // While renewing, no beat, and another stale answer asks for nothing.
    ({ commands } = feed(state, [{ kind: 'tick', now: 8000 }, { kind: 'answered', now: 8050, sentAt: 2000, id: 'w1', current: 'w1', alive: false }]));
    expect(commands).toEqual([]);
    ({ state, commands } = feed(state, [{ kind: 'renewed', now: 8200, ok: true }]));
    expect(commands).toEqual([{ kind: 'reachable', silentMs: 8200 }]);
    // A late "not alive" for the old id, answered after the new one exists: not a reason to renew.
    ({ commands } = feed(state, [{ kind: 'answered', now: 8300, sentAt: 3000, id: 'w1', current: 'w2', alive: false }]));
    expect(commands).toEqual([]);
  });

  it('a short cut (no death sentence) is reachable again with its next answer', () => {
    let { state } = feed(startHeartbeat(0), ticks(0, 5));
    expect(state.cutOffSince).toBe(4000);
    const d = decideHeartbeat(state, { kind: 'answered', now: 5200, sentAt: 1000, id: 'w1', current: 'w1', alive: true }, T);
    expect(d.commands).toEqual([{ kind: 'reachable', silentMs: 5200 }]);
    state = d.state;
    expect(state.cutOffSince).toBeNull();
    expect(state.lastAliveAt).toBe(1000);
  });

  it('property: never two beats in flight, never a renew for an id not current, at most one renew per outage, cut off before the lease lapses', () => {
    const event = fc.oneof(
      fc.constant('tick' as const),
      fc.record({ kind: fc.constant('answer' as const), alive: fc.boolean(), stale: fc.boolean(), late: fc.nat(8000) }),
      fc.constant('fail' as const),
      fc.record({ kind: fc.constant('renewed' as const), ok: fc.boolean() }),
    );
    fc.assert(
      fc.property(fc.array(event, { maxLength: 80 }), (script) => {
        let s = startHeartbeat(0);
        let now = 0;
        let current = 'w0';
        let generation = 0;
        let inFlight = 0;
        let renewsThisId = 0;
        let renewing = false;
        for (const e of script) {
          let ev: HeartbeatEvent;
          if (e === 'tick') ev = { kind: 'tick', now: (now += T.heartbeatMs) };
          else if (e === 'fail') {
            if (inFlight === 0) continue;
            ev = { kind: 'failed', now };
          } else if (e.kind === 'answer') {
            if (inFlight === 0 || s.sentAt === null) continue;
            ev = { kind: 'answered', now, sentAt: s.sentAt, id: e.stale ? 'old' : current, current, alive: e.alive };
          } else {
            if (!renewing) continue;
            ev = { kind: 'renewed', now, ok: e.ok };
          }
          const d = decideHeartbeat(s, ev, T);
          if (ev.kind === 'answered' || ev.kind === 'failed') inFlight--;
          for (const c of d.commands) {
            if (c.kind === 'beat') inFlight++;
            if (c.kind === 'renew') {
              expect(c.dead).toBe(current);
              expect(renewing).toBe(false);
              renewsThisId++;
              renewing = true;
            }
          }
          if (ev.kind === 'renewed') {
            renewing = false;
            // A failed registration may be tried again (the worker stops on it; the decisions allow it).
            renewsThisId = 0;
            if (ev.ok) current = `w${++generation}`;
          }
          expect(inFlight).toBeLessThanOrEqual(1);
          expect(renewsThisId).toBeLessThanOrEqual(1);
          s = d.state;
          // Silent past the cut-off (and not mid-renewal): counted as cut off by the tick that saw it.
          if (ev.kind === 'tick' && !s.renewing && now - s.lastAliveAt >= cutOffAfterMs(T)) expect(s.cutOffSince).not.toBeNull();
          expect(cutOffAfterMs(T)).toBeLessThan(T.deadAfterMs);
        }
      }),
      { numRuns: 300 },
    );
  });
});
