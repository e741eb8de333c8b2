/** One-line signatures shown on hover, built from the AST. */
import type { CapabilityDecl, FieldDecl, TypeExpr } from '../language/index.js';

export function typeText(t: TypeExpr | undefined): string {
  if (!t) return 'any';
  switch (t.kind) {
    case 'PrimitiveType':
      return t.name;
    case 'EnumType':
      return t.values.map((v) => JSON.stringify(v)).join(' | ');
    case 'ListType':
      return `list<${typeText(t.element)}>`;
    case 'MapType':
      return `map<${typeText(t.value)}>`;
    case 'OptionalType':
      return `${typeText(t.inner)}?`;
    case 'NamedType':
      return t.name.parts.map((p) => p.name).join('.');
    case 'RecordType':
      return `{ ${t.fields.map(fieldText).join(', ')} }`;
  }
}

export function fieldText(f: FieldDecl): string {
  return `${f.name.name}: ${typeText(f.type)}${f.dataClass ? ` @${f.dataClass}` : ''}${f.trust ? ` @${f.trust}` : ''}${f.default ? ' = …' : ''}`;
}

export function capabilityDetail(c: CapabilityDecl): string {
  const params = c.input ? c.input.fields.map(fieldText).join(', ') : '';
  return `capability ${c.name.name}(${params}) -> ${typeText(c.output)}${c.capabilityKind ? ` [${c.capabilityKind}]` : ''}`;
}

export function nodeDetail(kind: string, name: string): string {
  return `${kind} ${name}`;
}
