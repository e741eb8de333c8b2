/**
 * `std.capabilities.transform`: reshapes a record without code — `pick` keeps fields, `omit`
 * drops them, `rename` maps old → new names, `merge` adds fields. Output `{ value }`.
 */
export interface TransformInput {
  readonly value: unknown;
  readonly pick?: readonly string[];
  readonly omit?: readonly string[];
  readonly rename?: { readonly [from: string]: string };
  readonly merge?: { readonly [key: string]: unknown };
}

export function handler(input: TransformInput): { value: unknown } {
  const apply = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    let rec: Record<string, unknown> = { ...(v as Record<string, unknown>) };
    if (input.pick) rec = Object.fromEntries(Object.entries(rec).filter(([k]) => input.pick!.includes(k)));
    if (input.omit) for (const k of input.omit) delete rec[k];
    if (input.rename)
      for (const [from, to] of Object.entries(input.rename))
        if (from in rec) {
          rec[to] = rec[from];
          delete rec[from];
        }
    if (input.merge) Object.assign(rec, input.merge);
    return rec;
  };
  return { value: Array.isArray(input.value) ? input.value.map(apply) : apply(input.value) };
}
