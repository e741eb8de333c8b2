/**
 * The program's stages before and after its plans are assembled (the list is in program.ts):
 * loading, binding names, the program-wide declarations, each plan's check, and the rules that
 * need every plan known. Each reads and adds facts of the one `ProgramFacts` record.
 */
import { diagnostic } from '../language/index.js';
import { checkAvailability } from './check/availability.js';
import { unknownConfigKeys } from './config-keys.js';
import { projectConfigFor } from './project-config.js';
import { boundsDiagnostics } from './check/bounds.js';
import { topLevelInvariants } from './check/invariants.js';
import { contextSignalsOf } from './check/context-signals.js';
import { sourcesOf } from './check/sources.js';
import { checkPlan } from './check/plan.js';
import type { CheckedPlan } from './check/checked-plan.js';
import { subplansFirst } from './check/plan-order.js';
import { simulationsOf } from './check/simulate.js';
import { contextOf, currencyOf, policyIR, resourcesOf } from './declarations.js';
import { checkGuardrail, outputReadErrors } from './guardrails.js';
import { loadProgram } from './load.js';
import { moneyText } from './money.js';
import type { LoadedModule } from './loaded-module.js';
import { symbolKey } from './plan-memo.js';
import { Capabilities, type ProgramFacts } from './program-facts.js';
import { Scopes, type DeclEntry } from './scope.js';
import { checkTests, testedPlanNames } from './tests/check-tests.js';
import { checkTriggers } from './triggers.js';
import { TypeResolver } from './types/resolve.js';
import { unusedDeclarations, unusedSteps } from './unused.js';

/** `load`: the entry module and what it imports; E0103 and no further stage when the entry cannot be read. */
export function loadModules(f: ProgramFacts): boolean {
  f.program = loadProgram(f.opts.entry, f.opts.host, f.diags);
  if (!f.program.entry) {
    const range = { start: { line: 1, column: 1, offset: 0 }, end: { line: 1, column: 1, offset: 0 } };
    f.diags.push(diagnostic('E0103', `cannot read ${f.opts.entry}`, f.opts.entry, range));
    return false;
  }
  f.entry = f.program.entry;
  unknownConfigKeys(projectConfigFor(f.entry.file), f.diags, f.entry.file);
  return true;
}

/** `bind`: every module's names, and its type aliases resolved (errors in unused ones are reported too). */
export function bindNames(f: ProgramFacts): void {
  const { program, model, diags } = f;
  const scopes = (f.scopes = new Scopes(program, model, diags));
  const types = (f.types = new TypeResolver(scopes, model, diags));
  for (const m of program.modules)
    for (const e of scopes.entries(m, 'type')) types.alias(e);
}

/** `context`: the type of `context`, from the program's `context { … }` blocks. */
export function typeContext(f: ProgramFacts): void {
  f.contextRoot = contextOf(f.program.modules, f.types, f.diags);
  f.contextSignals = contextSignalsOf(f.program.modules, f.contextRoot, f.model, f.diags);
  f.contextSources = sourcesOf(f.program.modules, f.contextRoot, f.contextSignals, f.model, f.diags);
}

/** `capabilities`: every capability of every module checked (refinements after their bases). */
export function checkCapabilities(f: ProgramFacts): void {
  const capabilities = (f.capabilities = new Capabilities(f));
  for (const m of f.program.modules) for (const e of f.scopes.entries(m, 'capability')) capabilities.info(e);
}

/** `resources`: what placement chooses from. */
export function lowerResources(f: ProgramFacts): void {
  f.resources = resourcesOf(f.scopes, f.program.modules, f.diags, (cond, file) => checkAvailability(cond, file, f.contextRoot, f.model, f.diags));
}

/** `currency`: the one currency of every cost and budget (E0203 for another). */
export function fixCurrency(f: ProgramFacts): void {
  const written = (f.model.currency = currencyOf(f.program.modules, f.diags, f.withTests));
  const currency = written ?? 'usd';
  f.money = (n) => moneyText(n, currency);
}

/** `bounds`: numbers out of their range in user modules (check/bounds.ts). */
export function checkBounds(f: ProgramFacts): void {
  for (const m of f.program.modules) if (!m.std) f.diags.push(...boundsDiagnostics(m.ast, m.file));
}

/** `policies`: each policy's IR. */
export function lowerPolicies(f: ProgramFacts): void {
  f.policies = new Map();
  for (const m of f.program.modules) for (const e of f.scopes.entries(m, 'policy')) f.policies.set(e, policyIR(e, f.scopes, f.diags));
}

/** `guardrails`: each guardrail's rules checked and lowered once (each plan gets its verdicts in its `proofs` stage). */
export function checkGuardrails(f: ProgramFacts): void {
  f.guardrails = new Map();
  const currency = f.model.currency;
  for (const m of f.program.modules) {
    // The std library's amounts (`spend_cap_1usd`) are written in usd whatever the program's
    // currency: like its `cost 0usd`, they are not judged against it (nor reported in its files).
    f.model.currency = m.std ? undefined : currency;
    for (const e of f.scopes.entries(m, 'guardrail')) f.guardrails.set(e, checkGuardrail(e, f.scopes, f.model, f.diags, f.contextRoot));
  }
  f.model.currency = currency;
}

/**
 * `plans`: every plan of every user module checked (sub-plans may live in imported files). An
 * editor's plan memo replays the plans that did not change; each plan's check is a memo window.
 */
