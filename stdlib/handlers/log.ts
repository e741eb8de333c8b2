/** `std.capabilities.log`: writes one line to the run's log. */
import type { HandlerContext } from './context.js';

export function handler(
  input: { readonly message?: string; readonly text?: string; readonly level?: string },
  ctx: HandlerContext,
): { logged: boolean } {
  const message = input.message ?? input.text ?? '';
  ctx.log(`${(input.level ?? 'info').toUpperCase()} ${message}`);
  return { logged: true };
}
