/**
 * Triggers lowered to an IR the runtime can activate (`orch serve`). Triggers are module-level
 * declarations, not part of any one plan, so they live beside `PlanIR` rather than inside it.
 * Every expression is an `ExprIR` produced by the compiler's own expression lowering; `event`
 * is the payload that fired the trigger and `context` the live signals.
 */
import type { Expr, StringLit, TriggerDecl, TriggerSource } from '../language/index.js';
import { durationMs } from './check/expr.js';
import type { ExprIR, RelabelIR } from './ir/types.js';
import { relabelsIn } from './assemble/flow-labels.js';
import { consentScopes } from './consent-scopes.js';

export type TriggerSourceIR =
  | { readonly kind: 'schedule'; readonly cron: string; readonly timezone: string | null }
  | { readonly kind: 'event'; readonly type: string; readonly where: ExprIR | null }
  | { readonly kind: 'manual' }
  | { readonly kind: 'api'; readonly path: string }
  | { readonly kind: 'when'; readonly condition: ExprIR }
  | { readonly kind: 'after'; readonly plan: string; readonly outcome: 'completed' | 'failed' | 'finished' };

export type TriggerKind = TriggerSourceIR['kind'];

export interface TriggerIR {
  readonly name: string;
  readonly source: TriggerSourceIR;
  /** Name of the plan to run, as `PlanIR.plan` spells it. */
  readonly plan: string;
  /** `with { … }` lowered to a `record` ExprIR; `null` = the plan input is the payload itself. */
  readonly with: ExprIR | null;
  readonly debounce_ms: number | null;
  /** `consent "a", "b"`: scopes granted to every run the trigger starts. */
  readonly consent: readonly string[];
  /**
   * §9.3: the `endorse`/`declassify` calls of `with`: journaled in each run the trigger starts
   * (after its `plan_created`, attempt 0), as a step's are when an attempt starts.
   */
  readonly relabels?: readonly RelabelIR[];
  /** Where it was declared, for the start-up banner and error messages. */
  readonly file: string;
  readonly line: number;
}

/** The compiler's expression lowering, injected so there is only one of it. */
export type LowerExpr = (expr: Expr) => ExprIR;

/**
 * Lowers the trigger declarations of one module. `plan` is resolved by the caller's naming
 * (`resolvePlan` returns the `PlanIR.plan` name, or undefined when no such plan was compiled:
 * the compiler already reported that as E0701).
 */
export function lowerTriggers(
  file: string,
  decls: readonly TriggerDecl[],
  lowerExpr: LowerExpr,
  resolvePlan: (name: string) => string | undefined,
): TriggerIR[] {
  const out: TriggerIR[] = [];
  for (const d of decls) {
    const planName = d.plan.parts.map((p) => p.name).join('.');
    const plan = resolvePlan(planName);
    if (plan === undefined) continue;
    out.push({
      name: d.name.name,
      source: lowerSource(d.source, lowerExpr, resolvePlan),
      plan,
      with: d.with ? lowerExpr(d.with) : null,
      ...withRelabels(d, file),
      debounce_ms: d.debounce ? durationMs(d.debounce.value, d.debounce.unit) : null,
      consent: consentScopes(d.consent ?? []).scopes,
      file,
      line: d.range.start.line,
    });
  }
  return out;
}

/** A trigger's `with` relabels, for its IR (absent when it makes none). */
export function withRelabels(d: TriggerDecl, file: string): { relabels?: RelabelIR[] } {
  const relabels = d.with ? relabelsIn(d.with, file) : [];
  return relabels.length > 0 ? { relabels } : {};
}

function lowerSource(s: TriggerSource, lowerExpr: LowerExpr, resolvePlan: (name: string) => string | undefined): TriggerSourceIR {
  switch (s.kind) {
    case 'ScheduleSource':
      return { kind: 'schedule', cron: literalText(s.cron), timezone: s.timezone ? literalText(s.timezone) : null };
    case 'EventSource':
      return { kind: 'event', type: literalText(s.eventType), where: s.where ? lowerExpr(s.where) : null };
    case 'ManualSource':
      return { kind: 'manual' };
    case 'ApiSource':
      return { kind: 'api', path: literalText(s.path) };
    case 'ConditionSource':
      return { kind: 'when', condition: lowerExpr(s.condition) };
    case 'ChainSource': {
      const name = s.plan.parts.map((p) => p.name).join('.');
      return { kind: 'after', plan: resolvePlan(name) ?? name, outcome: s.outcome };
    }
  }
}

/** Trigger strings (cron, event type, path) are plain literals; interpolation is not allowed there. */
function literalText(s: StringLit): string {
  return s.parts.map((p) => (typeof p === 'string' ? p : '')).join('');
}
