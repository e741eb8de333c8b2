/**
 * Secret redaction, done on values before they are serialized: the journal, `--json` results,
 * progress lines and `orch serve` responses all pass through one `Redactor` per runtime.
 *
 * Rules (docs/language.md, "Redaction"):
 * - Only string leaves are changed; object keys, numbers, booleans and null never are (a secret
 *   `1` or `true` must not rewrite every counter and flag of the journal).
 * - A secret of at least `SUBSTRING_MIN` characters is replaced by `***` wherever it occurs
 *   inside a string, repeatedly, until no occurrence is left.
 * - A shorter secret (`1`, `run`) replaces a string only when it is that whole string: as a
 *   substring it would blank unrelated text and say which letters the secret is made of.
 * - Transformed copies (upper-cased, base64, split, hashed …) are not recognised.
 */

export const REDACTION_MARK = '***';

/** Secrets at least this long are redacted inside strings; shorter ones only as whole strings. */
export const SUBSTRING_MIN = 4;

export class Redactor {
  private readonly long = new Set<string>();
  private readonly short = new Set<string>();

  add(secret: string): void {
    // The marker itself is what redacted text is made of; hiding it would change nothing.
    if (secret.length === 0 || secret === REDACTION_MARK) return;
    (secret.length >= SUBSTRING_MIN ? this.long : this.short).add(secret);
  }

  get size(): number {
    return this.long.size + this.short.size;
  }

  /** One string with every secret blanked. */
  text(s: string): string {
    // Sizes first: a journal batch's text is long, and looking it up hashes all of it.
    if (this.short.size > 0 && this.short.has(s)) return REDACTION_MARK;
    if (this.long.size === 0) return s;
    let out = s;
    // Each replacement shortens the string (a long secret has more characters than the marker),
    // so this ends; it repeats because a replacement can join text into a new occurrence.
    for (let changed = true; changed; ) {
      changed = false;
      for (const secret of this.long)
        if (out.includes(secret)) {
          out = out.split(secret).join(REDACTION_MARK);
          changed = true;
        }
    }
    return out;
  }

  /**
   * A copy of a JSON-like value with every string leaf redacted; keys and non-string leaves are
   * kept as they are. A shared sub-object is copied once (a cycle stays a cycle in the copy);
   * the walk uses its own stack, so deep values cannot overflow the call stack.
   */
  value<T>(v: T): T {
    if (this.size === 0) return v;
    if (typeof v === 'string') return this.text(v) as T;
    if (v === null || typeof v !== 'object') return v;
    const copies = new Map<object, unknown>();
    const root = shell(v);
    copies.set(v, root);
    const work: [object, Record<string, unknown> | unknown[]][] = [[v, root]];
    while (work.length) {
      const [src, dst] = work.pop()!;
      for (const [k, x] of Object.entries(src)) {
        let y: unknown = x;
        if (typeof x === 'string') y = this.text(x);
        else if (x !== null && typeof x === 'object') {
          const seen = copies.get(x);
          if (seen !== undefined) y = seen;
          else {
            const c = shell(x);
            copies.set(x, c);
            work.push([x, c]);
            y = c;
          }
        }
        if (Array.isArray(dst)) dst[Number(k)] = y;
        // An own `__proto__` key (JSON.parse makes them) must stay a key, not become the prototype.
        else if (k === '__proto__') Object.defineProperty(dst, k, { value: y, enumerable: true, writable: true, configurable: true });
        else dst[k] = y;
      }
    }
    return root as T;
  }
}

function shell(v: object): Record<string, unknown> | unknown[] {
  return Array.isArray(v) ? new Array<unknown>(v.length) : {};
}
