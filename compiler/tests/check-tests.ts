/**
 * `test` blocks (LANGUAGE.md §9.2), checked as the test's file sees its names: the plan, its input
 * and context, each mock, decision, signal and `expect`. E0901 for a name the plan does not have
 * (W0907 in a captured test: it is stale), E0201 for a value of the wrong type, E0906 for a step
 * that would reach a model, MCP tool, channel or the network with no mock. With a plan IR at hand
 * (`compile({ tests: true })`) each test of the entry module is also compiled for the runner.
 */
import { basename, dirname, relative, sep } from 'node:path';
import type { Expr, Ident, QualifiedName, Range, StringLit, TestDecl } from '../../language/index.js';
import { diagnostic, type Diagnostic, type DiagnosticCode } from '../../language/index.js';
import type { CapabilityInfo } from '../check/capability.js';
import { durationMs, type ExprEnv, type RootInfo } from '../check/expr.js';
import type { CheckedPlan } from '../check/checked-plan.js';
import { derivedSetDiagnostic } from '../check/context-signals.js';
import type { CapabilityIR, ContextSignalIR, PlanIR } from '../ir/types.js';
import { invariantLocator } from '../invariant-locator.js';
import type { LoadedModule } from '../load.js';
import type { ModelBuilder } from '../model.js';
import { unresolvedDiagnostic, type DeclEntry, type Scopes } from '../scope.js';
import { stripOptional, T, type Ty } from '../types/ty.js';
import { placeholderFor } from '../check/call-args.js';
import { builtinOf } from '../ir/builtin.js';
import { checkExpects } from './expects.js';
import { checkMocks } from './mocks.js';
import { configPeople, DEFAULT_STARTER, personOf, textOf } from './people.js';
import { boundaryOf, isApprovalCapability, planFacts, type FactsContext, type PlanFacts } from './plan-facts.js';
import type { CompiledTest, DecisionIR, SignalIR, TestPerson } from './types.js';
import { checkValue } from './values.js';
import { partsOf, type TestUnderCheck } from './test-under-check.js';

export interface TestsContext extends FactsContext {
  readonly modules: readonly LoadedModule[];
  readonly scopes: Scopes;
  readonly model: ModelBuilder;
  readonly diags: Diagnostic[];
  readonly contextRoot: RootInfo;
  /** §9.4's signals: a derived one is computed, and a test sets it no more than a source does. */
  readonly contextSignals: { readonly [name: string]: ContextSignalIR };
  readonly capability: (e: DeclEntry<'capability'>) => CapabilityInfo;
  /** The module whose tests are compiled for the runner (null: check only). */
  readonly compileIn: LoadedModule | null;
  /** The IR of a plan that compiled without errors. */
  readonly irOf: (e: DeclEntry<'plan'>) => PlanIR | undefined;
}

/** Checks every test of every user module; compiles those of `compileIn`. */
export function checkTests(cx: TestsContext): CompiledTest[] {
  const out: CompiledTest[] = [];
  for (const m of cx.modules) {
    if (m.std) continue;
    // A test is told by its file and name (`--filter`, the editor's Run test and Testing view).
    const named = new Map<string, Range>();
    for (const d of m.ast.declarations) {
      if (d.kind !== 'TestDecl') continue;
      const name = textOf(d.name);
      const first = named.get(name);
      if (name.trim() === '') cx.diags.push(diagnostic('E0201', 'a test needs a name: --filter and the editor tell tests by it (test "a refund over 500usd needs two people" { … })', m.file, d.name.range));
      else if (first)
        cx.diags.push(diagnostic('E0102', `test "${name}" is declared twice in this file (first on line ${first.start.line})`, m.file, d.name.range, { related: [{ message: `first test "${name}" here`, file: m.file, range: first }] }));
      else named.set(name, d.name.range);
      const compiled = new TestChecker(d, m, cx).check();
      if (compiled && m === cx.compileIn) out.push(compiled);
    }
  }
  return out;
}

