/**
 * Module scopes and name resolution. Each declaration kind has its own namespace (a capability
 * and a resource may share a name, as Terraform blocks do); E0102 reports a name declared twice
 * within one kind. A name resolves, in order, to the module's own declaration, a name imported
 * with `import std.x { a }`, then a name of the implicitly imported `std.capabilities`.
 * Qualified names (`policies.lean`, `devices.turn_off`, `std.policies.lean`) go through an import
 * qualifier. Unresolved names are E0101 with a did-you-mean fix.
 */
import type {
  CapabilityDecl, Declaration, GuardrailDecl, Ident, ImportDecl, InvariantDecl, PlanDecl, PolicyDecl, QualifiedName, Range,
  ResourceDecl, TriggerDecl, TypeAliasDecl,
} from '../language/index.js';
import { diagnostic, type Diagnostic, type Fix } from '../language/index.js';
import type { LoadedModule, Program, ResolvedImport } from './load.js';
import type { ModelBuilder, OrchSymbol, SymbolKind } from './model.js';
import { closest } from './suggest.js';
import { unknownToolMessage } from './mcp-import.js';
import { capabilityDetail, nodeDetail } from './detail.js';

export interface DeclNodes {
  type: TypeAliasDecl;
  capability: CapabilityDecl;
  resource: ResourceDecl;
  policy: PolicyDecl;
  guardrail: GuardrailDecl;
  plan: PlanDecl;
  trigger: TriggerDecl;
  invariant: InvariantDecl;
}
export type DeclKind = keyof DeclNodes;

export interface DeclEntry<K extends DeclKind = DeclKind> {
  readonly kind: K;
  readonly node: DeclNodes[K];
  readonly module: LoadedModule;
  readonly symbol: OrchSymbol;
  /** `module.name` (for capabilities this is the IR name). */
  readonly qualifiedName: string;
}

const KIND_WORD: Record<DeclKind, string> = {
  type: 'type',
  capability: 'capability',
  resource: 'resource',
  policy: 'policy',
  guardrail: 'guardrail',
  plan: 'plan',
  trigger: 'trigger',
  invariant: 'invariant',
};

function declKindOf(d: Declaration): DeclKind | undefined {
  switch (d.kind) {
    case 'TypeAliasDecl': return 'type';
    case 'CapabilityDecl': return 'capability';
    case 'ResourceDecl': return 'resource';
    case 'PolicyDecl': return 'policy';
    case 'GuardrailDecl': return 'guardrail';
    case 'PlanDecl': return 'plan';
    case 'TriggerDecl': return 'trigger';
    case 'InvariantDecl': return 'invariant';
    default: return undefined;
  }
}

type Table = Map<DeclKind, Map<string, DeclEntry>>;

function emptyTable(): Table {
  return new Map((Object.keys(KIND_WORD) as DeclKind[]).map((k) => [k, new Map()]));
}

export class Scopes {
  private readonly own = new Map<LoadedModule, Table>();
  /** Declarations in every module, in load order (entry first). */
  readonly all: DeclEntry[] = [];

  constructor(
    readonly program: Program,
    private readonly model: ModelBuilder,
    private readonly diags: Diagnostic[],
  ) {
    for (const mod of program.modules) this.declareModule(mod);
    for (const mod of program.modules) {
      this.checkImportQualifiers(mod);
      this.checkImportedNames(mod);
    }
  }

  /**
   * One qualifier names one module: a second import under an alias already used (`as o` twice,
   * or `as policies` next to `import std.policies`) is E0102 at its alias. The same std module
   * imported twice (`import std.x` and `import std.x { a }`) is one module, not a clash.
   */
  private checkImportQualifiers(mod: LoadedModule): void {
    const first = new Map<string, ResolvedImport>();
    for (const imp of mod.imports) {
      const decl = imp.decl;
      if (!decl || !imp.qualifier) continue;
      const prior = first.get(imp.qualifier);
      if (!prior) {
        first.set(imp.qualifier, imp);
        continue;
      }
      const sameStd = decl.kind === 'StdImport' && prior.decl?.kind === 'StdImport' && (imp.target === undefined || imp.target === prior.target);
      if (sameStd) continue;
      const at = qualifierRange(decl);
      const priorAt = qualifierRange(prior.decl!);
      this.diags.push(
        diagnostic('E0102', `duplicate import alias "${imp.qualifier}" (first used on line ${priorAt.start.line})`, mod.file, at, {
          related: [{ message: 'first used here', file: mod.file, range: priorAt }],
        }),
      );
    }
  }

