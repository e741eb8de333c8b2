/**
 * Resolves every use of a name in one module to the declaration it means, across file imports
 * and the std library. This is the editor's AST-level index (definition, references, rename,
 * semantic tokens); type checking and diagnostics stay with the compiler.
 */
import { dirname, resolve } from 'node:path';
import type {
  Argument, CapabilityCall, Expr, Ident, MemberExpr, Module, QualifiedName, RecordLit, StepDecl,
} from '../../language/index.js';
import type { Range } from '../../language/index.js';
import { mcpModulePath } from '../../compiler/index.js';
import { childrenOf, type AstNode } from '../ast-walk.js';
import { collectDeclarations, contextFieldsKey, fieldsKey } from './declarations.js';
import type { DeclarationTable, FileIndex, OrchReference, OrchSymbol } from './model.js';

/** Std capabilities every module sees without an import (LANGUAGE.md §4, built-in step forms). */
export const IMPLICIT_STD_MODULE = 'std.capabilities';

export interface IndexHost {
  /** Declarations of another `.orch` file by absolute path, or undefined when unreadable. */
  fileTable(path: string): DeclarationTable | undefined;
  /** Declarations of a std module (`std.policies`), or undefined when unknown. */
  stdTable(name: string): DeclarationTable | undefined;
  isStd(file: string): boolean;
}

interface Scope {
  readonly planKey?: string;
  readonly steps: ReadonlyMap<string, OrchSymbol>;
  readonly items: ReadonlyMap<string, OrchSymbol>;
}

const EXPR_KINDS = new Set([
  'StringLit', 'NumberLit', 'DurationLit', 'MoneyLit', 'PercentLit', 'BoolLit', 'NullLit', 'ListLit', 'RecordLit',
  'NameExpr', 'MemberExpr', 'IndexExpr', 'CallExpr', 'UnaryExpr', 'BinaryExpr', 'RangeExpr', 'ParenExpr',
]);

export function resolveFileImport(fromFile: string, importPath: string): string {
  return resolve(dirname(fromFile), importPath);
}

/** The files `module` (of `file`) imports directly, as absolute paths. */
export function fileImportsOf(module: Module, file: string): string[] {
  return module.imports.flatMap((i) => (i.kind === 'FileImport' ? [resolveFileImport(file, i.path)] : []));
}

