/**
 * The compiler pipeline over a loaded program: binding, type checking, then per plan the DAG,
 * data-class propagation, placement, estimates, budgets, guardrails and IR assembly. Pure apart
 * from reading sources through the host. Never throws on bad input: everything wrong becomes a
 * diagnostic and what can still be compiled is.
 */
import { dirname, relative, resolve, sep } from 'node:path';
import type {
  CapabilityDecl, ContextDecl, DataClass, Expr, MoneyLit, PlanDecl, SimulateDecl, TriggerDecl,
} from '../language/index.js';
import { DATA_CLASSES, tierOf } from '../language/index.js';
import { diagnostic, type Diagnostic } from '../language/index.js';
import { boundsDiagnostics } from './check/bounds.js';
import { capabilityInfo, type CapabilityInfo } from './check/capability.js';
import { checkModelResource } from './check/llm.js';
import { durationMs, type RootInfo } from './check/expr.js';
import { ms } from './check/lower.js';
import { checkInvariant, checkPlan, RUN_TY, stepsById, type CheckedPlan, type CheckedStep } from './check/plan.js';
import { buildDag, type DagInput } from './dag.js';
import { timeline, type TimelineStep } from './block-estimates.js';
import { proveBinding } from './fallback-proof.js';
import { localRatio as localRatioOf } from './placement-metrics.js';
import { checkGuardrail, evaluateGuardrail, forbiddenBy, outputReadErrors, type CheckedGuardrail, type StepFacts } from './guardrails.js';
import type { BindingIR, BlockIR, CapabilityIR, PlanIR, PolicyIR, ResourceIR, SimulateIR, StepIR } from './ir/types.js';
import { IR_VERSION } from './ir/types.js';
import { loadProgram, type LoadedModule, type Program, type SourceHost } from './load.js';
import { ModelBuilder, type BoundModel } from './model.js';
import { defaultPolicy, place, type PlacementResource } from './placement.js';
import { Scopes, type DeclEntry } from './scope.js';
import { TypeResolver } from './types/resolve.js';
import { toJsonSchema } from './types/json-schema.js';
import { T, maxClass, record, type FieldTy, type Ty } from './types/ty.js';
import { checkSimulate } from './check/simulate.js';
import { checkTriggers } from './triggers.js';
import { unusedDeclarations, unusedSteps } from './unused.js';
import { symbolKey, type PlanMemo } from './plan-memo.js';
import { round6 } from './money.js';
import { checkTests, testedPlanNames } from './tests/check-tests.js';
import type { CompiledTest } from './tests/types.js';

export interface ProgramOptions {
  readonly entry: string;
  readonly host: SourceHost;
  /** Compile only this plan of the entry module (others are still checked). */
  readonly plan?: string;
  /** Record expression types for hover (the LSP wants them; batch `check` does not). */
  readonly recordTypes?: boolean;
  /**
   * Record every reference in `model.references` (navigation wants them; batch `check` only
   * needs the per-symbol counts in `model.uses`). Default true.
   */
  readonly recordReferences?: boolean;
  /** Skip IR assembly (diagnostics only). */
  readonly checkOnly?: boolean;
  /** Editors re-checking after an edit: plans that did not change are reused (check-only). */
  readonly memo?: PlanMemo;
  /**
   * Check `test` blocks (LANGUAGE.md §9.2) and compile the entry module's for the runner. A
   * check-only compile always checks them; a compile for `orch compile`, `run` or `serve` leaves
   * them alone.
   */
  readonly tests?: boolean;
}

export interface ProgramResult {
  readonly diagnostics: Diagnostic[];
  readonly model: BoundModel;
  readonly plans: PlanIR[];
  /** The entry module's tests, compiled (only with `tests`, outside check-only mode). */
  readonly tests: CompiledTest[];
  /** Internal facts preview and graph need beyond the IR. */
  readonly program: Program;
}

export interface CompiledPlan {
  readonly checked: CheckedPlan;
  /** Undefined when the plan could not be assembled (a cycle) and in check-only mode. */
  readonly ir: PlanIR | undefined;
  /** Undefined when the plan could not be assembled (a dependency cycle). */
  readonly assembled: AssembledFacts | undefined;
  readonly ok: boolean;
}

/** `boundResources` of a plan that binds none. */
const NO_RESOURCES: ReadonlySet<string> = new Set();

/** What the later phases need of an assembled plan, in check-only mode too. */
export interface AssembledFacts {
  readonly estimates: { readonly cost: number; readonly duration_ms: number };
  /** Resources placement chose for some step, as its binding or a fallback. */
  readonly boundResources: ReadonlySet<string>;
}

