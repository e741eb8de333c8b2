/** The printer's declarations: each kind's properties in their fixed order, plans, triggers, simulations, sources and tests. */
import type {
  CapabilityDecl, Comment, ContextDecl, Declaration, Expr, GuardrailDecl, GuardrailRule, MockDecl, PlanDecl, PolicyDecl, ResourceDecl,
  Selector, SimulateContextDecl, SimulateDecl, SourceDecl, SuccessCriterion, TestDecl, TopicMapping, TriggerDecl, TriggerSource, TypeAliasDecl, TypeExpr,
} from './ast.js';
import { commentsWithin } from './comments.js';
import { group, indent, join, line, type Doc } from './layout.js';
import { sections, type Item, type Property } from './print-blocks.js';
import { formatNumber } from './print-literals.js';
import { StatementPrinter } from './print-statements.js';

/** Reserved words that continue an expression (`a in b`): a field named so ends the value before it. */
const INFIX_WORDS = new Set(['in', 'and', 'or', 'implies']);

export class DeclarationPrinter extends StatementPrinter {
  protected declaration(d: Declaration, comments: Comment[]): Doc {
    switch (d.kind) {
      case 'TypeAliasDecl':
        return this.typeAlias(d, comments);
      case 'CapabilityDecl':
        return this.capability(d, comments);
      case 'ResourceDecl':
        return this.resource(d, comments);
      case 'PolicyDecl':
        return this.policy(d, comments);
      case 'GuardrailDecl':
        return this.guardrail(d, comments);
      case 'ContextDecl':
        return this.context(d, comments);
      case 'PlanDecl':
        return this.plan(d, comments);
      case 'TriggerDecl':
        return this.trigger(d, comments);
      case 'InvariantDecl':
        return this.invariant(d, comments);
      case 'SimulateDecl':
        return this.simulate(d, comments);
      case 'SimulateContextDecl':
        return this.simulateContext(d, comments);
      case 'SourceDecl':
        return this.sourceDecl(d, comments);
      case 'TestDecl':
        return this.test(d, comments);
    }
  }

  protected typeAlias(d: TypeAliasDecl, comments: Comment[]): Doc {
    const { doc, rest } = this.typeWithComments(d.type, comments);
    return this.withTrailing(['type ', d.name.name, ' = ', doc], rest);
  }

  protected capability(d: CapabilityDecl, comments: Comment[]): Doc {
    const props: Property[] = [];
    if (d.capabilityKind) props.push(this.prop('kind', d.capabilityKind));
    if (d.input) {
      const input = d.input;
      props.push({ keyword: 'input', value: input, print: (inner) => ['input ', this.recordType(input, inner)] });
    }
    if (d.output) props.push(this.typeProp('output', d.output));
    if (d.handler) props.push(this.prop('handler', this.stringLit(d.handler), d.handler.range));
    if (d.timeout) props.push(this.prop('timeout', this.expr(d.timeout), d.timeout.range));
    if (d.retry) props.push(this.prop('retry', this.retry(d.retry), d.retry.range));
    if (d.cost) props.push(this.prop('cost', this.expr(d.cost), d.cost.range));
    if (d.latency) props.push(this.prop('latency', this.expr(d.latency), d.latency.range));
    if (d.data) props.push(this.prop('data', d.data));
    if (d.consent) props.push(this.prop('consent', this.wordList(d.consent.map((s) => this.stringLit(s)))));
    if (d.requires) props.push(this.prop('requires', this.wordList(d.requires.map((i) => i.name))));
    if (d.idempotent !== undefined) props.push(this.prop('idempotent', String(d.idempotent)));
    if (d.destructive !== undefined) props.push(this.prop('destructive', String(d.destructive)));
    if (d.system) props.push(this.prop('system', this.stringLit(d.system), d.system.range));
    if (d.prompt) props.push(this.prop('prompt', this.stringLit(d.prompt), d.prompt.range));
    if (d.model) props.push(this.prop('model', this.stringLit(d.model), d.model.range));
    if (d.endpoint) props.push(this.prop('endpoint', this.stringLit(d.endpoint), d.endpoint.range));
    if (d.temperature) props.push(this.prop('temperature', this.expr(d.temperature), d.temperature.range));
    if (d.maxTokens) props.push(this.prop('max_tokens', this.expr(d.maxTokens), d.maxTokens.range));
    if (d.trust) props.push(this.prop('trust', d.trust));
    if (d.endorses !== undefined) props.push(this.prop('endorses', String(d.endorses)));
    return this.propertyBlock(['capability ', d.name.name, ...(d.from ? [' from ', this.qname(d.from)] : [])], d, props, comments);
  }

