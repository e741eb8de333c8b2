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