/** `sub/ok`: where an approval step `id` stands among `plan`'s sub-plans (at any depth), if it does. */
function subPlanApproval(plan: CheckedPlan, id: string, checked: ReadonlyMap<DeclEntry<'plan'>, CheckedPlan>, seen = new Set<CheckedPlan>()): string | null {
  if (seen.has(plan)) return null;
  seen.add(plan);
  for (const s of plan.steps) {
    const sub = s.runPlan ? checked.get(s.runPlan) : undefined;
    if (!sub) continue;
    const own = sub.steps.find((x) => x.id === id && x.action.type === 'call' && x.capability && isApprovalCapability(x.capability.ir));
    if (own) return `${s.id}/${id}`;
    const deeper = subPlanApproval(sub, id, checked, seen);
    if (deeper) return `${s.id}/${deeper}`;
  }
  return null;
}

/** Names of the plans the tests of `modules` name (their last part): these plans are always checked. */
export function testedPlanNames(modules: readonly LoadedModule[]): ReadonlySet<string> {
  const out = new Set<string>();
  for (const m of modules) for (const d of m.ast.declarations) if (d.kind === 'TestDecl' && d.plan.parts.length) out.add(d.plan.parts[d.plan.parts.length - 1]!.name);
  return out;
}

/** One test being checked: its file, its plan's facts, and the stale names a captured test has. */
export class TestChecker implements TestUnderCheck {
  readonly file: string;
  readonly stale: string[] = [];
  readonly staleSteps: string[] = [];
  /** A refinement of an MCP tool the test names → that tool's IR name (`CompiledTest.refines`). */
  readonly refines: Record<string, string> = {};
  private readonly diagsBefore: number;

  constructor(
    readonly test: TestDecl,
    readonly module: LoadedModule,
    readonly cx: TestsContext,
  ) {
    this.file = module.file;
    this.diagsBefore = cx.diags.length;
  }

  get diags(): Diagnostic[] {
    return this.cx.diags;
  }

  get captured(): boolean {
    return this.test.origin !== undefined;
  }

  check(): CompiledTest | undefined {
    const t = this.test;
    const planEntry = this.cx.scopes.lookup(this.module, 'plan', t.plan.parts.map((p) => p.name));
    if (!planEntry) {
      const shown = partsOf(t.plan);
      this.diags.push(recode(unresolvedDiagnostic(this.file, shown, `test "${textOf(t.name)}" names unknown plan "${shown}"`, this.cx.scopes.visibleNames(this.module, 'plan'), t.plan.range), 'E0901'));
      return undefined;
    }
    this.cx.model.refer(this.file, t.plan.parts[t.plan.parts.length - 1]!.range, planEntry.symbol.id);
    const cp = this.cx.checked.get(planEntry);
    if (!cp) return undefined;
    const facts = planFacts(cp, this.cx);
    const people = configPeople(this.file);
    // No input line is the empty input: a plan that needs some is told so at the plan line.
    const given: Expr = t.input ?? { kind: 'RecordLit', fields: [], range: t.plan.range };
    const checkedInput = checkValue(given, cp.inputTy, this.valueEnv(), { what: `the input of plan ${partsOf(t.plan)}` }).ir;
    const input = t.input ? checkedInput : null;
    const context = t.context ? checkValue(t.context, this.cx.contextRoot.ty, this.valueEnv(), { what: 'the context', partial: true }).ir : null;
    if (t.context?.kind === 'RecordLit') for (const f of t.context.fields) this.notDerived(f.key.name, f.key.range);
    const startedBy = t.startedBy ? this.starter(t.startedBy, people) : DEFAULT_STARTER;
    const mocks = checkMocks(this, facts);
    const decisions = t.decisions.map((d) => this.decision(d, facts, people));
    const signals = t.signals.flatMap((s) => this.signal(s));
    const expects = checkExpects(this, facts);
    this.boundaries(facts, new Set(mocks.map((m) => m.capability)));
    if (this.errorsSince() > 0) return undefined;
    const ir = this.cx.irOf(planEntry);
    if (!ir) return undefined;
    const locate = invariantLocator(planEntry.module.ast, planEntry.node.name.name);
    const invariants = Object.fromEntries(ir.invariants.flatMap((i) => {
      const at = locate(i.name);
      return at ? [[i.name, at]] : [];
    }));
    return {
      name: textOf(t.name),
      file: this.file,
      range: t.range,
      planName: partsOf(t.plan),
      plan: ir,
      ...(this.cx.model.currency !== undefined ? { currency: this.cx.model.currency } : {}),
      origin: t.origin ? { run: textOf(t.origin.run), ir_hash: textOf(t.origin.irHash) } : null,
      stale: this.stale,
      staleSteps: this.staleSteps,
      startedBy,
      input,
      context,
      mocks,
      refines: this.refines,
      decisions: decisions.filter((d): d is DecisionIR => d !== null),
      signals,
      expects,
      invariants,
    };
  }

