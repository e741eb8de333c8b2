/**
 * CST → AST (language/ast.ts shapes). Also reports the errors that are easier to state on the
 * tree than in the grammar: a property given twice (E0102), an unknown enum word such as
 * `kind robot` (E0001, listing the allowed words), a range outside `simulate`.
 *
 * After error recovery the CST may be partial. A node that lacks a part the AST requires is
 * dropped (the syntax error was already reported), so every AST node handed on is well formed.
 *
 * This file only finds the tokens in the CST; the nodes and their checks are built by the
 * builders shared with the direct path (node-builders.ts). `AstBuilder` is one class in layers:
 * `cst-expressions.ts` (names, strings, expressions, types), `cst-statements.ts` (plan bodies),
 * and here the module, its imports and declarations.
 */
import type { CstNode } from 'chevrotain';
import type * as A from './ast.js';
import { child, need, nodes, nodeSpan, onlyChild, token, tokens, MISSING } from './cst-access.js';
import { pairUp } from './cst-expressions.js';
import { CstStatementBuilder } from './cst-statements.js';
import { keyName, REPEATABLE, type KeyedValue, type Mutable } from './node-builders.js';

/** The CST path: reads the tokens out of CST nodes and hands them to the shared builders. */
export class AstBuilder extends CstStatementBuilder {
  module(root: CstNode): Omit<A.Module, 'comments'> {
    const items: (A.ModuleDecl | A.ImportDecl | A.Declaration)[] = [];
    for (const item of nodes(root, 'topItem')) {
      const decl = need(onlyChild(item));
      const built = this.attempt((): A.ModuleDecl | A.ImportDecl | A.Declaration => {
        switch (decl.name) {
          case 'moduleDecl':
            return { kind: 'ModuleDecl', name: this.qualifiedName(child(decl, 'qualifiedName')), range: this.nodeRange(decl) };
          case 'importDecl':
            return this.importDecl(decl);
          default:
            return this.declaration(decl);
        }
      });
      if (built) items.push(built);
    }
    return this.moduleOf(items);
  }

  private importDecl(n: CstNode): A.ImportDecl {
    const range = this.nodeRange(n);
    const path = token(n, 'path');
    if (path) {
      const imp: Mutable<A.FileImport> = {
        kind: 'FileImport',
        path: this.plainString(path),
        pathRange: this.tokRange(path),
        alias: this.ident(token(n, 'alias')),
        range,
      };
      if (token(n, 'mcp')) imp.mcp = true;
      return imp;
    }
    const imp: Mutable<A.StdImport> = { kind: 'StdImport', path: this.qualifiedName(child(n, 'qualifiedName')), range };
    if (token(n, 'LCurly')) {
      const list = child(n, 'nameList');
      imp.names = list ? this.nameList(list) : [];
    }
    return imp;
  }

  private declaration(n: CstNode): A.Declaration {
    // The doc is taken before the body is built: a declaration dropped after recovery still
    // consumes its doc comment (it does not turn into a plain comment).
    const doc = this.doc(need(nodeSpan(n))[0]);
    const d = this.declarationBody(n);
    return doc === undefined ? d : { ...d, doc };
  }

  private declarationBody(n: CstNode): A.Declaration {
    switch (n.name) {
      case 'typeAlias':
        return {
          kind: 'TypeAliasDecl',
          name: this.ident(token(n, 'name')),
          type: this.typeExpr(child(n, 'typeExpr')),
          range: this.nodeRange(n),
        };
      case 'capabilityDecl':
        return this.capability(n);
      case 'resourceDecl':
        return this.resource(n);
      case 'policyDecl':
        return this.policy(n);
      case 'guardrailDecl':
        return this.guardrail(n);
      case 'contextDecl': {
        this.inContext = true;
        try {
          const rec = this.recordType(child(n, 'recordType'));
          return { kind: 'ContextDecl', fields: rec.fields, range: this.nodeRange(n) };
        } finally {
          this.inContext = false;
        }
      }
      case 'planDecl':
        return this.plan(n);
      case 'triggerDecl':
        return this.trigger(n);
      case 'invariantDecl':
        return this.invariant(n);
      case 'simulateDecl': {
        const ctx = child(n, 'simulateContext');
        return ctx ? this.simulateContextNode(n, ctx) : this.simulate(n);
      }
      case 'sourceDecl':
        return this.sourceNode(n);
      case 'testDecl':
        return this.testNode(n);
      default:
        throw MISSING;
    }
  }

