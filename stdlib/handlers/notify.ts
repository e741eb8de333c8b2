/**
 * `std.capabilities.notify`: delivers a message to a channel. Without an external transport the
 * message goes to the run's log (and so to the journal).
 */
import type { HandlerContext } from './context.js';

export interface NotifyInput {
  readonly channel?: string;
  readonly text?: string;
  readonly message?: string;
  readonly level?: string;
}

export function handler(input: NotifyInput, ctx: HandlerContext): { delivered: boolean; channel: string } {
  const channel = input.channel ?? 'default';
  const text = input.text ?? input.message ?? '';
  ctx.log(`[${channel}]${input.level && input.level !== 'info' ? ` ${input.level.toUpperCase()}` : ''} ${text}`);
  return { delivered: true, channel };
}
