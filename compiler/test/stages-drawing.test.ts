/**
 * docs/architecture.md draws the compile stages "from the code": this keeps the drawing true — it
 * lost the `flows` stage when §9.3 added it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PLAN_COMPILE_STAGES } from '../assemble/assemble.js';
import { COMPILE_STAGES } from '../program.js';

const DOC = readFileSync(fileURLToPath(new URL('../../docs/architecture.md', import.meta.url)), 'utf8');

/** The stage names of the drawing under "## The compile stages", in order: top-level and `├ x` / `└ x` lines. */
function drawn(): { program: string[]; plan: string[] } {
  const section = DOC.slice(DOC.indexOf('## The compile stages'));
  const block = section.slice(section.indexOf('```') + 3, section.indexOf('```', section.indexOf('```') + 3));
  const program: string[] = [];
  const plan: string[] = [];
  for (const line of block.split('\n')) {
    const inner = /^ [├└] ([a-z-]+)/.exec(line);
    if (inner) plan.push(inner[1]!);
    else {
      const top = /^([a-z-]+) /.exec(line);
      if (top && top[1] !== 'stage') program.push(top[1]!);
    }
  }
  return { program, plan };
}

describe('docs/architecture.md: the compile stages', () => {
  it('lists every program stage and every plan stage, in the order the compiler runs them', () => {
    const { program, plan } = drawn();
    expect(program).toEqual(COMPILE_STAGES.map((s) => s.name));
    expect(plan).toEqual(PLAN_COMPILE_STAGES.map((s) => s.name));
  });
});