  /**
   * Walks the property sub-rules of a block; `key` is the property keyword (or a sub-rule name)
   * and `prop` the node holding its value (the sub-rule's own node for those).
   */
  private properties(n: CstNode, rule: string, owner: string, apply: (key: string, prop: CstNode) => void): void {
    const bag = this.newBag(owner);
    for (const prop of nodes(n, rule)) {
      const keyTok = token(prop, 'key');
      const sub = keyTok ? undefined : onlyChild(prop);
      const key = keyTok?.image ?? sub?.name;
      if (!key) continue;
      const propSpan = nodeSpan(prop);
      if (!propSpan) continue;
      const repeatable = REPEATABLE.has(key);
      if (!repeatable && !this.firstTime(bag, keyName(key), propSpan[0], propSpan[1])) continue;
      this.attempt(() => apply(key, sub ?? prop));
    }
  }

  /**
   * A property's value as the direct path gets it: the sub-rule built, or the one token or
   * sub-rule after the key (built). Nothing there (after recovery) drops the property.
   */
  private propValue(key: string, p: CstNode): unknown {
    switch (key) {
      case 'retrySpec': return this.retrySpecNode(p);
      case 'budgetDecl': return this.budgetNode(p);
      case 'rateLimitDecl': return this.rateLimit(this.qualifiedName(child(p, 'qualifiedName')), token(p, 'count'), token(p, 'per'), this.nodeRange(p));
      case 'forbidRule': return { kind: 'ForbidRule', condition: this.expression(child(p, 'expression')), range: this.nodeRange(p) } satisfies A.ForbidRule;
      case 'assertRule': return { kind: 'AssertRule', condition: this.expression(child(p, 'expression')), range: this.nodeRange(p) } satisfies A.AssertRule;
      case 'requireRule': {
        const subject = this.selector(child(p, 'subject'));
        const object = this.selector(child(p, 'object'));
        const order = need(token(p, 'order')).image as 'before' | 'after';
        return { kind: 'RequireRule', subject, order, object, range: this.nodeRange(p) } satisfies A.RequireRule;
      }
      case 'checkRule': {
        const target = this.selector(child(p, 'selector'));
        return { kind: 'CheckRule', target, condition: this.expression(child(p, 'expression')), range: this.nodeRange(p) } satisfies A.CheckRule;
      }
      case 'successDecl': {
        const label = token(p, 'label');
        return this.success(label, this.expression(child(p, 'expression')), this.nodeRange(p));
      }
      case 'weights': {
        const weights: A.WeightDecl[] = [];
        for (const e of nodes(need(child(p, 'weightsBlock')), 'weightEntry')) {
          const w = this.attempt(() => this.weight(token(e, 'key'), token(e, 'AnyNumber'), this.nodeRange(e)));
          if (w) weights.push(w);
        }
        return weights;
      }
      case 'consent': return tokens(need(child(p, 'stringList')), 'value');
      case 'guardrails': return nodes(need(child(p, 'qualifiedNameList')), 'name').map((q) => this.qualifiedName(q));
    }
    for (const label of VALUE_TOKENS) {
      const t = token(p, label);
      if (t) return label === 'Number' || label === 'AnyNumber' ? this.signed(token(p, 'sign'), t) : t;
    }
    for (const label of VALUE_RULES) {
      const c = child(p, label);
      if (!c) continue;
      switch (label) {
        case 'recordType': return this.recordType(c);
        case 'typeExpr': return this.typeExpr(c);
        case 'recordLit': return this.recordLit(c);
        case 'nameList': return this.nameList(c);
        case 'boolLit': return this.boolLit(c);
        case 'qualifiedName': return this.qualifiedName(c);
        case 'expression': return this.expression(c);
      }
    }
    throw MISSING;
  }

  private capability(n: CstNode): A.CapabilityDecl {
    const name = this.ident(token(n, 'name'));
    const d: Mutable<A.CapabilityDecl> = { kind: 'CapabilityDecl', name, range: this.nodeRange(n) };
    const from = child(n, 'from');
    if (from) d.from = this.qualifiedName(from);
    this.properties(n, 'capabilityProp', `capability '${name.name}'`, (key, p) => this.capabilityProp(d, key, this.propValue(key, p)));
    return d;
  }

  private resource(n: CstNode): A.ResourceDecl {
    const name = this.ident(token(n, 'name'));
    const d: Mutable<A.ResourceDecl> = { kind: 'ResourceDecl', name, range: this.nodeRange(n) };
    this.properties(n, 'resourceProp', `resource '${name.name}'`, (key, p) => this.resourceProp(d, key, this.propValue(key, p)));
    return d;
  }

  private policy(n: CstNode): A.PolicyDecl {
    const name = this.ident(token(n, 'name'));
    const d: Mutable<A.PolicyDecl> = { kind: 'PolicyDecl', name, budgets: [], rateLimits: [], range: this.nodeRange(n) };
    this.properties(n, 'policyProp', `policy '${name.name}'`, (key, p) => this.policyProp(d, key, this.propValue(key, p)));
    return d;
  }

