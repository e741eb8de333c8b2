/**
 * A wide nested fan-out (`for each` inside `for each`, both `parallel`) completes with its
 * lists-of-lists output in item order, and keeps each block's `parallel` bound. Steps held by a
 * full `parallel` are parked until an item of that block ends (`SchedulerCore.parked`), which is
 * what made 100 × 100 feasible; bench/nested.ts measures the speed, this test only the result.
 */
import { describe, expect, it } from 'vitest';
import { compile, type PlanIR } from '../../compiler/index.js';
import { Run, VirtualClock, type AttemptHandle, type AttemptOutcome, type AttemptRequest, type Executor, type RunEvent } from '../scheduler/index.js';

const ENTRY = '/virtual/nested.orch';
const SOURCE = `capability greet_member {
  kind tool
  input { team: string, member: string }
  output { text: string }
  handler "./noop.js#greet"
}

plan nested_teams {
  input { teams: list<{ name: string, members: list<string> }> }
  concurrency 50
  for each team in input.teams parallel 3 {
    for each member in team.members parallel 4 {
      step greet = greet_member(team: team.name, member: member)
    }
  }
  output { greeted: greet.output }
}
`;

function plan(): PlanIR {
  const out = compile({ entry: ENTRY, host: { readFile: (p) => (p === ENTRY ? SOURCE : undefined) } });
  expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return out.plans[0]!;
}

describe('nested for each, 30 × 30', () => {
  it('completes with greet.output as lists of lists in item order, within both parallel bounds', async () => {
    const clock = new VirtualClock(0);
    // Latencies vary by item so that items end out of order and parked steps are released often.
    const executor: Executor = {
      start(request: AttemptRequest, done: (o: AttemptOutcome) => void): AttemptHandle {
        const team = String(request.input['team']);
        const member = String(request.input['member']);
        const latency = 1 + ((team.length * 7 + member.length * 13 + Number(member.slice(1)) * 5) % 11);
        const t = clock.setTimer(latency, () => done({ ok: true, output: { text: `${team}/${member}` } }));
        return { abort: () => clock.cancelTimer(t) };
      },
    };
    const running = new Set<string>();
    let maxTeams = 0;
    let maxPerTeam = 0;
    let completed = 0;
    const observe = (e: RunEvent): void => {
      if (!e.stepId?.startsWith('greet[')) return;
      if (e.type === 'step_completed') completed++;
      if (e.type === 'step_started') running.add(e.stepId);
      else if (e.type === 'step_completed') running.delete(e.stepId);
      const perTeam = new Map<string, number>();
      for (const k of running) {
        const t = k.slice(0, k.indexOf(']') + 1);
        perTeam.set(t, (perTeam.get(t) ?? 0) + 1);
      }
      maxTeams = Math.max(maxTeams, perTeam.size);
      maxPerTeam = Math.max(maxPerTeam, ...perTeam.values());
    };
    const teams = Array.from({ length: 30 }, (_, t) => ({ name: `t${t}`, members: Array.from({ length: 30 }, (_, m) => `m${m}`) }));
    const run = new Run(plan(), { clock, executor, observe, random: () => 0.5, secret: () => '' }, { runId: 'nested', input: { teams }, context: {} });
    run.begin();
    clock.runAll(1_000_000);
    const result = await run.done;
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ greeted: teams.map((t) => t.members.map((m) => ({ text: `${t.name}/${m}` }))) });
    expect(completed).toBe(900);
    expect(maxTeams).toBe(3);
    expect(maxPerTeam).toBe(4);
  });
});
