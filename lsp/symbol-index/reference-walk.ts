/**
 * The walk that finds every use of a name in a module: expressions resolve through the scope they
 * are in (loop items, steps, `input.`, `context.`, a step's `output.`), and each declaration kind
 * that names something has a visitor in `DECLARATION_VISITORS`; every other node's children are
 * walked.
 */
import type {
  Argument, CapabilityCall, Expr, ForEachDecl, Ident, MemberExpr, PlanDecl, QualifiedName, RecordLit, SimulateDecl, StepDecl, TriggerDecl,
} from '../../language/index.js';
import type { Range } from '../../language/index.js';
import { childrenOf, type AstNode } from '../ast-walk.js';
import { contextFieldsKey, fieldsKey } from './declarations.js';
import type { ImportScope, IndexHost, RecordReference } from './imports.js';
import type { DeclarationTable, OrchSymbol } from './model.js';

export interface Scope {
  readonly planKey?: string;
  readonly steps: ReadonlyMap<string, OrchSymbol>;
  readonly items: ReadonlyMap<string, OrchSymbol>;
}

/** What a declaration's visitor works with. */
export interface ReferenceWalk {
  readonly file: string;
  readonly decls: DeclarationTable;
  /** Every step of the module by name (the first of each name): the scope outside plans. */
  readonly moduleScope: Scope;
  readonly ref: RecordReference;
  /** Resolves `name` or `alias.name`; records a reference for each part that resolves. */
  readonly resolveQualified: (q: QualifiedName | undefined) => OrchSymbol | undefined;
  readonly visit: (n: AstNode, scope: Scope) => void;
  readonly visitExpr: (e: Expr | AstNode, scope: Scope) => void;
  /** A call's argument names as the owner's input fields, and their values. */
  readonly args: (owner: OrchSymbol | undefined, list: readonly Argument[], scope: Scope) => void;
  /** A record literal's keys as the owner's input or output fields, and their values. */
  readonly recordKeys: (owner: OrchSymbol | undefined, role: 'input' | 'output', rec: RecordLit | undefined, scope: Scope) => void;
  readonly call: (c: CapabilityCall | undefined, scope: Scope) => void;
}

const EXPR_KINDS = new Set([
  'StringLit', 'NumberLit', 'DurationLit', 'MoneyLit', 'PercentLit', 'BoolLit', 'NullLit', 'ListLit', 'RecordLit',
  'NameExpr', 'MemberExpr', 'IndexExpr', 'CallExpr', 'UnaryExpr', 'BinaryExpr', 'RangeExpr', 'ParenExpr',
]);

type DeclarationVisitor = (n: AstNode, scope: Scope, walk: ReferenceWalk) => void;

const walkChildren: DeclarationVisitor = (n, scope, w) => {
  for (const c of childrenOf(n)) w.visit(c, scope);
};
const signalVisitor: DeclarationVisitor = (n, scope, w) => {
  const id = (n as unknown as { signal: Ident }).signal;
  w.ref(w.decls.fields.get(contextFieldsKey(w.file))?.get(id.name), id.name, id.range);
  walkChildren(n, scope, w);
};
const capabilityNamed: DeclarationVisitor = (n, _scope, w) => {
  w.resolveQualified((n as unknown as { capability: QualifiedName }).capability);
};
const nothingToResolve: DeclarationVisitor = () => undefined;

