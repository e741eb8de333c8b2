/**
 * The shared builders' module and declarations (node-builders.ts): each declaration's properties,
 * plans, steps and their blocks, triggers and context sources.
 */
import type { IToken } from 'chevrotain';
import type * as A from './ast.js';
import {
  CAPABILITY_KINDS, DATA_CLASSES, GUARDRAIL_SEVERITIES, INTEGRITIES, JOIN_RULES, PRIORITIES, RESOURCE_KINDS, STRATEGIES, WEIGHT_FACTORS,
} from './ast.js';
import { diagnostic, type Range } from './diagnostic.js';
import { DurationTok, MoneyTok } from './lexer.js';
import { need, MISSING } from './cst-access.js';
import { fitted, MAX_REPEAT, type KeyedValue, type Mutable, type StepOptionKey, type TriggerParts } from './builder-support.js';
import { ExpressionBuilders } from './expression-builders.js';
import { compactNodes } from './compact-nodes.js';
import { endOffset, startOffset } from './source.js';

export abstract class DeclarationBuilders extends ExpressionBuilders {
  /** The module from its items in source order; a second `module` line is an E0102. */
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

  capabilityProp(d: Mutable<A.CapabilityDecl>, key: string, v: unknown): void {
    const t = v as IToken;
    switch (key) {
      case 'kind': this.setWord(d, 'capabilityKind', t, CAPABILITY_KINDS, 'capability kind'); break;
      case 'input': d.input = v as A.RecordType; break;
      case 'output': d.output = v as A.TypeExpr; break;
      case 'handler': d.handler = this.stringLit(t, false); break;
      case 'timeout': d.timeout = this.unitLit(t, key, 'duration'); break;
      case 'retrySpec': d.retry = v as A.RetrySpec; break;
      case 'cost': d.cost = this.unitLit(t, key, 'money'); break;
      case 'latency': d.latency = this.unitLit(t, key, 'duration'); break;
      case 'data': this.setWord(d, 'data', t, DATA_CLASSES, 'data class'); break;
      case 'consent': d.consent = (v as IToken[]).map((s) => this.stringLit(s, false)); break;
      case 'requires': d.requires = v as A.Ident[]; break;
      case 'idempotent': d.idempotent = v as boolean; break;
      case 'destructive': d.destructive = v as boolean; break;
      case 'system': d.system = this.stringLit(t); break;
      case 'prompt': d.prompt = this.stringLit(t); break;
      case 'model': d.model = this.stringLit(t, false); break;
      case 'endpoint': d.endpoint = this.stringLit(t, false); break;
      case 'temperature': d.temperature = this.plainNumber(t, key); break;
      // Its range (≥ 1, whole) is E0801 in the compiler (§8.9), not a parse error.
      case 'max_tokens': d.maxTokens = this.plainNumber(t, key); break;
      case 'trust': this.setWord(d, 'trust', t, INTEGRITIES, 'integrity'); break;
      case 'endorses': d.endorses = v as boolean; break;
    }
  }

  resourceProp(d: Mutable<A.ResourceDecl>, key: string, v: unknown): void {
    const t = v as IToken;
    switch (key) {
      case 'kind': this.setWord(d, 'resourceKind', t, RESOURCE_KINDS, 'resource kind'); break;
      case 'provides': d.provides = v as A.Ident[]; break;
      case 'concurrency': d.concurrency = this.integer(t, 'concurrency', key); break;
      case 'cost': d.cost = this.unitLit(t, key, 'money'); break;
      case 'latency': d.latency = this.unitLit(t, key, 'duration'); break;
      case 'reliability': d.reliability = this.unitLit(t, key, 'percent'); break;
      case 'location': d.location = this.stringLit(t); break;
      case 'energy': d.energy = this.plainNumber(t, key); break;
      case 'endpoint': d.endpoint = this.stringLit(t, false); break;
      case 'model': d.model = this.stringLit(t, false); break;
      case 'accepts': this.setWord(d, 'accepts', t, DATA_CLASSES, 'data class'); break;
      case 'available': d.availableWhen = v as A.Expr; break;
    }
  }

