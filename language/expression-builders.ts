/** The shared builders' expressions, record and named types, fields and retry specs (node-builders.ts). */
import type { IToken } from 'chevrotain';
import type * as A from './ast.js';
import { DATA_CLASSES, INTEGRITIES } from './ast.js';
import type { Range } from './diagnostic.js';
import { MISSING } from './cst-access.js';
import { PRIMITIVES, type Mutable } from './builder-support.js';
import { TokenBuilders } from './token-builders.js';
import { compactNodes } from './compact-nodes.js';
import { endOffset, startOffset } from './source.js';

export abstract class ExpressionBuilders extends TokenBuilders {
  primaryToken(t: IToken, kind: 'string' | 'number' | 'bool' | 'null'): A.Expr {
    switch (kind) {
      case 'string': return this.stringLit(t);
      case 'number': return this.numericLiteral(t);
      case 'bool': return { kind: 'BoolLit', value: t.image === 'true', range: this.tokRange(t) };
      case 'null': return { kind: 'NullLit', range: this.tokRange(t) };
    }
  }

  /**
   * A name, or a call when it has arguments (`end`: just past the closing parenthesis). Named
   * arguments (`Argument` nodes) come after the positional ones; a name given twice is E0102.
   */
  nameOrCall(name: IToken, args: readonly (A.Expr | A.Argument)[] | undefined, end: number): A.Expr {
    if (!args) return this.index.named('NameExpr', name.image, name.startOffset, name.endOffset! + 1);
    let named: A.Argument[] | undefined;
    let positional = args as A.Expr[];
    if (args.some((a) => a.kind === 'Argument')) {
      positional = [];
      named = [];
      for (const a of args) {
        if (a.kind === 'Argument') named.push(a);
        else if (named.length > 0) this.error(`a positional argument cannot follow a named one in ${name.image}(…)`, a.range);
        else positional.push(a);
      }
      named = this.firstOfEach(named, `${name.image}(…)`, (a) => a.name);
    }
    const call: Mutable<A.CallExpr> = { kind: 'CallExpr', callee: this.ident(name), args: positional, range: this.range(name.startOffset, end) };
    if (named) call.named = named;
    return call;
  }

  member(object: A.Expr, m: IToken): A.MemberExpr {
    const property = this.ident(m);
    const compact = compactNodes(this.index);
    if (compact) {
      // `join`'s offsets, without the range it would make (this node is its own).
      const s = startOffset(object.range);
      return compact.member(object, property, s, Math.max(s, endOffset(property.range)));
    }
    return { kind: 'MemberExpr', object, property, range: this.index.join(object.range, property.range) };
  }

  /** `object[index]`; without its `]` (after recovery) it ends with the index. */
  indexExpr(object: A.Expr, index: A.Expr, close: IToken | undefined): A.IndexExpr {
    const end = close ? close.endOffset! + 1 : endOffset(index.range);
    return { kind: 'IndexExpr', object, index, range: this.range(startOffset(object.range), end) };
  }

  /** A record literal; a key given twice is an E0102 (and the later field is dropped). */
  recordLitFrom(fields: readonly A.RecordField[], range: Range): A.RecordLit {
    return { kind: 'RecordLit', fields: this.firstOfEach(fields, 'this record', (f) => f.key), range };
  }

  /**
   * `fields` without the repeats of a name (each an E0102), as an exact copy: the tree keeps it,
   * and a list pushed to has room for 17 (a file of many small plans has two records a plan).
   */
  protected firstOfEach<F>(fields: readonly F[], owner: string, nameOf: (f: F) => A.Ident): F[] {
    // One field cannot repeat: no bag (a map) for it.
    if (fields.length < 2) return fields.slice();
    const bag = this.newBag(owner);
    const kept: F[] = [];
    for (const f of fields) {
      const name = nameOf(f);
      if (this.firstTimeAt(bag, name.name, name.range)) kept.push(f);
    }
    return kept.length === fields.length ? fields.slice() : kept.slice();
  }

  recordTypeFrom(fields: readonly A.FieldDecl[], range: Range): A.RecordType {
    const kept = this.firstOfEach(fields, 'this record type', (f) => f.name);
    const compact = compactNodes(this.index);
    if (compact) return compact.recordType(kept, startOffset(range), endOffset(range));
    return { kind: 'RecordType', fields: kept, range };
  }