/** Per node kind that names something, how its names resolve. */
const DECLARATION_VISITORS = new Map<string, DeclarationVisitor>([
  ['NamedType', (n, _scope, w) => {
    w.resolveQualified((n as unknown as { name: QualifiedName }).name);
  }],
  ['CapabilityCall', (n, scope, w) => w.call(n as unknown as CapabilityCall, scope)],
  ['RunAction', (n, scope, w) => {
    const r = n as unknown as { plan: QualifiedName; args: readonly Argument[] };
    w.args(w.resolveQualified(r.plan), r.args, scope);
  }],
  ['StepDecl', (n, scope, w) => {
    const s = n as unknown as StepDecl;
    w.visit(s.action, scope);
    if (s.when) w.visitExpr(s.when, scope);
    for (const a of s.after) w.ref(scope.steps.get(a.name), a.name, a.range);
    w.resolveQualified(s.on);
    w.call(s.fallback, scope);
    w.call(s.compensate, scope);
  }],
  ['ForEachDecl', (n, scope, w) => {
    const f = n as unknown as ForEachDecl;
    w.visitExpr(f.list, scope);
    const loop = w.decls.symbols.find((s) => s.kind === 'item' && s.node === f.item);
    const items = new Map(scope.items);
    if (loop) items.set(loop.name, loop);
    for (const b of f.body) w.visit(b, { ...scope, items });
  }],
  ['PlanDecl', (n, _scope, w) => {
    const p = n as unknown as PlanDecl;
    const plan = w.decls.symbols.find((s) => s.kind === 'plan' && s.node === p);
    const planScope: Scope = plan
      ? { planKey: plan.key, steps: w.decls.steps.get(plan.key) ?? new Map(), items: new Map() }
      : w.moduleScope;
    w.resolveQualified(p.policy);
    for (const g of p.guardrails) w.resolveQualified(g);
    if (p.input) w.visit(p.input, planScope);
    for (const b of p.body) w.visit(b, planScope);
    for (const s of p.success) w.visitExpr(s.condition, planScope);
    if (p.output) w.visitExpr(p.output, planScope);
  }],
  ['TriggerDecl', (n, _scope, w) => {
    const t = n as unknown as TriggerDecl;
    const plan = w.resolveQualified(t.plan);
    w.visit(t.source, w.moduleScope);
    w.recordKeys(plan, 'input', t.with, w.moduleScope);
  }],
  ['ChainSource', (n, _scope, w) => {
    w.resolveQualified((n as unknown as { plan: QualifiedName }).plan);
  }],
  ['SimulateDecl', (n, _scope, w) => {
    const s = n as unknown as SimulateDecl;
    const cap = w.resolveQualified(s.capability);
    w.recordKeys(cap, 'output', s.output, w.moduleScope);
    if (s.latency) w.visitExpr(s.latency, w.moduleScope);
    if (s.cost) w.visitExpr(s.cost, w.moduleScope);
  }],
  // v0.4: what a test names (its plan, mocked capabilities) and the signals sources set.
  ['TestDecl', (n, scope, w) => {
    w.resolveQualified((n as unknown as { plan: QualifiedName }).plan);
    walkChildren(n, scope, w);
  }],
  ['MockDecl', (n, scope, w) => {
    capabilityNamed(n, scope, w);
    walkChildren(n, scope, w);
  }],
  ['TopicMapping', signalVisitor],
  ['StaleSignal', signalVisitor],
  ['SignalDecl', signalVisitor],
  ['RateLimitDecl', capabilityNamed],
  ['CapabilitySelector', capabilityNamed],
  ['StepSelector', (n, scope, w) => {
    const id = (n as unknown as { step: Ident }).step;
    w.ref(scope.steps.get(id.name), id.name, id.range);
  }],
  ['ModuleDecl', nothingToResolve],
  ['StdImport', nothingToResolve],
  ['FileImport', nothingToResolve],
]);