export function compileProgram(opts: ProgramOptions): ProgramResult {
  const diags: Diagnostic[] = [];
  const model = new ModelBuilder();
  model.recordTypes = opts.recordTypes ?? true;
  model.recordReferences = opts.recordReferences ?? true;
  const program = loadProgram(opts.entry, opts.host, diags);
  const modules = program.modules;
  const result = (plans: PlanIR[], tests: CompiledTest[] = []): ProgramResult => ({
    diagnostics: diags,
    model: {
      modules: modules.map((m) => ({ file: m.file, name: m.name, ast: m.ast, std: m.std })),
      symbols: model.symbols,
      references: model.references,
      uses: model.uses,
      types: model.types,
    },
    plans,
    tests,
    program,
  });
  if (!program.entry) {
    const range = { start: { line: 1, column: 1, offset: 0 }, end: { line: 1, column: 1, offset: 0 } };
    diags.push(diagnostic('E0103', `cannot read ${opts.entry}`, opts.entry, range));
    return result([]);
  }
  const entryModule = program.entry;
  const scopes = new Scopes(program, model, diags);
  const types = new TypeResolver(scopes, model, diags);

  // type aliases (reports errors in unused ones too)
  for (const m of modules) for (const e of scopes.entries(m, 'type')) types.resolve(m, { kind: 'NamedType', range: e.node.name.range, name: { kind: 'QualifiedName', range: e.node.name.range, parts: [e.node.name] } });

  const contextRoot = contextOf(modules, types, diags);

  const capInfos = new Map<DeclEntry<'capability'>, CapabilityInfo>();
  const capability = (e: DeclEntry<'capability'>): CapabilityInfo => {
    let info = capInfos.get(e);
    if (!info) {
      info = capabilityInfo(e, types, model, diags, (c) => refinedBase(e, c));
      capInfos.set(e, info);
    }
    return info;
  };
  // `capability x from alias.tool { … }`: the base is checked first; a refinement of itself is E0101.
  const refining = new Set<DeclEntry<'capability'>>();
  const refinedBase = (e: DeclEntry<'capability'>, c: CapabilityDecl): CapabilityInfo | 'unresolved' | undefined => {
    const target = c.from ? scopes.resolve(e.module, c.from, 'capability') : undefined;
    if (!target) return 'unresolved';
    if (target === e || refining.has(target)) return undefined;
    refining.add(e);
    try {
      return capability(target);
    } finally {
      refining.delete(e);
    }
  };
  for (const m of modules) for (const e of scopes.entries(m, 'capability')) capability(e);

  const planInputs = new Map<DeclEntry<'plan'>, Ty>();
  const planInput = (e: DeclEntry<'plan'>): Ty => {
    let t = planInputs.get(e);
    if (!t) {
      t = e.node.input ? types.record(e.module, e.node.input, 'input_field', e.qualifiedName) : record([]);
      planInputs.set(e, t);
    }
    return t;
  };

  const resources = resourcesOf(scopes, modules, diags);
  const currency = currencyOf(modules, diags);
  for (const m of modules) if (!m.std) diags.push(...boundsDiagnostics(m.ast, m.file));
  const money = (n: number): string => `${Math.round(n * 1e6) / 1e6}${currency}`;

  const policies = new Map<DeclEntry<'policy'>, PolicyIR>();
  for (const m of modules) for (const e of scopes.entries(m, 'policy')) policies.set(e, policyIR(e, scopes, diags));

  const guardrails = new Map<DeclEntry<'guardrail'>, CheckedGuardrail>();
  for (const m of modules) for (const e of scopes.entries(m, 'guardrail')) guardrails.set(e, checkGuardrail(e, scopes, model, diags, contextRoot));

  // plans of every user module (sub-plans may live in imported files)
  const memo = opts.checkOnly && opts.memo ? opts.memo.begin(modules, trackedUses(modules, scopes)) : undefined;
  const useLog: number[] = [];
  if (memo) model.useLog = useLog;
  const checked = new Map<DeclEntry<'plan'>, CheckedPlan>();
  const planErrors = new Map<DeclEntry<'plan'>, number>();
  const withTests = opts.tests === true || opts.checkOnly === true;
  // A test reads its plan's checked steps: a tested plan is never replayed from the memo.
  const tested = withTests ? testedPlanNames(modules) : undefined;
  for (const m of modules) {
    if (m.std) continue;
    for (const e of scopes.entries(m, 'plan')) {
      if (!tested?.has(e.node.name.name) && memo?.reuse(m.file, e.node, diags, model.uses)) continue;
      memo?.start(diags, useLog);
      const before = diags.length;
      checked.set(e, checkPlan(e, { scopes, model, diags, contextRoot, capability, planInput, typesOnly: opts.checkOnly ?? false }));
      planErrors.set(e, errorsSince(diags, before));
      memo?.end(m.file, e.node, diags, useLog);
    }
  }

  const topInvariants = topLevelInvariants(modules, checked, contextRoot, model, diags);
  const simulations = simulationsOf(modules, scopes, model, diags, capability);

  // Every capability was checked above; fallback and compensate calls look them up by IR name.
  const capabilityByName = new Map<string, CapabilityInfo>();
  for (const c of capInfos.values()) if (!capabilityByName.has(c.name)) capabilityByName.set(c.name, c);

  const resourceByName = new Map(resources.map((r) => [r.name, r]));
  const placements = new Map<PolicyIR | null, Map<string, ReturnType<typeof place>>>();
  const compiled = new Map<DeclEntry<'plan'>, CompiledPlan>();
  const inProgress: DeclEntry<'plan'>[] = [];
  const compilePlan = (e: DeclEntry<'plan'>): CompiledPlan | undefined => {
    const done = compiled.get(e);
    if (done) return done;
    const cp = checked.get(e);
    if (!cp) return undefined;
    if (inProgress.includes(e)) return undefined;
    inProgress.push(e);
    const before = diags.length;
    const assembled = assemblePlan(cp, {
      checkOnly: opts.checkOnly ?? false, diags, resources, policies, guardrails, money, topInvariants, simulations, contextTy: contextRoot.ty,
      capabilityByName: (name) => capabilityByName.get(name),
      resourceByName, placements,
      subplan: (target, range) => {
        if (inProgress.includes(target)) {
          const cycle = [...inProgress.slice(inProgress.indexOf(target)), target].map((p) => p.node.name.name);
          diags.push(diagnostic('E0301', `sub-plan cycle: ${cycle.join(' → ')}`, cp.module.file, range));
          return undefined;
        }
        return compilePlan(target);
      },
    });
    inProgress.pop();
    // The IR embeds the plan's guardrails and sub-plans: an error in one of them is an error of the plan.
    const ok =
      assembled !== undefined && errorsSince(diags, before) === 0 && (planErrors.get(e) ?? 0) === 0 &&
      cp.guardrails.every((g) => guardrails.get(g)!.ok) && cp.steps.every((s) => !s.runPlan || compiled.get(s.runPlan)?.ok === true);
    const c: CompiledPlan = { checked: cp, ir: assembled?.ir, assembled: assembled?.facts, ok };
    compiled.set(e, c);
    return c;
  };
  for (const e of checked.keys()) {
    memo?.start(diags, useLog);
    const c = compilePlan(e);
    memo?.end(e.module.file, e.node, diags, useLog, c?.assembled?.boundResources);
  }

  const tests = withTests
    ? checkTests({
        modules, scopes, model, diags, contextRoot, checked, capability,
        capabilityByName: (name) => capabilityByName.get(name),
        compileIn: opts.checkOnly ? null : entryModule,
        irOf: (e) => {
          const c = compiled.get(e);
          return c?.ok ? c.ir : undefined;
        },
      })
    : [];

  // `check` rules typed against the steps they check: every plan is known now (and this runs on
  // every compile, outside the plans' memo windows, so the editor never loses these).
  const outputReads = new Set<string>();
  for (const cp of checked.values()) {
    if (cp.guardrails.length === 0) continue;
    const steps = cp.steps.map((s) => ({ id: s.id, capability: s.capability?.name ?? null, output: s.outputTy }));
    for (const g of cp.guardrails) diags.push(...outputReadErrors(guardrails.get(g)!, steps, outputReads));
  }

  checkTriggers(modules, scopes, model, diags, planInput, contextRoot);
  if (modules.length) {
    const bound = new Set<string>(memo?.boundResources());
    for (const c of compiled.values()) c.assembled?.boundResources.forEach((r) => bound.add(r));
    diags.push(...unusedDeclarations(modules, scopes, model, bound));
    for (const [e, cp] of checked) {
      memo?.start(diags, useLog);
      diags.push(...unusedSteps(cp));
      memo?.end(e.module.file, e.node, diags, useLog);
    }
  }
  memo?.finish();

  if (opts.checkOnly) return result([]);
  const wanted = [...scopes.entries(entryModule, 'plan')].filter((e) => opts.plan === undefined || e.node.name.name === opts.plan);
  const plans = wanted.map((e) => compiled.get(e)).filter((c): c is CompiledPlan => !!c && c.ok && !!c.ir).map((c) => c.ir!);
  return result(plans, tests);
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

/**
 * Errors among the diagnostics reported from index `from` on (`diags` only grows during a
 * compile). Counting every diagnostic before and after each plan was quadratic in a file of many
 * plans with a warning each.
 */
function errorsSince(diags: readonly Diagnostic[], from: number): number {
  let n = 0;
  for (let i = from; i < diags.length; i++) if (diags[i]!.severity === 'error') n++;
  return n;
}

/**
 * The context's type: the fields every `context { … }` block of the program declares. A program
 * that declares none reads its live signals untyped (an open record), as the spec's own examples
 * do (`wait until context.customer_replied`); one block makes every read checked against it.
 */
function contextOf(modules: readonly LoadedModule[], types: TypeResolver, diags: Diagnostic[]): RootInfo {
  const fields = new Map<string, FieldTy>();
  let declared = false;
  for (const m of modules) {
    for (const d of m.ast.declarations) {
      if (d.kind !== 'ContextDecl') continue;
      declared = true;
      const t = types.record(m, { kind: 'RecordType', range: (d as ContextDecl).range, fields: (d as ContextDecl).fields }, 'context_field', 'context');
      if (t.k !== 'record') continue;
      for (const [name, f] of t.fields) {
        if (fields.has(name)) {
          diags.push(diagnostic('E0102', `context field "${name}" is declared twice`, m.file, f.decl?.range ?? d.range));
          continue;
        }
        fields.set(name, f);
      }
    }
  }
  return { ty: declared ? { k: 'record', fields } : { k: 'record', fields, open: true }, ir: { op: 'var', name: 'context' } };
}

function plainText(s: { readonly parts: readonly unknown[] }): string {
  return s.parts.filter((p): p is string => typeof p === 'string').join('');
}

function resourcesOf(scopes: Scopes, modules: readonly LoadedModule[], diags: Diagnostic[]): PlacementResource[] {
  const out: PlacementResource[] = [];
  const names = new Set<string>();
  for (const m of modules) {
    for (const e of scopes.entries(m, 'resource')) {
      const r = e.node;
      const name = names.has(r.name.name) ? e.qualifiedName : r.name.name;
      names.add(name);
      const kind = r.resourceKind ?? 'cloud_region';
      out.push({
        name,
        kind,
        tier: tierOf(kind),
        provides: (r.provides ?? []).map((p) => p.name),
        concurrency: r.concurrency ? Math.max(1, Math.floor(r.concurrency.value)) : null,
        cost: r.cost?.amount ?? 0,
        latency_ms: ms(r.latency) ?? 0,
        reliability: r.reliability ? Math.min(1, Math.max(0, r.reliability.value / 100)) : null,
        location: r.location ? r.location.parts.filter((p) => typeof p === 'string').join('') : null,
        energy: r.energy?.value ?? 0,
        ...(r.endpoint ? { endpoint: plainText(r.endpoint) } : {}),
        ...(r.model ? { model: plainText(r.model) } : {}),
      });
      if (!m.std) checkModelResource(r, m.file, diags);
    }
  }
  return out;
}

/**
 * The program's currency: the first one written on a cost or budget of a user module. Estimates
 * are sums, so every other cost and budget must use it (E0203); zero amounts (`0usd`) are
 * currency-neutral, which is what lets the std library say `cost 0usd`.
 */
function currencyOf(modules: readonly LoadedModule[], diags: Diagnostic[]): string {
  let currency: string | undefined;
  for (const m of modules) {
    if (m.std) continue;
    const moneys: MoneyLit[] = [];
    for (const d of m.ast.declarations) {
      if ((d.kind === 'CapabilityDecl' || d.kind === 'ResourceDecl') && d.cost) moneys.push(d.cost);
      if (d.kind === 'PolicyDecl') for (const b of d.budgets) if (b.limit.kind === 'MoneyLit') moneys.push(b.limit);
    }
    for (const lit of moneys) {
      if (lit.amount === 0) continue;
      if (currency === undefined) currency = lit.currency;
      else if (lit.currency !== currency)
        diags.push(diagnostic('E0203', `costs and budgets must use one currency: this is ${lit.currency}, others are ${currency}`, m.file, lit.range));
    }
  }
  return currency ?? 'usd';
}

function policyIR(e: DeclEntry<'policy'>, scopes: Scopes, diags: Diagnostic[]): PolicyIR {
  const p = e.node;
  const budgets: { cost: number | null; duration_ms: number | null; cost_warn?: boolean; duration_warn?: boolean } = { cost: null, duration_ms: null };
  let currency: string | undefined;
  // The IR keeps one budget per metric: of several, the tightest blocking one (a blocking budget
  // stops the run, so a warn-only one must not replace it), else the tightest warn one.
  const keep = (limit: number, warn: boolean, had: number | null, hadWarn: boolean | undefined): boolean =>
    had === null || (hadWarn === true && !warn) || ((hadWarn === true) === warn && limit < had);
  for (const b of p.budgets) {
    const warn = b.warn === true;
    if (b.metric === 'cost') {
      if (b.limit.kind !== 'MoneyLit') diags.push(diagnostic('E0203', 'a cost budget needs money, e.g. budget cost <= 0.50usd', e.module.file, b.limit.range));
      else if (keep(b.limit.amount, warn, budgets.cost, budgets.cost_warn)) {
        budgets.cost = b.limit.amount;
        currency = b.limit.currency;
        if (warn) budgets.cost_warn = true;
        else delete budgets.cost_warn;
      }
    } else {
      if (b.limit.kind !== 'DurationLit') diags.push(diagnostic('E0203', 'a duration budget needs a duration, e.g. budget duration <= 10m', e.module.file, b.limit.range));
      else if (keep(durationMs(b.limit.value, b.limit.unit), warn, budgets.duration_ms, budgets.duration_warn)) {
        budgets.duration_ms = durationMs(b.limit.value, b.limit.unit);
        if (warn) budgets.duration_warn = true;
        else delete budgets.duration_warn;
      }
    }
  }
  const weights: Record<string, number> = {};
  for (const w of p.weights ?? []) weights[w.key.name] = w.value.value;
  const rate_limits = p.rateLimits.flatMap((r) => {
    const c = scopes.resolve(e.module, r.capability, 'capability');
    return c ? [{ capability: c.qualifiedName, count: Math.max(0, Math.floor(r.count)), per_ms: durationMs(r.per.value, r.per.unit) }] : [];
  });
  return {
    name: p.name.name,
    strategy: p.strategy ?? 'privacy_first',
    weights,
    budgets,
    prefer: p.prefer ?? null,
    max_fallbacks: p.maxFallbacks ? Math.max(0, Math.floor(p.maxFallbacks.value)) : 3,
    require_consent: p.requireConsent ?? false,
    rate_limits,
    // The unit run-time budget messages print amounts in (`budget cost <= 0.5usd`).
    ...(currency ? { currency } : {}),
  };
}

type Invariant = CheckedPlan['invariants'][number];

/** Top-level invariants apply to every plan that has all the steps they name. */
function topLevelInvariants(
  modules: readonly LoadedModule[],
  checked: ReadonlyMap<DeclEntry<'plan'>, CheckedPlan>,
  contextRoot: RootInfo,
  model: ModelBuilder,
  diags: Diagnostic[],
): Map<CheckedPlan, Invariant[]> {
  const out = new Map<CheckedPlan, Invariant[]>();
  for (const m of modules) {
    if (m.std) continue;
    const plans = [...checked.values()].filter((p) => p.module === m);
    for (const d of m.ast.declarations) {
      if (d.kind !== 'InvariantDecl') continue;
      let applied = false;
      for (const p of plans) {
        const scratch: Diagnostic[] = [];
        const env = {
          file: m.file, model: new ModelBuilder(), diags: scratch,
          roots: new Map<string, RootInfo>([['input', { ty: p.inputTy, ir: { op: 'var', name: 'input' } }], ['context', contextRoot], ['run', { ty: RUN_TY, ir: { op: 'var', name: 'run' } }]]),
          steps: new Map(p.steps.map((s) => [s.id, { id: s.id, symbol: s.symbol.id, outputTy: s.outputTy, group: s.forEach?.group, eachPath: s.eachPath }])),
          // A race or loop is named like a step (§7.1): an invariant naming one applies where it is.
          blocks: p.blockRefs,
        };
        env.model.recordTypes = false;
        const inv = checkInvariant(d, env, scratch, m.file);
        if (scratch.some((x) => x.code === 'E0101')) continue;
        // applies: check again against the real model so references are recorded
        checkInvariant(d, { ...env, model, diags }, diags, m.file);
        applied = true;
        const list = out.get(p) ?? [];
        list.push(inv);
        out.set(p, list);
      }
      if (!applied) {
        // Report what does not resolve against the first plan (or no steps at all).
        const p = plans[0];
        checkInvariant(d, {
          file: m.file, model, diags,
          roots: new Map<string, RootInfo>([['input', { ty: T.any, ir: { op: 'var', name: 'input' } }], ['context', contextRoot], ['run', { ty: RUN_TY, ir: { op: 'var', name: 'run' } }]]),
          steps: new Map((p?.steps ?? []).map((s) => [s.id, { id: s.id, symbol: s.symbol.id, outputTy: s.outputTy, group: s.forEach?.group, eachPath: s.eachPath }])),
          blocks: p?.blockRefs,
        }, diags, m.file);
      }
    }
  }
  return out;
}

function simulationsOf(
  modules: readonly LoadedModule[],
  scopes: Scopes,
  model: ModelBuilder,
  diags: Diagnostic[],
  capability: (e: DeclEntry<'capability'>) => CapabilityInfo,
): Map<string, SimulateIR> {
  const out = new Map<string, SimulateIR>();
  for (const m of modules) {
    for (const d of m.ast.declarations) {
      if (d.kind !== 'SimulateDecl') continue;
      const s = d as SimulateDecl;
      const ce = scopes.resolve(m, s.capability, 'capability');
      if (!ce) continue;
      const info = capability(ce);
      out.set(info.name, checkSimulate(s, info, { file: m.file, model, diags, roots: new Map<string, RootInfo>(), allowRange: true }));
    }
  }
  return out;
}

interface AssembleContext {
  /** Diagnostics only: stop before building the IR (no phase after assembly reads it then). */
  readonly checkOnly: boolean;
  readonly diags: Diagnostic[];
  readonly resources: readonly PlacementResource[];
  readonly policies: ReadonlyMap<DeclEntry<'policy'>, PolicyIR>;
  readonly guardrails: ReadonlyMap<DeclEntry<'guardrail'>, CheckedGuardrail>;
  readonly money: (n: number) => string;
  readonly topInvariants: ReadonlyMap<CheckedPlan, Invariant[]>;
  readonly simulations: ReadonlyMap<string, SimulateIR>;
  readonly capabilityByName: (name: string) => CapabilityInfo | undefined;
  /** `resources` by name. */
  readonly resourceByName: ReadonlyMap<string, PlacementResource>;
  /**
   * Placements by policy (null: the default one), then by the needs of what is placed: shared by
   * every plan of the compile, so a file of many small plans places each kind of need once, not
   * once per plan (each placement ranks every resource).
   */
  readonly placements: Map<PolicyIR | null, Map<string, ReturnType<typeof place>>>;
  readonly contextTy: Ty;
  readonly subplan: (e: DeclEntry<'plan'>, range: import('../language/index.js').Range) => CompiledPlan | undefined;
}

const RANK = (c: DataClass): number => DATA_CLASSES.indexOf(c);

/**
 * Empty maps shared by the plans that have no sub-plan steps and no fallback or compensate
 * calls (no code path writes to them then): a file of many small plans is mostly such plans.
 */
const NO_SUB_ESTIMATES = new Map<string, { cost: number; duration_ms: number }>();
const NO_CALL_BINDINGS = new Map<string, { fallback?: BindingIR; compensate?: BindingIR }>();

/** The policy of a plan that names none (read-only: shared by every plan). */
const DEFAULT_POLICY = defaultPolicy();

/** Undefined when the plan has a dependency cycle (reported); `ir` is undefined in check-only mode. */
function assemblePlan(cp: CheckedPlan, cx: AssembleContext): { ir: PlanIR | undefined; facts: AssembledFacts } | undefined {
  const { diags } = cx;
  const file = cp.module.file;
  const plan: PlanDecl = cp.entry.node;

  // sub-plans first: their estimates feed the `run` steps
  const subplans: Record<string, PlanIR> = {};
  const subEstimates = cp.steps.some((s) => s.runPlan) ? new Map<string, { cost: number; duration_ms: number }>() : NO_SUB_ESTIMATES;
  for (let i = 0; i < cp.steps.length; i++) {
    const s = cp.steps[i]!;
    if (!s.runPlan || s.decl.action.kind !== 'RunAction') continue;
    const sub = cx.subplan(s.runPlan, s.decl.action.plan.range);
    if (sub?.assembled) {
      if (sub.ir) subplans[sub.ir.plan] = sub.ir;
      subEstimates.set(s.id, { cost: sub.assembled.estimates.cost, duration_ms: sub.assembled.estimates.duration_ms });
    }
  }

  const policy = cp.policy ? cx.policies.get(cp.policy) ?? null : null;
  const effective = policy ?? DEFAULT_POLICY;

  // Per-step facts live in arrays indexed like `cp.steps`: the 10k-step `check` spends its time
  // here, and one array per fact allocates far less than a map or an object per step.
  const steps = cp.steps;
  const n = steps.length;

  // placement (steps with the same needs get the same binding: computed once per need)
  const bindings = new Array<StepIR['binding'] | undefined>(n);
  let placements = cx.placements.get(policy);
  if (!placements) cx.placements.set(policy, (placements = new Map()));
  // A call step that is not pinned needs exactly what its capability needs: skip building the key.
  // (a one-step plan has nothing to share it with)
  const byCapability = n > 1 ? new Map<CapabilityInfo, ReturnType<typeof place>>() : undefined;
  for (let i = 0; i < n; i++) {
    const s = steps[i]!;
    const plain = s.capability !== undefined && !s.pinned;
    let r = plain ? byCapability?.get(s.capability!) : undefined;
    if (!r) {
      const builtin = s.action.type === 'call' ? null : s.action.type;
      const requires = s.capability?.ir.requires ?? [];
      const pinned = s.pinned ? (cx.resources.find((x) => x.name === s.pinned!.node.name.name) ?? cx.resources.find((x) => x.name === s.pinned!.qualifiedName))?.name ?? s.pinned.node.name.name : undefined;
      const key = `${builtin}|${s.kind}|${requires.join(',')}|${pinned ?? ''}`;
      r = placements.get(key);
      if (!r) {
        r = place({ id: s.id, kind: s.kind, builtin, requires, pinned }, cx.resources, effective, cx.money);
        placements.set(key, r);
      }
      if (plain) byCapability?.set(s.capability!, r);
    }
    if (!r.ok) {
      if (s.action.type === 'call' && !s.capability) continue; // unresolved capability: already reported
      diags.push(diagnostic('E0501', `no resource can host step "${s.id}": ${r.reason}`, file, s.decl.name.range));
      continue;
    }
    bindings[i] = r.binding;
  }
  // A step's `fallback` and `compensate` calls are placed like steps, by their own capability's
  // `requires` (the step's `on` pins only its primary call): running them on the step's resource
  // could land them on one that lacks what they need.
  // (only steps with a fallback or compensate call write to it)
  const callBindings = steps.some((s) => s.fallback || s.compensate) ? new Map<string, { fallback?: BindingIR; compensate?: BindingIR }>() : NO_CALL_BINDINGS;
  for (const s of steps) {
    if (!s.fallback && !s.compensate) continue;
    for (const which of ['fallback', 'compensate'] as const) {
      const c = s[which];
      const info = c ? cx.capabilityByName(c.capability) : undefined;
      if (!c || !info) continue; // unresolved capability: already reported
      const requires = info.ir.requires;
      const key = `null|${info.ir.kind}|${requires.join(',')}|`;
      let r = placements.get(key);
      if (!r) {
        r = place({ id: s.id, kind: info.ir.kind, builtin: null, requires, pinned: undefined }, cx.resources, effective, cx.money);
        placements.set(key, r);
      }
      if (!r.ok) {
        diags.push(diagnostic('E0501', `no resource can host the ${which} call ${c.capability} of step "${s.id}": ${r.reason}`, file, s.decl[which]?.capability.range ?? s.decl.name.range));
        continue;
      }
      callBindings.set(s.id, { ...callBindings.get(s.id), [which]: r.binding });
    }
  }

  // estimates per step
  const resourceByName = cx.resourceByName;
  const costs = new Array<number>(n);
  const durations = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const s = steps[i]!;
    const res = bindings[i]?.resource;
    const r = res ? resourceByName.get(res) : undefined;
    let cost = 0;
    let duration = 0;
    if (s.action.type === 'call') {
      cost = (s.capability?.ir.cost ?? 0) + (r?.cost ?? 0);
      duration = (s.capability?.ir.latency_ms ?? 0) + (r?.latency_ms ?? 0);
    } else if (s.action.type === 'wait') duration = s.waitMs ?? 0;
    else if (s.action.type === 'run') {
      const sub = subEstimates.get(s.id);
      cost = sub?.cost ?? 0;
      duration = sub?.duration_ms ?? 0;
    }
    if (s.forEach && s.itemCount !== null) {
      const count = s.itemCount;
      const waves = s.forEach.parallel ? Math.ceil(count / s.forEach.parallel) : count > 0 ? 1 : 0;
      cost *= count;
      duration *= waves;
    }
    costs[i] = cost;
    durations[i] = duration;
  }

  // DAG
  const depsOf = new Array<readonly string[]>(n);
  const dagInput = new Array<DagInput>(n);
  for (let i = 0; i < n; i++) {
    const s = steps[i]!;
    const deps = s.after.length === 0 && s.refs.length <= 1 ? s.refs : [...new Set([...s.refs, ...s.after])].sort();
    depsOf[i] = deps;
    dagInput[i] = { id: s.id, deps, duration: durations[i]! };
  }
  const dag = buildDag(dagInput);
  if (dag.cycles.length) {
    const byId = stepsById(cp);
    for (const cycle of dag.cycles) {
      const first = byId.get(cycle[0]!)!;
      diags.push(
        diagnostic('E0301', `dependency cycle: ${[...cycle, cycle[0]].join(' → ')}`, file, first.decl.name.range, {
          related: cycle.slice(1).map((id) => ({ message: `step ${id} is part of the cycle`, file, range: byId.get(id)!.decl.name.range })),
        }),
      );
    }
    return undefined;
  }

  // data classes flow along the DAG: a step handles what it reads. Only guardrails and the IR
  // read them: a plain `check` of a plan without guardrails skips this.
  if (!cx.checkOnly || cp.guardrails.length) {
    const byId = stepsById(cp);
    for (const id of dag.order) {
      const s = byId.get(id)!;
      let d: DataClass = maxClass(s.ownData, s.capability?.ir.data ?? 'public');
      for (let k = 0; k < s.outputReads.length; k++) {
        const src = byId.get(s.outputReads[k]!);
        if (src && src !== s) d = maxClass(d, src.data);
      }
      s.data = d;
    }
  }

  let cost = 0;
  for (let i = 0; i < n; i++) cost += costs[i]!;
  // `bindings` has holes where placement failed: index it rather than map over it.
  // (read by guardrails and the IR only: a plain `check` of a plan without guardrails skips it)
  const localRatio = !cx.checkOnly || cp.guardrails.length ? localRatioOf(Array.from({ length: n }, (_, i) => ({ tier: bindings[i]?.tier ?? null, data: steps[i]!.data }))) : 0;

  // Races end with their first branch, loops repeat and rate limits space calls: with any of
  // them, the estimates come from the block-aware timeline, best case (loops once) and worst
  // (loops `max` times).
  let duration = dag.duration;
  // (read from the DAG only when the IR is built: check-only never needs it)
  let criticalPath: readonly string[] | undefined;
  let costMax = cost;
  let durationMax = dag.duration;
  const flowBlocks = cp.blocks.filter((b) => b.kind !== 'for_each');
  // A rate limit makes calls of its capability wait for their slot: the timeline spaces them.
  const rateOf = (i: number): TimelineStep['rate'] => {
    const s = steps[i]!;
    const name = s.action.type === 'call' ? s.capability?.name : undefined;
    if (!name || !policy) return undefined;
    const rl = policy.rate_limits.find((r) => r.capability === name || name.endsWith(`.${r.capability}`) || r.capability.endsWith(`.${name}`));
    return rl ? { key: rl.capability, count: rl.count, per_ms: rl.per_ms } : undefined;
  };
  const rates = policy?.rate_limits.length ? Array.from({ length: n }, (_, i) => rateOf(i)) : [];
  if (flowBlocks.length || rates.some((r) => r !== undefined)) {
    const tsteps = new Map(steps.map((s, i) => [s.id, { id: s.id, deps: depsOf[i]!, duration: durations[i]!, cost: costs[i]!, ...(rates[i] ? { rate: rates[i] } : {}) }]));
    const byId = stepsById(cp);
    const tblocks = flowBlocks.map((b) => ({ kind: b.kind, id: b.id, steps: b.kind === 'race' ? b.steps.filter((x) => byId.get(x)?.blocks.at(-1) === b.id) : b.steps, max: b.max }));
    const best = timeline(dag.order, tsteps, tblocks, false);
    const worst = timeline(dag.order, tsteps, tblocks, true);
    duration = best.duration;
    criticalPath = best.criticalPath;
    costMax = worst.cost;
    durationMax = worst.duration;
  }
  const maxIterations = flowBlocks.some((b) => b.kind === 'repeat');

  // budgets
  if (policy && cp.policy) {
    const where = plan.policy?.range ?? plan.name.range;
    if (policy.budgets.cost !== null && cost > policy.budgets.cost + 1e-12)
      diags.push(diagnostic('W0502', `estimated cost ${cx.money(cost)} of plan "${plan.name.name}" exceeds the budget ${cx.money(policy.budgets.cost)} of policy ${policy.name}`, file, where));
    else if (maxIterations && policy.budgets.cost !== null && costMax > policy.budgets.cost + 1e-12)
      diags.push(diagnostic('W0502', `estimated cost ${cx.money(costMax)} of plan "${plan.name.name}" when every loop runs its max iterations exceeds the budget ${cx.money(policy.budgets.cost)} of policy ${policy.name}`, file, where));
    // Say so when it is the rate limits' waiting that takes the plan over: the steps alone fit.
    const limited = [...new Set(rates.filter((r) => r !== undefined).map((r) => r.key.split('.').pop()!))];
    const byRate = limited.length && duration > dag.duration ? ` (rate limit${limited.length > 1 ? 's' : ''} on ${limited.join(', ')} included)` : '';
    if (policy.budgets.duration_ms !== null && duration > policy.budgets.duration_ms)
      diags.push(diagnostic('W0502', `estimated duration ${fmtMs(duration)}${byRate} of plan "${plan.name.name}" exceeds the budget ${fmtMs(policy.budgets.duration_ms)} of policy ${policy.name}`, file, where));
    else if (maxIterations && policy.budgets.duration_ms !== null && durationMax > policy.budgets.duration_ms)
      diags.push(diagnostic('W0502', `estimated duration ${fmtMs(durationMax)} of plan "${plan.name.name}" when every loop runs its max iterations exceeds the budget ${fmtMs(policy.budgets.duration_ms)} of policy ${policy.name}`, file, where));
  }

  // guardrails (their per-step facts are only built when some guardrail applies)
  let guardrails: PlanIR['guardrails'] = [];
  if (cp.guardrails.length) {
    const factsAt = (i: number): StepFacts => {
      const s = steps[i]!;
      const b = bindings[i];
      const r = b?.resource ? resourceByName.get(b.resource) : undefined;
      return {
        id: s.id, nameRange: s.decl.name.range, data: s.data, placement: r?.kind ?? null, tier: b?.tier ?? null, kind: s.kind,
        capability: s.capability?.name ?? null, resource: b?.resource ?? null, cost: costs[i]!, duration: durations[i]!, priority: s.priority,
        destructive: s.capability?.ir.destructive ?? false,
      };
    };
    const facts: StepFacts[] = steps.map((_, i) => factsAt(i));
    const races = cp.blocks.filter((b) => b.kind === 'race').map((b) => b.steps);
    const planFacts = { name: plan.name.name, file, nameRange: plan.name.range, steps: facts, graph: dag, cost, duration, localRatio, races };
    // Every resource a step may be rebound to, and its fallback/compensate calls' resources, are
    // proved against the blocking forbid rules (./fallback-proof.ts).
    const guards = cp.guardrails.map((g) => cx.guardrails.get(g)!);
    for (let i = 0; i < n; i++) {
      const b = bindings[i];
      if (!b) continue;
      const proved = proveBinding(b, facts[i]!, resourceByName, guards, planFacts);
      if (proved.binding !== b) {
        bindings[i] = proved.binding;
        facts[i] = factsAt(i);
      }
    }
    for (let i = 0; i < n; i++) {
      const s = steps[i]!;
      if (!s.fallback && !s.compensate) continue;
      const calls = callBindings.get(s.id) ?? {};
      const next: { fallback?: BindingIR; compensate?: BindingIR } = { ...calls };
      for (const which of ['fallback', 'compensate'] as const) {
        const cb = calls[which];
        const info = s[which] ? cx.capabilityByName(s[which]!.capability) : undefined;
        if (!info) continue;
        const r = cb?.resource ? resourceByName.get(cb.resource) : undefined;
        const callFacts: StepFacts = {
          ...facts[i]!, kind: info.ir.kind, capability: info.name, destructive: info.ir.destructive ?? false, resource: cb?.resource ?? null, tier: cb?.tier ?? null, placement: r?.kind ?? null,
          cost: info.ir.cost + (r?.cost ?? 0),
        };
        const at = s.decl[which]?.capability.range ?? s.decl.name.range;
        if (!cb || cb.resource === null) {
          // A call on no resource runs on the local host: only its own facts can be forbidden.
          const why = forbiddenBy(guards, callFacts, planFacts);
          if (why) diags.push(diagnostic('E0401', `the ${which} call ${s[which]!.capability} of step "${s.id}" is ${why}`, file, at));
          continue;
        }
        const proved = proveBinding(cb, callFacts, resourceByName, guards, planFacts);
        if (proved.noneAllowed)
          diags.push(diagnostic('E0401', `the ${which} call ${s[which]!.capability} of step "${s.id}" has no allowed resource: every one that can host it is ${proved.reason ?? 'forbidden'}`, file, at));
        else next[which] = proved.binding;
      }
      if (callBindings.has(s.id)) callBindings.set(s.id, next);
    }
    guardrails = cp.guardrails.map((g) => evaluateGuardrail(cx.guardrails.get(g)!, planFacts, diags));
  }

  // Most plans of a file of many small ones bind no resource: they share one empty set.
  let boundResources: Set<string> | undefined;
  const bind = (b: BindingIR | undefined): void => {
    if (!b) return;
    if (b.resource) (boundResources ??= new Set()).add(b.resource);
    for (const f of b.fallbacks) (boundResources ??= new Set()).add(f);
  };
  // Each placement result is shared by the steps with the same needs: visit each binding once.
  let seenBindings: BindingIR | Set<BindingIR> | undefined;
  for (const b of bindings) {
    if (!b || b === seenBindings) continue;
    if (seenBindings === undefined) seenBindings = b;
    else {
      if (!(seenBindings instanceof Set)) seenBindings = new Set([seenBindings]);
      if (seenBindings.has(b)) continue;
      seenBindings.add(b);
    }
    bind(b);
  }
  for (const c of callBindings.values()) {
    bind(c.fallback);
    bind(c.compensate);
  }
  const assembledFacts: AssembledFacts = { estimates: { cost: round6(cost), duration_ms: duration }, boundResources: boundResources ?? NO_RESOURCES };
  // Nothing below reports a diagnostic: `orch check` stops here.
  if (cx.checkOnly) return { ir: undefined, facts: assembledFacts };

  // IR
  const baseDir = dirname(resolve(file));
  const capabilities: Record<string, CapabilityIR> = {};
  const addCap = (info: CapabilityInfo | undefined): void => {
    if (!info || capabilities[info.name]) return;
    const h = info.ir.handler;
    capabilities[info.name] = h && 'module' in h ? { ...info.ir, handler: { module: relativeModule(baseDir, h.module), export: h.export } } : info.ir;
  };
  for (const s of steps) {
    addCap(s.capability);
    for (const c of [s.fallback, s.compensate]) if (c) addCap(cx.capabilityByName(c.capability));
  }
  const resources: Record<string, ResourceIR> = {};
  for (const r of cx.resources) {
    const { energy: _energy, ...ir } = r;
    resources[r.name] = ir;
  }
  const indexOf = new Map<string, number>();
  steps.forEach((s, i) => indexOf.set(s.id, i));
  const stepIRs: StepIR[] = dag.order.map((id) => {
    const i = indexOf.get(id)!;
    const b = bindings[i] ?? { resource: null, tier: null, rationale: 'unplaced', fallbacks: [] };
    return stepIR(steps[i]!, b, callBindings.get(id) ?? {}, [...depsOf[i]!], { cost: costs[i]!, duration_ms: durations[i]! }, dag.stageOf.get(id)!);
  });
  const simulations: Record<string, SimulateIR> = {};
  for (const name of Object.keys(capabilities)) {
    const sim = cx.simulations.get(name);
    if (sim) simulations[name] = sim;
  }
  const ir: PlanIR = {
    version: IR_VERSION,
    plan: plan.name.name,
    module: cp.module.name,
    goal: plan.goal ? plan.goal.parts.filter((p) => typeof p === 'string').join('') : null,
    base_dir: baseDir,
    source_file: resolve(file),
    input: toJsonSchema(cp.inputTy, true, literalDefaults(plan)),
    context: toJsonSchema(cx.contextTy, false),
    policy,
    priority: ({ critical: 0, high: 1, normal: 2, low: 3, info: 4 } as const)[plan.priority ?? 'normal'],
    deadline_ms: ms(plan.deadline),
    concurrency: plan.concurrency ? Math.max(1, Math.floor(plan.concurrency.value)) : null,
    on_failure: plan.onFailure ?? 'abort',
    capabilities,
    resources,
    steps: stepIRs,
    stages: dag.stages.map((st) => [...st]),
    blocks: cp.blocks.map(blockIR),
    consent: consentOf(capabilities, subplans),
    estimates: { cost: round6(cost), duration_ms: duration, cost_max: round6(costMax), duration_ms_max: durationMax, critical_path: [...(criticalPath ?? dag.criticalPath)], local_ratio: localRatio },
    guardrails,
    success: cp.success,
    output: cp.output,
    invariants: [...cp.invariants, ...(cx.topInvariants.get(cp) ?? [])],
    simulations,
    subplans,
  };
  return { ir, facts: assembledFacts };
}