  private budgetNode(p: CstNode): A.BudgetDecl | undefined {
    return this.budget(token(p, 'metric'), token(p, 'op'), token(p, 'limit'), this.nodeRange(p), token(p, 'warn') !== undefined);
  }

  private guardrail(n: CstNode): A.GuardrailDecl {
    const name = this.ident(token(n, 'name'));
    const d: Mutable<A.GuardrailDecl> = { kind: 'GuardrailDecl', name, rules: [], range: this.nodeRange(n) };
    this.properties(n, 'guardrailProp', `guardrail '${name.name}'`, (key, p) => this.guardrailProp(d, key, this.propValue(key, p)));
    return d;
  }

  private selector(n: CstNode | undefined): A.Selector {
    const node = need(n);
    const range = this.nodeRange(node);
    const kindWord = token(node, 'kindWord');
    if (kindWord) return this.kindSelector(kindWord, range);
    const qn = child(node, 'qualifiedName');
    if (qn) return { kind: 'CapabilitySelector', capability: this.qualifiedName(qn), range };
    return { kind: 'StepSelector', step: this.ident(token(node, 'step')), range };
  }

  private plan(n: CstNode): A.PlanDecl {
    const name = this.ident(token(n, 'name'));
    const body: (A.BlockItem | A.InvariantDecl)[] = [];
    // Steps are direct children of the plan node; loops and invariants come wrapped in
    // `planItem`. Source order is restored from offsets.
    const placed: { at: number; item: A.BlockItem | A.InvariantDecl }[] = [];
    const d: Mutable<A.PlanDecl> = { kind: 'PlanDecl', name, guardrails: [], body, success: [], range: this.nodeRange(n) };
    this.properties(n, 'planItem', `plan '${name.name}'`, (key, p) => {
      switch (key) {
        case 'forEach': placed.push({ at: need(nodeSpan(p))[0], item: this.forEach(p) }); break;
        case 'raceBlock': placed.push({ at: need(nodeSpan(p))[0], item: this.race(p) }); break;
        case 'repeatBlock': placed.push({ at: need(nodeSpan(p))[0], item: this.repeat(p) }); break;
        case 'invariantDecl': placed.push({ at: need(nodeSpan(p))[0], item: this.invariant(p) }); break;
        default: this.planProp(d, key, this.propValue(key, p));
      }
    });
    for (const st of nodes(n, 'stepDecl')) {
      const step = this.attempt(() => this.step(st));
      if (step) placed.push({ at: step.range.start.offset, item: step });
    }
    if (placed.length > 0 && placed.some((p) => p.item.kind !== 'StepDecl')) placed.sort((a, b) => a.at - b.at);
    for (const p of placed) body.push(p.item);
    return d;
  }

  private trigger(n: CstNode): A.TriggerDecl {
    const name = this.ident(token(n, 'name'));
    const range = this.nodeRange(n);
    const parts = this.triggerParts();
    this.properties(n, 'triggerItem', `trigger '${name.name}'`, (key, p) => this.triggerProp(parts, key, this.triggerValue(key, p)));
    return this.triggerDecl(name, parts, range);
  }

  /** A trigger item's value as the direct path gets it: its source built, or its token / sub-rule. */
  private triggerValue(key: string, p: CstNode): unknown {
    const r = this.nodeRange(p);
    switch (key) {
      case 'schedule': return { kind: 'ScheduleSource', cron: this.stringLit(token(p, 'String'), false), range: r } satisfies A.ScheduleSource;
      case 'timezone': return need(token(p, 'String'));
      case 'event': return { kind: 'EventSource', eventType: this.stringLit(token(p, 'String'), false), range: r } satisfies A.EventSource;
      case 'where': return { expr: this.expression(child(p, 'expression')), range: r };
      case 'manual': return { kind: 'ManualSource', range: r } satisfies A.ManualSource;
      case 'api': return { kind: 'ApiSource', path: this.stringLit(token(p, 'String'), false), range: r } satisfies A.ApiSource;
      case 'when': return { kind: 'ConditionSource', condition: this.expression(child(p, 'expression')), range: r } satisfies A.ConditionSource;
      case 'after': {
        const plan = this.qualifiedName(child(p, 'qualifiedName'));
        const outcome = this.word(token(p, 'word'), ['completed', 'failed', 'finished'] as const, 'plan outcome');
        return outcome ? ({ kind: 'ChainSource', plan, outcome, range: r } satisfies A.ChainSource) : undefined;
      }
      default: return this.propValue(key, p);
    }
  }

  private invariant(n: CstNode): A.InvariantDecl {
    // The name is built first: its errors stand even when the rest is missing.
    const name = this.invariantName(need(token(n, 'name')));
    const modality = need(token(n, 'modality'));
    return this.invariantDecl(name, modality, this.expression(child(n, 'expression')), this.nodeRange(n));
  }

