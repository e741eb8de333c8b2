/**
 * The AST built directly by the grammar's embedded actions (grammar-*.ts, `live` mode): the same
 * nodes, fields, field order and ranges as the CST→AST phase (cst-to-ast.ts) produces for the
 * same valid input, from tokens and already built sub-trees instead of CST nodes.
 *
 * This class only takes the rule arguments apart and hands them to the builders both paths
 * share (node-builders.ts), which also make every check and report every diagnostic. Only the
 * happy path: the caller discards this AST and takes the CST path when `diagnostics` is not
 * empty (or when an action throws). That keeps one place that knows how a mistake is reported
 * and what a partial tree looks like.
 */
import type { IToken } from 'chevrotain';
import type * as A from './ast.js';
import type { Diagnostic } from './diagnostic.js';
import { AstBuilder } from './cst-to-ast.js';
import { NONE, REPEATABLE, STEP_OPTION_KEYS, keyName, type KeyedValue, type Mutable, type StepOptionKey } from './node-builders.js';

/** A property of a block: its key (the keyword, or the sub-rule name for rule-like items) and value. */
export type Prop = readonly [key: string, value: unknown];

/** Type arguments reach namedTypeOf already built. */
const asBuilt = (t: A.TypeExpr): A.TypeExpr => t;

export class AstActions extends AstBuilder {
  /**
   * Those of `diagnostics` reported with the tree left whole — the same tree and the same
   * diagnostic on both paths — so the direct parse keeps its tree instead of parsing the file
   * again by the CST path: each `module` line after the first (a file of repeated modules).
   */
  readonly wholeTree = new Set<Diagnostic>();

  override moduleOf(items: readonly (A.ModuleDecl | A.ImportDecl | A.Declaration)[]): Omit<A.Module, 'comments'> {
    const before = this.diagnostics.length;
    const m = super.moduleOf(items);
    for (const d of this.diagnostics.slice(before)) this.wholeTree.add(d);
    return m;
  }

  /** Half-open [start, end) range. */
  span(start: number, end: number): A.Range {
    return this.range(start, end);
  }

  recordLitOf(fields: readonly A.RecordField[], start: number, end: number): A.RecordLit {
    return this.recordLitFrom(fields, this.range(start, end));
  }

  // ───────────── types ─────────────

  recordTypeOf(fields: readonly A.FieldDecl[], start: number, end: number): A.RecordType {
    return this.recordTypeFrom(fields, this.range(start, end));
  }

  fieldDeclOf(name: IToken, type: A.TypeExpr, annotations: IToken[] | undefined, def: A.Expr | undefined, options: IToken[] | undefined, start: number, end: number): A.FieldDecl {
    return this.fieldDecl(name, type, annotations, def, options, this.range(start, end));
  }

  /** The fields of a `context` block are parsed while this is on (`max_age`, `hold`). */
  setInContext(on: boolean): void {
    this.inContext = on;
  }

  namedTypeOf(name: A.QualifiedName, args: readonly A.TypeExpr[], start: number, end: number): A.TypeExpr {
    return this.namedType(name, args, asBuilt, this.range(start, end));
  }

  retrySpecOf(attempts: IToken, kindTok: IToken | undefined, delay: IToken | undefined, max: IToken | undefined, start: number, end: number): A.RetrySpec {
    return this.retrySpec(attempts, kindTok, delay, max, this.range(start, end));
  }

  // ───────────── property blocks ─────────────

  /** Applies block properties in source order; a property given twice is an E0102 (and skipped). */
  private props(props: readonly (Prop | A.StepDecl)[], owner: string, apply: (key: string, value: unknown) => void): void {
    const bag = this.newBag(owner);
    for (let i = 0; i < props.length; i++) {
      const p = props[i]!;
      // A plan's steps come bare (no tuple: they are most of a large plan's items).
      if (!Array.isArray(p)) {
        apply('stepDecl', p);
        continue;
      }
      const key = p[0];
      // Only the key matters here: with a duplicate the caller discards this tree anyway.
      if (!REPEATABLE.has(key) && !this.firstTime(bag, keyName(key), 0, 0)) continue;
      apply(key, p[1]);
    }
  }