  /** An environment for values that read nothing (input, context, signals): literals and built-ins. */
  valueEnv(roots: ReadonlyMap<string, RootInfo> = new Map()): ExprEnv {
    return { file: this.file, model: this.cx.model, diags: this.diags, roots };
  }

  /**
   * A step or capability the plan does not have: E0901, or W0907 in a captured test (the plan
   * changed since the capture) — then `name` is recorded as stale.
   */
  missing(name: string, message: string, candidates: Iterable<string>, range: Range, what: 'step' | 'capability' = 'step'): void {
    const d = unresolvedDiagnostic(this.file, name, message, candidates, range);
    if (this.captured) {
      this.stale.push(name);
      if (what === 'step') this.staleSteps.push(name);
      this.diags.push(recode(d, 'W0907', ` — the test is stale: its plan changed since it was captured (recapture it with orch test --update ${this.file})`));
    } else this.diags.push(recode(d, 'E0901'));
  }

  /** A capability as the test's file sees it, among those the plan can call; reported when not. */
  capability(name: QualifiedName, facts: PlanFacts): CapabilityInfo | undefined {
    const shown = partsOf(name);
    const entry = this.cx.scopes.lookup(this.module, 'capability', name.parts.map((p) => p.name));
    const named = entry ? this.cx.capability(entry) : undefined;
    // An MCP tool's refinements are recorded even when the plan calls the tool itself too.
    const refined = named ? this.refinedTool(named, facts) : undefined;
    const info = named ? (facts.callable.get(named.name) ?? refined) : undefined;
    if (entry) this.cx.model.refer(this.file, name.parts[name.parts.length - 1]!.range, entry.symbol.id);
    if (info) return info;
    const callable = [...facts.callable.values()].map((c) => this.writtenName(c)).filter((w): w is string => w !== null);
    // Its compiled name, of a module the test's file does not import: say how to name it.
    const unseen = entry ? undefined : [...facts.callable.values()].find((c) => c.name === shown && this.writtenName(c) === null);
    const why = entry
      ? `plan ${facts.plan.entry.node.name.name} never calls capability "${shown}"`
      : `unknown capability "${shown}"${unseen ? `: the test's file does not import its module; ${this.mockHint(unseen)}` : ''}`;
    this.missing(shown, why, callable, name.range, 'capability');
    return undefined;
  }

  /**
   * Who started the run (§9.2 `started_by "dave"`): one person. A `group:G` names several, so
   * the run would have been started by whichever member came first — E0901 instead.
   */
  private starter(lit: StringLit, people: ReturnType<typeof configPeople>): TestPerson {
    const written = textOf(lit);
    if (!written.startsWith('group:')) return personOf(lit, people, this.file, this.diags);
    this.diags.push(diagnostic('E0901', `started_by names the person who started the run, not a group ("${written}"): name one of its members`, this.file, lit.range));
    return { written, candidates: [] };
  }

  /**
   * An MCP tool or a std capability the plan reaches through refinements of it (`capability
   * read_notes from files.read_text_file`, §8.3; `capability mail from email { cost 0.01usd }`):
   * §9.2 lets a test mock the tool or "a std capability (`email`, `notify`, `http_request`)",
   * which then answers them (after their own mocks) and whose `calls()` lists their calls. Each
   * such refinement is recorded; the tool is returned when the plan has one.
   */
  private refinedTool(tool: CapabilityInfo, facts: PlanFacts): CapabilityInfo | undefined {
    // The tool itself (its module is the server's, or std's), not a refinement of it.
    const own = tool.entry.module.mcp !== undefined || tool.entry.module.std ? refinedBase(tool.ir) : null;
    if (own === null) return undefined;
    const refinements = [...facts.callable.values()].filter((c) => c.name !== tool.name && refinedBase(c.ir) === own);
    for (const c of refinements) this.refines[c.name] = tool.name;
    return refinements.length > 0 ? tool : undefined;
  }

