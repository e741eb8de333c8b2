/**
 * `std.capabilities.notify`: delivers a message to a channel. Without an external transport the
 * message goes to the run's log (and so to the journal).
 */
import type { HandlerContext } from './context.js';

export interface NotifyInput {
  readonly channel?: string;
  readonly text?: string;
  readonly message?: string;
}

export function handler(input: NotifyInput, ctx: HandlerContext): { delivered: boolean; channel: string; text: string } {
  const channel = input.channel ?? 'default';
  const text = input.text ?? input.message ?? '';
  ctx.log(`[${channel}] ${text}`);
  return { delivered: true, channel, text };
}