  policyProp(d: Mutable<A.PolicyDecl>, key: string, v: unknown): void {
    const t = v as IToken;
    switch (key) {
      case 'strategy': this.setWord(d, 'strategy', t, STRATEGIES, 'strategy'); break;
      case 'weights': {
        const bag = this.newBag('the weights');
        const weights: A.WeightDecl[] = [];
        for (const w of v as A.WeightDecl[]) if (this.firstTimeAt(bag, w.key.name, w.key.range)) weights.push(w);
        d.weights = weights;
        break;
      }
      case 'budgetDecl': {
        const b = v as A.BudgetDecl | undefined;
        if (b) (d.budgets as A.BudgetDecl[]).push(b);
        break;
      }
      case 'prefer': this.setWord(d, 'prefer', t, ['local', 'edge', 'cloud'] as const, 'preference'); break;
      case 'max_fallbacks': d.maxFallbacks = this.integer(t, 'max_fallbacks', key); break;
      case 'require_consent': d.requireConsent = v as boolean; break;
      case 'rateLimitDecl': (d.rateLimits as A.RateLimitDecl[]).push(v as A.RateLimitDecl); break;
    }
  }

  /** A `weights` entry: the factors balanced/comfort placement scores (another key would be ignored). */
  weight(key: IToken | undefined, value: IToken | undefined, range: Range): A.WeightDecl {
    this.word(key, WEIGHT_FACTORS, 'weight');
    return { kind: 'WeightDecl', key: this.ident(key), value: this.plainNumber(value, this.ident(key).name), range };
  }

  /** A budget. A limit of the wrong unit for its metric is kept: the compiler reports it (E0203). */
  budget(metricTok: IToken | undefined, opTok: IToken | undefined, limitTok: IToken | undefined, range: Range, warn = false): A.BudgetDecl | undefined {
    const metric = this.word(metricTok, ['cost', 'duration'] as const, 'budget metric');
    const op = need(opTok).image as '<=' | '<';
    const limitT = need(limitTok);
    if (!metric) return undefined;
    // Money for a duration budget (or the reverse) is kept for the compiler's E0203, which says
    // what the metric needs; a plain number or a percentage is E0203 here (`'budget cost' needs …`).
    const limit = limitT.tokenType === MoneyTok ? this.moneyLit(limitT) : limitT.tokenType === DurationTok ? this.durationLit(limitT) : this.attempt(() => (metric === 'cost' ? this.unitLit(limitT, 'budget cost', 'money') : this.unitLit(limitT, 'budget duration', 'duration')));
    if (!limit) return undefined;
    return { kind: 'BudgetDecl', metric, op, limit, ...(warn ? { warn: true } : {}), range };
  }

  rateLimit(capability: A.QualifiedName, count: IToken | undefined, per: IToken | undefined, range: Range): A.RateLimitDecl {
    return { kind: 'RateLimitDecl', capability, count: this.integer(count, 'the rate limit count', 'rate_limit').value, per: this.unitLit(per, 'per', 'duration'), range };
  }

  guardrailProp(d: Mutable<A.GuardrailDecl>, key: string, v: unknown): void {
    const t = v as IToken;
    switch (key) {
      case 'severity': this.setWord(d, 'severity', t, GUARDRAIL_SEVERITIES, 'severity'); break;
      case 'category': d.category = this.ident(t); break;
      case 'message': d.message = this.stringLit(t); break;
      default: (d.rules as A.GuardrailRule[]).push(v as A.GuardrailRule);
    }
  }

  kindSelector(word: IToken, range: Range): A.Selector {
    const k = this.word(word, CAPABILITY_KINDS, 'capability kind');
    if (!k) throw MISSING;
    return { kind: 'KindSelector', capabilityKind: k, range };
  }

  /** A plan property other than its body (steps, loops and invariants: each path places those). */
  planProp(d: Mutable<A.PlanDecl>, key: string, v: unknown): void {
    const t = v as IToken;
    switch (key) {
      case 'goal': d.goal = this.stringLit(t); break;
      case 'input': d.input = v as A.RecordType; break;
      case 'policy': d.policy = v as A.QualifiedName; break;
      case 'guardrails': d.guardrails = v as A.QualifiedName[]; break;
      case 'priority': this.setWord(d, 'priority', t, PRIORITIES, 'priority'); break;
      case 'deadline': d.deadline = this.unitLit(t, key, 'duration'); break;
      case 'concurrency': d.concurrency = this.integer(t, 'concurrency', key); break;
      case 'on_failure': this.setWord(d, 'onFailure', t, ['abort', 'continue', 'rollback'] as const, 'failure mode'); break;
      case 'output': d.output = v as A.RecordLit; break;
      case 'successDecl': (d.success as A.SuccessCriterion[]).push(v as A.SuccessCriterion); break;
    }
  }

