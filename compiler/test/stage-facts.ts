/**
 * A plan's facts record part-way through the compile, for the tests of single stages: the
 * program's stages up to `assemble`, then the plan's up to and including `through`.
 */
import { assembleContext, PLAN_COMPILE_STAGES } from '../assemble/assemble.js';
import { PlanFacts } from '../assemble/plan-facts.js';
import { ProgramFacts } from '../program-facts.js';
import { CHECK_STAGES } from '../program.js';
import { runStages } from '../stages.js';
import { DIR, memoryHost } from './helpers.js';

export interface StageFacts {
  readonly facts: PlanFacts;
  readonly program: ProgramFacts;
  /** False when a stage stopped the plan's (a dependency cycle). */
  readonly ran: boolean;
  /** The diagnostics the plan's stages reported (not the program's before them). */
  readonly reported: ProgramFacts['diags'];
}

export function planFactsThrough(main: string, plan: string, through: string, options: { checkOnly?: boolean } = {}): StageFacts {
  const entry = `${DIR}/main.orch`;
  const program = new ProgramFacts({ entry, host: memoryHost({ [entry]: main }), checkOnly: options.checkOnly ?? false });
  const assemble = CHECK_STAGES.findIndex((s) => s.name === 'assemble');
  runStages(CHECK_STAGES.slice(0, assemble), program);
  const e = [...program.checked.keys()].find((x) => x.node.name.name === plan);
  if (!e) throw new Error(`no plan ${plan}`);
  const last = PLAN_COMPILE_STAGES.findIndex((s) => s.name === through);
  if (last < 0) throw new Error(`no stage ${through}`);
  const before = program.diags.length;
  // Sub-plans are not assembled here (the tests of `subplans` compile whole programs).
  const facts = new PlanFacts(program.checked.get(e)!, assembleContext(program, () => undefined, () => undefined));
  const ran = runStages(PLAN_COMPILE_STAGES.slice(0, last + 1), facts);
  return { facts, program, ran, reported: program.diags.slice(before) };
}