  protected typeProp(keyword: string, type: TypeExpr): Property {
    return {
      keyword,
      value: type,
      print: (inner) => {
        const { doc, rest } = this.typeWithComments(type, inner);
        return this.withTrailing([keyword, ' ', doc], rest);
      },
    };
  }

  protected resource(d: ResourceDecl, comments: Comment[]): Doc {
    const props: Property[] = [];
    if (d.resourceKind) props.push(this.prop('kind', d.resourceKind));
    if (d.provides) props.push(this.prop('provides', this.wordList(d.provides.map((i) => i.name))));
    if (d.concurrency) props.push(this.prop('concurrency', this.expr(d.concurrency), d.concurrency.range));
    if (d.cost) props.push(this.prop('cost', this.expr(d.cost), d.cost.range));
    if (d.latency) props.push(this.prop('latency', this.expr(d.latency), d.latency.range));
    if (d.reliability) props.push(this.prop('reliability', this.expr(d.reliability), d.reliability.range));
    if (d.location) props.push(this.prop('location', this.stringLit(d.location), d.location.range));
    if (d.energy) props.push(this.prop('energy', this.expr(d.energy), d.energy.range));
    if (d.endpoint) props.push(this.prop('endpoint', this.stringLit(d.endpoint), d.endpoint.range));
    if (d.model) props.push(this.prop('model', this.stringLit(d.model), d.model.range));
    if (d.accepts) props.push(this.prop('accepts', d.accepts));
    const available = d.availableWhen;
    if (available) props.push({ keyword: 'available', value: available, print: (inner) => ['available when ', this.exprC(available, inner)] });
    return this.propertyBlock(['resource ', d.name.name], d, props, comments);
  }

  protected policy(d: PolicyDecl, comments: Comment[]): Doc {
    const props: Property[] = [];
    if (d.strategy) props.push(this.prop('strategy', d.strategy));
    if (d.weights) {
      const weights = d.weights;
      props.push({
        keyword: 'weights',
        value: weights[0],
        print: (inner) => {
          const items: Item[] = weights.map((w) => ({ range: w.range, print: (c) => this.withTrailing([w.key.name, ': ', this.expr(w.value)], c) }));
          return ['weights ', this.commaList('{', '}', items, inner, true)];
        },
      });
    }
    for (const b of d.budgets) props.push(this.prop('budget', [b.metric, ' ', b.op, ' ', this.expr(b.limit), b.warn ? ' warn' : ''], b.range));
    if (d.prefer) props.push(this.prop('prefer', d.prefer));
    if (d.maxFallbacks) props.push(this.prop('max_fallbacks', this.expr(d.maxFallbacks), d.maxFallbacks.range));
    if (d.requireConsent !== undefined) props.push(this.prop('require_consent', String(d.requireConsent)));
    for (const r of d.rateLimits) {
      props.push(this.prop('rate_limit', [this.qname(r.capability), ' ', formatNumber(r.count, true), ' per ', this.expr(r.per)], r.range));
    }
    return this.propertyBlock(['policy ', d.name.name], d, props, comments);
  }

  protected guardrail(d: GuardrailDecl, comments: Comment[]): Doc {
    const props: Property[] = [];
    if (d.severity) props.push(this.prop('severity', d.severity));
    if (d.category) props.push(this.prop('category', d.category.name, d.category.range));
    for (const r of d.rules) props.push(this.rule(r));
    if (d.message) props.push(this.prop('message', this.stringLit(d.message), d.message.range));
    return this.propertyBlock(['guardrail ', d.name.name], d, props, comments);
  }

  protected rule(r: GuardrailRule): Property {
    const exprProp = (keyword: string, head: Doc, e: Expr): Property => ({
      keyword,
      value: r,
      print: (inner) => [head, this.exprC(e, inner)],
    });
    switch (r.kind) {
      case 'ForbidRule':
        return exprProp('forbid', 'forbid step where ', r.condition);
      case 'AssertRule':
        return exprProp('assert', 'assert ', r.condition);
      case 'CheckRule':
        return exprProp('check', ['check ', this.selector(r.target), ' where '], r.condition);
      case 'RequireRule':
        return this.prop('require', [this.selector(r.subject), ' ', r.order, ' ', this.selector(r.object)], r.range);
    }
  }

  protected selector(s: Selector): Doc {
    switch (s.kind) {
      case 'StepSelector':
        return s.step.name;
      case 'KindSelector':
        return ['kind ', s.capabilityKind];
      case 'CapabilitySelector':
        return ['capability ', this.qname(s.capability)];
    }
  }

