/**
 * What `orch preview` shows a step reserving against a `budget cost` (LANGUAGE.md §8.2): the
 * capability's estimate plus the resource's cost, or for a `kind llm` call with `max_tokens`
 * and a price in orch.config.json, the worst case of the prompt as far as the file tells it,
 * when that is more — the runtime's computation (model-prompt.ts) on the messages as rendered
 * from the file: a prompt or system that reads nothing is its exact text, so the figure is what
 * the run reserves; what `${input…}` adds is known only when the step runs (its literal text is
 * counted, and `per_input_byte` says how much each byte of the rest adds).
 */
import type { CapabilityIR, ExprIR, PlanIR, ResourceIR, StepIR } from './ir/types.js';
import { round6 } from './money.js';
import { isPlainText, JSON_ANSWER_INSTRUCTION, modelWorstCase, promptTokenBound } from './model-prompt.js';
import { configPrice, projectConfigFor, type ConfigPrice } from './project-config.js';
import { staticEval } from './static-eval.js';

export interface StepReservation {
  readonly cost: number;
  /** The model whose price was used, when it was. */
  readonly model: string | null;
  /** Added per byte of interpolated prompt text to `worst_case` (0 when the prompt is all literal or unpriced). */
  readonly per_input_byte: number;
  /**
   * The priced model call's worst case as far as the file tells (resource cost included), null
   * without one. The attempt reserves the more of the estimate and this plus `per_input_byte` per
   * byte of input, so `cost` above `worst_case` is the estimate winning, until the input is long.
   */
  readonly worst_case: number | null;
}

export function stepReservation(plan: PlanIR, step: StepIR): StepReservation {
  const cap: CapabilityIR | undefined = step.capability ? plan.capabilities[step.capability] : undefined;
  const resource = step.resource ? plan.resources[step.resource] : undefined;
  return reservationFor(step.action.type === 'call' ? cap : undefined, resource, plan.source_file || `${plan.base_dir}/plan.orch`);
}

/** What the step's `fallback` call reserves, on its own binding (else the step's resource); null without one. */
export function fallbackReservation(plan: PlanIR, step: StepIR): StepReservation | null {
  const fb = step.fallback;
  if (!fb) return null;
  const at = fb.binding?.resource ?? step.resource;
  return reservationFor(plan.capabilities[fb.capability], at ? plan.resources[at] : undefined, plan.source_file || `${plan.base_dir}/plan.orch`);
}

/** What a call of `cap` (undefined: no call) on `resource` reserves, by the config of `file`'s project. */
export function reservationFor(cap: CapabilityIR | undefined, resource: ResourceIR | undefined, file: string): StepReservation {
  const estimate = cap?.cost ?? 0;
  const base = { cost: round6(estimate + (resource?.cost ?? 0)), model: null, per_input_byte: 0, worst_case: null };
  const llm = cap?.llm;
  if (!cap || !llm || cap.handler !== null || llm.max_tokens === null) return base;
  const model = resource?.model ?? llm.model;
  if (!model) return base;
  const price = priceOf(file, model);
  if (!price) return base;
  const schema = isPlainText(cap.output) ? null : cap.output;
  const user = staticText(llm.prompt) + (schema ? JSON_ANSWER_INSTRUCTION : '');
  const worst = modelWorstCase(promptTokenBound({ system: llm.system ? staticText(llm.system) : undefined, user, schema }), llm.max_tokens, price);
  const interpolates = hasReads(llm.prompt) || (llm.system !== null && hasReads(llm.system));
  const at = resource?.cost ?? 0;
  return { cost: round6(Math.max(estimate, worst) + at), model, per_input_byte: interpolates ? price.input_per_mtok / 1e6 : 0, worst_case: round6(worst + at) };
}

function priceOf(file: string, model: string): ConfigPrice | undefined {
  const price = configPrice(projectConfigFor(file, false), model);
  return price === 'malformed' ? undefined : price;
}

/** A prompt's text as far as the file tells it: all of it when it reads nothing, else its literal parts. */
function staticText(e: ExprIR): string {
  if (!hasReads(e)) {
    const v = staticEval(e, {});
    if (typeof v === 'string') return v;
  }
  let text = '';
  walk(e, (x) => {
    if (x.op === 'lit' && typeof x.value === 'string') text += x.value;
  });
  return text;
}

function hasReads(e: ExprIR): boolean {
  let found = false;
  walk(e, (x) => {
    if (x.op === 'var') found = true;
  });
  return found;
}

function walk(e: ExprIR, visit: (e: ExprIR) => void): void {
  const stack: unknown[] = [e];
  while (stack.length) {
    const n = stack.pop();
    if (n === null || typeof n !== 'object') continue;
    if (Array.isArray(n)) {
      stack.push(...(n as unknown[]));
      continue;
    }
    if (typeof (n as { op?: unknown }).op === 'string') visit(n as ExprIR);
    for (const v of Object.values(n)) if (v && typeof v === 'object') stack.push(v);
  }
}

