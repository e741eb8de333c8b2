/**
 * Triggers lowered to an IR the runtime can activate (`orch serve`). Triggers are module-level
 * declarations, not part of any one plan, so they live beside `PlanIR` rather than inside it.
 * Every expression is an `ExprIR` produced by the compiler's own expression lowering; `event`
 * is the payload that fired the trigger and `context` the live signals.
 */
import type { ExprIR } from './ir/types.js';

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
  /** Where it was declared, for the start-up banner and error messages. */
  readonly file: string;
  readonly line: number;
}
