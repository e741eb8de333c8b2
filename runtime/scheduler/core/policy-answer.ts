/**
 * What a preExecution hook's answer decides (LANGUAGE.md §7.3, docs/language.md "Policy hooks").
 * The hook is a gate: nothing (or an object without `allow`) lets the step through, `allow:
 * false` (or a bare `false`) blocks it, and any other answer is a broken hook, which fails closed
 * like a throw.
 */
import type { CoreEvent } from './protocol.js';
import { describeThrown } from '../../executor/json-output.js';

type Decision = Pick<Extract<CoreEvent, { type: 'policy_decided' }>, 'allow' | 'reason' | 'failure'>;

export function policyAnswer(answer: unknown): Decision {
  if (answer === undefined || answer === null) return { allow: true };
  if (typeof answer === 'boolean') return { allow: answer };
  // Reading the answer runs the hook's code too (a getter, a Proxy trap, a reason's toString):
  // what that throws is a broken hook, never an exception in the scheduler.
  try {
    if (typeof answer === 'object' && !Array.isArray(answer)) {
      const { allow, reason } = answer as { allow?: unknown; reason?: unknown };
      if (allow === undefined || typeof allow === 'boolean') return { allow: allow !== false, ...(reason !== undefined && reason !== null ? { reason: String(reason) } : {}) };
    }
  } catch (err) {
    return { allow: false, failure: `its answer could not be read: ${describeThrown(err)}` };
  }
  return { allow: false, failure: `it answered ${shown(answer)}, not { allow, reason }` };
}

function shown(answer: unknown): string {
  try {
    return JSON.stringify(answer) ?? String(answer);
  } catch {
    return Object.prototype.toString.call(answer);
  }
}
