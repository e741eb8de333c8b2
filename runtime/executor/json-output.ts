/**
 * Turns what a handler returned into JSON text, or says exactly why it cannot: the journal,
 * the scheduler and `--json` only ever see JSON values. Runs in the worker thread, so a bad
 * output never reaches structured cloning (which fails on functions with an opaque error) or the
 * journal (which cannot store a cycle).
 *
 * Decisions (docs/language.md, "Handler outputs"):
 * - `undefined` as the whole output is `null`; as an object property it is left out (as
 *   `JSON.stringify` does); inside an array it is an error (JSON would silently make it null).
 * - An object with a `toJSON` method (Date, most decimal/money classes) is replaced by what that
 *   method returns, which is checked in turn.
 * - Functions, symbols, bigints, NaN, ±Infinity, cycles and class instances without `toJSON`
 *   (Map, Set, Buffer, typed arrays, custom classes) are errors naming their path.
 * - The JSON text (UTF-8) may be at most `maxBytes` long.
 */

export type JsonOutput = { readonly ok: true; readonly json: string } | { readonly ok: false; readonly error: string };

export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;

/** How deep a handler output may nest (arrays and objects). */
export const MAX_OUTPUT_DEPTH = 1000;

/**
 * Whether a JSON value nests deeper than `limit` (walked without recursion): V8 parses any depth,
 * but journaling the value (`JSON.stringify`) and comparing it overflow the stack far sooner —
 * so what comes in from outside (an input, context signals, an event payload) gets the same bound
 * as a handler's output.
 */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

/** The deepest bracket nesting of JSON text (brackets inside strings do not count). */
function nestingDepth(json: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) max = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

export function toJsonOutput(value: unknown, maxBytes: number, root = 'output'): JsonOutput {
  const start = value === undefined ? null : value;
  // Fast path: JSON.stringify itself, with a replacer that only notices trouble. Only when it
  // noticed some (or threw: a cycle, a bigint, too deep) is the value walked again to say
  // exactly what and where — walking every output that way costs ~15× a plain stringify.
  let trouble = false;
  let json: string | undefined;
  try {
    json = JSON.stringify(start, function (this: unknown, _key: string, v: unknown) {
      if (!trouble && !isJsonPart(this, v)) trouble = true;
      return v;
    });
  } catch {
    trouble = true;
  }
  if (trouble || json === undefined) {
    const checked = jsonValue(start, root);
    if (!checked.ok) return checked;
    try {
      json = JSON.stringify(checked.value);
    } catch (err) {
      // Only a value nested deeper than V8's stringify recursion gets here.
      return { ok: false, error: `${root} cannot be serialized: ${(err as Error).message}` };
    }
  }
  const bytes = Buffer.byteLength(json, 'utf8');
  const depth = nestingDepth(json);
  // The same answer on every Node line: V8's stringify recursion limit differs between them
  // (Node 26 serializes 200,000 levels), and what reads outputs later walks them recursively.
  if (depth > MAX_OUTPUT_DEPTH) return { ok: false, error: `${root} cannot be serialized: it nests ${depth} levels deep, more than ${MAX_OUTPUT_DEPTH}` };
  if (bytes > maxBytes)
    return { ok: false, error: `${root} is ${formatBytes(bytes)} of JSON, more than the limit of ${formatBytes(maxBytes)} (maxOutputBytes / --max-output)` };
  return { ok: true, json };
}

/** Whether `v` (already through toJSON), found in `holder`, is serialized as JSON says it is. */
function isJsonPart(holder: unknown, v: unknown): boolean {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v);
    case 'undefined':
      // a property is left out (fine); an array element would silently become null
      return !Array.isArray(holder);
    case 'object': {
      if (v === null || Array.isArray(v)) return true;
      const proto = Object.getPrototypeOf(v) as unknown;
      return proto === Object.prototype || proto === null;
    }
    default:
      return false;
  }
}

/**
 * An attempt's log budget: each line as it should be kept, or null once the budget is spent. The
 * lines an attempt logs (a handler's `ctx.log` and prints, an MCP server's stderr) share the same
 * `maxBytes` as its output; the line that goes past it is replaced by a note saying so.
 */
export function logBudget(maxBytes: number): (line: string) => string | null {
  let used = 0;
  return (line) => {
    if (used > maxBytes) return null;
    used += Buffer.byteLength(line, 'utf8');
    return used > maxBytes ? `… further log lines dropped: more than ${formatBytes(maxBytes)}` : line;
  };
}