function literalDefaults(plan: PlanDecl): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const f of plan.input?.fields ?? []) {
    const value = f.default ? literalValue(f.default) : NOT_LITERAL;
    if (value !== NOT_LITERAL) out.set(f.name.name, value);
  }
  return out;
}

const NOT_LITERAL = Symbol('not a literal');

/** The JSON value of a literal default (`3`, `"a"`, `[]`, `{ k: [1, 2] }`), or NOT_LITERAL. */
function literalValue(e: Expr): unknown {
  switch (e.kind) {
    case 'NumberLit':
    case 'BoolLit':
      return e.value;
    case 'NullLit':
      return null;
    case 'StringLit':
      return e.parts.every((p) => typeof p === 'string') ? e.parts.join('') : NOT_LITERAL;
    case 'ParenExpr':
      return literalValue(e.inner);
    case 'ListLit': {
      const items = e.items.map(literalValue);
      return items.includes(NOT_LITERAL) ? NOT_LITERAL : items;
    }
    case 'RecordLit': {
      const fields = e.fields.map((f) => [f.key.name, literalValue(f.value)] as const);
      return fields.some(([, v]) => v === NOT_LITERAL) ? NOT_LITERAL : Object.fromEntries(fields);
    }
    default:
      return NOT_LITERAL;
  }
}