  private declareModule(mod: LoadedModule): void {
    const table = emptyTable();
    this.own.set(mod, table);
    for (const d of mod.ast.declarations) {
      const kind = declKindOf(d);
      if (!kind || !('name' in d)) continue;
      const nameNode = d.name;
      if (nameNode.kind !== 'Ident') continue; // invariants named by a string are not referable
      const name = nameNode.name;
      const names = table.get(kind)!;
      const prior = names.get(name);
      if (prior) {
        this.diags.push(
          diagnostic('E0102', `duplicate ${KIND_WORD[kind]} "${name}" (first declared on line ${prior.symbol.nameRange.start.line})`, mod.file, nameNode.range, {
            related: [{ message: 'first declared here', file: prior.module.file, range: prior.symbol.nameRange }],
          }),
        );
        continue;
      }
      const qualifiedName = `${mod.name}.${name}`;
      const symbol = this.model.declare({
        name,
        kind: kind as SymbolKind,
        qualifiedName,
        file: mod.file,
        range: d.range,
        nameRange: nameNode.range,
        doc: 'doc' in d ? d.doc : undefined,
        detail: !this.model.recordDetails ? '' : kind === 'capability' ? capabilityDetail(d as CapabilityDecl) : nodeDetail(kind, name),
        std: mod.std,
      });
      const entry: DeclEntry = { kind, node: d as never, module: mod, symbol, qualifiedName };
      names.set(name, entry);
      this.all.push(entry);
    }
  }

  private checkImportedNames(mod: LoadedModule): void {
    for (const imp of mod.imports) {
      if (!imp.target || !imp.names) continue;
      const table = this.own.get(imp.target)!;
      for (const n of imp.names) {
        const found = [...table.values()].map((m) => m.get(n.name)).find((e) => e);
        if (found) this.model.refer(mod.file, n.range, found.symbol.id);
        else {
          const candidates = [...table.values()].flatMap((m) => [...m.keys()]);
          this.unresolved(mod.file, n, `"${n.name}" is not declared in ${imp.target.name}`, candidates);
        }
      }
    }
  }

  /**
   * The name a declaration bears in the IR: its own, unless a declaration of that kind and name
   * came before it in load order (entry first) — then its qualified name, so two modules' `box`
   * (or `sub`, or guardrail `g`) are `box` and `y.box`.
   */
  irName(entry: DeclEntry): string {
    if (!this.firstOf) {
      this.firstOf = new Map();
      for (const e of this.all) {
        const key = `${e.kind}\u0000${e.symbol.name}`;
        if (!this.firstOf.has(key)) this.firstOf.set(key, e);
      }
    }
    const first = this.firstOf.get(`${entry.kind}\u0000${entry.symbol.name}`);
    return first === undefined || first === entry ? entry.symbol.name : entry.qualifiedName;
  }

  private firstOf: Map<string, DeclEntry> | undefined;

  entries<K extends DeclKind>(mod: LoadedModule, kind: K): Iterable<DeclEntry<K>> {
    return (this.own.get(mod)?.get(kind)?.values() ?? []) as Iterable<DeclEntry<K>>;
  }

  ownEntry<K extends DeclKind>(mod: LoadedModule, kind: K, name: string): DeclEntry<K> | undefined {
    return this.own.get(mod)?.get(kind)?.get(name) as DeclEntry<K> | undefined;
  }

  /** Every name of this kind visible unqualified in `mod` (for suggestions). */
  visibleNames(mod: LoadedModule, kind: DeclKind): string[] {
    const out = new Set<string>(this.own.get(mod)?.get(kind)?.keys() ?? []);
    for (const imp of mod.imports) {
      if (!imp.target) continue;
      const names = this.own.get(imp.target)?.get(kind);
      if (!names) continue;
      if (imp.implicit) for (const n of names.keys()) out.add(n);
      if (imp.names) for (const n of imp.names) if (names.has(n.name)) out.add(n.name);
      if (imp.qualifier) for (const n of names.keys()) out.add(`${imp.qualifier}.${n}`);
    }
    return [...out];
  }

