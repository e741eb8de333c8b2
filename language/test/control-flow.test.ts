/**
 * v0.2 control flow in the front end (LANGUAGE.md §7.1): `race NAME { … }`, `repeat NAME max N
 * until EXPR [on_failure W] { … }`, `join first` and nested blocks — AST shapes, the messages for
 * a loop without a bound and a race of one, the canonical format, and both parse paths agreeing.
 */
import { describe, expect, it } from 'vitest';
import type { PlanDecl, RaceDecl, RepeatDecl } from '../ast.js';
import { format } from '../format.js';
import { parse, parseViaCst } from '../index.js';
import { diagnosticsOf, firstDecl, parseOk, strip } from './helpers.js';

const plan = (body: string): PlanDecl => firstDecl(`plan p {\n${body}\n}\n`) as PlanDecl;

describe('race and repeat blocks', () => {
  it('parse to RaceDecl and RepeatDecl with their steps', () => {
    const p = plan(`  race reply {
    step answered = wait until context.replied timeout 2d
    step reminder = wait 1d
  }
  repeat revise max 4 until review.output.approved on_failure continue {
    step draft = write(notes: revise.previous.review.output.notes ?? "")
    for each s in draft.output.sections { step review = critique(text: s) }
    race inner {
      step a = f()
      step b = g()
    }
  }`);
    expect(p.body.map((b) => b.kind)).toEqual(['RaceDecl', 'RepeatDecl']);
    const race = strip(p.body[0] as RaceDecl);
    expect(race.name.name).toBe('reply');
    expect(race.body.map((s) => s.name.name)).toEqual(['answered', 'reminder']);
    const loop = strip(p.body[1] as RepeatDecl);
    expect(loop).toMatchObject({ kind: 'RepeatDecl', name: { name: 'revise' }, max: { value: 4, integer: true }, onFailure: 'continue' });
    expect(loop.until).toMatchObject({ kind: 'MemberExpr', property: { name: 'approved' } });
    expect(loop.body.map((b) => b.kind)).toEqual(['StepDecl', 'ForEachDecl', 'RaceDecl']);
  });

  it('race and repeat stay usable as names (soft keywords)', () => {
    const p = plan('  step race = f(repeat: 1)\n  step repeat = g(x: race.output.v)');
    expect(p.body.map((b) => b.kind === 'StepDecl' && b.name.name)).toEqual(['race', 'repeat']);
  });

  it('join first is a join rule', () => {
    const p = plan('  step c = f() { join first }');
    expect(p.body[0]).toMatchObject({ kind: 'StepDecl', join: 'first' });
  });

  it('nests for each blocks to any depth', () => {
    const p = plan('  for each a in input.xs { for each b in a.ys { for each c in b.zs { step s = f(x: c) } } }');
    const depth = (b: unknown, n = 0): number => {
      const x = b as { kind: string; body?: unknown[] };
      return x.kind === 'ForEachDecl' ? depth(x.body![0], n + 1) : n;
    };
    expect(depth(p.body[0])).toBe(3);
  });
});

describe('messages in the user\'s words', () => {
  it('a repeat without max is E0302 (not a syntax error), and the block is still parsed', () => {
    const text = 'plan p {\n  repeat revise until x.output.ok {\n    step x = f()\n  }\n}\n';
    const ds = diagnosticsOf(text);
    expect(ds.map((d) => [d.code, d.message])).toEqual([
      ['E0302', 'repeat revise has no bound: write "repeat revise max N until …" with N from 1 to 1000 (Orch has no unbounded loop)'],
    ]);
    expect(ds[0]!.range.start).toMatchObject({ line: 2, column: 10 });
    const { module } = parse({ file: 't.orch', text });
    expect(((module.declarations[0] as PlanDecl).body[0] as RepeatDecl).body).toHaveLength(1);
  });

  it('max outside 1..1000 and a fractional max are reported', () => {
    expect(diagnosticsOf('plan p { repeat r max 0 until true { step x = f() } }').map((d) => d.message)).toEqual(['repeat r max 0: the bound must be from 1 to 1000']);
    expect(diagnosticsOf('plan p { repeat r max 5000 until true { step x = f() } }').map((d) => d.code)).toEqual(['E0302']);
    expect(diagnosticsOf('plan p { repeat r max 2.5 until true { step x = f() } }').map((d) => d.message)).toEqual(["max must be a whole number, found '2.5'"]);
  });

  it('a race with fewer than two steps is E0303', () => {
    expect(diagnosticsOf('plan p { race r { step a = f() } }').map((d) => [d.code, d.message])).toEqual([
      ['E0303', 'race r has one branch; a race needs two or more steps that compete (a single step needs no race)'],
    ]);
    expect(diagnosticsOf('plan p { race r { } }').map((d) => d.code)).toEqual(['E0303']);
  });

  it('a block inside a race is reported once, in words', () => {
    const ds = diagnosticsOf('plan p { race r { step a = f() step b = g() for each x in y { step c = h() } } }');
    expect(ds.map((d) => [d.code, d.message])).toEqual([
      ['E0001', "expected a 'step' (each step is a branch; a branch of several steps is a 'run' of a sub-plan) or '}' to close the race block, found 'for'"],
    ]);
  });
});

describe('format and the two parse paths', () => {
  const source = `plan p {
  input { teams: list<{ members: list<string> }> }

  for each team in input.teams parallel 2 {
    for each m in team.members parallel 5 {
      step greet = notify(channel: "#x", text: m)
    }
  }
  race reply {
    step answered = wait until context.replied timeout 2d
    step reminder = wait 1d
  }
  repeat revise max 4 until review.output.approved on_failure continue {
    step draft = write(notes: revise.previous.review.output.notes ?? "")
    step review = critique(text: draft.output.text)
  }
  step after_all = notify(channel: "#x", text: "\${reply.winner}") {
    join first
  }
}
`;

  it('prints the canonical form unchanged (idempotent)', () => {
    const once = format('t.orch', source);
    expect(once.diagnostics).toEqual([]);
    expect(once.text).toBe(source);
    expect(format('t.orch', 'plan p { repeat   r  max 2 until x.output.ok { step x = f() } race q { step a = f() step b = g() } }').text).toBe(
      'plan p {\n  repeat r max 2 until x.output.ok {\n    step x = f()\n  }\n  race q {\n    step a = f()\n    step b = g()\n  }\n}\n',
    );
  });

  it('the direct and CST parse paths build the same tree, on valid text and with the new diagnostics', () => {
    for (const text of [source, 'plan p { repeat r until true { step x = f() } race q { step a = f() } }']) {
      const a = parse({ file: 't.orch', text });
      const b = parseViaCst({ file: 't.orch', text });
      expect(a.module).toEqual(b.module);
      expect(a.diagnostics).toEqual(b.diagnostics);
    }
    expect(parseOk(source).declarations).toHaveLength(1);
  });
});
