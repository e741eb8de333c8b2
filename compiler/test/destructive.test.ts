/**
 * `destructive true` (LANGUAGE.md §8.3): any capability may declare it, not only an MCP tool with
 * `destructiveHint`; guardrails read it as `step.destructive` and select it with `destructive`.
 */
import { describe, expect, it } from 'vitest';
import { checkText, compileText, covered } from './helpers.js';

const CAPS = `
capability wipe { kind tool  input { path: string }  output { n: int }  destructive true }
capability look { kind tool  input { path: string }  output { n: int } }
`;

describe('destructive capabilities', () => {
  it('a declared capability is destructive in the IR; one that says nothing is not', () => {
    const out = compileText(`${CAPS}plan p { step a = look(path: "x")  step b = wipe(path: "y") }\n`);
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const byName = Object.fromEntries(Object.values(out.plans[0]!.capabilities).map((c) => [c.name.split('.').pop(), c]));
    expect(byName.wipe!.destructive).toBe(true);
    expect(byName.look!.destructive ?? false).toBe(false);
  });

  it('step.destructive in a forbid rule matches the destructive step only', () => {
    const src = `${CAPS}guardrail no_wipe { forbid step where step.destructive }\nplan p { step a = look(path: "x")  step b = wipe(path: "y") }\n`;
    const errors = checkText(src).filter((d) => d.code === 'E0401');
    expect(errors.map((d) => [covered(src, d), d.message])).toEqual([['b', expect.stringContaining('guardrail "no_wipe"')]]);
  });

  it('the selector `destructive` needs a human before every destructive step, and is met by an approval', () => {
    const rule = 'guardrail human_first { require kind human before destructive }\n';
    const bare = `${CAPS}${rule}plan p { step a = look(path: "x")  step b = wipe(path: "y") }\n`;
    const errors = checkText(bare).filter((d) => d.code === 'E0401');
    expect(errors.map((d) => [covered(bare, d), d.message])).toEqual([['b', expect.stringMatching(/human_first.*a human step must run before it/)]]);
    const approved = `${CAPS}${rule}plan p { step ok = approval(approver: "ops", message: "wipe?")  step b = wipe(path: "y") { after ok } }\n`;
    expect(checkText(approved).filter((d) => d.code === 'E0401')).toEqual([]);
  });
});