  capabilityOf(name: IToken, props: readonly Prop[], start: number, end: number, from?: A.QualifiedName): A.CapabilityDecl {
    const id = this.ident(name);
    const d: Mutable<A.CapabilityDecl> = { kind: 'CapabilityDecl', name: id, range: this.range(start, end) };
    if (from) d.from = from;
    this.props(props, `capability '${id.name}'`, (key, v) => this.capabilityProp(d, key, v));
    return d;
  }

  resourceOf(name: IToken, props: readonly Prop[], start: number, end: number): A.ResourceDecl {
    const id = this.ident(name);
    const d: Mutable<A.ResourceDecl> = { kind: 'ResourceDecl', name: id, range: this.range(start, end) };
    this.props(props, `resource '${id.name}'`, (key, v) => this.resourceProp(d, key, v));
    return d;
  }

  policyOf(name: IToken, props: readonly Prop[], start: number, end: number): A.PolicyDecl {
    const id = this.ident(name);
    const d: Mutable<A.PolicyDecl> = { kind: 'PolicyDecl', name: id, budgets: [], rateLimits: [], range: this.range(start, end) };
    this.props(props, `policy '${id.name}'`, (key, v) => this.policyProp(d, key, v));
    return d;
  }

  budgetOf(metricTok: IToken, opTok: IToken, limitTok: IToken, start: number, end: number, warn = false): A.BudgetDecl | undefined {
    return this.budget(metricTok, opTok, limitTok, this.range(start, end), warn);
  }

  guardrailOf(name: IToken, props: readonly Prop[], start: number, end: number): A.GuardrailDecl {
    const id = this.ident(name);
    const d: Mutable<A.GuardrailDecl> = { kind: 'GuardrailDecl', name: id, rules: [], range: this.range(start, end) };
    this.props(props, `guardrail '${id.name}'`, (key, v) => this.guardrailProp(d, key, v));
    return d;
  }

  // ───────────── plans ─────────────

  planOf(name: IToken, props: readonly (Prop | A.StepDecl)[], start: number, end: number): A.PlanDecl {
    const id = this.ident(name);
    const body: (A.BlockItem | A.InvariantDecl)[] = [];
    const d: Mutable<A.PlanDecl> = { kind: 'PlanDecl', name: id, guardrails: [], body, success: [], range: this.range(start, end) };
    this.props(props, `plan '${id.name}'`, (key, v) => {
      switch (key) {
        case 'stepDecl':
        case 'forEach':
        case 'raceBlock':
        case 'repeatBlock':
        case 'invariantDecl':
          body.push(v as A.StepDecl);
          break;
        default: this.planProp(d, key, v);
      }
    });
    // The tree keeps an exact copy: a list pushed to has room for 17 (a file of many small plans).
    if (body.length < 16) d.body = body.slice();
    return d;
  }

  successOf(label: IToken | undefined, condition: A.Expr, start: number, end: number): A.SuccessCriterion {
    return this.success(label, condition, this.range(start, end));
  }

  stepOf(name: IToken, action: A.StepAction, inlineWhen: { key: IToken; expr: A.Expr } | undefined, block: readonly Prop[] | undefined, start: number, end: number): A.StepDecl {
    const id = this.ident(name);
    const range = this.range(start, end);
    // An inline `when` is in the literal, in the place it took when set just after it: added to
    // a made node, it cost every such step a property store of its own.
    const d: Mutable<A.StepDecl> = inlineWhen
      ? { kind: 'StepDecl', name: id, action, after: NONE, range, when: inlineWhen.expr }
      : { kind: 'StepDecl', name: id, action, after: NONE, range };
    // Nothing can be given twice without a block.
    if (!block) return this.withDoc(d, start);
    const bag = this.newBag(`step '${id.name}'`);
    if (inlineWhen) this.firstTime(bag, 'when', inlineWhen.key.startOffset, inlineWhen.key.endOffset! + 1);
    const given: Partial<Record<StepOptionKey, unknown>> = {};
    for (let i = 0; i < block.length; i++) {
      const key = block[i]![0] as StepOptionKey;
      if (this.firstTime(bag, key, 0, 0)) given[key] = block[i]![1];
    }
    // Options are assigned in a fixed order, whatever the source order (as the CST path does).
    for (const key of STEP_OPTION_KEYS) {
      const v = given[key];
      if (v !== undefined) this.stepOption(d, key, v);
    }
    return this.withDoc(d, start);
  }