  success(label: IToken | undefined, condition: A.Expr, range: Range): A.SuccessCriterion {
    const s: Mutable<A.SuccessCriterion> = { kind: 'SuccessCriterion', condition, range };
    if (label) s.label = this.stringLit(label);
    return s;
  }

  /** A step option (value: its token, or its sub-rule built); `when` in the block yields to an inline one. */
  stepOption(d: Mutable<A.StepDecl>, key: StepOptionKey, v: unknown): void {
    const t = v as IToken;
    switch (key) {
      case 'after': d.after = fitted([...d.after, ...(v as A.Ident[])]); break;
      case 'on': d.on = v as A.QualifiedName; break;
      case 'fallback': d.fallback = v as A.CapabilityCall; break;
      case 'compensate': d.compensate = v as A.CapabilityCall; break;
      case 'timeout': d.timeout = this.unitLit(t, key, 'duration'); break;
      case 'retry': d.retry = v as A.RetrySpec; break;
      case 'join': this.setWord(d, 'join', t, JOIN_RULES, 'join rule'); break;
      case 'on_failure': this.setWord(d, 'onFailure', t, ['abort', 'continue'] as const, 'step failure mode'); break;
      case 'priority': this.setWord(d, 'priority', t, PRIORITIES, 'priority'); break;
      case 'when':
        if (!d.when) d.when = v as A.Expr;
        break;
    }
  }

  argument(name: IToken, value: A.Expr): A.Argument {
    const id = this.ident(name);
    const compact = compactNodes(this.index);
    if (compact) {
      // `join`'s offsets, without the range it would make (this node is its own).
      const s = startOffset(id.range);
      return compact.argument(id, value, s, Math.max(s, endOffset(value.range)));
    }
    return { kind: 'Argument', name: id, value, range: this.index.join(id.range, value.range) };
  }

  capabilityCall(capability: A.QualifiedName, args: A.Argument[], range: Range): A.CapabilityCall {
    return { kind: 'CapabilityCall', capability, args: fitted(args), range };
  }

  forEachDecl(item: IToken | undefined, list: A.Expr, parallel: IToken | undefined, body: A.BlockItem[], range: Range): A.ForEachDecl {
    const d: Mutable<A.ForEachDecl> = { kind: 'ForEachDecl', item: this.ident(item), list, body, range };
    if (parallel) d.parallel = this.integer(parallel, 'parallel', 'parallel');
    return d;
  }

  /** A race needs two branches at least: one step alone is not a race (E0303). */
  raceDecl(name: IToken | undefined, body: A.StepDecl[], range: Range): A.RaceDecl {
    const id = this.ident(name);
    if (body.length < 2 && !this.hasSyntaxErrorIn(startOffset(range), endOffset(range))) {
      this.diagnostics.push(diagnostic('E0303', `race ${id.name} has ${body.length === 0 ? 'no branch' : 'one branch'}; a race needs two or more steps that compete (a single step needs no race)`, this.file, id.range));
    }
    return { kind: 'RaceDecl', name: id, body, range };
  }

  /** A loop without `max`, or with a `max` outside 1..1000, is E0302: Orch has no unbounded loop. */
  repeatDecl(name: IToken | undefined, max: IToken | undefined, until: A.Expr, onFailure: IToken | undefined, body: A.BlockItem[], range: Range): A.RepeatDecl {
    const id = this.ident(name);
    const d: Mutable<A.RepeatDecl> = { kind: 'RepeatDecl', name: id, until, body, range };
    if (!max) {
      // `max input.n`: the syntax error already says a number is needed there.
      if (!this.hasSyntaxErrorIn(startOffset(range), endOffset(range)))
        this.diagnostics.push(diagnostic('E0302', `repeat ${id.name} has no bound: write "repeat ${id.name} max N until …" with N from 1 to ${MAX_REPEAT} (Orch has no unbounded loop)`, this.file, id.range));
    } else {
      const n = this.integer(max, 'max', 'max');
      if (n.integer && (n.value < 1 || n.value > MAX_REPEAT))
        this.diagnostics.push(diagnostic('E0302', `repeat ${id.name} max ${max.image}: the bound must be from 1 to ${MAX_REPEAT}`, this.file, n.range));
      d.max = n;
    }
    // Nothing to repeat: its iterations would end at once, and a step `after` it would have no
    // step of it to wait for.
    if (!holdsStep(body) && !this.hasSyntaxErrorIn(startOffset(range), endOffset(range)))
      this.diagnostics.push(diagnostic('E0302', `repeat ${id.name} has no step: a loop repeats the steps inside it (to wait for something outside, use "wait until")`, this.file, id.range));
    if (onFailure) this.setWord(d, 'onFailure', onFailure, ['abort', 'continue'] as const, 'loop failure mode');
    return d;
  }