  /**
   * How the test's file names a capability: its own name or `alias.name`; null for one it cannot
   * see — a capability of a module it does not import, or an MCP tool its own `import mcp` does
   * not make nameable there.
   */
  private writtenName(c: CapabilityInfo): string | null {
    const visible = this.cx.scopes.visibleNames(this.module, 'capability');
    const own = c.entry.node.name.name;
    if (visible.includes(own) && this.cx.scopes.lookup(this.module, 'capability', [own]) === c.entry) return own;
    return visible.find((v) => v.endsWith(`.${own}`) && this.cx.scopes.lookup(this.module, 'capability', v.split('.')) === c.entry) ?? null;
  }

  /** What to add to the test so a mock answers `c`: the mock line, and the import an unseen capability needs first. */
  private mockHint(c: CapabilityInfo): string {
    const written = this.writtenName(c);
    if (written !== null) return `add \`mock ${written} returns …\` to the test`;
    const mcp = c.ir.handler !== null && 'mcp' in c.ir.handler ? c.ir.handler.mcp : null;
    const source = mcp ?? c.entry.module.name.split('.').pop()!;
    const plain = /^[A-Za-z_][A-Za-z0-9_]*$/.test(source) ? source : mcp !== null ? 'tools' : 'lib';
    // Not an alias the file already gives another import.
    const alias = this.module.imports.some((i) => i.qualifier === plain) ? `${plain}_2` : plain;
    const line = mcp !== null ? `import mcp "${mcp}" as ${alias}` : `import "${importPath(this.file, c.entry.module.file)}" as ${alias}`;
    return `add \`${line}\` to ${basename(this.file)} and \`mock ${alias}.${c.entry.node.name.name} returns …\` to the test`;
  }

  /**
   * E0906's fix, where the test's file can name the capability: a `mock` line after the test's
   * `plan` line answering with a placeholder of its output type, for the author to make real.
   */
  private mockFix(c: CapabilityInfo): Pick<Diagnostic, 'fixes'> {
    const written = this.writtenName(c);
    if (written === null) return {};
    const out = stripOptional(c.output);
    const value = out.k === 'record'
      ? `{ ${[...out.fields.values()].filter((f) => f.required).map((f) => `${f.name}: ${placeholderFor(f.ty)}`).join(', ')} }`.replace('{  }', '{}')
      : placeholderFor(out);
    const at = this.test.plan.range.end;
    const indent = ' '.repeat(Math.max(0, this.test.plan.range.start.column - 1 - 'plan '.length));
    return { fixes: [{ title: `Add mock ${written}`, edits: [{ file: this.file, range: { start: at, end: at }, newText: `\n${indent}mock ${written} returns ${value}` }] }] };
  }

  /** A step of the plan by name (its reference recorded), or reported. */
  step(ident: Ident, facts: PlanFacts) {
    const s = facts.steps.get(ident.name);
    if (s) {
      this.cx.model.refer(this.file, ident.range, s.symbol.id);
      return s;
    }
    this.missing(ident.name, `plan ${facts.plan.entry.node.name.name} has no step "${ident.name}"`, facts.steps.keys(), ident.range);
    return undefined;
  }

  /** A virtual time: a duration, never negative. */
  at(lit: { readonly value: number; readonly unit: string; readonly range: Range } | undefined): number {
    if (!lit) return 0;
    if (lit.value < 0) this.diags.push(diagnostic('E0901', `a virtual time cannot be negative (${lit.value}${lit.unit}): it counts from a moment of the run on`, this.file, lit.range));
    return Math.max(0, durationMs(lit.value, lit.unit));
  }

  private decision(d: TestDecl['decisions'][number], facts: PlanFacts, people: ReturnType<typeof configPeople>): DecisionIR | null {
    const by = d.by.map((p) => personOf(p, people, this.file, this.diags));
    const at_ms = this.at(d.at);
    const inner = facts.steps.has(d.step.name) ? null : subPlanApproval(facts.plan, d.step.name, this.cx.checked);
    if (inner) {
      // Its run's own: no line of this test decides it (docs/language.md, "People").
      const why = `plan ${facts.plan.entry.node.name.name} has no step "${d.step.name}": ${inner} is an approval of a sub-plan, decided in that sub-plan's own run — test the sub-plan itself for its decisions`;
      this.missing(d.step.name, why, [], d.step.range);
      return null;
    }
    const s = this.step(d.step, facts);
    if (!s) return null;
    if (!(s.action.type === 'call' && s.capability && isApprovalCapability(s.capability.ir))) {
      this.diags.push(diagnostic('E0901', `step ${s.id} is not an approval: only approval steps are decided with ${d.decision} (mock the capability it calls instead)`, this.file, d.step.range));
      return null;
    }
    return { decision: d.decision, step: s.id, by, at_ms, line: d.range.start.line };
  }

