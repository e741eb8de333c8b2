/**
 * The expression checker's contract and the pieces its rule modules share: what an expression
 * is checked against (`ExprEnv`: scope roots, steps, items, blocks, and the callbacks that report
 * reads), what it yields (`ExprResult`: type, data class, `ExprIR`), and what `expr.ts`,
 * `operators.ts` and `builtins.ts` each need of one another (`ExprChecking`).
 */
import type { DataClass, Expr, Range } from '../../language/index.js';
import type { ExprIR } from '../ir/types.js';
import { moneyText } from '../money.js';
import type { ModelBuilder } from '../model.js';
import type { Diagnostic } from '../../language/index.js';
import { SPEND, T, field, optional, record, type Ty } from '../types/ty.js';

export interface ExprResult {
  readonly ty: Ty;
  readonly data: DataClass;
  readonly ir: ExprIR;
}

export interface RootInfo {
  readonly ty: Ty;
  readonly ir: ExprIR;
}

export interface StepRefInfo {
  readonly id: string;
  readonly symbol: number;
  /** Type of one output (per item for `for each` steps). */
  readonly outputTy: Ty;
  /** `for each` group the step belongs to, if any. */
  readonly group: string | undefined;
  /** The `for each` groups around the step, outermost first (its output nests once per group read from outside). */
  readonly eachPath?: readonly string[];
}

/** A `race` or `repeat` block, read by name like a step. */
export interface BlockRefInfo {
  readonly id: string;
  readonly kind: 'race' | 'repeat';
  readonly symbol: number;
  /** race: its branches; repeat: every step inside it. */
  readonly steps: readonly string[];
  /** What `NAME` is outside the block (race: winner, output…; repeat: iterations, status…). */
  readonly outsideTy: Ty;
  /** repeat, inside: `index` and `previous`. */
  readonly insideTy?: Ty;
  /** The `for each` groups around the block, outermost first. */
  readonly eachPath?: readonly string[];
}

export interface ItemInfo {
  readonly ty: Ty;
  readonly data: DataClass;
  readonly symbol: number;
}

export interface ExprEnv {
  readonly file: string;
  readonly model: ModelBuilder;
  readonly diags: Diagnostic[];
  readonly roots: ReadonlyMap<string, RootInfo>;
  readonly steps?: ReadonlyMap<string, StepRefInfo>;
  /** The `for each` group of the step being checked: same-group steps read per-item outputs. */
  readonly group?: string;
  readonly items?: ReadonlyMap<string, ItemInfo>;
  /** Guardrail conditions: data classes, kinds, tiers and statuses may be written bare. */
  readonly constants?: boolean;
  /** Guardrail conditions: capability names written bare evaluate to their IR name. */
  readonly capabilityConstant?: (name: string) => string | undefined;
  /** `skips` false: an unguarded read that does not skip the reader with the step (a race branch read through `NAME.output`). */
  readonly onStep?: (id: string, range: Range, outputRead: boolean, guarded: boolean, skips?: boolean) => void;
  /** `race` and `repeat` blocks by name. */
  readonly blocks?: ReadonlyMap<string, BlockRefInfo>;
  /** The `repeat` blocks around the expression (their `index` and `previous` are readable). */
  readonly inside?: ReadonlySet<string>;
  /** The `for each` groups around the expression, outermost first. */
  readonly eachPath?: readonly string[];
  /** A block read as a whole from outside it (the reader waits for the block to end). */
  readonly onBlock?: (id: string) => void;
  /** A step read through `NAME.previous.step` (a use, not a dependency). */
  readonly onPrevious?: (id: string) => void;
  /** `a..b` is only valid in `simulate` blocks. */
  readonly allowRange?: boolean;
  /**
   * Diagnostics only (`orch check`): types, data classes and references are worked out as
   * always, but no IR is built — every result's `ir` is one shared placeholder. Only for
   * expressions whose IR nobody reads in that mode (step arguments and conditions).
   */
  readonly typesOnly?: boolean;
  /** Tests (§9.2): what a step reference is, its `input` included; default `stepViewTy(output)`. */
  readonly stepViewOf?: (step: StepRefInfo, output: Ty) => Ty;
  /** Tests (§9.2): `calls(CAP)`, the inputs of every call a capability received, in order. */
  readonly calls?: (args: readonly Expr[], range: Range) => ExprResult;
}

export const STEP_STATUSES = ['pending', 'queued', 'running', 'paused', 'completed', 'failed', 'skipped', 'cancelled', 'timeout'] as const;

/** What the operator and built-in function rules need of the checker they run in. */
export interface ExprChecking {
  readonly env: ExprEnv;
  /** `env.typesOnly`: results carry `NO_IR`. */
  readonly noIR: boolean;
  check(e: Expr, guarded: boolean): ExprResult;
  error(code: 'E0201' | 'E0203' | 'E0101', message: string, range: Range): void;
}

/** `build`, computed once per type object (types are immutable and shared). */
export function cachedPerTy(build: (t: Ty) => Ty): (t: Ty) => Ty {
  const cache = new WeakMap<Ty, Ty>();
  return (t) => {
    let v = cache.get(t);
    if (!v) {
      v = build(t);
      cache.set(t, v);
    }
    return v;
  };
}

/** The type of a step reference (`x.output`, `x.status`, …); shared per output type. */
export const stepViewTy = cachedPerTy(buildStepView);

function buildStepView(output: Ty): Ty {
  return record([
    field('output', output),
    field('status', { k: 'enum', values: STEP_STATUSES }),
    field('started', T.bool),
    field('completed', T.bool),
    field('failed', T.bool),
    field('skipped', T.bool),
    field('attempts', T.int),
    field('duration', T.duration),
    field('cost', SPEND),
    field('resource', optional(T.string)),
  ]);
}

const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration literal in ms. Decimal units are products of binary floats (`2.3h` is
 * 8279999.999999999), so the result keeps a millionth of a ms: `2.3h == 138m` holds.
 */
export function durationMs(value: number, unit: string): number {
  return Math.round(value * (DURATION_MS[unit] ?? 1) * 1e6) / 1e6;
}

/**
 * A percentage literal as the fraction the run holds, to a millionth of a percent as percent
 * arithmetic is (money.ts roundUnit): `12.3%` is 0.123, not 0.12300000000000001, so
 * `10% + 2.3% == 12.3%` holds.
 */
export function percentFraction(value: number): number {
  return Math.round((value / 100) * 1e8) / 1e8;
}

export const NO_DATA: DataClass = 'public';

export function lit(value: string | number | boolean | null, unit?: 'duration' | 'money' | 'percent' | 'data_class'): ExprIR {
  return unit ? { op: 'lit', value, unit } : { op: 'lit', value };
}

/** The `ir` of every result in `typesOnly` mode. */
export const NO_IR: ExprIR = Object.freeze({ op: 'lit', value: null });

/** `e` in a message: its name or path, its literal, else "expression". */
export function describe(e: Expr): string {
  switch (e.kind) {
    case 'NameExpr':
      return e.name;
    case 'MemberExpr': {
      // A loop: member chains may be thousands of links long.
      const path: string[] = [];
      let cur: Expr = e;
      while (cur.kind === 'MemberExpr') {
        path.push(cur.property.name);
        cur = cur.object;
      }
      return `${describe(cur)}.${path.reverse().join('.')}`;
    }
    case 'StringLit':
      return 'a string';
    case 'NumberLit':
      return String(e.value);
    case 'DurationLit':
      return `${e.value}${e.unit}`;
    case 'MoneyLit':
      return moneyText(e.amount, e.currency);
    default:
      return 'expression';
  }
}
