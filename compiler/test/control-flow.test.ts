/**
 * Language v0.2 control flow (LANGUAGE.md §7.1) on the static side: nested `for each`,
 * `join first`, `race`, `repeat`, the soft `??` rule, their diagnostics, names and types, the IR
 * v2 they lower to, estimates, guardrail proofs, preview and graph.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StepIR } from '../ir/types.js';
import { validatePlanIR } from '../ir/validate.js';
import { renderGraph } from '../graph.js';
import { preview, renderPreviewText } from '../preview.js';
import { BASE, checkText, codes, compileText, covered } from './helpers.js';

/** Capabilities for loops and races, on top of BASE. */
const CAPS = `${BASE}
capability write_copy {
  kind llm  handler "./handlers.js#write_copy"
  input { brief: string, notes: string }
  output { text: string }
  cost 0.01usd
  latency 5s
  requires llm
}
capability critique {
  kind llm  handler "./handlers.js#critique"
  input { text: string }
  output { approved: bool, notes: string }
  cost 0.02usd
  latency 3s
  requires llm
}
context { customer_replied: bool }
`;

const LOOP = `${CAPS}
plan copy_review {
  input { brief: string }
  repeat revise max 4 until review.output.approved {
    step draft = write_copy(brief: input.brief, notes: revise.previous.review.output.notes ?? "")
    step review = critique(text: draft.output.text)
  }
  step publish = fetch(url: draft.output.text) when review.output.approved
  step count = summarize(text: "took \${revise.iterations}")
}
`;

const RACE = `${CAPS}
plan support {
  race reply {
    step answered = wait until context.customer_replied timeout 2d
    step reminder = wait 1d
  }
  step follow_up = summarize(text: "ended by \${reply.winner}")
}
`;

function errors(text: string): { code: string; message: string; at: string }[] {
  return checkText(text)
    .filter((d) => d.severity === 'error')
    .map((d) => ({ code: d.code, message: d.message, at: covered(text, d) }));
}

function plan(text: string, name?: string) {
  const out = compileText(text, {}, name);
  expect(codes(out.diagnostics).filter((c) => c.startsWith('E'))).toEqual([]);
  const p = name ? out.plans.find((x) => x.plan === name)! : out.plans[0]!;
  expect(validatePlanIR(JSON.parse(JSON.stringify(p)))).toMatchObject({ ok: true });
  return p;
}

const round = (n: number) => Math.round(n * 1e6) / 1e6;

function step(p: { steps: readonly StepIR[] }, id: string): StepIR {
  return p.steps.find((s) => s.id === id)!;
}