/** The walk over one module, its imports resolved; references go to `ref`. */
export function referenceWalk(file: string, host: IndexHost, decls: DeclarationTable, imports: ImportScope, ref: RecordReference): ReferenceWalk {
  const { qualifiers, imported, remember, tables } = imports;
  const tableOf = (sym: OrchSymbol): DeclarationTable | undefined => tables.get(sym.file);
  const fieldOf = (owner: OrchSymbol | undefined, role: 'input' | 'output' | 'type', name: string): OrchSymbol | undefined =>
    owner ? tableOf(owner)?.fields.get(fieldsKey(owner.key, role))?.get(name) : undefined;

  const resolveQualified = (q: QualifiedName | undefined): OrchSymbol | undefined => {
    if (!q || q.parts.length === 0) return undefined;
    const parts = q.parts;
    const last = parts[parts.length - 1]!;
    if (parts.length === 1) {
      return ref(decls.topLevel.get(last.name) ?? imported.get(last.name), last.name, last.range);
    }
    const qualifier = parts.slice(0, -1).map((p) => p.name).join('.');
    const viaAlias = qualifiers.get(qualifier);
    if (viaAlias) {
      if (viaAlias.alias && parts.length === 2) ref(viaAlias.alias, parts[0]!.name, parts[0]!.range);
      return ref(viaAlias.table.topLevel.get(last.name), last.name, last.range);
    }
    const std = remember(host.stdTable(qualifier));
    return ref(std?.topLevel.get(last.name), last.name, last.range);
  };

  const capabilityOfStep = (step: OrchSymbol | undefined): OrchSymbol | undefined => {
    const node = step?.node as StepDecl | undefined;
    if (node?.kind !== 'StepDecl' || node.action.kind !== 'CapabilityCall') return undefined;
    return lookupQualified(node.action.capability);
  };
  /** Like resolveQualified but without recording references (for type-directed lookups). */
  const lookupQualified = (q: QualifiedName): OrchSymbol | undefined => {
    const parts = q.parts;
    const last = parts[parts.length - 1];
    if (!last) return undefined;
    if (parts.length === 1) return decls.topLevel.get(last.name) ?? imported.get(last.name);
    const qualifier = parts.slice(0, -1).map((p) => p.name).join('.');
    return (qualifiers.get(qualifier)?.table ?? host.stdTable(qualifier))?.topLevel.get(last.name);
  };

  const args = (owner: OrchSymbol | undefined, list: readonly Argument[], scope: Scope): void => {
    for (const a of list) {
      ref(fieldOf(owner, 'input', a.name.name), a.name.name, a.name.range);
      visitExpr(a.value, scope);
    }
  };
  const recordKeys = (owner: OrchSymbol | undefined, role: 'input' | 'output', rec: RecordLit | undefined, scope: Scope): void => {
    if (!rec) return;
    for (const f of rec.fields) {
      ref(fieldOf(owner, role, f.key.name), f.key.name, f.key.range);
      visitExpr(f.value, scope);
    }
  };
  const call = (c: CapabilityCall | undefined, scope: Scope): void => {
    if (!c) return;
    args(resolveQualified(c.capability), c.args, scope);
  };

  const visitExpr = (e: Expr | AstNode, scope: Scope): void => {
    switch (e.kind) {
      case 'NameExpr': {
        const n = e as Extract<Expr, { kind: 'NameExpr' }>;
        ref(scope.items.get(n.name) ?? scope.steps.get(n.name), n.name, n.range);
        return;
      }
      case 'MemberExpr': {
        const props: Ident[] = [];
        let root: Expr = e as MemberExpr;
        while (root.kind === 'MemberExpr') {
          props.unshift(root.property);
          root = root.object;
        }
        if (root.kind === 'NameExpr') chain(root.name, root.range, props, scope);
        else visitExpr(root, scope);
        return;
      }
      case 'CallExpr': {
        const c = e as Extract<Expr, { kind: 'CallExpr' }>;
        for (const a of c.args) visitExpr(a, scope);
        for (const a of c.named ?? []) visitExpr(a.value, scope);
        return;
      }
      default:
        for (const c of childrenOf(e)) visitExpr(c, scope);
    }
  };
  const chain = (name: string, range: Range, props: readonly Ident[], scope: Scope): void => {
    const first = props[0];
    const item = scope.items.get(name);
    if (item) {
      ref(item, name, range);
      return;
    }
    const step = scope.steps.get(name);
    if (step) {
      ref(step, name, range);
      if (first?.name === 'output' && props[1]) {
        ref(fieldOf(capabilityOfStep(step), 'output', props[1].name), props[1].name, props[1].range);
      }
      return;
    }
    if (!first) return;
    if (name === 'input' && scope.planKey) {
      ref(decls.fields.get(fieldsKey(scope.planKey, 'input'))?.get(first.name), first.name, first.range);
    } else if (name === 'context') {
      ref(decls.fields.get(contextFieldsKey(file))?.get(first.name), first.name, first.range);
    }
  };

  const allSteps = new Map<string, OrchSymbol>();
  for (const table of decls.steps.values()) for (const [n, s] of table) if (!allSteps.has(n)) allSteps.set(n, s);
  const moduleScope: Scope = { steps: allSteps, items: new Map() };

  const visit = (n: AstNode, scope: Scope): void => {
    if (EXPR_KINDS.has(n.kind)) {
      visitExpr(n, scope);
      return;
    }
    const visitor = DECLARATION_VISITORS.get(n.kind);
    if (visitor) visitor(n, scope, walk);
    else for (const c of childrenOf(n)) visit(c, scope);
  };
  const walk: ReferenceWalk = { file, decls, moduleScope, ref, resolveQualified, visit, visitExpr, args, recordKeys, call };
  return walk;
}
