/**
 * `std.capabilities.approval`: the scheduler itself holds the step until it is decided —
 * `orch signal RUN STEP approve|reject`, or the authenticated people of LANGUAGE.md §8.8 — (output
 * `{approved, approver, approvers, decision, comment}`); this handler
 * only exists so a misrouted call fails with a clear message.
 */
import type { HandlerContext } from './context.js';

export function handler(_input: unknown, ctx: HandlerContext): never {
  throw new Error(`approval step ${ctx.stepId} is decided by \`orch signal ${ctx.runId} ${ctx.stepId} approve|reject\`, not by a handler`);
}
