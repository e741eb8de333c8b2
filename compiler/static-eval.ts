/**
 * Three-valued evaluation of `ExprIR` over the facts known at compile time (placement, data
 * classes, kinds, estimates). Anything that depends on run-time values (`input`, `context`,
 * `run`, step outputs) is UNKNOWN, and UNKNOWN propagates except where logic decides anyway
 * (`false and ?` is false, `true or ?` is true).
 */
import type { ExprIR } from './ir/types.js';
import { roundUnit } from './money.js';

export const UNKNOWN: unique symbol = Symbol('unknown');
export type StaticValue = string | number | boolean | null | StaticValue[] | { [k: string]: StaticValue } | typeof UNKNOWN;

const RANK: Record<string, number> = { public: 0, internal: 1, personal: 2, sensitive: 3, secret: 4 };

export function staticEval(e: ExprIR, vars: Readonly<Record<string, StaticValue>>): StaticValue {
  const ev = (x: ExprIR): StaticValue => staticEval(x, vars);
  if (!isLink(e)) return evalOne(e, ev, vars);
  // A left-nested chain (`a + b + …`, `x.a.b…`) in a loop from its innermost link outwards, so
  // that chains thousands of links long do not exhaust the stack.
  const links: Link[] = [];
  let cur: ExprIR = e;
  while (isLink(cur)) {
    links.push(cur);
    cur = 'left' in cur ? cur.left : cur.object;
  }
  let v = evalOne(cur, ev, vars);
  for (let i = links.length - 1; i >= 0; i--) v = evalLink(links[i]!, v, ev);
  return v;
}

type Link = Extract<ExprIR, { left: ExprIR }> | Extract<ExprIR, { op: 'get' | 'index' }>;

function isLink(e: ExprIR): e is Link {
  return 'left' in e || e.op === 'get' || e.op === 'index';
}

/** A link of a chain given the value of its left operand (or object). */
function evalLink(e: Link, l: StaticValue, ev: (x: ExprIR) => StaticValue): StaticValue {
  switch (e.op) {
    case 'index': {
      const o = l;
      const i = ev(e.index);
      if (Array.isArray(o) && typeof i === 'number') return Number.isInteger(i) && i >= 0 && i < o.length ? o[i]! : null;
      if (o && typeof o === 'object' && !Array.isArray(o) && typeof i === 'string') return i in o ? (o as Record<string, StaticValue>)[i]! : null;
      return UNKNOWN;
    }
    case 'get': {
      const o = l;
      if (o === UNKNOWN) return UNKNOWN;
      if (o && typeof o === 'object' && !Array.isArray(o)) return e.key in o ? o[e.key]! : UNKNOWN;
      return UNKNOWN;
    }
    case 'and': {
      if (l === false) return false;
      const r = ev(e.right);
      if (r === false) return false;
      return l === true && r === true ? true : UNKNOWN;
    }
    case 'or': {
      if (l === true) return true;
      const r = ev(e.right);
      if (r === true) return true;
      return l === false && r === false ? false : UNKNOWN;
    }
    case 'implies': {
      if (l === false) return true;
      const r = ev(e.right);
      if (r === true) return true;
      return l === true && r === false ? false : UNKNOWN;
    }
    case '==':
    case '!=':
    case '<':
    case '<=':
    case '>':
    case '>=': {
      let r = ev(e.right);
      if (l === UNKNOWN || r === UNKNOWN) return UNKNOWN;
      if (e.compare === 'data_class') {
        if (typeof l !== 'string' || typeof r !== 'string' || !(l in RANK) || !(r in RANK)) return e.op === '==' || e.op === '!=' ? compare(e.op, l, r) : UNKNOWN;
        l = RANK[l]!;
        r = RANK[r]!;
      }
      return compare(e.op, l, r);
    }
    case 'in': {
      const r = ev(e.right);
      if (l === UNKNOWN || r === UNKNOWN) return UNKNOWN;
      if (Array.isArray(r)) return r.some((x) => x === l);
      if (typeof r === 'string' && typeof l === 'string') return r.includes(l);
      return UNKNOWN;
    }
    case '+':
    case '-':
    case '*':
    case '/':
    case '%': {
      const r = ev(e.right);
      if (typeof l !== 'number' || typeof r !== 'number') return UNKNOWN;
      const v = e.op === '+' ? l + r : e.op === '-' ? l - r : e.op === '*' ? l * r : r === 0 ? UNKNOWN : e.op === '/' ? l / r : l % r;
      // As the runtime does (runtime/evaluate.ts): money and percents are exact.
      return roundUnit(e.unit, v);
    }
    case '??': {
      if (l === UNKNOWN) return UNKNOWN;
      return l === null ? ev(e.right) : l;
    }
  }
}

function evalOne(e: Exclude<ExprIR, Link>, ev: (x: ExprIR) => StaticValue, vars: Readonly<Record<string, StaticValue>>): StaticValue {
  switch (e.op) {
    case 'lit':
      return e.value;
    case 'list': {
      const items = e.items.map(ev);
      return items.includes(UNKNOWN) ? UNKNOWN : (items as StaticValue[]);
    }
    case 'record': {
      const out: Record<string, StaticValue> = {};
      for (const f of e.fields) {
        const v = ev(f.value);
        if (v === UNKNOWN) return UNKNOWN;
        out[f.key] = v;
      }
      return out;
    }
    case 'var':
      return e.name in vars ? vars[e.name]! : UNKNOWN;
    case 'item': {
      // `for each` items are passed as `$name` (no root variable can start with `$`).
      const key = `$${e.name}`;
      return key in vars ? vars[key]! : UNKNOWN;
    }
    case 'not': {
      const v = ev(e.arg);
      return typeof v === 'boolean' ? !v : UNKNOWN;
    }
    case 'neg': {
      const v = ev(e.arg);
      return typeof v === 'number' ? -v : UNKNOWN;
    }
    case 'call': {
      const args = e.args.map(ev);
      if (args.includes(UNKNOWN)) return UNKNOWN;
      const [a, b] = args;
      switch (e.fn) {
        case 'len':
          return typeof a === 'string' || Array.isArray(a) ? a.length : UNKNOWN;
        case 'lower':
          return typeof a === 'string' ? a.toLowerCase() : UNKNOWN;
        case 'upper':
          return typeof a === 'string' ? a.toUpperCase() : UNKNOWN;
        case 'split':
          return typeof a === 'string' && typeof b === 'string' ? a.split(b) : UNKNOWN;
        case 'contains':
          return Array.isArray(a) ? a.includes(b as never) : typeof a === 'string' && typeof b === 'string' ? a.includes(b) : UNKNOWN;
        default:
          return UNKNOWN;
      }
    }
    default:
      return UNKNOWN;
  }
}

function compare(op: string, l: StaticValue, r: StaticValue): StaticValue {
  switch (op) {
    case '==':
      return l === r;
    case '!=':
      return l !== r;
  }
  if (typeof l === 'number' && typeof r === 'number') {
    switch (op) {
      case '<': return l < r;
      case '<=': return l <= r;
      case '>': return l > r;
      case '>=': return l >= r;
    }
  }
  if (typeof l === 'string' && typeof r === 'string') {
    switch (op) {
      case '<': return l < r;
      case '<=': return l <= r;
      case '>': return l > r;
      case '>=': return l >= r;
    }
  }
  return UNKNOWN;
}
