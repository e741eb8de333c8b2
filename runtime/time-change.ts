/**
 * When a condition's value can change with time alone (LANGUAGE.md §9.4): `age(context.X) > 5m`
 * turns true at X's set time + 5m with no message. Those re-evaluating conditions on signal
 * changes (serve's `when` edges, `wait until`, `available when`) also re-evaluate then.
 *
 * Exact for a comparison of a clock-read — `age(context.X)`, `now()`, `run.elapsed`, each ± a
 * time-free number — with a time-free value (either side): the instant is where the line crosses
 * it. A clock-read elsewhere (in arithmetic such as `age(context.x) * 2`, a built-in, `??`) cannot
 * be bounded here: it is looked at again every `RECHECK_MS`. Staleness is not this module's: the
 * context store's own timers announce a signal going stale.
 */
import { exprChildren, type ExprIR } from '../compiler/index.js';
import { evaluateOrUnknown, readSignal, type EvalEnv } from './evaluate.js';

/** How often a clock-read this module cannot bound is looked at again. */
export const RECHECK_MS = 1000;

const COMPARISONS: ReadonlySet<string> = new Set(['<', '<=', '>', '>=', '==', '!=']);

/** A clock-read's value at time t is `t - base` (ms); null when it has no value now (a signal never set). */
type Line = { readonly base: number } | null;

/**
 * The next instant after `now` (epoch ms) at which `expr` may take another value with no signal
 * set or gone stale, or null when time alone never changes it. An instant may be early (a
 * comparison in a branch that `and`/`or` leaves aside): re-evaluating then changes nothing.
 */
export function nextTimeChange(expr: ExprIR, env: EvalEnv, now: number): number | null {
  let best: number | null = null;
  const at = (t: number): void => {
    if (t > now && (best === null || t < best)) best = t;
  };
  const walk = (e: ExprIR): void => {
    if (COMPARISONS.has(e.op) && 'left' in e) {
      const l = clockRead(e.left), r = clockRead(e.right);
      if (l && r) return; // both move with time: their difference does not
      if (l || r) {
        const other = l ? e.right : e.left;
        if (!timeFree(other)) return at(now + RECHECK_MS);
        const line = lineOf((l ?? r)!, env, now);
        const v = line ? valueOf(other, env) : null;
        if (line && typeof v === 'number' && Number.isFinite(v)) for (const t of crossings(l ? e.op : MIRROR[e.op]!, line.base + v)) at(t);
        return;
      }
    }
    if (isClock(e)) return growing(e, env) ? at(now + RECHECK_MS) : undefined;
    for (const c of exprChildren(e)) walk(c);
  };
  walk(expr);
  return best;
}

/** `v OP clock` is `clock OP' v`. */
const MIRROR: { readonly [op: string]: string } = { '<': '>', '<=': '>=', '>': '<', '>=': '<=', '==': '==', '!=': '!=' };

/**
 * The whole-ms instants where `clock OP v` flips as the clock passes x = base + v: `>`/`<=` at the
 * first instant past x, `>=`/`<` at the first at or past it, `==`/`!=` at both.
 */
function crossings(op: string, x: number): number[] {
  const atOrPast = Math.ceil(x), past = Math.floor(x) + 1;
  if (op === '>' || op === '<=') return [past];
  if (op === '>=' || op === '<') return [atOrPast];
  return [atOrPast, past];
}

/** A clock-read, possibly ± time-free terms: `{ read, offset terms }`. */
interface ClockRead {
  readonly read: ExprIR;
  /** Terms added (+1) or subtracted (-1) from the read. */
  readonly terms: readonly { readonly sign: 1 | -1; readonly e: ExprIR }[];
}

function clockRead(e: ExprIR): ClockRead | null {
  if (isClock(e)) return { read: e, terms: [] };
  if ((e.op === '+' || e.op === '-') && 'left' in e) {
    const l = clockRead(e.left);
    if (l && timeFree(e.right)) return { read: l.read, terms: [...l.terms, { sign: e.op === '+' ? 1 : -1, e: e.right }] };
    const r = e.op === '+' ? clockRead(e.right) : null;
    if (r && timeFree(e.left)) return { read: r.read, terms: [...r.terms, { sign: 1, e: e.left }] };
  }
  return null;
}

function lineOf(c: ClockRead, env: EvalEnv, now: number): Line {
  let base: number;
  const r = c.read;
  if (r.op === 'call' && r.fn === 'now') base = 0;
  else if (r.op === 'call') {
    const key = signalKey(r.args[0]);
    const setAt = key === null ? null : readSignal(env, key).set_at;
    if (typeof setAt !== 'number') return null; // never set, or an age that does not grow
    base = setAt;
  } else {
    const elapsed = valueOf(r, env);
    if (typeof elapsed !== 'number') return null;
    base = now - elapsed;
  }
  for (const t of c.terms) {
    const v = valueOf(t.e, env);
    if (typeof v !== 'number' || !Number.isFinite(v)) return null;
    base -= t.sign * v;
  }
  return { base };
}

/** A value to cross, or null when it has none (an error is the evaluator's to report, not this module's). */
function valueOf(e: ExprIR, env: EvalEnv): unknown {
  try {
    return evaluateOrUnknown(e, env);
  } catch {
    return null;
  }
}

/** An `age()` grows only where the reader gives the signal's set time (see `SignalRead.set_at`). */
function growing(e: ExprIR, env: EvalEnv): boolean {
  if (e.op !== 'call' || e.fn !== 'age') return true;
  const key = signalKey(e.args[0]);
  return key !== null && typeof readSignal(env, key).set_at === 'number';
}

/** `age(context.X)`, `now()` or `run.elapsed`: a value that grows one ms a ms. */
function isClock(e: ExprIR): boolean {
  if (e.op === 'call') return e.fn === 'now' || (e.fn === 'age' && signalKey(e.args[0]) !== null);
  return e.op === 'get' && e.key === 'elapsed' && e.object.op === 'var' && e.object.name === 'run';
}

function signalKey(e: ExprIR | undefined): string | null {
  return e && e.op === 'get' && e.object.op === 'var' && e.object.name === 'context' ? e.key : null;
}

function timeFree(e: ExprIR): boolean {
  return !isClock(e) && exprChildren(e).every(timeFree);
}

/** Whether `expr` reads the clock at all (so a caller need not ask `nextTimeChange` otherwise). */
export function readsClock(expr: ExprIR): boolean {
  return !timeFree(expr);
}
