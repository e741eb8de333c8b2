/** Collects the declarations of one parsed module into a `DeclarationTable`. */
import type {
  BlockItem, Declaration, FieldDecl, Ident, InvariantDecl, Module, PlanDecl, RecordType, TypeExpr,
} from '../../language/index.js';
import type { Range } from '../../language/index.js';
import type { DeclarationTable, OrchSymbol, OrchSymbolKind } from './model.js';

const TOP_LEVEL_KIND: Partial<Record<Declaration['kind'], OrchSymbolKind>> = {
  TypeAliasDecl: 'type',
  CapabilityDecl: 'capability',
  ResourceDecl: 'resource',
  PolicyDecl: 'policy',
  GuardrailDecl: 'guardrail',
  PlanDecl: 'plan',
  TriggerDecl: 'trigger',
  InvariantDecl: 'invariant',
};

/** A symbol's identity: its file and where its name starts — the same for any two indexes of one text. */
export function symbolKey(file: string, nameRange: Range, kind?: OrchSymbolKind): string {
  return `${file}#${kind === 'foreach' || kind === 'context' ? kind : ''}${nameRange.start.offset}`;
}

/** The table key of a record's fields: `${ownerKey}/input`, `/output`, `/type`; context is per file. */
export function fieldsKey(ownerKey: string, role: 'input' | 'output' | 'type'): string {
  return `${ownerKey}/${role}`;
}
export function contextFieldsKey(file: string): string {
  return `${file}#context/fields`;
}

export function invariantName(d: InvariantDecl): string {
  return d.name.kind === 'Ident' ? d.name.name : d.name.parts.filter((p) => typeof p === 'string').join('');
}

