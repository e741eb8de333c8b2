/**
 * Syntactic types (`TypeExpr`) → semantic types (`Ty`): aliases expanded (a self-referential
 * alias is E0201), record fields declared as symbols so member access can be navigated.
 */
import type { Expr, FieldDecl, Range, RecordType, TypeExpr } from '../../language/index.js';
import { diagnostic, type Diagnostic } from '../../language/index.js';
import type { LoadedModule } from '../load.js';
import type { ModelBuilder, SymbolKind } from '../model.js';
import type { DeclEntry, Scopes } from '../scope.js';
import { fieldText } from '../detail.js';
import { checkExpr, type RootInfo } from '../check/expr.js';
import { mismatchLeaf } from '../check/mismatch.js';
import { T, assignable, formatTy, mismatchCode, type FieldTy, type Ty } from './ty.js';
import { staticEval, UNKNOWN, type StaticValue } from '../static-eval.js';

const NO_ROOTS: ReadonlyMap<string, RootInfo> = new Map();
const PRIMITIVES: ReadonlyMap<string, Ty> = new Map(Object.values(T).map((t) => [t.k, t]));

export class TypeResolver {
  private readonly aliases = new Map<object, Ty>();
  private readonly resolving = new Set<object>();

  constructor(
    private readonly scopes: Scopes,
    private readonly model: ModelBuilder,
    private readonly diags: Diagnostic[],
  ) {}

  resolve(mod: LoadedModule, t: TypeExpr | undefined, fieldKind: SymbolKind = 'output_field', owner = ''): Ty {
    if (!t) return T.any;
    switch (t.kind) {
      case 'PrimitiveType':
        // Types are immutable: every `int` field shares one (a file of many plans declares many).
        return PRIMITIVES.get(t.name) ?? ({ k: t.name } as Ty);
      case 'EnumType':
        return { k: 'enum', values: t.values };
      case 'ListType':
        return { k: 'list', elem: this.resolve(mod, t.element, fieldKind, owner) };
      case 'MapType':
        return { k: 'map', value: this.resolve(mod, t.value, fieldKind, owner) };
      case 'OptionalType': {
        const inner = this.resolve(mod, t.inner, fieldKind, owner);
        return inner.k === 'optional' ? inner : { k: 'optional', inner };
      }
      case 'RecordType':
        return this.record(mod, t, fieldKind, owner);
      case 'NamedType': {
        const entry = this.scopes.resolve(mod, t.name, 'type');
        return entry ? this.alias(entry, mod, t.range) : T.unknown;
      }
    }
  }

  /**
   * What a type alias stands for; `mod` and `at` say where it is named (for the self-reference
   * error). Its declaration resolves it this way too, which is no use of it (W0601).
   */
  alias(entry: DeclEntry<'type'>, mod: LoadedModule = entry.module, at: Range = entry.node.name.range): Ty {
    const cached = this.aliases.get(entry.node);
    if (cached) return cached;
    if (this.resolving.has(entry.node)) {
      this.diags.push(diagnostic('E0201', `type alias "${entry.node.name.name}" refers to itself`, mod.file, at));
      return T.unknown;
    }
    this.resolving.add(entry.node);
    const ty = this.resolve(entry.module, entry.node.type, 'output_field', entry.qualifiedName);
    this.resolving.delete(entry.node);
    this.aliases.set(entry.node, ty);
    return ty;
  }

  record(mod: LoadedModule, t: RecordType, fieldKind: SymbolKind, owner: string): Ty {
    const fields = new Map<string, FieldTy>();
    for (const f of t.fields) {
      if (fields.has(f.name.name)) {
        this.diags.push(diagnostic('E0102', `duplicate field "${f.name.name}"`, mod.file, f.name.range));
        continue;
      }
      fields.set(f.name.name, this.field(mod, f, fieldKind, owner));
    }
    return { k: 'record', fields };
  }

  private field(mod: LoadedModule, f: FieldDecl, fieldKind: SymbolKind, owner: string): FieldTy {
    const name = f.name.name;
    const qualifiedName = owner ? `${owner}.${name}` : name;
    const ty = this.resolve(mod, f.type, fieldKind, qualifiedName);
    const sym = this.model.declare({
      name,
      kind: fieldKind,
      qualifiedName,
      file: mod.file,
      range: f.range,
      nameRange: f.name.range,
      doc: f.doc,
      detail: this.model.recordDetails ? `(${fieldKind.replace('_', ' ')}) ${fieldText(f)}` : '',
      std: mod.std,
    });
    // A context field's `= expr` is a derived signal (§9.4), checked against the context's type later.
    const value = f.default && fieldKind !== 'context_field' ? this.checkDefault(mod, f.default, ty) : UNKNOWN;
    const required = f.default === undefined && ty.k !== 'optional';
    const decl = { file: mod.file, range: f.name.range, symbol: sym.id };
    // Two literals rather than a spread of `{ default }`: one object per field, its keys in this order.
    return value !== UNKNOWN
      ? { name, ty, dataClass: f.dataClass, untrusted: f.trust === 'untrusted', required, default: value, decl }
      : { name, ty, dataClass: f.dataClass, untrusted: f.trust === 'untrusted', required, decl };
  }

  /**
   * A default must be a value of its field's type (`n: int = "x"` is E0201, `t: duration = 5usd`
   * E0203). Only the mismatch is reported here: what is wrong inside a capability parameter's
   * default is reported where the default is compiled (`capabilityInfo`), once. Returns the
   * default's value when it is known at compile time.
   */
  private checkDefault(mod: LoadedModule, value: Expr, ty: Ty): StaticValue {
    const checked = checkExpr(value, { file: mod.file, model: this.model, diags: [], roots: NO_ROOTS });
    if (!assignable(checked.ty, ty)) {
      const leaf = mismatchLeaf(value, checked.ty, ty);
      const got = leaf.path && leaf.ty.k === 'string' && leaf.ty.literal !== undefined ? JSON.stringify(leaf.ty.literal) : formatTy(leaf.ty);
      const what = leaf.path ? `default value is ${got} at ${leaf.path.replace(/^\./, '')}, but that must be` : `default value is ${got}, but the field is`;
      this.diags.push(diagnostic(mismatchCode(leaf.ty, leaf.expected), `${what} ${formatTy(leaf.expected)}`, mod.file, leaf.e.range));
      return UNKNOWN;
    }
    return staticEval(checked.ir, {});
  }
}