  capabilityCallOf(parts: readonly IToken[], args: A.Argument[], start: number, end: number): A.CapabilityCall {
    return this.capabilityCall(this.qualified(parts), args, this.range(start, end));
  }

  forEachOf(item: IToken, list: A.Expr, parallel: IToken | undefined, body: A.BlockItem[], start: number, end: number): A.ForEachDecl {
    return this.forEachDecl(item, list, parallel, body, this.range(start, end));
  }

  raceOf(name: IToken, body: A.StepDecl[], start: number, end: number): A.RaceDecl {
    return this.raceDecl(name, body, this.range(start, end));
  }

  repeatOf(name: IToken, max: IToken | undefined, until: A.Expr, onFailure: IToken | undefined, body: A.BlockItem[], start: number, end: number): A.RepeatDecl {
    return this.repeatDecl(name, max, until, onFailure, body, this.range(start, end));
  }

  // ───────────── triggers ─────────────

  triggerOf(name: IToken, props: readonly Prop[], start: number, end: number): A.TriggerDecl {
    const id = this.ident(name);
    const parts = this.triggerParts();
    this.props(props, `trigger '${id.name}'`, (key, v) => this.triggerProp(parts, key, v));
    return this.triggerDecl(id, parts, this.range(start, end));
  }

  // ───────────── verification ─────────────

  invariantOf(nameTok: IToken, modality: IToken, condition: A.Expr, start: number, end: number): A.InvariantDecl {
    return this.invariantDecl(this.invariantName(nameTok), modality, condition, this.range(start, end));
  }

  /** Ranges are allowed in expressions parsed while this is on (the properties of `simulate`). */
  setInSimulate(on: boolean): void {
    this.inSimulate = on;
  }

  simulateOf(capability: A.QualifiedName, props: readonly Prop[], start: number, end: number): A.SimulateDecl {
    const d: Mutable<A.SimulateDecl> = { kind: 'SimulateDecl', capability, range: this.range(start, end) };
    this.props(props, `simulate '${capability.parts.map((p) => p.name).join('.')}'`, (key, v) => this.simulateProp(d, key, v));
    return d;
  }

  simulateContextOf(signals: readonly A.StaleSignal[], start: number, end: number): A.SimulateContextDecl {
    return this.simulateContext(signals, this.range(start, end));
  }

  staleSignalOf(name: IToken, share: IToken, start: number, end: number): A.StaleSignal {
    return this.staleSignal(name, share, this.range(start, end));
  }

  // ───────────── v0.4: sources and tests ─────────────

  sourceOf(name: IToken, topics: readonly A.TopicMapping[], start: number, end: number): A.SourceDecl {
    return this.source(name, topics, this.range(start, end));
  }

  topicOf(topic: IToken, signal: IToken, options: readonly KeyedValue[] | undefined, start: number, end: number): A.TopicMapping {
    return this.topic(topic, signal, options, this.range(start, end));
  }

  testOf(name: IToken, items: readonly Prop[], start: number, end: number): A.TestDecl {
    const d = this.testStart(name, this.range(start, end));
    this.props(items, `test "${d.name.parts.join('')}"`, (key, v) => this.testItem(d, key, v));
    return this.testDone(d);
  }

  testOriginOf(run: IToken, hash: IToken, start: number, end: number): A.TestOrigin {
    return this.testOrigin(run, hash, this.range(start, end));
  }

  mockOf(capability: A.QualifiedName, where: A.Expr | undefined, fails: IToken | undefined, times: IToken | undefined, returns: A.Expr[], options: readonly Prop[] | undefined, start: number, end: number): A.MockDecl {
    const m = this.mock(capability, where, fails, times, returns, this.range(start, end));
    if (options) this.props(options, `mock '${capability.parts.map((p) => p.name).join('.')}'`, (key, v) => this.mockOption(m, key, v));
    return m;
  }

  decisionOf(kw: IToken, step: IToken, people: IToken[], at: A.DurationLit | undefined, start: number, end: number): A.DecisionDecl {
    return this.decision(kw, step, people, at, this.range(start, end));
  }

  signalOf(name: IToken, value: A.Expr, at: A.DurationLit, start: number, end: number): A.SignalDecl {
    return this.signal(name, value, at, this.range(start, end));
  }

  expectOf(always: boolean, condition: A.Expr, start: number, end: number): A.ExpectDecl {
    return this.expect(always, condition, this.range(start, end));
  }
}
