/**
 * The AST built directly by the grammar's embedded actions (parser.ts, `live` mode): the same
 * nodes, fields, field order and ranges as the CST→AST phase (cst-to-ast.ts) produces for the
 * same valid input, from tokens and already built sub-trees instead of CST nodes.
 *
 * Only the happy path: every check that could report a diagnostic still goes through the
 * shared `AstBuilder` helpers, and the caller discards this AST and takes the CST path when
 * `diagnostics` is not empty (or when an action throws). That keeps one place that knows how a
 * mistake is reported and what a partial tree looks like.
 */
import type { IToken } from 'chevrotain';
import type * as A from './ast.js';
import {
  CAPABILITY_KINDS, DATA_CLASSES, GUARDRAIL_SEVERITIES, JOIN_RULES, PRIORITIES, RESOURCE_KINDS, STRATEGIES,
} from './ast.js';
import { diagnostic } from './diagnostic.js';
import { MISSING } from './cst-access.js';
import { AstBuilder, isLitOrRange, PRIMITIVES, type ExprItem } from './cst-to-ast.js';
import { DurationTok, MoneyTok, StringTok } from './lexer.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A property of a block: its key (the keyword, or the sub-rule name for rule-like items) and value. */
export type Prop = readonly [key: string, value: unknown];

/** Step options: where each goes in the StepDecl, in the order the CST→AST phase assigns them. */
export interface StepOptions {
  after?: A.Ident[];
  on?: A.QualifiedName;
  fallback?: A.CapabilityCall;
  compensate?: A.CapabilityCall;
  timeout?: IToken;
  retry?: A.RetrySpec;
  join?: IToken;
  on_failure?: IToken;
  priority?: IToken;
  when?: A.Expr;
}

/** Properties that may appear several times in one block (by key). */
const REPEATABLE = new Set([
  'budgetDecl', 'rateLimitDecl', 'forbidRule', 'requireRule', 'assertRule', 'checkRule',
  'stepDecl', 'forEach', 'invariantDecl', 'successDecl',
]);

export class AstActions extends AstBuilder {
  /** Half-open [start, end) range. */
  span(start: number, end: number): A.Range {
    return this.range(start, end);
  }

  qualified(parts: readonly IToken[]): A.QualifiedName {
    const ids = parts.map((t) => this.ident(t));
    return { kind: 'QualifiedName', parts: ids, range: this.join(ids[0]!, ids[ids.length - 1]!) };
  }

  withDocAt<T extends { doc?: string }>(d: T, start: number): T {
    const doc = this.doc(start);
    if (doc !== undefined) d.doc = doc;
    return d;
  }

  /** A top-level declaration takes the doc comment before it (spread last, as the CST path does). */
  declarationOf(d: A.Declaration, start: number): A.Declaration {
    const doc = this.doc(start);
    return doc === undefined ? d : { ...d, doc };
  }

  moduleOf(items: readonly (A.ModuleDecl | A.ImportDecl | A.Declaration)[]): Omit<A.Module, 'comments'> {
    let moduleDecl: A.ModuleDecl | undefined;
    const imports: A.ImportDecl[] = [];
    const declarations: A.Declaration[] = [];
    for (const item of items) {
      if (item.kind === 'ModuleDecl') {
        if (moduleDecl) {
          this.diagnostics.push(
            diagnostic('E0102', `the module name is declared twice (first on line ${moduleDecl.range.start.line})`, this.file, item.range),
          );
        } else moduleDecl = item;
      } else if (item.kind === 'FileImport' || item.kind === 'StdImport') imports.push(item);
      else declarations.push(item);
    }
    const out: Mutable<Omit<A.Module, 'comments'>> = {
      kind: 'Module',
      file: this.file,
      imports,
      declarations,
      range: this.range(0, this.text.length),
    };
    if (moduleDecl) out.module = moduleDecl;
    return out;
  }

  // ───────────── expressions ─────────────