  /** Resolves without reporting (used for guardrail selectors that are patterns). */
  lookup<K extends DeclKind>(mod: LoadedModule, kind: K, parts: readonly string[]): DeclEntry<K> | undefined {
    if (parts.length === 1) return this.lookupName(mod, kind, parts[0]!);
    const last = parts[parts.length - 1]!;
    const qualifier = parts.slice(0, -1).join('.');
    // Two imports under one alias are E0102 already: the name resolves in whichever declares it.
    for (const imp of mod.imports) {
      if (!imp.target) continue;
      if (imp.qualifier === qualifier || imp.target.name === qualifier) {
        const e = this.ownEntry(imp.target, kind, last);
        if (e) return e;
      }
    }
    if (qualifier === mod.name) return this.ownEntry(mod, kind, last);
    return undefined;
  }

  /** An unqualified name: own declaration, then named imports, then implicit (std) imports. */
  private lookupName<K extends DeclKind>(mod: LoadedModule, kind: K, name: string): DeclEntry<K> | undefined {
    const own = this.ownEntry(mod, kind, name);
    if (own) return own;
    for (const imp of mod.imports)
      if (imp.target && imp.names?.some((n) => n.name === name)) {
        const e = this.ownEntry(imp.target, kind, name);
        if (e) return e;
      }
    for (const imp of mod.imports)
      if (imp.target && imp.implicit) {
        const e = this.ownEntry(imp.target, kind, name);
        if (e) return e;
      }
    return undefined;
  }

  /** Resolves a (qualified) name of one kind in `mod`, recording the reference or reporting E0101. */
  resolve<K extends DeclKind>(mod: LoadedModule, name: QualifiedName, kind: K): DeclEntry<K> | undefined {
    if (name.parts.length === 0) return undefined;
    // Most names are one identifier (`fetch`): no parts array per use.
    const entry = name.parts.length === 1 ? this.lookupName(mod, kind, name.parts[0]!.name) : this.lookup(mod, kind, name.parts.map((p) => p.name));
    if (entry) {
      const last = name.parts[name.parts.length - 1]!;
      this.model.refer(mod.file, last.range, entry.symbol.id);
      return entry;
    }
    const shown = name.parts.map((p) => p.name).join('.');
    const mcp = unknownToolMessage(mod, name.parts.map((p) => p.name));
    if (mcp !== undefined) {
      // '' — the import itself failed and already said so.
      if (mcp) this.diags.push(diagnostic('E0802', mcp, mod.file, name.range));
      return undefined;
    }
    const target = name.parts.length === 1 ? name.parts[0]! : undefined;
    // `import std.policies { lean }` where std.policies has no `lean`: said once, at the import.
    if (target && this.importMissed(mod, target.name)) return undefined;
    const fakeIdent: Ident = target ?? { kind: 'Ident', name: shown, range: name.range };
    this.unresolved(mod.file, fakeIdent, `unknown ${KIND_WORD[kind]} "${shown}"`, this.visibleNames(mod, kind), name.range);
    return undefined;
  }

  /** Whether `name` is listed by an import of `mod` whose module declares nothing of that name (checkImportedNames reports it). */
  private importMissed(mod: LoadedModule, name: string): boolean {
    return mod.imports.some((imp) => imp.target && imp.names?.some((n) => n.name === name) && ![...(this.own.get(imp.target)?.values() ?? [])].some((m) => m.has(name)));
  }

  unresolved(file: string, ident: Ident, message: string, candidates: Iterable<string>, range: Range = ident.range): void {
    this.diags.push(unresolvedDiagnostic(file, ident.name, message, candidates, range));
  }
}

/** Where an import's qualifier is written: a file import's alias, a std import's last segment. */
function qualifierRange(decl: ImportDecl): Range {
  if (decl.kind === 'FileImport') return decl.alias.range;
  return decl.path.parts[decl.path.parts.length - 1]?.range ?? decl.path.range;
}

/** E0101 with "did you mean" in the message and as a quick fix. */
export function unresolvedDiagnostic(file: string, name: string, message: string, candidates: Iterable<string>, range: Range): Diagnostic {
  const best = closest(name, candidates);
  const fixes: Fix[] = best ? [{ title: `Change to "${best}"`, edits: [{ file, range, newText: best }] }] : [];
  return diagnostic('E0101', best ? `${message}; did you mean "${best}"?` : message, file, range, fixes.length ? { fixes } : {});
}