  protected context(d: ContextDecl, comments: Comment[]): Doc {
    const items: Item[] = d.fields.map((f, i) => {
      // Fields of a context block need no comma, but a default followed by a field named by an
      // operator word (`n: int = 1` then `in: string`) would read as `1 in …`: a comma ends it.
      const next = d.fields[i + 1];
      const endsWithDefault = f.default !== undefined && f.maxAge === undefined && f.hold === undefined;
      const comma = endsWithDefault && next !== undefined && INFIX_WORDS.has(next.name.name);
      return { range: f.range, doc: f.doc, print: (inner) => this.fieldDecl(f, inner, comma ? ',' : '') };
    });
    return this.block('context', items, comments, d.range);
  }

  protected plan(d: PlanDecl, comments: Comment[]): Doc {
    const props: Property[] = [];
    if (d.goal) props.push(this.prop('goal', this.stringLit(d.goal), d.goal.range));
    if (d.input) {
      const input = d.input;
      props.push({ keyword: 'input', value: input, print: (inner) => ['input ', this.recordType(input, inner)] });
    }
    if (d.policy) props.push(this.prop('policy', this.qname(d.policy), d.policy.range));
    if (d.guardrails.length > 0) {
      const first = d.guardrails[0]!;
      props.push(this.prop('guardrails', this.wordList(d.guardrails.map((g) => this.qname(g))), first.range));
    }
    if (d.priority) props.push(this.prop('priority', d.priority));
    if (d.deadline) props.push(this.prop('deadline', this.expr(d.deadline), d.deadline.range));
    if (d.concurrency) props.push(this.prop('concurrency', this.expr(d.concurrency), d.concurrency.range));
    if (d.onFailure) props.push(this.prop('on_failure', d.onFailure));
    const results: Property[] = d.success.map((s) => ({ keyword: 'success', value: s, print: (inner) => this.success(s, inner) }));
    if (d.output) {
      const output = d.output;
      results.push({ keyword: 'output', value: output, print: (inner) => ['output ', this.recordLit(output, inner)] });
    }
    const propItems = this.propertyItems(d, [...props, ...results], comments, d.body.map((b) => b.range));
    const body: Item[] = d.body.map((b) => this.bodyItem(b));
    return this.block(
      ['plan ', d.name.name],
      sections(propItems.slice(0, props.length), body, propItems.slice(props.length)),
      comments,
      d.range,
    );
  }

  protected success(s: SuccessCriterion, comments: Comment[]): Doc {
    return ['success ', s.label ? [this.stringLit(s.label), ': '] : '', this.exprC(s.condition, comments)];
  }

  protected trigger(d: TriggerDecl, comments: Comment[]): Doc {
    const props: Property[] = [this.triggerSource(d.source)];
    const withRecord = d.with;
    props.push({
      keyword: 'run',
      value: d.plan,
      print: (inner) => ['run ', this.qname(d.plan), withRecord ? [' with ', this.recordLit(withRecord, inner)] : this.withTrailing('', inner)],
    });
    if (d.debounce) props.push(this.prop('debounce', this.expr(d.debounce), d.debounce.range));
    if (d.consent) props.push(this.prop('consent', this.wordList(d.consent.map((s) => this.stringLit(s)))));
    return this.propertyBlock(['trigger ', d.name.name], d, props, comments);
  }

  protected triggerSource(s: TriggerSource): Property {
    switch (s.kind) {
      case 'ScheduleSource':
        return this.prop('schedule', [this.stringLit(s.cron), s.timezone ? [' timezone ', this.stringLit(s.timezone)] : ''], s.range);
      case 'EventSource': {
        const where = s.where;
        return {
          keyword: 'event',
          value: s,
          print: (inner) => ['event ', this.stringLit(s.eventType), where ? [' where ', this.exprC(where, inner)] : this.withTrailing('', inner)],
        };
      }
      case 'ManualSource':
        return { keyword: 'manual', value: s, print: (inner) => this.withTrailing('manual', inner) };
      case 'ApiSource':
        return this.prop('api', this.stringLit(s.path), s.range);
      case 'ConditionSource':
        return { keyword: 'when', value: s, print: (inner) => ['when ', this.exprC(s.condition, inner)] };
      case 'ChainSource':
        return this.prop('after', [this.qname(s.plan), ' ', s.outcome], s.range);
    }
  }

  protected simulate(d: SimulateDecl, comments: Comment[]): Doc {
    const props: Property[] = [];
    if (d.output) {
      const output = d.output;
      props.push({ keyword: 'output', value: output, print: (inner) => ['output ', this.recordLit(output, inner)] });
    }
    if (d.fail) props.push(this.prop('fail', this.expr(d.fail), d.fail.range));
    if (d.latency) props.push(this.prop('latency', this.expr(d.latency), d.latency.range));
    if (d.cost) props.push(this.prop('cost', this.expr(d.cost), d.cost.range));
    return this.propertyBlock(['simulate ', this.qname(d.capability)], d, props, comments);
  }