export function checkPlans(f: ProgramFacts): void {
  const { program, scopes, model, diags, opts, useLog } = f;
  const modules = program.modules;
  const memo = (f.memo = opts.checkOnly && opts.memo ? opts.memo.begin(modules, trackedUses(modules, scopes)) : undefined);
  if (memo) model.useLog = useLog;
  // Guardrail proofs compare steps' `when` conditions by their IR: without a guardrail in the
  // program nothing reads it, and `check` skips building it (50,000 conditions are ~12 MB).
  const conditionsIR = !f.checkOnly || f.guardrails.size > 0;
  const checked = new Map<DeclEntry<'plan'>, CheckedPlan>();
  const errors = new Map<DeclEntry<'plan'>, number>();
  const planOutput = (e: DeclEntry<'plan'>) => checked.get(e)?.outputTy;
  const cx = { scopes, model, diags, contextRoot: f.contextRoot, capability: f.capabilities.info, planInput: f.planInput, planOutput, typesOnly: f.checkOnly, conditionsIR };
  const tested = f.withTests ? testedPlanNames(modules) : undefined;
  const plans = modules.filter((m) => !m.std).flatMap((m) => [...scopes.entries(m, 'plan')]);
  // Sub-plans first: a `run` step's output is then typed by the sub-plan's `output`.
  for (const e of subplansFirst(plans, scopes)) {
    const m = e.module;
    // A test reads its plan's checked steps: a tested plan is never replayed from the memo.
    if (!tested?.has(e.node.name.name) && memo?.reuse(m.file, e.node, diags, model.uses)) continue;
    memo?.start(diags, useLog);
    const before = diags.length;
    checked.set(e, checkPlan(e, cx));
    errors.set(e, f.errorsSince(before));
    memo?.end(m.file, e.node, diags, useLog);
  }
  // Later stages read the plans in declaration order.
  for (const e of plans) {
    const cp = checked.get(e);
    if (cp === undefined) continue;
    f.checked.set(e, cp);
    f.planErrors.set(e, errors.get(e)!);
  }
}

/** User capabilities, resources, policies and types (their uses decide W0601), by `symbolKey`. */
function trackedUses(modules: readonly LoadedModule[], scopes: Scopes): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of modules) {
    if (m.std) continue;
    for (const kind of ['capability', 'resource', 'policy', 'type'] as const)
      for (const e of scopes.entries(m, kind)) out.set(symbolKey(m.file, kind, e.qualifiedName), e.symbol.id);
  }
  return out;
}

/** `invariants`: top-level invariants, each applied to the plans that have every step it names. */
export function checkTopInvariants(f: ProgramFacts): void {
  f.topInvariants = topLevelInvariants(f.program.modules, f.checked, f.contextRoot, f.model, f.diags);
}

/** `simulations`: each `simulate` block against its capability. */
export function checkSimulations(f: ProgramFacts): void {
  f.simulations = simulationsOf(f.program.modules, f.scopes, f.model, f.diags, f.capabilities.info);
}

/**
 * `guardrail-reads`: `check` rules typed against the steps they check — every plan is known now
 * (and this runs on every compile, outside the plans' memo windows, so the editor never loses these).
 */
export function checkGuardrailReads(f: ProgramFacts): void {
  const outputReads = new Set<string>();
  for (const cp of f.checked.values()) {
    if (cp.guardrails.length === 0) continue;
    const steps = cp.steps.map((s) => ({ id: s.id, capability: s.capability?.name ?? null, output: s.outputTy }));
    for (const g of cp.guardrails) f.diags.push(...outputReadErrors(f.guardrails.get(g)!, steps, outputReads));
  }
}

/** `triggers`: each trigger against the plan it starts (E0701). */
export function checkTriggerDecls(f: ProgramFacts): void {
  checkTriggers(f.program.modules, f.scopes, f.model, f.diags, f.planInput, f.contextRoot, (e) => f.checked.get(e)?.outputTy);
}

/** `unused`: declarations nothing uses, resources no plan binds, steps nothing reads (W0601). */
export function findUnused(f: ProgramFacts): void {
  const { program, scopes, model, diags, memo, useLog } = f;
  const modules = program.modules;
  if (!modules.length) return;
  const bound = new Set<string>(memo?.boundResources());
  for (const c of f.compiled.values()) c.assembled?.boundResources.forEach((r) => bound.add(r));
  diags.push(...unusedDeclarations(modules, scopes, model, bound));
  for (const [e, cp] of f.checked) {
    memo?.start(diags, useLog);
    diags.push(...unusedSteps(cp));
    memo?.end(e.module.file, e.node, diags, useLog);
  }
}

/** `select` (compile only): the IR of the entry module's plans asked for that compiled without errors. */
/** `tests` (`orch check`, `orch test`): every test block, checked; the entry module's compiled for the runner. */
export function checkTestBlocks(f: ProgramFacts): void {
  if (!f.withTests) return;
  const byName = f.capabilities.byName();
  f.tests = checkTests({
    modules: f.program.modules,
    scopes: f.scopes,
    model: f.model,
    diags: f.diags,
    contextRoot: f.contextRoot,
    contextSignals: f.contextSignals,
    checked: f.checked,
    capability: f.capabilities.info,
    capabilityByName: (name) => byName.get(name),
    compileIn: f.checkOnly ? null : f.entry,
    irOf: (e) => {
      const c = f.compiled.get(e);
      return c?.ok ? c.ir : undefined;
    },
  });
}

export function selectPlans(f: ProgramFacts): void {
  const wanted = [...f.scopes.entries(f.entry, 'plan')].filter((e) => f.opts.plan === undefined || e.node.name.name === f.opts.plan);
  f.plans = wanted.map((e) => f.compiled.get(e)).filter((c) => !!c && c.ok && !!c.ir).map((c) => c!.ir!);
}