  /**
   * A field. `annotations`: the words after `@` (a data class and an integrity, any order);
   * `options`: `max_age` / `hold` key and value tokens in pairs (context fields only, §9.4).
   */
  fieldDecl(
    name: IToken | undefined,
    type: A.TypeExpr,
    annotations: readonly IToken[] | undefined,
    def: A.Expr | undefined,
    options: readonly IToken[] | undefined,
    range: Range,
  ): A.FieldDecl {
    const f: Mutable<A.FieldDecl> = { kind: 'FieldDecl', name: this.ident(name), type, range };
    if (annotations) this.annotate(f, annotations);
    if (def) f.default = def;
    if (options) this.fieldOptions(f, options);
    return this.withDoc(f, startOffset(range));
  }

  /** `@personal @untrusted`: one data class and one integrity; a second of either is E0102. */
  protected annotate(f: Mutable<A.FieldDecl>, annotations: readonly IToken[]): void {
    const bag = annotations.length > 1 ? this.newBag(`field '${f.name.name}'`) : undefined;
    for (const t of annotations) {
      const word = t.image;
      const integrity = (INTEGRITIES as readonly string[]).includes(word);
      const known = integrity || (DATA_CLASSES as readonly string[]).includes(word);
      if (!known) {
        this.error(`unknown data class '${word}' (expected one of: ${DATA_CLASSES.join(', ')}); integrity is @trusted or @untrusted`, this.tokRange(t));
        continue;
      }
      if (bag && !this.firstTime(bag, integrity ? 'integrity' : 'data class', t.startOffset, t.endOffset! + 1)) continue;
      if (integrity) f.trust = word as A.Integrity;
      else f.dataClass = word as A.DataClass;
    }
  }

  /** `max_age D` / `hold D` (pairs of key and value tokens): durations, on context fields only. */
  protected fieldOptions(f: Mutable<A.FieldDecl>, options: readonly IToken[]): void {
    const bag = options.length > 2 ? this.newBag(`field '${f.name.name}'`) : undefined;
    for (let i = 0; i + 1 < options.length; i += 2) {
      const key = options[i]!;
      const word = key.image;
      if (bag && !this.firstTime(bag, word, key.startOffset, key.endOffset! + 1)) continue;
      if (!this.inContext) {
        this.error(`'${word}' applies only to a field of a context block (a signal)`, this.tokRange(key));
        continue;
      }
      if (word === 'hold' && !f.default) {
        this.error(`'hold' applies only to a derived signal: ${f.name.name}: T = EXPR hold D`, this.tokRange(key));
        continue;
      }
      const d = this.attempt(() => this.unitLit(options[i + 1], word, 'duration'));
      if (!d) continue;
      if (word === 'max_age') f.maxAge = d;
      else f.hold = d;
    }
  }

  /**
   * A named type: `list<T>`, `map<T>`, a primitive or a declared type. Its arguments are built
   * by `typeOf` only where they are used (the CST path builds them on demand).
   */
  namedType<T>(name: A.QualifiedName, args: readonly T[], typeOf: (arg: T) => A.TypeExpr, range: Range): A.TypeExpr {
    const simple = name.parts.length === 1 ? name.parts[0]!.name : undefined;
    if (simple === 'list' || simple === 'map') {
      if (args.length !== 1) {
        this.error(`${simple} takes one type argument: ${simple}<T>`, range);
        throw MISSING;
      }
      const inner = typeOf(args[0]!);
      return simple === 'list' ? { kind: 'ListType', element: inner, range } : { kind: 'MapType', value: inner, range };
    }
    if (args.length > 0) this.error(`type '${name.parts.map((p) => p.name).join('.')}' takes no type arguments`, range);
    if (simple !== undefined && PRIMITIVES.has(simple)) return { kind: 'PrimitiveType', name: simple as A.PrimitiveTypeName, range: name.range };
    return { kind: 'NamedType', name, range: name.range };
  }

  retrySpec(attempts: IToken | undefined, kindTok: IToken | undefined, delay: IToken | undefined, max: IToken | undefined, range: Range): A.RetrySpec {
    const r: Mutable<A.RetrySpec> = { kind: 'RetrySpec', attempts: this.integer(attempts, 'the retry count', 'retry').value, range };
    if (kindTok) {
      const kind = this.word(kindTok, ['fixed', 'exponential'] as const, 'backoff');
      const d = this.unitLit(delay, 'backoff', 'duration');
      if (kind) r.backoff = max ? { kind, delay: d, max: this.unitLit(max, 'max', 'duration') } : { kind, delay: d };
    }
    return r;
  }
}
