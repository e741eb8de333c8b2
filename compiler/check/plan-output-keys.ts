/**
 * The keys of a plan's `output { key: … }` as symbols: where `run.output.KEY` is read (a `test`'s
 * `expect`) or a parent plan reads `sub.output.KEY`, the editor jumps to the key and shows its
 * type — the output is an expression, not a declared type, so nothing else declared them.
 */
import type { RecordLit } from '../../language/index.js';
import type { ModelBuilder } from '../model.js';
import type { DeclEntry } from '../scope.js';
import { formatTy, record, type FieldTy, type Ty } from '../types/ty.js';

/**
 * `ty` (the checked output) with each key declared, its fields pointing at their symbols (member
 * access refers to a field's symbol). The detail carries the key's type: a test reads
 * `run.output` untyped, so the hover's type comes from here, not from the expression.
 */
export function declareOutputKeys(output: RecordLit, ty: Ty, entry: DeclEntry<'plan'>, file: string, model: ModelBuilder): Ty {
  // Declared in batch `check` too: it counts the uses of the symbols a full compile records.
  if (ty.k !== 'record') return ty;
  const fields: FieldTy[] = [];
  for (const [name, f] of ty.fields) {
    const lit = output.fields.find((x) => x.key.name === name);
    if (!lit) {
      fields.push(f);
      continue;
    }
    const sym = model.declare({
      name,
      kind: 'plan_output',
      qualifiedName: `${entry.qualifiedName}.output.${name}`,
      file,
      range: lit.range,
      nameRange: lit.key.range,
      detail: model.recordDetails ? `(output of plan ${entry.node.name.name}) ${name}: ${formatTy(f.ty)}` : '',
      std: entry.module.std,
    });
    fields.push({ ...f, decl: { file, range: lit.key.range, symbol: sym.id } });
  }
  return record(fields, ty.open === true);
}