describe('diagnostics in the user\'s words', () => {
  it('a repeat without max is E0302 at the loop name', () => {
    const text = `${CAPS}\nplan p {\n  repeat again until a.output.size > 3 {\n    step a = fetch(url: "x")\n  }\n}\n`;
    const e = errors(text);
    expect(e).toHaveLength(1);
    expect(e[0]).toMatchObject({ code: 'E0302', at: 'again' });
    expect(e[0]!.message).toMatch(/repeat again has no bound: write "repeat again max N until …" with N from 1 to 1000/);
  });

  it('a repeat max outside 1..1000 is E0302 at the bound', () => {
    for (const n of ['0', '1001']) {
      const text = `${CAPS}\nplan p { repeat again max ${n} until a.output.size > 3 { step a = fetch(url: "x") } }\n`;
      expect(errors(text)).toEqual([{ code: 'E0302', at: n, message: `repeat again max ${n}: the bound must be from 1 to 1000` }]);
    }
    const ok = `${CAPS}\nplan p { repeat again max 1000 until a.output.size > 3 { step a = fetch(url: "x") } }\n`;
    expect(errors(ok)).toEqual([]);
  });

  it('a repeat with no step inside (an empty body, or only empty blocks) is E0302 at the loop name: `after` it could not wait for it', () => {
    for (const body of ['', 'for each x in [1] { }']) {
      const text = `${CAPS}\nplan p { repeat again max 3 until false { ${body} } step z = fetch(url: "z") { after again } }\n`;
      expect(errors(text)).toEqual([{ code: 'E0302', at: 'again', message: expect.stringMatching(/^repeat again has no step/) }]);
    }
  });

  it('a race with one branch is E0303', () => {
    const text = `${CAPS}\nplan p { race r { step a = fetch(url: "x") } }\n`;
    const e = errors(text);
    expect(e.map((x) => [x.code, x.at])).toEqual([['E0303', 'r']]);
    expect(e[0]!.message).toMatch(/race r has one branch; a race needs two or more steps/);
  });

  it('a race branch that waits for another branch of its race is E0303 (after it, or a read of it, even in ??)', () => {
    const race = (b: string, c: string) => `${CAPS}\nplan p {\n  step z = fetch(url: "z")\n  race r {\n    step a = fetch(url: "x")\n    ${b}\n    ${c}\n  }\n  step n = summarize(text: a.output.body ?? "none")\n}\n`;
    const text = race('step b = fetch(url: "y") { after a }', 'step c = summarize(text: a.output.body ?? z.output.body)');
    const e = errors(text);
    expect(e.map((x) => [x.code, x.at])).toEqual([['E0303', 'a'], ['E0303', 'c']]);
    expect(e[0]!.message).toBe('step "b" of race r waits for "a", another branch of the race: "a" completing ends the race and cancels "b", so the two never compete (for a step that runs when "a" fails, use a fallback or a step after the race)');
    const hard = race('step b = fetch(url: a.output.body)', 'step c = wait 1s');
    expect(errors(hard).map((x) => [x.code, x.at])).toEqual([['E0303', 'a']]);
    // Branches that wait only for steps outside the race (and readers after it) compete: clean.
    expect(errors(race('step b = fetch(url: z.output.body) { after z }', 'step c = summarize(text: z.output.body)'))).toEqual([]);
  });

  it('join first: reading a dependency that may still run outside ?? is E0201, inside ?? is fine', () => {
    const bad = `${CAPS}\nplan p {\n  step a = fetch(url: "x")\n  step b = fetch(url: "y")\n  step c = summarize(text: a.output.body ?? b.output.body) { join first }\n  step d = summarize(text: a.output.body) { join first after b }\n}\n`;
    const e = errors(bad);
    // Reported at the read (`a` of a.output.body in step d), not at the step's name.
    expect(e.map((x) => [x.code, x.at])).toEqual([['E0201', 'a']]);
    expect(checkText(bad).find((d) => d.code === 'E0201')!.range.start.line).toBe(bad.split('\n').findIndex((l) => l.includes('step d =')) + 1);
    expect(e[0]!.message).toMatch(/step "d" has "join first": .* read a\.output inside a \?\? chain/);
    const p = plan(bad.replace('summarize(text: a.output.body) { join first after b }', 'summarize(text: a.output.body ?? "") { join first after b }'));
    expect(step(p, 'c').join).toBe('first');
    expect(step(p, 'c').soft_reads).toEqual(['a', 'b']);
    expect(step(p, 'c').skip_if_skipped).toEqual([]);
  });

  it('NAME.previous outside ?? is E0201; index after the loop and iterations inside are E0201', () => {
    const text = `${CAPS}\nplan p {\n  repeat r max 3 until a.output.size > 3 {\n    step a = fetch(url: r.previous.a.output.body)\n    step a2 = fetch(url: r.previous.a.output.body ?? "")\n    step b = summarize(text: "\${r.iterations}")\n  }\n  step c = summarize(text: "\${r.index}")\n}\n`;
    const e = errors(text);
    // the unguarded read is also a string? passed as a string (E0201 from the argument check)
    expect(e.map((x) => [x.code, x.at])).toEqual([
      ['E0201', 'r.previous.a.output.body'], ['E0201', 'previous'], ['E0201', 'iterations'], ['E0201', 'index'],
    ]);
    expect(e[1]!.message).toMatch(/r\.previous is null in the first iteration: read it inside a \?\? chain/);
    expect(e[2]!.message).toMatch(/inside the loop use r\.index/);
    expect(e[3]!.message).toMatch(/r\.index is only defined inside the loop "r"/);
  });

  it('NAME.previous compared with null reads no field of it: fine outside ?? (§7.1: null in the first iteration)', () => {
    const text = `${CAPS}\nplan p {\n  repeat r max 3 until a.output.size > 3 {\n    step first = summarize(text: "first") when r.previous == null\n    step a = fetch(url: "\${r.previous != null}")\n    step b = fetch(url: r.previous["a"].output.body)\n  }\n}\n`;
    // Only the read into it (an index here) needs the ?? chain.
    expect(errors(text).map((x) => [x.code, x.at])).toEqual([['E0201', 'previous']]);
    const p = plan(text.replace('fetch(url: r.previous["a"].output.body)', 'fetch(url: "x")'));
    expect(step(p, 'first').when).toMatchObject({ op: '==', left: { op: 'previous', loop: 'r' } });
  });

  it('a race branch read outside ?? from outside the race is E0201; reply.output is fine', () => {
    const text = `${RACE}\nplan q {\n  race r {\n    step a = fetch(url: "x")\n    step b = fetch(url: "y")\n  }\n  step c = summarize(text: a.output.body)\n  step d = summarize(text: r.output.body)\n  step e = summarize(text: b.output.body ?? "none")\n}\n`;
    const e = errors(text);
    // Reported at the read (`a` of a.output.body in step c), not at the step's name.
    expect(e.map((x) => [x.code, x.at])).toEqual([['E0201', 'a']]);
    expect(checkText(text).find((d) => d.code === 'E0201')!.range.start.line).toBe(text.split('\n').findIndex((l) => l.includes('step c =')) + 1);
    expect(e[0]!.message).toMatch(/step "a" is a branch of race r: when it loses its output is null, so step "c"/);
  });

  it('a race or loop inside a for each is read inside it; read from outside, it is E0201 (there is one per item)', () => {
    const text = `${CAPS}\nplan p {\n  input { urls: list<string> }\n  for each u in input.urls {\n    race r {\n      step a = fetch(url: u)\n      step b = fetch(url: u)\n    }\n    step n = summarize(text: r.winner)\n  }\n  step z = summarize(text: r.winner)\n  step y = summarize(text: "\${len(n.output)}")\n}\n`;
    const e = errors(text);
    expect(e.map((x) => [x.code, x.at])).toEqual([['E0201', 'r']]);
    expect(e[0]!.message).toMatch(/race r is inside a for each/);
  });

  it('a top-level invariant may name a race or a loop: it applies to the plans that have it', () => {
    const text = `${CAPS}\ninvariant won { always r.completed implies r.winner == "a" }\ninvariant looped { eventually lp.iterations <= 2 }\nplan p {\n  race r {\n    step a = fetch(url: "x")\n    step b = fetch(url: "y")\n  }\n}\nplan q {\n  repeat lp max 2 until c.output.size > 0 {\n    step c = fetch(url: "z")\n  }\n}\n`;
    expect(errors(text)).toEqual([]);
    const out = compileText(text);
    const names = (plan: string) => out.plans.find((x) => x.plan === plan)!.invariants.map((i) => i.name);
    expect(names('p')).toEqual(['won']);
    expect(names('q')).toEqual(['looped']);
  });

  it('race and repeat names share the step namespace (E0102)', () => {
    const text = `${CAPS}\nplan p {\n  step r = fetch(url: "x")\n  race r {\n    step a = fetch(url: "x")\n    step b = fetch(url: "y")\n  }\n}\n`;
    expect(errors(text).map((x) => [x.code, x.at])).toEqual([['E0102', 'r']]);
  });
});

