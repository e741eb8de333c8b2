/**
 * LANGUAGE.md §9.4: a resource's `available when COND`. COND is a bool over context signals only
 * (`context`, `known()`, `age()`, `??`, `now()`): it is evaluated at dispatch, when no step, input
 * or item is in scope, so any other name is an error where it is written.
 */
import type { Diagnostic, Expr } from '../../language/index.js';
import type { ExprIR } from '../ir/types.js';
import type { ModelBuilder } from '../model.js';
import { T } from '../types/ty.js';
import { checkExpr, type RootInfo } from './expr.js';
import { expectTy } from './mismatch.js';

export function checkAvailability(cond: Expr, file: string, context: RootInfo, model: ModelBuilder, diags: Diagnostic[]): ExprIR {
  const r = checkExpr(cond, { file, model, diags, roots: new Map([['context', context]]) });
  expectTy(r.ty, T.bool, cond.range, 'available when', diags, file);
  return r.ir;
}