  /** A flat expression: operands (built) and operator tokens in source order, `dotdot` at its index. */
  flatExpression(items: ExprItem[], dotdot: IToken | undefined): A.Expr {
    if (!dotdot) return this.climb(items);
    const at = dotdot.startOffset;
    return this.rangeExpr(this.climb(items.filter((i) => i.at < at)), this.climb(items.filter((i) => i.at > at)));
  }

  primaryToken(t: IToken, kind: 'string' | 'number' | 'bool' | 'null'): A.Expr {
    switch (kind) {
      case 'string':
        return this.stringLit(t);
      case 'number':
        return this.numericLiteral(t);
      case 'bool':
        return { kind: 'BoolLit', value: t.image === 'true', range: this.tokRange(t) };
      case 'null':
        return { kind: 'NullLit', range: this.tokRange(t) };
    }
  }

  nameOrCall(name: IToken, args: A.Expr[] | undefined, end: number): A.Expr {
    if (!args) return { kind: 'NameExpr', name: name.image, range: this.tokRange(name) };
    return { kind: 'CallExpr', callee: this.ident(name), args, range: this.range(name.startOffset, end) };
  }

  member(object: A.Expr, m: IToken): A.MemberExpr {
    const property = this.ident(m);
    return { kind: 'MemberExpr', object, property, range: { start: object.range.start, end: property.range.end } };
  }

  indexExpr(object: A.Expr, index: A.Expr, close: IToken): A.IndexExpr {
    return { kind: 'IndexExpr', object, index, range: this.range(object.range.start.offset, close.endOffset! + 1) };
  }

  recordLitOf(fields: readonly A.RecordField[], start: number, end: number): A.RecordLit {
    const kept: A.RecordField[] = [];
    const bag = this.newBag('this record');
    for (const f of fields) if (this.firstTimeAt(bag, f.key.name, f.key.range)) kept.push(f);
    return { kind: 'RecordLit', fields: kept, range: this.range(start, end) };
  }

  // ───────────── types ─────────────

  recordTypeOf(fields: readonly A.FieldDecl[], start: number, end: number): A.RecordType {
    const kept: A.FieldDecl[] = [];
    const bag = this.newBag('this record type');
    for (const f of fields) if (this.firstTimeAt(bag, f.name.name, f.name.range)) kept.push(f);
    return { kind: 'RecordType', fields: kept, range: this.range(start, end) };
  }

  fieldDeclOf(name: IToken, type: A.TypeExpr, dataClass: IToken | undefined, def: A.Expr | undefined, start: number, end: number): A.FieldDecl {
    const f: Mutable<A.FieldDecl> = { kind: 'FieldDecl', name: this.ident(name), type, range: this.range(start, end) };
    if (dataClass) {
      const w = this.word(dataClass, DATA_CLASSES, 'data class');
      if (w) f.dataClass = w;
    }
    if (def) f.default = def;
    return this.withDocAt(f, start);
  }

  namedTypeOf(name: A.QualifiedName, args: readonly A.TypeExpr[], start: number, end: number): A.TypeExpr {
    const range = this.range(start, end);
    const simple = name.parts.length === 1 ? name.parts[0]!.name : undefined;
    if (simple === 'list' || simple === 'map') {
      if (args.length !== 1) {
        this.error(`${simple} takes one type argument: ${simple}<T>`, range);
        throw MISSING;
      }
      return simple === 'list' ? { kind: 'ListType', element: args[0]!, range } : { kind: 'MapType', value: args[0]!, range };
    }
    if (args.length > 0) this.error(`type '${name.parts.map((p) => p.name).join('.')}' takes no type arguments`, range);
    if (simple !== undefined && PRIMITIVES.has(simple)) return { kind: 'PrimitiveType', name: simple as A.PrimitiveTypeName, range: name.range };
    return { kind: 'NamedType', name, range: name.range };
  }

