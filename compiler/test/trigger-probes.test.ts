import { describe, expect, it } from 'vitest';
import { checkText, covered } from './helpers.js';

// What `orch serve` refuses, or would loop on for ever, `orch check` reports first (E0701).
const CAPS = `
capability work { kind tool  input { n: int = 1 }  output { id: string } }
resource box { kind local_device }
plan a { step x = work() }
plan b { step x = work() }
`;
const e0701 = (text: string) => checkText(text).filter((d) => d.code === 'E0701');

describe('api trigger paths', () => {
  it('a built-in route, a path without "/" and a route parameter are E0701 at the path', () => {
    for (const [path, why] of [['/runs', 'reserved'], ['/approvals/x', 'reserved'], ['hooks', 'must start with "/"'], ['/x/:id', 'may not contain']] as const) {
      const text = `${CAPS}\ntrigger t { api "${path}" run a }\n`;
      const d = e0701(text);
      expect(d.map((x) => x.message)).toEqual([expect.stringContaining(why)]);
      expect(covered(text, d[0]!)).toBe(`"${path}"`);
    }
    expect(e0701(`${CAPS}\ntrigger t { api "/runs2" run a }\n`)).toEqual([]);
  });

  it('two api triggers of one module on one path: the second is E0701', () => {
    const d = e0701(`${CAPS}\ntrigger t1 { api "/hook" run a }\ntrigger t2 { api "/hook" run b }\n`);
    expect(d.map((x) => x.message)).toEqual([expect.stringContaining('trigger "t2": api path "/hook" is already trigger "t1"')]);
  });
});

describe('after-chains', () => {
  it('a chain that starts the plan it watches, directly or round a cycle, is E0701 naming the cycle', () => {
    expect(e0701(`${CAPS}\ntrigger t { after a completed run a }\n`).map((x) => x.message)).toEqual([expect.stringContaining('a → a')]);
    const d = e0701(`${CAPS}\ntrigger t1 { after a completed run b }\ntrigger t2 { after b failed run a }\n`);
    expect(d.map((x) => x.message)).toEqual([expect.stringContaining('a → b → a'), expect.stringContaining('b → a → b')]);
  });

  it('a chain that ends is clean', () => {
    expect(e0701(`${CAPS}\ntrigger t1 { after a completed run b }\ntrigger t2 { after a failed run b }\n`)).toEqual([]);
  });
});

describe('schedule time zones', () => {
  it('an empty time zone is E0701 (croner would run it in the server\'s zone)', () => {
    expect(e0701(`${CAPS}\ntrigger t { schedule "0 2 * * *" timezone "" run a }\n`).map((x) => x.message)).toEqual([expect.stringContaining('unknown time zone ""')]);
    expect(e0701(`${CAPS}\ntrigger t { schedule "0 2 * * *" timezone "Europe/Paris" run a }\n`)).toEqual([]);
  });
});

describe('schedules that never fire', () => {
  it('a cron naming no date that exists (February 31st, April 31st) is E0701 at the expression', () => {
    for (const cron of ['0 0 31 2 *', '0 0 30 2 *', '0 0 31 4 *']) {
      const text = `${CAPS}\ntrigger t { schedule "${cron}" run a }\n`;
      const d = e0701(text);
      expect(d.map((x) => x.message), cron).toEqual([expect.stringContaining('would never fire')]);
      expect(covered(text, d[0]!)).toBe(`"${cron}"`);
    }
  });

  it('a rare date, or a day of the month or of the week, still fires', () => {
    for (const cron of ['0 0 29 2 *', '0 0 31 2 1', '0 0 31 * *', '@yearly']) expect(e0701(`${CAPS}\ntrigger t { schedule "${cron}" run a }\n`), cron).toEqual([]);
  });
});

describe('what `event` holds in a trigger', () => {
  const e0201 = (text: string) => checkText(text).filter((d) => d.code === 'E0201');
  const PLANS = `${CAPS}
plan c { input { z: string = "" }  step x = work()  output { id: x.output.id } }
plan d { input { z: string = "" }  step x = work() }
context { t: number }
`;

  it('a schedule, a when and an after trigger type `event` as the engine builds it: an unknown field is E0201 at the field', () => {
    for (const [source, read, owner] of [
      ['schedule "0 2 * * *"', 'event.nope', 'event ({ type: string, scheduled_at: string, catch_up: bool, missed: int })'],
      ['when context.t > 1', 'event.nope', 'event ({ type: string })'],
      ['after c completed', 'event.output.idx', '{ id: string }'],
    ] as const) {
      const text = `${PLANS}\ntrigger t { ${source} run d with { z: ${read} } }\n`;
      const d = e0201(text);
      expect(d.map((x) => x.message), source).toEqual([expect.stringContaining(`${owner} has no field`)]);
      expect(covered(text, d[0]!)).toBe(read.split('.').at(-1));
    }
  });

  it('the fields the engine sets are clean, with their types', () => {
    const text = `${PLANS}
trigger t1 { schedule "0 2 * * *" run d with { z: "\${event.scheduled_at} \${event.missed} \${event.catch_up}" } }
trigger t2 { after c completed run d with { z: event.output.id } }
trigger t3 { after c failed run d with { z: event.runId } }
trigger t4 { after c completed run d with { z: event.status } }
`;
    expect(checkText(text).filter((x) => x.severity === 'error')).toEqual([]);
    // `missed` is an int, not a string: the input's mismatch, as for any `with` value.
    expect(e0701(`${PLANS}\ntrigger t { schedule "0 2 * * *" run d with { z: event.missed } }\n`).map((x) => x.message)).toEqual([expect.stringContaining('input "z"')]);
  });

  it('an event trigger without `with` starts its plan with the event’s fields: its `where` reads the plan’s input and `type`, nothing else', () => {
    const text = `${PLANS}
plan leak { input { severity: int = 0, device: string }  step x = work() }
trigger ok { event "leak" where event.type == "leak" and event.severity >= 3 and event.device != "" run leak }
trigger bad { event "leak" where event.level >= 3 run leak }
trigger none { event "leak" where event.level >= 3 run a }
`;
    const d = e0201(text);
    expect(d.map((x) => x.message)).toEqual([
      expect.stringContaining('event ({ type: string, severity: int?, device: string }) has no field "level"'),
      expect.stringContaining('event ({ type: string }) has no field "level"'),
    ]);
    expect(covered(text, d[0]!)).toBe('level');
    // A plan input field with a default may be absent from the event: it reads as optional.
    expect(e0701(`${PLANS}\nplan leak { input { severity: int = 0 }  step x = work() }\ntrigger t { event "leak" where event.severity >= 3 run leak }\n`)).toEqual([]);
  });

  it('an event trigger with `with`, a manual or an api trigger reads what was posted, which nothing declares: `any`', () => {
    for (const source of ['event "x"', 'event "x" where event.other > 1', 'manual', 'api "/hook"'])
      expect(checkText(`${PLANS}\ntrigger t { ${source} run d with { z: event.anything } }\n`).filter((x) => x.severity === 'error'), source).toEqual([]);
  });
});
