/**
 * `std.capabilities.email` where no channel transport runs (an executor without the channel edge,
 * runtime/channels): nothing can be sent, so the attempt fails rather than pretend.
 */
export function handler(input: { readonly channel?: string }): never {
  throw new Error(`channel "${input.channel ?? 'email'}" is not configured (no channel transport in this executor)`);
}