  private signal(s: TestDecl['signals'][number]): SignalIR[] {
    const at_ms = this.at(s.at);
    const ctx = this.cx.contextRoot.ty as Ty & { k: 'record' };
    const field = ctx.fields.get(s.signal.name);
    if (!field && !ctx.open) {
      this.diags.push(recode(unresolvedDiagnostic(this.file, s.signal.name, `unknown signal "context.${s.signal.name}"`, ctx.fields.keys(), s.signal.range), 'E0901'));
      return [];
    }
    if (field?.decl?.symbol !== undefined) this.cx.model.refer(this.file, s.signal.range, field.decl.symbol);
    if (!this.notDerived(s.signal.name, s.signal.range)) return [];
    // Without a `context` block the context is open: a signal the plan reads is of any type.
    const value = checkValue(s.value, field?.ty ?? T.any, this.valueEnv(), { what: `signal context.${s.signal.name}` });
    return [{ signal: s.signal.name, value: value.ir, at_ms, line: s.range.start.line }];
  }

  /** False (E0905) for a derived signal, which a test cannot set. */
  private notDerived(name: string, range: Range): boolean {
    const d = derivedSetDiagnostic(this.cx.contextSignals, name, 'a test', this.file, range);
    if (d) this.diags.push(d);
    return d === null;
  }

  /** E0906: a step of the plan that can reach a model, tool, channel or the network with no mock. */
  private boundaries(facts: PlanFacts, mocked: ReadonlySet<string>): void {
    // A stale captured test does not run: `orch test` fails it (exit 1) listing the plan's changes,
    // and W0907 asks for --update. A boundary its plan gained since (a model capability renamed,
    // so the mock names the old one) is what it is stale about, not an error of the test (§9.2).
    if (this.stale.length > 0) return;
    const testName = textOf(this.test.name);
    for (const s of facts.plan.steps) {
      for (const c of facts.callsOf(s)) {
        const reaches = boundaryOf(c.ir);
        const tool = this.refines[c.name];
        if (reaches === null || mocked.has(c.name) || (tool !== undefined && mocked.has(tool))) continue;
        this.diags.push(
          diagnostic('E0906', `under test "${testName}", step ${s.id} can call ${this.writtenName(c) ?? (c.ir.handler !== null && 'mcp' in c.ir.handler ? `the MCP tool ${c.entry.node.name.name}` : c.name)}, which reaches ${reaches}, and no mock answers it: ${this.mockHint(c)}`, facts.plan.module.file, s.decl.name.range, {
            related: [{ message: `test "${testName}" runs this plan`, file: this.file, range: this.test.plan.range }],
            ...this.mockFix(c),
          }),
        );
      }
    }
  }

  private errorsSince(): number {
    let n = 0;
    for (let i = this.diagsBefore; i < this.diags.length; i++) if (this.diags[i]!.severity === 'error') n++;
    return n;
  }
}

/**
 * What answers a capability that may be refined: `mcp:server/tool` for an MCP tool, `std:NAME`
 * for a std built-in (the tool or std capability itself, or a refinement of it), else null.
 */
function refinedBase(cap: CapabilityIR): string | null {
  const h = cap.handler;
  if (h !== null && 'mcp' in h) return `mcp:${h.mcp}/${h.tool}`;
  const builtin = builtinOf(cap);
  return builtin !== null ? `std:${builtin}` : null;
}

/** How `file` imports `target`: a relative path with forward slashes (`./lib/child.orch`). */
function importPath(file: string, target: string): string {
  const rel = relative(dirname(file), target).split(sep).join('/');
  return rel.startsWith('../') ? rel : `./${rel}`;
}

/** The same diagnostic under another code (its severity follows the code). */
export function recode(d: Diagnostic, code: DiagnosticCode, suffix = ''): Diagnostic {
  return { ...d, code, severity: code.startsWith('E') ? 'error' : 'warning', message: d.message + suffix };
}

export type { CheckedPlan };