export function buildFileIndex(module: Module, file: string, host: IndexHost, decls = collectDeclarations(module, file)): FileIndex {
  const references: OrchReference[] = [];
  const tables = new Map<string, DeclarationTable>([[file, decls]]);
  /** Qualifier → module it names: file aliases and bare std imports (`policies`). */
  const qualifiers = new Map<string, { table: DeclarationTable; alias?: OrchSymbol }>();
  /** Names brought in unqualified: `import std.guardrails { a }` and the implicit std capabilities. */
  const imported = new Map<string, OrchSymbol>();
  const fileImports: FileIndex['fileImports'][number][] = [];

  const ref = (sym: OrchSymbol | undefined, name: string, range: Range): OrchSymbol | undefined => {
    if (sym) references.push({ key: sym.key, name, file, range, kind: sym.kind, role: sym.role, std: host.isStd(sym.file) });
    return sym;
  };
  const remember = (t: DeclarationTable | undefined): DeclarationTable | undefined => {
    if (t) tables.set(t.file, t);
    return t;
  };

  const implicit = remember(host.stdTable(IMPLICIT_STD_MODULE));
  if (implicit) for (const [n, s] of implicit.topLevel) if (s.kind === 'capability') imported.set(n, s);

  for (const imp of module.imports) {
    if (imp.kind === 'FileImport') {
      const path = imp.mcp ? mcpModulePath(file, imp.path) : resolveFileImport(file, imp.path);
      fileImports.push({ alias: imp.alias.name, path, range: imp.pathRange });
      const table = path === file ? undefined : remember(host.fileTable(path));
      if (table) qualifiers.set(imp.alias.name, { table, alias: decls.topLevel.get(imp.alias.name) });
    } else {
      const name = imp.path.parts.map((p) => p.name).join('.');
      const table = remember(host.stdTable(name));
      if (!table) continue;
      if (imp.names) {
        for (const n of imp.names) {
          const sym = table.topLevel.get(n.name);
          if (sym) imported.set(n.name, ref(sym, n.name, n.range)!);
        }
      } else {
        const last = imp.path.parts[imp.path.parts.length - 1];
        if (last) qualifiers.set(last.name, { table });
      }
    }
  }

  const tableOf = (sym: OrchSymbol): DeclarationTable | undefined => tables.get(sym.file);
  const fieldOf = (owner: OrchSymbol | undefined, role: 'input' | 'output' | 'type', name: string): OrchSymbol | undefined =>
    owner ? tableOf(owner)?.fields.get(fieldsKey(owner.key, role))?.get(name) : undefined;

  /** Resolves `name` or `alias.name`; records a reference for each part that resolves. */
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
    const node = n as never as Record<string, unknown> & { kind: string };
    switch (n.kind) {
      case 'NamedType':
        resolveQualified((node as unknown as { name: QualifiedName }).name);
        return;
      case 'CapabilityCall':
        call(node as unknown as CapabilityCall, scope);
        return;
      case 'RunAction': {
        const r = node as unknown as { plan: QualifiedName; args: readonly Argument[] };
        args(resolveQualified(r.plan), r.args, scope);
        return;
      }
      case 'StepDecl': {
        const s = node as unknown as StepDecl;
        visit(s.action, scope);
        if (s.when) visitExpr(s.when, scope);
        for (const a of s.after) ref(scope.steps.get(a.name), a.name, a.range);
        resolveQualified(s.on);
        call(s.fallback, scope);
        call(s.compensate, scope);
        return;
      }
      case 'ForEachDecl': {
        const f = node as unknown as import('../../language/index.js').ForEachDecl;
        visitExpr(f.list, scope);
        const loop = decls.symbols.find((s) => s.kind === 'item' && s.node === f.item);
        const items = new Map(scope.items);
        if (loop) items.set(loop.name, loop);
        for (const b of f.body) visit(b, { ...scope, items });
        return;
      }
      case 'PlanDecl': {
        const p = node as unknown as import('../../language/index.js').PlanDecl;
        const plan = decls.symbols.find((s) => s.kind === 'plan' && s.node === p);
        const planScope: Scope = plan
          ? { planKey: plan.key, steps: decls.steps.get(plan.key) ?? new Map(), items: new Map() }
          : moduleScope;
        resolveQualified(p.policy);
        for (const g of p.guardrails) resolveQualified(g);
        if (p.input) visit(p.input, planScope);
        for (const b of p.body) visit(b, planScope);
        for (const s of p.success) visitExpr(s.condition, planScope);
        if (p.output) visitExpr(p.output, planScope);
        return;
      }
      case 'TriggerDecl': {
        const t = node as unknown as import('../../language/index.js').TriggerDecl;
        const plan = resolveQualified(t.plan);
        visit(t.source, moduleScope);
        recordKeys(plan, 'input', t.with, moduleScope);
        return;
      }
      case 'ChainSource':
        resolveQualified((node as unknown as { plan: QualifiedName }).plan);
        return;
      case 'SimulateDecl': {
        const s = node as unknown as import('../../language/index.js').SimulateDecl;
        const cap = resolveQualified(s.capability);
        recordKeys(cap, 'output', s.output, moduleScope);
        if (s.latency) visitExpr(s.latency, moduleScope);
        if (s.cost) visitExpr(s.cost, moduleScope);
        return;
      }
      // v0.4: what a test names (its plan, mocked capabilities) and the signals sources set.
      case 'TestDecl':
        resolveQualified((node as unknown as { plan: QualifiedName }).plan);
        for (const c of childrenOf(n)) visit(c, scope);
        return;
      case 'MockDecl':
        resolveQualified((node as unknown as { capability: QualifiedName }).capability);
        for (const c of childrenOf(n)) visit(c, scope);
        return;
      case 'TopicMapping':
      case 'StaleSignal':
      case 'SignalDecl': {
        const id = (node as unknown as { signal: Ident }).signal;
        ref(decls.fields.get(contextFieldsKey(file))?.get(id.name), id.name, id.range);
        for (const c of childrenOf(n)) visit(c, scope);
        return;
      }
      case 'RateLimitDecl':
      case 'CapabilitySelector':
        resolveQualified((node as unknown as { capability: QualifiedName }).capability);
        return;
      case 'StepSelector': {
        const id = (node as unknown as { step: Ident }).step;
        ref(scope.steps.get(id.name), id.name, id.range);
        return;
      }
      case 'ModuleDecl':
      case 'StdImport':
      case 'FileImport':
        return;
      default:
        for (const c of childrenOf(n)) visit(c, scope);
    }
  };

  for (const d of module.declarations) {
    try {
      visit(d, moduleScope);
    } catch {
      // A malformed subtree from error recovery must not cost the rest of the file its index.
    }
  }
  const visible = new Map(imported);
  for (const [n, sym] of decls.topLevel) visible.set(n, sym);
  const qualifierTables = new Map([...qualifiers].map(([q, v]) => [q, v.table] as const));
  return { ...decls, references, fileImports, visible, qualifiers: qualifierTables, tables };
}