  retrySpecOf(attempts: IToken, kindTok: IToken | undefined, delay: IToken | undefined, max: IToken | undefined, start: number, end: number): A.RetrySpec {
    const r: Mutable<A.RetrySpec> = { kind: 'RetrySpec', attempts: this.integer(attempts, 'the retry count').value, range: this.range(start, end) };
    if (kindTok) {
      const kind = this.word(kindTok, ['fixed', 'exponential'] as const, 'backoff');
      const d = this.durationLit(delay);
      if (kind) r.backoff = max ? { kind, delay: d, max: this.durationLit(max) } : { kind, delay: d };
    }
    return r;
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
      if (!REPEATABLE.has(key) && !this.firstTime(bag, key === 'retrySpec' ? 'retry' : key, 0, 0)) continue;
      apply(key, p[1]);
    }
  }

  capabilityOf(name: IToken, props: readonly Prop[], start: number, end: number): A.CapabilityDecl {
    const id = this.ident(name);
    const d: Mutable<A.CapabilityDecl> = { kind: 'CapabilityDecl', name: id, range: this.range(start, end) };
    this.props(props, `capability '${id.name}'`, (key, v) => {
      switch (key) {
        case 'kind': {
          const w = this.word(v as IToken, CAPABILITY_KINDS, 'capability kind');
          if (w) d.capabilityKind = w;
          break;
        }
        case 'input': d.input = v as A.RecordType; break;
        case 'output': d.output = v as A.TypeExpr; break;
        case 'handler': d.handler = this.stringLit(v as IToken, false); break;
        case 'timeout': d.timeout = this.durationLit(v as IToken); break;
        case 'retrySpec': d.retry = v as A.RetrySpec; break;
        case 'cost': d.cost = this.moneyLit(v as IToken); break;
        case 'latency': d.latency = this.durationLit(v as IToken); break;
        case 'data': {
          const w = this.word(v as IToken, DATA_CLASSES, 'data class');
          if (w) d.data = w;
          break;
        }
        case 'consent': d.consent = (v as IToken[]).map((t) => this.stringLit(t, false)); break;
        case 'requires': d.requires = v as A.Ident[]; break;
        case 'idempotent': d.idempotent = v as boolean; break;
      }
    });
    return d;
  }

  resourceOf(name: IToken, props: readonly Prop[], start: number, end: number): A.ResourceDecl {
    const id = this.ident(name);
    const d: Mutable<A.ResourceDecl> = { kind: 'ResourceDecl', name: id, range: this.range(start, end) };
    this.props(props, `resource '${id.name}'`, (key, v) => {
      const t = v as IToken;
      switch (key) {
        case 'kind': {
          const w = this.word(t, RESOURCE_KINDS, 'resource kind');
          if (w) d.resourceKind = w;
          break;
        }
        case 'provides': d.provides = v as A.Ident[]; break;
        case 'concurrency': d.concurrency = this.integer(t, 'concurrency'); break;
        case 'cost': d.cost = this.moneyLit(t); break;
        case 'latency': d.latency = this.durationLit(t); break;
        case 'reliability': d.reliability = this.percentLit(t); break;
        case 'location': d.location = this.stringLit(t); break;
        case 'energy': d.energy = this.numberLit(t); break;
      }
    });
    return d;
  }

  policyOf(name: IToken, props: readonly Prop[], start: number, end: number): A.PolicyDecl {
    const id = this.ident(name);
    const budgets: A.BudgetDecl[] = [];
    const rateLimits: A.RateLimitDecl[] = [];
    const d: Mutable<A.PolicyDecl> = { kind: 'PolicyDecl', name: id, budgets, rateLimits, range: this.range(start, end) };
    this.props(props, `policy '${id.name}'`, (key, v) => {
      const t = v as IToken;
      switch (key) {
        case 'strategy': {
          const w = this.word(t, STRATEGIES, 'strategy');
          if (w) d.strategy = w;
          break;
        }
        case 'weights': {
          const bag = this.newBag('the weights');
          const weights: A.WeightDecl[] = [];
          for (const w of v as A.WeightDecl[]) if (this.firstTimeAt(bag, w.key.name, w.key.range)) weights.push(w);
          d.weights = weights;
          break;
        }
        case 'budgetDecl': {
          const b = v as A.BudgetDecl | undefined;
          if (b) budgets.push(b);
          break;
        }
        case 'prefer': {
          const w = this.word(t, ['local', 'edge', 'cloud'] as const, 'preference');
          if (w) d.prefer = w;
          break;
        }
        case 'max_fallbacks': d.maxFallbacks = this.integer(t, 'max_fallbacks'); break;
        case 'require_consent': d.requireConsent = v as boolean; break;
        case 'rateLimitDecl': rateLimits.push(v as A.RateLimitDecl); break;
      }
    });
    return d;
  }

  budgetOf(metricTok: IToken, opTok: IToken, limitTok: IToken, start: number, end: number): A.BudgetDecl | undefined {
    const metric = this.word(metricTok, ['cost', 'duration'] as const, 'budget metric');
    const op = opTok.image as '<=' | '<';
    if (!metric) return undefined;
    if (metric === 'cost' && limitTok.tokenType !== MoneyTok) {
      this.error(`a cost budget needs an amount of money (e.g. 0.50usd), found '${limitTok.image}'`, this.tokRange(limitTok));
      return undefined;
    }
    if (metric === 'duration' && limitTok.tokenType !== DurationTok) {
      this.error(`a duration budget needs a duration (e.g. 10m), found '${limitTok.image}'`, this.tokRange(limitTok));
      return undefined;
    }
    const limit = metric === 'cost' ? this.moneyLit(limitTok) : this.durationLit(limitTok);
    return { kind: 'BudgetDecl', metric, op, limit, range: this.range(start, end) };
  }

  guardrailOf(name: IToken, props: readonly Prop[], start: number, end: number): A.GuardrailDecl {
    const id = this.ident(name);
    const rules: A.GuardrailRule[] = [];
    const d: Mutable<A.GuardrailDecl> = { kind: 'GuardrailDecl', name: id, rules, range: this.range(start, end) };
    this.props(props, `guardrail '${id.name}'`, (key, v) => {
      const t = v as IToken;
      switch (key) {
        case 'severity': {
          const w = this.word(t, GUARDRAIL_SEVERITIES, 'severity');
          if (w) d.severity = w;
          break;
        }
        case 'category': d.category = this.ident(t); break;
        case 'message': d.message = this.stringLit(t); break;
        default: rules.push(v as A.GuardrailRule);
      }
    });
    return d;
  }

  kindSelector(word: IToken, range: A.Range): A.Selector {
    const k = this.word(word, CAPABILITY_KINDS, 'capability kind');
    if (!k) throw MISSING;
    return { kind: 'KindSelector', capabilityKind: k, range };
  }

  // ───────────── plans ─────────────

  planOf(name: IToken, props: readonly (Prop | A.StepDecl)[], start: number, end: number): A.PlanDecl {
    const id = this.ident(name);
    const body: (A.StepDecl | A.ForEachDecl | A.InvariantDecl)[] = [];
    const success: A.SuccessCriterion[] = [];
    const d: Mutable<A.PlanDecl> = { kind: 'PlanDecl', name: id, guardrails: [], body, success, range: this.range(start, end) };
    this.props(props, `plan '${id.name}'`, (key, v) => {
      const t = v as IToken;
      switch (key) {
        case 'stepDecl':
        case 'forEach':
        case 'invariantDecl':
          body.push(v as A.StepDecl);
          break;
        case 'goal': d.goal = this.stringLit(t); break;
        case 'input': d.input = v as A.RecordType; break;
        case 'policy': d.policy = v as A.QualifiedName; break;
        case 'guardrails': d.guardrails = v as A.QualifiedName[]; break;
        case 'priority': {
          const w = this.word(t, PRIORITIES, 'priority');
          if (w) d.priority = w;
          break;
        }
        case 'deadline': d.deadline = this.durationLit(t); break;
        case 'concurrency': d.concurrency = this.integer(t, 'concurrency'); break;
        case 'on_failure': {
          const w = this.word(t, ['abort', 'continue', 'rollback'] as const, 'failure mode');
          if (w) d.onFailure = w;
          break;
        }
        case 'output': d.output = v as A.RecordLit; break;
        case 'successDecl': success.push(v as A.SuccessCriterion); break;
      }
    });
    return d;
  }

  successOf(label: IToken | undefined, condition: A.Expr, start: number, end: number): A.SuccessCriterion {
    const s: Mutable<A.SuccessCriterion> = { kind: 'SuccessCriterion', condition, range: this.range(start, end) };
    if (label) s.label = this.stringLit(label);
    return s;
  }

  stepOf(name: IToken, action: A.StepAction, inlineWhen: { key: IToken; expr: A.Expr } | undefined, block: readonly Prop[] | undefined, start: number, end: number): A.StepDecl {
    const id = this.ident(name);
    const after: A.Ident[] = [];
    const d: Mutable<A.StepDecl> = { kind: 'StepDecl', name: id, action, after, range: this.range(start, end) };
    if (!block) {
      // Nothing can be given twice without a block.
      if (inlineWhen) d.when = inlineWhen.expr;
      return this.withDocAt(d, start);
    }
    const bag = this.newBag(`step '${id.name}'`);
    if (inlineWhen) {
      this.firstTime(bag, 'when', inlineWhen.key.startOffset, inlineWhen.key.endOffset! + 1);
      d.when = inlineWhen.expr;
    }
    const o: StepOptions = {};
    for (let i = 0; i < block.length; i++) {
      const key = block[i]![0];
      if (this.firstTime(bag, key, 0, 0)) (o as Record<string, unknown>)[key] = block[i]![1];
    }
    // The CST path assigns options in this fixed order, whatever the source order.
    if (o.after) after.push(...o.after);
    if (o.on) d.on = o.on;
    if (o.fallback) d.fallback = o.fallback;
    if (o.compensate) d.compensate = o.compensate;
    if (o.timeout) d.timeout = this.durationLit(o.timeout);
    if (o.retry) d.retry = o.retry;
    if (o.join) {
      const w = this.word(o.join, JOIN_RULES, 'join rule');
      if (w) d.join = w;
    }
    if (o.on_failure) {
      const w = this.word(o.on_failure, ['abort', 'continue'] as const, 'step failure mode');
      if (w) d.onFailure = w;
    }
    if (o.priority) {
      const w = this.word(o.priority, PRIORITIES, 'priority');
      if (w) d.priority = w;
    }
    if (o.when && !d.when) d.when = o.when;
    return this.withDocAt(d, start);
  }

  argument(name: IToken, value: A.Expr): A.Argument {
    const id = this.ident(name);
    return { kind: 'Argument', name: id, value, range: { start: id.range.start, end: value.range.end } };
  }

  capabilityCallOf(parts: readonly IToken[], args: A.Argument[], start: number, end: number): A.CapabilityCall {
    return { kind: 'CapabilityCall', capability: this.qualified(parts), args, range: this.range(start, end) };
  }

  forEachOf(item: IToken, list: A.Expr, parallel: IToken | undefined, body: (A.StepDecl | A.ForEachDecl)[], start: number, end: number): A.ForEachDecl {
    const d: Mutable<A.ForEachDecl> = { kind: 'ForEachDecl', item: this.ident(item), list, body, range: this.range(start, end) };
    if (parallel) d.parallel = this.integer(parallel, 'parallel');
    return d;
  }

  // ───────────── triggers ─────────────

  triggerOf(name: IToken, props: readonly Prop[], start: number, end: number): A.TriggerDecl {
    const id = this.ident(name);
    const range = this.range(start, end);
    let source: A.TriggerSource | undefined;
    let sourceKey = '';
    let plan: A.QualifiedName | undefined;
    let timezone: IToken | undefined;
    let where: { expr: A.Expr; range: A.Range } | undefined;
    const d: Partial<Mutable<A.TriggerDecl>> = {};
    this.props(props, `trigger '${id.name}'`, (key, v) => {
      switch (key) {
        case 'timezone': timezone = v as IToken; break;
        case 'where': where = v as { expr: A.Expr; range: A.Range }; break;
        case 'run': plan = v as A.QualifiedName; break;
        case 'with': d.with = v as A.RecordLit; break;
        case 'debounce': d.debounce = this.durationLit(v as IToken); break;
        default: {
          const s = v as A.TriggerSource | undefined;
          if (!s) break;
          if (source) {
            this.error(`a trigger has one source; '${key}' conflicts with '${sourceKey}'`, s.range);
            break;
          }
          source = s;
          sourceKey = key;
        }
      }
    });
    const src = source as A.TriggerSource | undefined;
    if (timezone) {
      if (src?.kind === 'ScheduleSource') source = { ...src, timezone: this.stringLit(timezone, false), range: { start: src.range.start, end: this.tokRange(timezone).end } };
      else this.error("'timezone' only applies to a 'schedule' trigger", this.tokRange(timezone));
    }
    if (where) {
      if (src?.kind === 'EventSource') source = { ...src, where: where.expr, range: { start: src.range.start, end: where.range.end } };
      else this.error("'where' only applies to an 'event' trigger", where.range);
    }
    if (!source) {
      this.error(`trigger '${id.name}' needs a source: schedule, event, manual, api, when or after`, id.range);
      throw MISSING;
    }
    if (!plan) {
      this.error(`trigger '${id.name}' needs 'run PLAN'`, id.range);
      throw MISSING;
    }
    return { kind: 'TriggerDecl', name: id, source, plan, ...d, range } as A.TriggerDecl;
  }

  // ───────────── verification ─────────────

  invariantOf(nameTok: IToken, modality: IToken, condition: A.Expr, start: number, end: number): A.InvariantDecl {
    const name: A.Ident | A.StringLit = nameTok.tokenType === StringTok ? this.stringLit(nameTok, false) : this.ident(nameTok);
    const d: Mutable<A.InvariantDecl> = { kind: 'InvariantDecl', name, modality: modality.image as A.Modality, condition, range: this.range(start, end) };
    return this.withDocAt(d, start);
  }

  /** Ranges are allowed in expressions parsed while this is on (the properties of `simulate`). */
  setInSimulate(on: boolean): void {
    this.inSimulate = on;
  }

  simulateOf(capability: A.QualifiedName, props: readonly Prop[], start: number, end: number): A.SimulateDecl {
    const d: Mutable<A.SimulateDecl> = { kind: 'SimulateDecl', capability, range: this.range(start, end) };
    this.props(props, `simulate '${capability.parts.map((p) => p.name).join('.')}'`, (key, v) => {
      switch (key) {
        case 'output': d.output = v as A.RecordLit; break;
        case 'fail': d.fail = this.percentLit(v as IToken); break;
        case 'latency': {
          const e = v as A.Expr;
          if (isLitOrRange(e, 'DurationLit')) d.latency = e as A.DurationLit | A.RangeExpr;
          else this.error('expected a duration or a duration range such as 1s..5s', e.range);
          break;
        }
        case 'cost': {
          const e = v as A.Expr;
          if (isLitOrRange(e, 'MoneyLit')) d.cost = e as A.MoneyLit | A.RangeExpr;
          else this.error('expected an amount of money or a range such as 0.01usd..0.05usd', e.range);
          break;
        }
      }
    });
    return d;
  }
}
