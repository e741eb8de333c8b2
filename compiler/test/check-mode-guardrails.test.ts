/**
 * `check` proves guardrails from less than a compile builds (no IR for most expressions). On small
 * plans drawn at random — approvals and sends under chosen `when`s, `after`s, `require … before`,
 * `require … after`, `forbid` and `assert` rules, a race, a `for each`, a fallback — it reports
 * exactly what `compile` reports.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BASE, DIR, memoryHost } from './helpers.js';
import { check, compile } from '../index.js';

// BASE: two more capabilities (unused: W0601 in both) and a local and a cloud resource.
const HEAD = `${BASE}
capability send {
  kind tool
  input { to: string }
  output { ok: bool }
  cost 0.01usd
  latency 1s
  requires http
}
capability log_it {
  kind tool
  input { text: string }
  output { ok: bool }
  cost 0usd
  latency 1s
  requires http
}
context {
  level: int
}
guardrail human_first {
  severity blocking
  require kind human before capability send
}
guardrail logged_after {
  severity warning
  require capability log_it after capability send
}
guardrail no_cloud_send {
  severity blocking
  forbid step where step.capability == "send" and step.placement == cloud_region
}
guardrail cheap {
  severity warning
  assert plan.cost <= 0.02usd
}
`;

const WHENS = ['', 'input.a', 'input.a', 'input.b', 'not input.a', 'input.a and input.b', 'context.level > 1', 'input.n > 2'];
const GUARDS = ['human_first', 'logged_after', 'no_cloud_send', 'cheap'];

type StepSpec = { kind: 'approval' | 'send' | 'log'; when: string; after: number[]; fallback: boolean; onCloud: boolean };

const stepArb = fc.record({
  kind: fc.constantFrom<StepSpec['kind']>('approval', 'send', 'log'),
  when: fc.constantFrom(...WHENS),
  after: fc.array(fc.nat(5), { maxLength: 2 }),
  fallback: fc.boolean(),
  onCloud: fc.boolean(),
});

function program(steps: readonly StepSpec[], guards: readonly string[], shape: 'plain' | 'race' | 'each'): string {
  const lines = steps.map((s, i) => {
    const call =
      s.kind === 'approval' ? `approval(approver: "lead", summary: "ok ${i}?")` : s.kind === 'send' ? `send(to: "x${i}")` : `log_it(text: "t${i}")`;
    const after = [...new Set(s.after.filter((j) => j < i))].map((j) => `s${j}`);
    const body = [
      after.length ? `after ${after.join(', ')}` : '',
      s.fallback && s.kind !== 'approval' ? 'fallback log_it(text: "fb")' : '',
      s.onCloud && s.kind !== 'approval' ? 'on cloud' : '',
    ].filter(Boolean);
    return `  step s${i} = ${call}${s.when ? ` when ${s.when}` : ''}${body.length ? ` {\n    ${body.join('\n    ')}\n  }` : ''}`;
  });
  // The last two steps go into a race or a loop (a branch may lose; an item list may be empty).
  const tail = lines.length >= 3 && shape !== 'plain' ? lines.splice(lines.length - 2) : [];
  const block =
    tail.length === 0 ? '' : shape === 'race' ? `  race r {\n${tail.map((l) => `  ${l}`).join('\n')}\n  }` : `  for each x in input.items {\n${tail.map((l) => `  ${l}`).join('\n')}\n  }`;
  return `${HEAD}
plan p {
  input { a: bool, b: bool, n: int, items: list<string> }
${guards.length ? `  guardrails ${guards.join(', ')}\n` : ''}${lines.join('\n')}
${block}
}
`;
}

describe('check proves guardrails as compile does', () => {
  it('on random small plans', () => {
    fc.assert(
      fc.property(
        fc.array(stepArb, { minLength: 1, maxLength: 6 }),
        fc.subarray(GUARDS, { minLength: 1 }),
        fc.constantFrom<'plain' | 'race' | 'each'>('plain', 'race', 'each'),
        (steps, guards, shape) => {
          const entry = `${DIR}/main.orch`;
          const host = memoryHost({ [entry]: program(steps, guards, shape) });
          expect(check({ entry, host })).toEqual(compile({ entry, host, tests: true }).diagnostics);
        },
      ),
      { numRuns: 150 },
    );
  });
});
