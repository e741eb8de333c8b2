/**
 * The commonest nodes of a compact parse besides names (which `LineIndex.named` makes), built as
 * their own range: a member access, a named argument, a record type. Each is one object of its
 * fields, itself as its `range` and two offsets where a full parse makes the node and a range
 * object (32 bytes less each); a large plan has several in every step, all alive to the end of a
 * check. Own keys, JSON and `range` read as a full parse's node (source.ts, `SpannedNode`).
 */
import type * as A from './ast.js';
import type { LineIndex, SpannedNodeClass } from './source.js';

export interface CompactNodes {
  member(object: A.Expr, property: A.Ident, s: number, e: number): A.MemberExpr;
  argument(name: A.Ident, value: A.Expr, s: number, e: number): A.Argument;
  recordType(fields: readonly A.FieldDecl[], s: number, e: number): A.RecordType;
}

/** One set of classes per index: each extends the index's own `SpannedNode`. */
const byBase = new WeakMap<SpannedNodeClass, CompactNodes>();

/** The compact node makers of `index`, or undefined when it makes ordinary ranges. */
export function compactNodes(index: LineIndex): CompactNodes | undefined {
  const Base = index.SpannedNode;
  if (Base === undefined) return undefined;
  let made = byBase.get(Base);
  if (made === undefined) byBase.set(Base, (made = makeClasses(Base)));
  return made;
}

// Fields are assigned in the order a full parse's literal lists them (its `range` last), so own
// keys, spreads and JSON come out in the same order.
function makeClasses(Base: SpannedNodeClass): CompactNodes {
  class Member extends Base {
    declare readonly kind: 'MemberExpr';
    declare readonly object: A.Expr;
    declare readonly property: A.Ident;
    constructor(object: A.Expr, property: A.Ident, s: number, e: number) {
      super(s, e);
      (this as { kind: string }).kind = 'MemberExpr';
      (this as { object: A.Expr }).object = object;
      (this as { property: A.Ident }).property = property;
      (this as { range: unknown }).range = this;
    }
  }
  class Argument extends Base {
    declare readonly kind: 'Argument';
    declare readonly name: A.Ident;
    declare readonly value: A.Expr;
    constructor(name: A.Ident, value: A.Expr, s: number, e: number) {
      super(s, e);
      (this as { kind: string }).kind = 'Argument';
      (this as { name: A.Ident }).name = name;
      (this as { value: A.Expr }).value = value;
      (this as { range: unknown }).range = this;
    }
  }
  class Record extends Base {
    declare readonly kind: 'RecordType';
    declare readonly fields: readonly A.FieldDecl[];
    constructor(fields: readonly A.FieldDecl[], s: number, e: number) {
      super(s, e);
      (this as { kind: string }).kind = 'RecordType';
      (this as { fields: readonly A.FieldDecl[] }).fields = fields;
      (this as { range: unknown }).range = this;
    }
  }
  return {
    member: (object, property, s, e) => new Member(object, property, s, e) as A.MemberExpr,
    argument: (name, value, s, e) => new Argument(name, value, s, e) as A.Argument,
    recordType: (fields, s, e) => new Record(fields, s, e) as A.RecordType,
  };
}