function relativeModule(baseDir: string, abs: string): string {
  const rel = relative(baseDir, abs).split(sep).join('/');
  return rel.startsWith('.') || rel.startsWith('/') ? rel : `./${rel}`;
}

function stepIR(s: CheckedStep, binding: StepIR['binding'], calls: { fallback?: BindingIR; compensate?: BindingIR }, deps: string[], est: { cost: number; duration_ms: number }, stage: number): StepIR {
  return {
    id: s.id,
    capability: s.capability?.name ?? null,
    // (a call's action is one frozen object shared by the checked steps: the IR gets its own)
    action: s.action.type === 'call' ? { type: 'call' } : s.action,
    args: s.action.type === 'call' ? s.args : {},
    deps,
    after: [...s.after].sort(),
    resource: binding.resource,
    binding,
    timeout_ms: s.action.type === 'wait_until' ? s.action.timeout_ms : s.timeout_ms,
    retry: s.retry,
    when: s.when,
    join: s.join,
    skip_if_skipped: [...s.skipIfSkipped].filter((x) => x !== s.id).sort(),
    soft_reads: s.outputReads.filter((x) => x !== s.id && !s.skipIfSkipped.includes(x)).sort(),
    blocks: [...s.blocks],
    waits_for: [...s.waitsFor].sort(),
    on_failure: s.on_failure,
    priority: s.priority,
    for_each: s.forEach,
    fallback: s.fallback && calls.fallback ? { ...s.fallback, binding: calls.fallback } : s.fallback,
    compensate: s.compensate && calls.compensate ? { ...s.compensate, binding: calls.compensate } : s.compensate,
    data: s.data,
    kind: s.kind,
    estimates: { cost: round6(est.cost), duration_ms: est.duration_ms },
    stage,
  };
}

