/**
 * What a handler's `ctx.usage()` cost (§8.1): as reported, else its tokens at the config's price
 * of its model — the rule `orch run`'s model executor and `orch test`'s mock executor both follow.
 */
import type { AttemptOutcome, AttemptUsage } from '../scheduler/types.js';
import { priceOf, type ModelPrice } from './config.js';

export type ModelPrices = { readonly [model: string]: ModelPrice };

/** The usage with its cost: as reported, else its tokens at the price of its model (when it has one). */
export function pricedUsage(u: AttemptUsage, prices: ModelPrices): { usage: AttemptUsage; cost?: number } {
  if (u.cost !== undefined || u.model === undefined) return { usage: u };
  const price = prices[u.model];
  if (!price) return { usage: u };
  const cost = priceOf(price, u.input_tokens ?? 0, u.output_tokens ?? 0);
  return { usage: { ...u, cost }, cost };
}

/** An outcome whose usage has tokens of a priced model and no cost: the attempt cost that price. */
export function pricedOutcome(o: AttemptOutcome, prices: ModelPrices): AttemptOutcome {
  if (!o.usage) return o;
  const { usage, cost } = pricedUsage(o.usage, prices);
  return cost === undefined ? o : { ...o, cost, usage };
}
