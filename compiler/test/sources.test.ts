/** LANGUAGE.md §9.4 in the compiler: `source` blocks checked from the files alone (E0905), listed in the IR. */
import { describe, expect, it } from 'vitest';
import { topicFilterProblem } from '../check/sources.js';
import { checkText, codes, compileText, covered } from './helpers.js';

const CONTEXT = `
context {
  temperature: number  max_age 15m
  motion: bool @personal  max_age 2m
  phone_home: bool @personal  max_age 10m
  occupied: bool = context.motion or context.phone_home  hold 10m
}
capability heat { kind tool  input { t: number }  output { ok: bool } }
plan p { step a = heat(t: context.temperature ?? 20) when context.occupied }
`;

describe('source blocks (§9.4)', () => {
  it('lists each source with its topics, value and sample-time expressions in the IR', () => {
    const src = `${CONTEXT}
source home {
  topic "home/living/temperature" sets temperature from payload.value at payload.ts
  topic "home/+/motion" sets motion from payload.state == "ON"
  topic "phone/#" sets phone_home
}`;
    const out = compileText(src);
    expect(codes(out.diagnostics)).toEqual([]);
    const home = out.plans[0]!.sources!.home!;
    expect(home.topics.map((t) => [t.topic, t.signal])).toEqual([
      ['home/living/temperature', 'temperature'],
      ['home/+/motion', 'motion'],
      ['phone/#', 'phone_home'],
    ]);
    expect(home.topics[0]!.at).toMatchObject({ op: 'get', key: 'ts' });
    expect(home.topics[1]!.from).toMatchObject({ op: '==' });
    expect(home.topics[2]!.from).toEqual({ op: 'var', name: 'payload' });
  });

  it('refuses an unknown signal, a derived signal and a value of the wrong type (E0905, at the mapping)', () => {
    const unknown = `${CONTEXT}\nsource s {\n  topic "a" sets humidity\n}`;
    const d1 = checkText(unknown);
    expect(codes(d1)).toEqual(['E0905']);
    expect(covered(unknown, d1[0]!)).toBe('humidity');
    expect(d1[0]!.severity).toBe('error');
    expect(d1[0]!.message).toBe('source topic "a" sets "humidity", which is not a declared context signal');
    expect(codes(checkText(`${CONTEXT}\nsource s {\n  topic "a" sets occupied\n}`))).toEqual(['E0905']);
    const wrong = `${CONTEXT}\nsource s {\n  topic "a" sets motion from topic\n}`;
    const d2 = checkText(wrong);
    expect(codes(d2)).toEqual(['E0905']);
    expect(d2[0]!.message).toContain('bool');
    expect(covered(wrong, d2[0]!)).toBe('topic');
    expect(codes(checkText(`${CONTEXT}\nsource s {\n  topic "a" sets motion from payload.x at payload.ts == 1\n}`))).toEqual(['E0905']);
  });

  it('refuses an ill-formed wildcard (E0905 at the topic)', () => {
    for (const bad of ['home/#/x', 'home/a+', 'home/#x', '']) {
      const src = `${CONTEXT}\nsource s {\n  topic "${bad}" sets motion\n}`;
      expect(codes(checkText(src)), bad).toEqual(['E0905']);
    }
    expect(topicFilterProblem('+/+/#')).toBeNull();
    expect(topicFilterProblem('#')).toBeNull();
  });

  it('a source name declared twice is E0102 (§5: a duplicate declaration), in one file or across modules, and the second block is still checked', () => {
    const twice = `${CONTEXT}\nsource s {\n  topic "a" sets motion\n}\nsource s {\n  topic "b" sets humidity\n}`;
    const d = checkText(twice);
    expect(codes(d).sort()).toEqual(['E0102', 'E0905']);
    const dup = d.find((x) => x.code === 'E0102')!;
    expect(dup.message).toMatch(/^duplicate source "s" \(first declared on line \d+\)$/);
    expect(dup.range.start.line).toBe(twice.split('\n').findIndex((l, i, all) => l.startsWith('source s') && all.slice(0, i).some((x) => x.startsWith('source s'))) + 1);
    expect(dup.related?.[0]?.message).toBe('first declared here');
    const across = checkText(`import "./other.orch" as other\n${CONTEXT}\nsource s {\n  topic "a" sets motion\n}`, { 'other.orch': 'source s {\n  topic "x" sets motion\n}\n' });
    expect(codes(across)).toContain('E0102');
  });
});