/** `1.5 MiB (1572864 bytes)` */
export function formatBytes(n: number): string {
  const unit = n >= 1024 * 1024 ? ['MiB', 1024 * 1024] as const : n >= 1024 ? ['KiB', 1024] as const : null;
  return unit ? `${+(n / unit[1]).toFixed(2)} ${unit[0]} (${n} bytes)` : `${n} bytes`;
}

type Checked = { ok: true; value: unknown } | { ok: false; error: string };

/** A plain copy of `value` made of JSON values only, or the first problem found (depth-first). */
function jsonValue(value: unknown, root: string): Checked {
  const fail = (path: string, what: string): Checked => ({ ok: false, error: `${path}: ${what} is not a JSON value` });
  const holder: { v: unknown } = { v: undefined };
  // Depth-first with an explicit stack; an `exit` frame pops an object off the current path, so
  // `open` holds exactly the objects above the value being converted (a shared, non-circular
  // object may appear twice: JSON repeats it).
  type Frame = { v: unknown; set: (x: unknown) => void; path: string } | { exit: object };
  const work: Frame[] = [{ v: value, set: (x) => (holder.v = x), path: root }];
  const open = new Set<object>();
  while (work.length) {
    const f = work.pop()!;
    if ('exit' in f) {
      open.delete(f.exit);
      continue;
    }
    let v = f.v;
    if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
      try {
        v = (v as { toJSON: (key: string) => unknown }).toJSON('');
      } catch (err) {
        return { ok: false, error: `${f.path}: toJSON() threw: ${describeThrown(err)}` };
      }
    }
    switch (typeof v) {
      case 'string':
      case 'boolean':
        f.set(v);
        continue;
      case 'number':
        if (!Number.isFinite(v)) return fail(f.path, String(v));
        f.set(v);
        continue;
      case 'undefined':
        return fail(f.path, 'undefined');
      case 'function':
        return fail(f.path, 'a function');
      case 'symbol':
        return fail(f.path, 'a symbol');
      case 'bigint':
        return fail(f.path, `a bigint (${String(v)}n)`);
    }
    if (v === null) {
      f.set(null);
      continue;
    }
    const obj = v as object;
    if (open.has(obj)) return { ok: false, error: `${f.path}: a circular reference is not a JSON value` };
    if (Array.isArray(obj)) {
      const copy = new Array<unknown>(obj.length);
      f.set(copy);
      open.add(obj);
      work.push({ exit: obj });
      for (let i = obj.length - 1; i >= 0; i--) work.push({ v: obj[i], set: (x) => (copy[i] = x), path: `${f.path}[${i}]` });
      continue;
    }
    const proto = Object.getPrototypeOf(obj) as object | null;
    if (proto !== Object.prototype && proto !== null) return fail(f.path, `an instance of ${className(obj)}`);
    open.add(obj);
    work.push({ exit: obj });
    const copy: Record<string, unknown> = {};
    f.set(copy);
    let entries: [string, unknown][];
    try {
      entries = Object.entries(obj);
    } catch (err) {
      return { ok: false, error: `${f.path}: reading it threw: ${describeThrown(err)}` };
    }
    for (let i = entries.length - 1; i >= 0; i--) {
      const [k, x] = entries[i]!;
      // Left out, as JSON.stringify does: `{ a: maybe }` is a common way to write an optional field.
      if (x === undefined) continue;
      // defineProperty: an own `__proto__` key stays a key instead of becoming the prototype.
      work.push({ v: x, set: (y) => Object.defineProperty(copy, k, { value: y, enumerable: true, writable: true, configurable: true }), path: `${f.path}${/^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`}` });
    }
  }
  return { ok: true, value: holder.v };
}

function className(obj: object): string {
  const name = (obj.constructor as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' && name ? name : 'a class';
}

/**
 * A thrown value of any kind as text (a handler or hook may throw a string, an object, a symbol,
 * a proxy whose traps throw …). Never throws itself: it runs in the catch clause that keeps a
 * misbehaving handler or hook a failed attempt.
 */
export function describeThrown(err: unknown): string {
  try {
    if (err instanceof Error) return String(err.message || err.name);
    if (typeof err === 'symbol') return err.toString();
    if (typeof err === 'string') return err;
    try {
      return JSON.stringify(err) ?? String(err);
    } catch {
      return Object.prototype.toString.call(err);
    }
  } catch {
    return 'a value that cannot be shown (reading it threw)';
  }
}
