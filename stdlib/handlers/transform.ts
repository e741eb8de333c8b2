/**
 * `std.capabilities.transform`: a fixed set of reshaping operations (no user code):
 * `identity`, `keys`, `values`, `flatten` (one level of lists), `count`. Output `{ value }`.
 */
export interface TransformInput {
  readonly value: unknown;
  readonly op?: 'identity' | 'keys' | 'values' | 'flatten' | 'count';
}

export function handler(input: TransformInput): { value: unknown } {
  const v = input.value;
  switch (input.op ?? 'identity') {
    case 'identity':
      return { value: v ?? null };
    case 'keys':
      return { value: v !== null && typeof v === 'object' ? Object.keys(v) : [] };
    case 'values':
      return { value: v !== null && typeof v === 'object' ? Object.values(v) : [] };
    case 'flatten':
      return { value: Array.isArray(v) ? v.flatMap((x) => (Array.isArray(x) ? x : [x])) : v ?? null };
    case 'count':
      return {
        value: Array.isArray(v) || typeof v === 'string' ? v.length : v !== null && typeof v === 'object' ? Object.keys(v).length : 0,
      };
    default:
      throw new Error(`unknown transform op "${String(input.op)}"`);
  }
}
