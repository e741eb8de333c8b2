/**
 * The compiler pipeline over a program: a list of named stages over one facts record
 * (`ProgramFacts`) — loading and binding, the program-wide declarations, each plan's check, then
 * each plan's own stages (`assemble`: placement, estimates, proofs, IR emission;
 * assemble/assemble.ts), then the rules that need every plan known. Pure apart from reading
 * sources through the host. Never throws on bad input: everything wrong becomes a diagnostic and
 * what can still be compiled is.
 */
import type { Diagnostic } from '../language/index.js';
import { assemblePlans } from './assemble/assemble.js';
import type { ContextIR, PlanIR } from './ir/types.js';
import { toJsonSchema } from './types/json-schema.js';
import type { Program } from './loaded-module.js';
import type { BoundModel } from './model.js';
import type { CompiledTest } from './tests/types.js';
import { ProgramFacts, type ProgramOptions } from './program-facts.js';
import {
  bindNames, checkBounds, checkCapabilities, checkGuardrailReads, checkGuardrails, checkPlans, checkSimulations, checkTopInvariants,
  checkTestBlocks, checkTriggerDecls, findUnused, fixCurrency, loadModules, lowerPolicies, lowerResources, selectPlans, typeContext,
} from './program-stages.js';
import { runStages, type Stage } from './stages.js';

export type { ProgramOptions } from './program-facts.js';

export interface ProgramResult {
  readonly diagnostics: Diagnostic[];
  readonly model: BoundModel;
  readonly plans: PlanIR[];
  /** With `tests`, outside check-only mode: the entry module's tests whose plan compiled and that have no errors. */
  readonly tests: CompiledTest[];
  /** Internal facts preview and graph need beyond the IR. */
  readonly program: Program;
  /** The program's context when it declares signals or sources (§9.4), whether or not a plan compiled. */
  readonly context: ContextIR | undefined;
}

/** The program's stages in `orch check`: everything that can report a diagnostic. */
export const CHECK_STAGES: readonly Stage<ProgramFacts>[] = [
  { name: 'load', run: loadModules },
  { name: 'bind', run: bindNames },
  { name: 'context', run: typeContext },
  { name: 'capabilities', run: checkCapabilities },
  { name: 'resources', run: lowerResources },
  { name: 'currency', run: fixCurrency },
  { name: 'bounds', run: checkBounds },
  { name: 'policies', run: lowerPolicies },
  { name: 'guardrails', run: checkGuardrails },
  { name: 'plans', run: checkPlans },
  { name: 'invariants', run: checkTopInvariants },
  { name: 'simulations', run: checkSimulations },
  { name: 'assemble', run: assemblePlans },
  { name: 'tests', run: checkTestBlocks },
  { name: 'guardrail-reads', run: checkGuardrailReads },
  { name: 'triggers', run: checkTriggerDecls },
  { name: 'unused', run: findUnused },
];

/** The program's stages in a compile: the check's, then the IR of the plans asked for. */
export const COMPILE_STAGES: readonly Stage<ProgramFacts>[] = [...CHECK_STAGES, { name: 'select', run: selectPlans }];

export function compileProgram(opts: ProgramOptions): ProgramResult {
  const f = new ProgramFacts(opts);
  if (runStages(f.checkOnly ? CHECK_STAGES : COMPILE_STAGES, f, opts.timer)) f.memo?.finish();
  const { model, program } = f;
  return {
    diagnostics: f.diags,
    model: {
      modules: program.modules.map((m) => ({ file: m.file, name: m.name, ast: m.ast, std: m.std })),
      symbols: model.symbols,
      references: model.references,
      uses: model.uses,
      types: model.types,
      ...(model.currency !== undefined ? { currency: model.currency } : {}),
    },
    plans: f.plans,
    tests: f.tests,
    program,
    context: contextOf(f),
  };
}

/** As each plan's IR carries it (assemble/emit-ir.ts), for `orch serve` to keep a context no plan declares. */
function contextOf(f: ProgramFacts): ContextIR | undefined {
  // Unset when loading failed before the `context` stage.
  if (f.contextRoot === undefined) return undefined;
  const signals = f.contextSignals;
  const sources = f.contextSources;
  if (Object.keys(signals).length === 0 && Object.keys(sources).length === 0) return undefined;
  return {
    context: toJsonSchema(f.contextRoot.ty, false),
    ...(Object.keys(signals).length > 0 ? { context_signals: signals } : {}),
    ...(Object.keys(sources).length > 0 ? { sources } : {}),
  };
}