export function collectDeclarations(module: Module, file: string): DeclarationTable {
  const symbols: OrchSymbol[] = [];
  const byKey = new Map<string, OrchSymbol>();
  const topLevel = new Map<string, OrchSymbol>();
  const steps = new Map<string, Map<string, OrchSymbol>>();
  const fields = new Map<string, Map<string, OrchSymbol>>();

  const add = (s: Omit<OrchSymbol, 'key' | 'file'>): OrchSymbol => {
    const base = symbolKey(file, s.nameRange, s.kind);
    let key = base;
    for (let n = 2; byKey.has(key); n++) key = `${base}~${n}`;
    const sym: OrchSymbol = { ...s, key, file };
    symbols.push(sym);
    byKey.set(key, sym);
    return sym;
  };

  const addFields = (owner: OrchSymbol, tableKey: string, role: OrchSymbol['role'], decls: readonly FieldDecl[]): void => {
    const table = fields.get(tableKey) ?? new Map<string, OrchSymbol>();
    fields.set(tableKey, table);
    for (const f of decls) {
      if (!validIdent(f.name)) continue;
      const sym = add({ name: f.name.name, kind: 'field', range: f.range, nameRange: f.name.range, parent: owner.key, role, node: f, doc: f.doc });
      if (!table.has(sym.name)) table.set(sym.name, sym);
    }
  };
  const recordOf = (t: TypeExpr | undefined): RecordType | undefined =>
    t?.kind === 'RecordType' ? t : t?.kind === 'OptionalType' ? recordOf(t.inner) : undefined;

  if (module.module) {
    const name = module.module.name.parts.map((p) => p.name).join('.');
    add({ name, kind: 'module', range: module.module.range, nameRange: module.module.name.range, node: module.module });
  }
  for (const imp of module.imports) {
    if (imp.kind === 'FileImport' && validIdent(imp.alias)) {
      const sym = add({ name: imp.alias.name, kind: 'alias', range: imp.range, nameRange: imp.alias.range, node: imp });
      if (!topLevel.has(sym.name)) topLevel.set(sym.name, sym);
    }
  }

  for (const d of module.declarations) {
    if (d.kind === 'ContextDecl') {
      const ctx = add({ name: 'context', kind: 'context', range: d.range, nameRange: firstLine(d.range), node: d, doc: d.doc });
      // Every context block of a module adds to the one `context.x` namespace.
      addFields(ctx, contextFieldsKey(file), 'context', d.fields);
      continue;
    }
    if (d.kind === 'SimulateDecl') {
      const name = d.capability.parts.map((p) => p.name).join('.');
      add({ name, kind: 'simulate', range: d.range, nameRange: d.capability.range, node: d, doc: d.doc });
      continue;
    }
    // Tests, sources and `simulate context` declare nothing that other code refers to by name.
    if (d.kind === 'SimulateContextDecl' || d.kind === 'SourceDecl' || d.kind === 'TestDecl') continue;
    const kind = TOP_LEVEL_KIND[d.kind];
    if (!kind) continue;
    const nameNode = d.name;
    if (!nameNode || (nameNode.kind === 'Ident' && !validIdent(nameNode))) continue;
    const name = nameNode.kind === 'Ident' ? nameNode.name : invariantName(d as InvariantDecl);
    const sym = add({ name, kind, range: d.range, nameRange: nameNode.range, node: d, doc: d.doc });
    if (!topLevel.has(name)) topLevel.set(name, sym);

    if (d.kind === 'CapabilityDecl') {
      if (d.input) addFields(sym, fieldsKey(sym.key, 'input'), 'input', d.input.fields);
      const out = recordOf(d.output);
      if (out) addFields(sym, fieldsKey(sym.key, 'output'), 'output', out.fields);
    } else if (d.kind === 'TypeAliasDecl') {
      const rec = recordOf(d.type);
      if (rec) addFields(sym, fieldsKey(sym.key, 'type'), 'type', rec.fields);
    } else if (d.kind === 'PlanDecl') {
      if (d.input) addFields(sym, fieldsKey(sym.key, 'input'), 'input', d.input.fields);
      collectPlanBody(sym, d);
    }
  }

  function collectPlanBody(plan: OrchSymbol, d: PlanDecl): void {
    const table = new Map<string, OrchSymbol>();
    steps.set(plan.key, table);
    const visit = (body: readonly (BlockItem | InvariantDecl)[], parent: string): void => {
      for (const item of body) {
        if (item.kind === 'StepDecl') {
          if (!validIdent(item.name)) continue;
          const s = add({ name: item.name.name, kind: 'step', range: item.range, nameRange: item.name.range, parent, node: item, doc: item.doc });
          if (!table.has(s.name)) table.set(s.name, s);
        } else if (item.kind === 'ForEachDecl') {
          const loopName = validIdent(item.item) ? item.item.name : '?';
          const loop = add({ name: `for each ${loopName}`, kind: 'foreach', range: item.range, nameRange: item.item?.range ?? item.range, parent, node: item });
          if (validIdent(item.item)) {
            add({ name: item.item.name, kind: 'item', range: item.item.range, nameRange: item.item.range, parent: loop.key, node: item.item });
          }
          visit(item.body, loop.key);
        } else if (item.kind === 'RaceDecl' || item.kind === 'RepeatDecl') {
          // The block's name and its steps belong to the plan's step table (names are plan-wide).
          if (!validIdent(item.name)) {
            visit(item.body, parent);
            continue;
          }
          const kind = item.kind === 'RaceDecl' ? 'race' : 'repeat';
          const b = add({ name: item.name.name, kind, range: item.range, nameRange: item.name.range, parent, node: item });
          if (!table.has(b.name)) table.set(b.name, b);
          visit(item.body, b.key);
        } else if (item.kind === 'InvariantDecl') {
          add({ name: invariantName(item), kind: 'invariant', range: item.range, nameRange: item.name.range, parent, node: item, doc: item.doc });
        }
      }
    };
    visit(d.body, plan.key);
  }

  return { file, module, symbols, byKey, topLevel, steps, fields };
}

/** Recovered parses may carry placeholder names; those are not declarations anyone can use. */
function validIdent(id: Ident | undefined): id is Ident {
  return !!id && typeof id.name === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(id.name);
}

function firstLine(r: Range): Range {
  return { start: r.start, end: r.start.line === r.end.line ? r.end : r.start };
}