function blockIR(b: CheckedPlan['blocks'][number]): BlockIR {
  switch (b.kind) {
    case 'for_each': {
      const fe = b.forEach!;
      return { type: 'for_each', id: b.id, parent: b.parent, item: fe.item, list: fe.list, parallel: fe.parallel };
    }
    case 'race':
      return { type: 'race', id: b.id, parent: b.parent, branches: [...b.steps] };
    case 'repeat':
      return { type: 'repeat', id: b.id, parent: b.parent, max: b.max ?? 1, until: b.until ?? { op: 'lit', value: true }, on_failure: b.onFailure ?? 'abort', steps: [...b.steps] };
  }
}

/** Every consent scope a run may need: its capabilities (fallbacks and compensations included) and its sub-plans'. */
function consentOf(capabilities: Record<string, CapabilityIR>, subplans: Record<string, PlanIR>): string[] {
  const out = new Set<string>();
  for (const c of Object.values(capabilities)) for (const scope of c.consent) out.add(scope);
  for (const sp of Object.values(subplans)) for (const scope of sp.consent ?? []) out.add(scope);
  return [...out].sort();
}

export function fmtMs(n: number): string {
  if (n >= 3_600_000) return `${Math.round((n / 3_600_000) * 100) / 100}h`;
  if (n >= 60_000) return `${Math.round((n / 60_000) * 100) / 100}m`;
  if (n >= 1000) return `${Math.round((n / 1000) * 100) / 100}s`;
  return `${Math.round(n)}ms`;
}

export type { TriggerDecl };
export { RANK };
