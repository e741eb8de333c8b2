/**
 * `orch timeline RUN` in text (LANGUAGE.md §6, §7.4, §9.2, §9.3, in this process): each event's line
 * says what its data records — the race's winner, the loop's iteration, an endorsement's reason,
 * a declassification's class and reason, the run a fork came from and the step it adopted —
 * not only its type and step.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { tempDir } from '../../serve/test/serve-process.js';
import { runCli } from '../../test/support/cli-in-process.js';

const PLAN = `
plan p {
  input { who: string @personal @untrusted = "ann" }
  race reply {
    step slow = wait 5s
    step quick = wait 10ms
  }
  repeat again max 2 until again.index >= 1 {
    step l = log(message: "iter")
  }
  step e = log(message: endorse(input.who, reason: "a name we typed"))
  step d = log(message: declassify(input.who, reason: "fine in logs"))
}
`;

const dir = tempDir('orch-timeline-text-');
let runId = '';

beforeAll(async () => {
  writeFileSync(join(dir, 'main.orch'), PLAN);
  const r = await runCli(['run', 'main.orch', '--json', '--quiet'], dir);
  expect(r.code, r.stderr).toBe(0);
  runId = (JSON.parse(r.stdout) as { runId: string }).runId;
}, 60_000);

function line(text: string, type: string, step: string): string {
  return text.split('\n').find((l) => new RegExp(`\\s${type}\\s+${step.replace(/[#[\]]/g, '\\$&')}(\\s|$)`).test(l)) ?? `(no ${type} line for ${step})`;
}

it('names the winner of a race, the index of each loop iteration, and why a value was endorsed or declassified', async () => {
  const r = await runCli(['timeline', runId], dir);
  expect(r.code, r.stderr).toBe(0);
  expect(line(r.stdout, 'race_won', 'reply')).toMatch(/reply\s+won by quick$/);
  const loops = r.stdout.split('\n').filter((l) => /\sloop_iteration\s/.test(l));
  expect(loops.map((l) => / (iteration \d+)$/.exec(l)?.[1])).toEqual(['iteration 0', 'iteration 1']);
  expect(line(r.stdout, 'endorsed', 'e')).toMatch(/e\s+endorsed: a name we typed$/);
  expect(line(r.stdout, 'declassified', 'd')).toMatch(/d\s+to internal: fine in logs$/);
});

it('says which run and step a fork came from, and from which run each adopted step was taken', async () => {
  const f = await runCli(['fork', runId, '--at', 'd', '--json', '--quiet'], dir);
  expect(f.code, f.stderr).toBe(0);
  const forked = (JSON.parse(f.stdout) as { runId: string }).runId;
  const r = await runCli(['timeline', forked], dir);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout.split('\n').find((l) => /\splan_created\s/.test(l))).toContain(`fork of ${runId} at d`);
  expect(line(r.stdout, 'step_adopted', 'e')).toMatch(new RegExp(`adopted from ${runId}$`));
});