describe('names and types', () => {
  it('an inner for each whose item shadows the outer one reads the outer item in its list (no internal error), in check and compile', () => {
    const text = `${CAPS}\nplan p {\n  input { xs: list<list<string>> }\n  for each x in input.xs {\n    for each x in x {\n      step a = summarize(text: x)\n    }\n  }\n}\n`;
    expect(compileText(text).diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(errors(text)).toEqual([]);
    plan(text);
  });

  it('NAME.winner is an enum of the branch names (a typo is E0201 with a suggestion)', () => {
    const text = RACE.replace('"ended by ${reply.winner}"', 'reply.winner == "answerd"');
    const e = errors(text.replace('summarize(text: reply.winner == "answerd")', 'summarize(text: "x") when reply.winner == "answerd"'));
    expect(e.map((x) => x.code)).toEqual(['E0201']);
    expect(e[0]!.message).toMatch(/"answerd" is not one of "answered" \| "reminder"; did you mean "answered"\?/);
  });

  it('nested for each: an inner block sees every item; outside, output is a list nested once per block', () => {
    const text = `${CAPS}\nplan p {\n  input { teams: list<{ channel: string, members: list<{ name: string }> }> }\n  for each team in input.teams parallel 2 {\n    for each member in team.members parallel 5 {\n      step greet = fetch(url: "\${team.channel}/\${member.name}")\n    }\n    step per_team = summarize(text: greet.output[0].body ?? "")\n  }\n  step all = summarize(text: greet.output[0][0].body ?? "")\n  output { n: len(greet.output) }\n}\n`;
    const p = plan(text);
    expect(p.blocks).toMatchObject([
      { type: 'for_each', item: 'team', parent: null, parallel: 2 },
      { type: 'for_each', item: 'member', parallel: 5 },
    ]);
    const [outer, inner] = p.blocks!;
    expect(inner!.parent).toBe(outer!.id);
    expect(step(p, 'greet').blocks).toEqual([outer!.id, inner!.id]);
    expect(step(p, 'greet').for_each).toMatchObject({ group: inner!.id, item: 'member' });
    expect(step(p, 'per_team').blocks).toEqual([outer!.id]);
    // one level too few is a type error: greet.output is list<list<…>> at the plan level
    const wrong = text.replace('greet.output[0][0].body ?? ""', 'greet.output[0].body ?? ""');
    expect(errors(wrong).map((x) => x.code)).toContain('E0201');
  });

  it('a step outside the loop that until reads is waited for by every step of the loop; a cycle through it is E0301', () => {
    const text = `${CAPS}\nplan p {\n  step gate = fetch(url: "g")\n  repeat again max 3 until gate.output.size > 3 {\n    step a = fetch(url: "x")\n    step b = fetch(url: a.output.body)\n  }\n}\n`;
    const p = plan(text);
    expect(step(p, 'a').deps).toEqual(['gate']);
    expect(step(p, 'b').deps).toEqual(['a', 'gate']);
    const cyclic = checkText(text.replace('step gate = fetch(url: "g")', 'step gate = fetch(url: "g") { after again }')).filter((d) => d.severity === 'error');
    expect(cyclic.map((d) => d.code)).toEqual(['E0301']);
    // The note says why the loop's steps wait for a step none of them reads.
    expect(cyclic[0]!.related?.map((r) => r.message)).toContain("loop again's until reads step gate: every step of the loop waits for it");
    // Through a third step too (a cycle is written in the order values flow).
    const longer = text.replace('step gate = fetch(url: "g")', 'step z = fetch(url: "z") { after again }\n  step gate = fetch(url: z.output.body)');
    const cyclic3 = checkText(longer).filter((d) => d.severity === 'error');
    expect(cyclic3.map((d) => d.code)).toEqual(['E0301']);
    expect(cyclic3[0]!.related?.map((r) => r.message)).toContain("loop again's until reads step gate: every step of the loop waits for it");
  });

  it('inside a loop its steps are one iteration; previous is nullable; outside, iterations is an int', () => {
    const p = plan(LOOP);
    const draft = step(p, 'draft');
    expect(JSON.stringify(draft.args.notes)).toContain('{"op":"previous","loop":"revise"}');
    expect(draft.deps).toEqual([]); // previous is the iteration before: no dependency
    expect(step(p, 'review').deps).toEqual(['draft']);
    const count = step(p, 'count');
    expect(count.waits_for).toEqual(['revise']);
    expect(count.deps).toEqual(['draft', 'review']);
    expect(step(p, 'publish').waits_for).toEqual(['revise']);
    expect(p.blocks).toEqual([
      {
        type: 'repeat', id: 'revise', parent: null, max: 4, on_failure: 'abort', steps: ['draft', 'review'],
        until: { op: 'get', object: { op: 'get', object: { op: 'step', id: 'review' }, key: 'output' }, key: 'approved' },
      },
    ]);
    expect(errors(LOOP.replace('"took ${revise.iterations}"', 'revise.iterations'))).toMatchObject([{ code: 'E0201' }]);
  });

  it('until is checked in the scope of the loop: enclosing items, not those of blocks inside it', () => {
    const text = (cond: string) => `${CAPS}\nplan p {\n  input { xs: list<{ name: string, ys: list<string> }> }\n  for each a in input.xs {\n    repeat r max 3 until ${cond} {\n      for each y in a.ys {\n        step g = fetch(url: y)\n      }\n    }\n  }\n}\n`;
    expect(errors(text('(g.output[0].size ?? 0) > 1 or a.name == "z"'))).toEqual([]);
    expect(errors(text('y == "z"')).map((e) => [e.code, e.at])).toEqual([['E0101', 'y']]);
  });

  it('a step read only by until or through NAME.previous is used (no W0601)', () => {
    const text = `${CAPS}\nplan p {\n  input { brief: string }\n  repeat r max 3 until gate.output.approved {\n    step draft = write_copy(brief: input.brief, notes: r.previous.notes_only.output.notes ?? "")\n    step notes_only = critique(text: draft.output.text)\n    step gate = critique(text: draft.output.text)\n    step unused = summarize(text: "x")\n  }\n  output { text: draft.output.text }\n}\n`;
    const w = checkText(text).filter((d) => d.code === 'W0601' && d.message.startsWith('the output of step'));
    expect(w.map((d) => covered(text, d))).toEqual(['unused']);
  });

  it('after NAME waits for the whole race; on_failure continue is kept on the loop', () => {
    const text = `${RACE.replace('step follow_up = summarize(text: "ended by ${reply.winner}")', 'step follow_up = summarize(text: "x") { after reply }')}`;
    const p = plan(text);
    expect(step(p, 'follow_up')).toMatchObject({ deps: ['answered', 'reminder'], waits_for: ['reply'] });
    expect(p.blocks).toEqual([{ type: 'race', id: 'reply', parent: null, branches: ['answered', 'reminder'] }]);
    const loop = plan(LOOP.replace('until review.output.approved {', 'until review.output.approved on_failure continue {'));
    expect(loop.blocks![0]).toMatchObject({ type: 'repeat', on_failure: 'continue' });
  });
});

describe('the soft ?? rule (§7.1)', () => {
  const text = `${CAPS}\nplan p {\n  step left = fetch(url: "x") when input.go\n  step right = fetch(url: "y") when not input.go\n  input { go: bool }\n  step merged = summarize(text: left.output.body ?? right.output.body ?? "none")\n  step hard = summarize(text: left.output.body)\n  step mixed = summarize(text: (left.output.body ?? "") + right.output.body)\n}\n`;
  it('every read inside a ?? chain is soft: not skipped with a skipped dependency', () => {
    const p = plan(text);
    expect(step(p, 'merged')).toMatchObject({ skip_if_skipped: [], soft_reads: ['left', 'right'], deps: ['left', 'right'] });
  });
  it('a read outside every ?? chain still skips the step', () => {
    const p = plan(text);
    expect(step(p, 'hard')).toMatchObject({ skip_if_skipped: ['left'], soft_reads: [] });
    expect(step(p, 'mixed')).toMatchObject({ skip_if_skipped: ['right'], soft_reads: ['left'] });
  });
  it('a chain may end in null ("both were skipped" is null): no E0201, and the result is optional', () => {
    const src = `${CAPS}\nplan p {\n  input { go: bool }\n  step left = fetch(url: "x") when input.go\n  step right = fetch(url: "y") when not input.go\n  output { body: left.output.body ?? right.output.body ?? null }\n}\n`;
    expect(codes(checkText(src)).filter((c) => c.startsWith('E'))).toEqual([]);
    // Still a type error when the fallback is of another type.
    expect(codes(checkText(src.replace('?? null', '?? 3')))).toContain('E0201');
  });
});

describe('estimates and guardrails', () => {
  it('a loop gives the best case (one iteration) and the worst (max iterations)', () => {
    const p = plan(LOOP);
    const per = step(p, 'draft').estimates.duration_ms + step(p, 'review').estimates.duration_ms;
    const after = step(p, 'publish').estimates.duration_ms;
    expect(p.estimates.duration_ms).toBeCloseTo(per + Math.max(after, step(p, 'count').estimates.duration_ms), 6);
    expect(p.estimates.duration_ms_max).toBeCloseTo(4 * per + Math.max(after, step(p, 'count').estimates.duration_ms), 6);
    const loopCost = step(p, 'draft').estimates.cost + step(p, 'review').estimates.cost;
    expect(p.estimates.cost_max! - p.estimates.cost).toBeCloseTo(3 * loopCost, 9);
  });

  it('a race ends with its first branch', () => {
    const p = plan(RACE);
    // answered (wait until: 0 estimated) wins over a 1d reminder
    expect(p.estimates.duration_ms).toBe(step(p, 'follow_up').estimates.duration_ms);
    expect(p.estimates.critical_path).toEqual(['answered', 'follow_up']);
  });

  it('a budget exceeded only when loops run max times is W0502 naming the worst case', () => {
    const text = LOOP.replace('plan copy_review {', 'policy tight { budget cost <= 0.07usd }\nplan copy_review {\n  policy tight');
    const w = compileText(text).diagnostics.filter((d) => d.code === 'W0502');
    expect(w.map((d) => d.message)).toEqual([expect.stringMatching(/when every loop runs its max iterations exceeds the budget/)]);
  });

  it('ordering guardrails hold over every iteration, and a race branch alone proves nothing', () => {
    const guard = `guardrail review_first { severity blocking require capability critique before capability fetch }\n`;
    expect(codes(compileText(`${guard}${LOOP}`).diagnostics)).not.toContain('E0401');
    const raced = `${guard}${CAPS}\nplan p {\n  race r {\n    step rev = critique(text: "x")\n    step skip = wait 1h\n  }\n  step send = fetch(url: "u") { after r }\n}\n`;
    const e = compileText(raced).diagnostics.filter((d) => d.code === 'E0401');
    expect(e.map((d) => covered(raced, d))).toEqual(['send']);
    const both = raced.replace('step skip = wait 1h', 'step rev2 = critique(text: "y")');
    expect(codes(compileText(both).diagnostics)).not.toContain('E0401');
  });
});

describe('preview and graph', () => {
  it('shows loops as repeat ×1..N, races as first of, and nested fan-out', () => {
    const loop = renderPreviewText(preview(plan(LOOP)), false);
    expect(loop).toContain('+ draft = write_copy [repeat revise ×1..4]');
    expect(loop).toMatch(/duration: [\d.]+s \.\. [\d.]+s \(loops run once \.\. max times\)/);
    expect(loop).toContain('repeat revise ×1..4 — runs draft, review until its condition holds');
    const race = renderPreviewText(preview(plan(RACE)), false);
    expect(race).toContain('+ reminder = wait [race reply: first of answered, reminder]');
    expect(race).toContain('race reply: first of answered, reminder — the first to complete wins, the others are cancelled');
  });

  it('--input resolves conditions and fan-out sizes that depend only on the input', () => {
    const text = `${CAPS}\nplan p {\n  input { loud: bool, teams: list<{ members: list<string> }> }\n  for each team in input.teams {\n    for each m in team.members parallel 5 {\n      step greet = fetch(url: m)\n    }\n  }\n  step shout = summarize(text: "x") when input.loud\n  step maybe = summarize(text: "y") when len(greet.output) > 1\n}\n`;
    const p = plan(text);
    const blind = preview(p);
    expect(blind.input_resolved).toBe(false);
    expect(blind.steps.find((s) => s.id === 'shout')!.condition).toBeNull();
    const input = { loud: false, teams: [{ members: ['a', 'b'] }, { members: ['c'] }] };
    const j = preview(p, undefined, { input });
    expect(j.input_resolved).toBe(true);
    expect(j.steps.find((s) => s.id === 'shout')!.condition).toBe(false);
    expect(j.steps.find((s) => s.id === 'maybe')!.condition).toBeNull(); // reads a step output
    expect(j.blocks.map((b) => b.items)).toEqual([2, 3]);
    const t = renderPreviewText(j, false);
    expect(t).toContain('+ shout = summarize [skipped for this input: when is false]');
    expect(t).toContain('[for each team (2 items) › for each m, parallel 5 (3 items)]');
    expect(t).toContain('+ maybe = summarize [conditional]');
    expect(preview(p, undefined, { input: { ...input, loud: true } }).steps.find((s) => s.id === 'shout')!.condition).toBe(true);
  });

  it('--input sizes the estimates of a for each over the input: items × cost, waves × duration, and the totals', () => {
    const text = `${CAPS}\npolicy tight {\n  strategy cost\n  budget cost <= 0.05usd\n  budget duration <= 5s\n}\nplan p {\n  policy tight\n  input { items: list<string>, teams: list<{ members: list<string> }> }\n  for each it in input.items parallel 2 {\n    step get = fetch(url: it)\n  }\n  for each team in input.teams {\n    for each m in team.members parallel 1 {\n      step greet = fetch(url: m)\n    }\n  }\n  for each w in ["x", "y"] {\n    step fixed = fetch(url: w)\n  }\n  step sum = summarize(text: "done") { after get }\n}\n`;
    const p = plan(text);
    const blind = preview(p);
    const per = (id: string) => blind.steps.find((s) => s.id === id)!.estimate;
    const sized = preview(p, undefined, { input: { items: ['a', 'b', 'c'], teams: [{ members: ['a', 'b'] }, { members: ['c'] }] } });
    const est = (id: string) => sized.steps.find((s) => s.id === id)!.estimate;
    // 3 items 2 at a time: 3 × the cost, 2 waves of the duration.
    expect(est('get')).toEqual({ cost: round(per('get').cost * 3), duration_ms: per('get').duration_ms * 2 });
    // 3 members, one at a time in each team, the teams side by side: the longest team's 2 waves.
    expect(est('greet')).toEqual({ cost: round(per('greet').cost * 3), duration_ms: per('greet').duration_ms * 2 });
    // A list the file writes out was sized by the compile already.
    expect(est('fixed')).toEqual(per('fixed'));
    const total = round(['get', 'greet', 'fixed', 'sum'].reduce((n, id) => n + est(id).cost, 0));
    expect(sized.estimates.cost).toBe(total);
    expect(sized.estimates.duration_ms).toBe(est('get').duration_ms + est('sum').duration_ms);
    expect(sized.estimates.critical_path).toEqual(['get', 'sum']);
    expect(sized.budgets.cost).toMatchObject({ estimate: total });
    expect(sized.budgets.duration_ms).toMatchObject({ estimate: sized.estimates.duration_ms, ok: sized.estimates.duration_ms <= 5000 });
    const t = renderPreviewText(sized, false);
    expect(t).toContain(`cost: ${total}`);
    // Without an input the figures stay per item, as the compile has them.
    expect(blind.estimates.cost).toBe(p.estimates.cost);
  });

  it('--input gives the estimates the compile gives for the same list written out', () => {
    const planOf = (list: string, parallel: number) =>
      plan(`${CAPS}\nplan p {\n  input { items: list<string> }\n  for each it in ${list} parallel ${parallel} {\n    step get = fetch(url: it)\n    step sum = summarize(text: get.output.body)\n  }\n  step after_all = summarize(text: "x") { after sum }\n}\n`);
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'b'), { maxLength: 6 }), fc.integer({ min: 1, max: 4 }), (items, parallel) => {
        const fromInput = preview(planOf('input.items', parallel), undefined, { input: { items } });
        const written = preview(planOf(JSON.stringify(items), parallel));
        expect(fromInput.estimates).toEqual(written.estimates);
        expect(fromInput.steps.map((x) => x.estimate)).toEqual(written.steps.map((x) => x.estimate));
      }),
      { numRuns: 15 },
    );
  });

  it('graph draws a loop body and a race as labelled clusters (DOT, Mermaid, SVG)', () => {
    const p = plan(`${LOOP}\nplan support {\n  race reply {\n    step a = fetch(url: "x")\n    step b = fetch(url: "y")\n  }\n  step c = summarize(text: reply.output.body)\n}\n`, 'copy_review');
    const dot = renderGraph(p, 'dot');
    expect(dot).toMatch(/subgraph "cluster_revise" \{\n {4}label="repeat revise ×1\.\.4";\n.*\n {4}"draft" \[label="draft\\nwrite_copy @ cloud"\];\n {4}"review"/);
    expect(dot).toMatch(/^ {2}"publish" \[/m); // outside the cluster
    const mer = renderGraph(p, 'mermaid');
    expect(mer).toContain('subgraph s_block_revise["repeat revise ×1..4"]');
    const svg = renderGraph(p, 'svg');
    expect(svg).toContain('<g class="block" data-block="revise" data-type="repeat">');
    const race = compileText(`${LOOP}\nplan support {\n  race reply {\n    step a = fetch(url: "x")\n    step b = fetch(url: "y")\n  }\n  step c = summarize(text: reply.output.body)\n}\n`, {}, 'support').plans.find((x) => x.plan === 'support')!;
    expect(renderGraph(race, 'dot')).toContain('label="race reply: first wins";');
    expect(renderGraph(race, 'mermaid')).toContain('subgraph s_block_reply["race reply: first wins"]');
    expect(renderGraph(race, 'svg')).toContain('data-block="reply" data-type="race"');
  });
});
