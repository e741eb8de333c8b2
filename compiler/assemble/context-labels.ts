/**
 * The labels of the program's context signals (LANGUAGE.md §9.3, §9.4): a signal's own marks
 * (`@personal`, `@untrusted`) and, for a derived one (`name: T = EXPR`), the labels of what EXPR
 * reads — `occupied = context.motion or context.phone_home` carries `motion`'s class and
 * distrust. Without the second, a derived signal laundered the signals it reads: a step could act
 * on `context.derived` where `context.cmd @untrusted` was refused.
 */
import type { FieldDecl } from '../../language/index.js';
import type { Ty } from '../types/ty.js';
import { BOTTOM, exprLabel, fieldLabelOf, join, markedLabel, rank, type FieldLabel, type LabelEnv } from './flow-labels.js';

export interface ContextField {
  readonly field: FieldDecl;
  /** The file that declares it (the hops of a derived signal's reads point there). */
  readonly file: string;
}

const NO_FIELDS: ReadonlyMap<string, FieldLabel> = new Map();

/**
 * Each field's labels. Derived signals read each other (a cycle is E0905, reported by the context
 * check): labels only ever rise, so they are recomputed until none changes, at most once per field.
 */
export function contextLabels(fields: readonly ContextField[], contextTy?: Ty): ReadonlyMap<string, FieldLabel> {
  const tys = contextTy?.k === 'record' ? contextTy.fields : undefined;
  // With its file: the hop of a signal's own marks points at its declaration, as a plan input's does (§9.3).
  const own = (field: FieldDecl, file: string): FieldLabel => fieldLabelOf(field, tys?.get(field.name.name)?.ty, file);
  const labels = new Map(fields.map(({ field, file }) => [field.name.name, own(field, file)]));
  const derived = fields.filter(({ field }) => field.default !== undefined);
  for (let round = 0; round <= derived.length; round++) {
    let changed = false;
    for (const { field, file } of derived) {
      const env: LabelEnv = { file, input: NO_FIELDS, context: labels, step: () => undefined, local: () => undefined, witness: true };
      const read = exprLabel(field.default!, env);
      if (read === BOTTOM) continue;
      const name = field.name.name;
      const now = labels.get(name)!;
      const given = join(markedLabel(own(field, file), `context.${name}`, file, field.name.range), read);
      if (now.given && rank(now.given.cls) === rank(given.cls) && (now.given.untrusted === null) === (given.untrusted === null)) continue;
      labels.set(name, { cls: given.cls, untrusted: given.untrusted !== null, given });
      changed = true;
    }
    if (!changed) break;
  }
  return labels;
}
