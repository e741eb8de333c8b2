/**
 * `std.capabilities.notify` where no channel transport runs (an executor without the channel edge,
 * runtime/channels): the message goes to the run's log (and so to the journal) and is not
 * delivered (LANGUAGE.md §8.4).
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
  return { delivered: false, channel };
}