  protected simulateContext(d: SimulateContextDecl, comments: Comment[]): Doc {
    const items: Item[] = d.signals.map((s) => ({
      range: s.range,
      print: (inner) => this.withTrailing([s.signal.name, ' stale ', this.expr(s.share)], inner),
    }));
    return this.block('simulate context', items, comments, d.range);
  }

  protected sourceDecl(d: SourceDecl, comments: Comment[]): Doc {
    const items: Item[] = d.topics.map((t) => ({ range: t.range, blankBefore: 'source', print: (inner) => this.topic(t, inner) }));
    return this.block(['source ', d.name.name], items, comments, d.range);
  }

  protected topic(t: TopicMapping, comments: Comment[]): Doc {
    const parts = this.parts(comments);
    return this.withTrailing(
      ['topic ', this.stringLit(t.topic), ' sets ', t.signal.name, t.from ? [' from ', parts(t.from)] : '', t.at ? [' at ', parts(t.at)] : ''],
      parts.rest(),
    );
  }

  /**
   * Prints the expressions of a one-line item, each with the comments inside it; `rest()` gives
   * the comments none of them held (for the item to trail).
   */
  protected parts(comments: readonly Comment[]): ((e: Expr) => Doc) & { rest: () => Comment[] } {
    const used = new Set<Comment>();
    const print = (e: Expr): Doc => {
      const mine = commentsWithin(comments, e.range).filter((c) => !used.has(c));
      for (const c of mine) used.add(c);
      return e.kind === 'RecordLit' ? this.recordLit(e, mine) : this.exprC(e, mine);
    };
    return Object.assign(print, { rest: () => comments.filter((c) => !used.has(c)) });
  }

  protected test(d: TestDecl, comments: Comment[]): Doc {
    const props: Property[] = [];
    const origin = d.origin;
    if (origin) props.push(this.prop('captured_from', [this.stringLit(origin.run), ' ir_hash ', this.stringLit(origin.irHash)], origin.range));
    props.push(this.prop('plan', this.qname(d.plan), d.plan.range));
    if (d.startedBy) props.push(this.prop('started_by', this.stringLit(d.startedBy), d.startedBy.range));
    for (const [keyword, record] of [['input', d.input], ['context', d.context]] as const) {
      if (record) props.push({ keyword, value: record, print: (inner) => [keyword, ' ', this.recordLit(record, inner)] });
    }
    const body: Item[] = [
      ...d.mocks.map((m): Item => ({ range: m.range, blankBefore: 'source', print: (inner) => this.mock(m, inner) })),
      ...d.decisions.map((x): Item => ({
        range: x.range,
        blankBefore: 'source',
        print: (inner) => this.withTrailing([x.decision, ' ', x.step.name, ' by ', join(', ', x.by.map((p) => this.stringLit(p))), x.at ? [' at ', this.expr(x.at)] : ''], inner),
      })),
      ...d.signals.map((x): Item => ({
        range: x.range,
        blankBefore: 'source',
        print: (inner) => {
          const parts = this.parts(inner);
          return this.withTrailing(['signal context.', x.signal.name, ' = ', parts(x.value), ' at ', this.expr(x.at)], parts.rest());
        },
      })),
      ...d.expects.map((x): Item => ({
        range: x.range,
        blankBefore: 'source',
        print: (inner) => ['expect ', x.always ? 'always ' : '', this.exprC(x.condition, inner)],
      })),
    ];
    const propItems = this.propertyItems(d, props, comments, body.map((b) => b.range!));
    return this.block(['test ', this.stringLit(d.name)], [...propItems, ...body], comments, d.range);
  }

  /** One line when it fits; else each clause (`returns`, `then`, `latency`, …) on a line of its own. */
  protected mock(m: MockDecl, comments: Comment[]): Doc {
    const parts = this.parts(comments);
    const clauses: Doc[] = [];
    const answers = (values: readonly Expr[]): void => {
      values.forEach((v, i) => clauses.push([i === 0 ? 'returns ' : 'then ', parts(v)]));
    };
    if (m.fails) {
      clauses.push(['fails ', this.stringLit(m.fails), m.times ? [' times ', this.expr(m.times), ' then'] : '']);
      if (m.times) answers(m.returns);
    } else answers(m.returns);
    if (m.latency) clauses.push(['latency ', this.expr(m.latency)]);
    if (m.cost) clauses.push(['cost ', this.expr(m.cost)]);
    if (m.usage) clauses.push(['usage ', parts(m.usage)]);
    const doc = group('mock ', this.qname(m.capability), m.where ? [' where ', parts(m.where)] : '', indent(clauses.map((c) => [line, c])));
    return this.withTrailing(doc, parts.rest());
  }
}