  triggerParts(): TriggerParts {
    return { sourceKey: '', rest: {} };
  }

  /** A trigger item; a second source is an E0001 (value: the source built, or the token / sub-rule). */
  triggerProp(t: TriggerParts, key: string, v: unknown): void {
    switch (key) {
      case 'timezone': t.timezone = v as IToken; break;
      case 'where': t.where = v as { expr: A.Expr; range: Range }; break;
      case 'run': t.plan = v as A.QualifiedName; break;
      case 'with': t.rest.with = v as A.RecordLit; break;
      case 'debounce': t.rest.debounce = this.unitLit(v as IToken, key, 'duration'); break;
      case 'consent': t.rest.consent = (v as IToken[]).map((s) => this.stringLit(s, false)); break;
      default: {
        const s = v as A.TriggerSource | undefined;
        // An ill-written source (`after p exploded`) was reported where it stands: the trigger
        // is not also told it lacks one.
        if (!s) {
          t.sourceKey ||= key;
          break;
        }
        if (t.source) {
          this.error(`a trigger has one source; '${key}' conflicts with '${t.sourceKey}'`, s.range);
          break;
        }
        t.source = s;
        t.sourceKey = key;
      }
    }
  }

  /** The trigger from its items: `timezone` and `where` join their source; source and plan are required. */
  triggerDecl(name: A.Ident, t: TriggerParts, range: Range): A.TriggerDecl {
    const src = t.source;
    let source = src;
    if (t.timezone) {
      if (src?.kind === 'ScheduleSource') source = { ...src, timezone: this.stringLit(t.timezone, false), range: this.index.join(src.range, this.tokRange(t.timezone)) };
      else this.error("'timezone' only applies to a 'schedule' trigger", this.tokRange(t.timezone));
    }
    if (t.where) {
      if (src?.kind === 'EventSource') source = { ...src, where: t.where.expr, range: this.index.join(src.range, t.where.range) };
      else this.error("'where' only applies to an 'event' trigger", t.where.range);
    }
    // A trigger whose block already has a syntax error is not told what it lacks as well.
    const broken = this.hasSyntaxErrorIn(startOffset(range), endOffset(range) + 1);
    if (!source) {
      if (!broken && !t.sourceKey) this.error(`trigger '${name.name}' needs a source: schedule, event, manual, api, when or after`, name.range);
      throw MISSING;
    }
    if (!t.plan) {
      if (!broken) this.error(`trigger '${name.name}' needs 'run PLAN'`, name.range);
      throw MISSING;
    }
    return { kind: 'TriggerDecl', name, source, plan: t.plan, ...t.rest, range } as A.TriggerDecl;
  }

  source(name: IToken | undefined, topics: readonly A.TopicMapping[], range: Range): A.SourceDecl {
    return { kind: 'SourceDecl', name: this.ident(name), topics: fitted([...topics]), range };
  }

  /** `topic "T" sets X [from E] [at E]`: `from` and `at` in either order, each once (E0102). */
  topic(topic: IToken | undefined, signal: IToken | undefined, options: readonly KeyedValue[] | undefined, range: Range): A.TopicMapping {
    const m: Mutable<A.TopicMapping> = { kind: 'TopicMapping', topic: this.stringLit(topic, false), signal: this.ident(signal), range };
    if (!options) return m;
    const bag = options.length > 1 ? this.newBag(`the topic mapping of '${m.signal.name}'`) : undefined;
    for (const [key, value] of options) {
      if (bag && !this.firstTime(bag, key.image, key.startOffset, key.endOffset! + 1)) continue;
      if (key.image === 'from') m.from = value;
      else m.at = value;
    }
    return m;
  }
}

/** Whether a block body holds a step at any depth. */
function holdsStep(body: readonly A.BlockItem[]): boolean {
  return body.some((b) => b.kind === 'StepDecl' || (b.kind === 'RaceDecl' ? b.body.length > 0 : holdsStep(b.body)));
}