  private simulate(n: CstNode): A.SimulateDecl {
    const d: Mutable<A.SimulateDecl> = {
      kind: 'SimulateDecl',
      capability: this.qualifiedName(child(n, 'qualifiedName')),
      range: this.nodeRange(n),
    };
    this.inSimulate = true;
    try {
      this.properties(n, 'simulateProp', `simulate '${d.capability.parts.map((p) => p.name).join('.')}'`, (key, p) => this.simulateProp(d, key, this.propValue(key, p)));
    } finally {
      this.inSimulate = false;
    }
    return d;
  }

  private simulateContextNode(n: CstNode, ctx: CstNode): A.SimulateContextDecl {
    const signals: A.StaleSignal[] = [];
    for (const s of nodes(ctx, 'staleSignal')) {
      const x = this.attempt(() => this.staleSignal(token(s, 'name'), token(s, 'value'), this.nodeRange(s)));
      if (x) signals.push(x);
    }
    return this.simulateContext(signals, this.nodeRange(n));
  }

  private sourceNode(n: CstNode): A.SourceDecl {
    const name = need(token(n, 'name'));
    const topics: A.TopicMapping[] = [];
    for (const t of nodes(n, 'topicMapping')) {
      const x = this.attempt(() => this.topicNode(t));
      if (x) topics.push(x);
    }
    return this.source(name, topics, this.nodeRange(n));
  }

  private topicNode(n: CstNode): A.TopicMapping {
    const keys = tokens(n, 'key');
    const values = [...nodes(n, 'fromValue'), ...nodes(n, 'atValue')];
    const options: KeyedValue[] = [];
    for (const [k, value] of pairUp(keys, values.sort((a, b) => need(nodeSpan(a))[0] - need(nodeSpan(b))[0]))) {
      const e = this.attempt(() => this.expression(value));
      if (e) options.push([k, e]);
    }
    return this.topic(need(token(n, 'topic')), need(token(n, 'name')), options.length > 0 ? options : undefined, this.nodeRange(n));
  }

  private testNode(n: CstNode): A.TestDecl {
    const d = this.testStart(need(token(n, 'name')), this.nodeRange(n));
    this.properties(n, 'testItem', `test "${d.name.parts.join('')}"`, (key, p) => this.testItem(d, key, this.testValue(key, p)));
    return this.testDone(d);
  }

  /** A test item's value as the direct path gets it. */
  private testValue(key: string, p: CstNode): unknown {
    const range = this.nodeRange(p);
    switch (key) {
      case 'testOrigin': return this.testOrigin(token(p, 'run'), token(p, 'hash'), range);
      case 'mockDecl': return this.mockNode(p);
      case 'decisionDecl': {
        const at = child(p, 'virtualTime');
        return this.decision(token(p, 'decision'), token(p, 'step'), tokens(need(child(p, 'people')), 'value'), at && this.virtualTimeNode(at), range);
      }
      case 'signalDecl': return this.signal(token(p, 'name'), this.expression(child(p, 'expression')), this.virtualTimeNode(child(p, 'virtualTime')), range);
      case 'expectDecl': return this.expect(token(p, 'modality') !== undefined, this.expression(child(p, 'expression')), range);
      default: return this.propValue(key, p);
    }
  }

  private virtualTimeNode(n: CstNode | undefined): A.DurationLit {
    const node = need(n);
    return this.virtualTime(token(node, 'sign'), token(node, 'value'));
  }

  private mockNode(n: CstNode): A.MockDecl {
    const where = child(n, 'where');
    const returns = nodes(n, 'returns').map((r) => this.expression(r));
    const capability = this.qualifiedName(child(n, 'qualifiedName'));
    const m = this.mock(capability, where && this.expression(where), token(n, 'fails'), token(n, 'times'), returns, this.nodeRange(n));
    if (!m.fails && returns.length === 0) throw MISSING; // neither `returns` nor `fails`: reported by the parser
    this.properties(n, 'mockOption', `mock '${capability.parts.map((p) => p.name).join('.')}'`, (key, p) => this.mockOption(m, key, this.propValue(key, p)));
    return m;
  }
}

/** Where a keyword property keeps its value: one of these tokens, else one of these sub-rules. */
// `AnyNumber`: a quantity property takes any number, its unit checked by the builder (`unitLit`).
const VALUE_TOKENS = ['word', 'String', 'Duration', 'Money', 'Number', 'Percent', 'AnyNumber'];
const VALUE_RULES = ['recordType', 'typeExpr', 'recordLit', 'nameList', 'boolLit', 'qualifiedName', 'expression'] as const;
