/**
 * The two labels of a value (LANGUAGE.md §9.3) — its data class and whether it is trusted — and
 * how an expression's labels follow from what it reads. Each label keeps its witness: the chain of
 * reads (hops) back to the source that gave it, shared between values as a linked list, so a
 * 10,000-step plan builds no strings unless a rule is broken.
 */
import type { DataClass, Expr, FieldDecl, Range } from '../../language/index.js';
import { DATA_CLASSES } from '../../language/index.js';
import { classOfType, maxClass, untrustedInType, type Ty } from '../types/ty.js';

export interface Hop {
  /** What was read, as written (`classify.output.reply_to`), with why it carries the label. */
  readonly text: string;
  readonly file: string;
  readonly range: Range;
}

/** A witness path from a read back to its source: the first hop is nearest the sink. */
export interface Path {
  readonly hop: Hop;
  readonly next: Path | null;
}

export interface Label {
  readonly cls: DataClass;
  /** Where the class came from (null for `public` or a class the value's own type declares). */
  readonly clsPath: Path | null;
  /** Null when trusted; else where the distrust came from. */
  readonly untrusted: Path | null;
}

/** The attributes of a `race` or `repeat` name that hold no step's output (§7.1): a step name, an index, a count. */
export const BLOCK_COUNTS: ReadonlySet<string> = new Set(['winner', 'index', 'iterations']);

export const BOTTOM: Label = { cls: 'public', clsPath: null, untrusted: null };

/**
 * The path of a label whose witness nobody will read. A check walks a plan first without
 * witnesses (`LabelEnv.witness` false): every label is then one of a few shared constants (one per
 * class and trust, see `unwitnessed`), so a read allocates nothing, and a labelled 100,000-step
 * plan keeps no chain of hops through its steps. Only a walk that finds a broken rule is done again
 * with witnesses (flows.ts), for the findings' paths.
 */
export const UNREAD: Path = Object.freeze({
  hop: Object.freeze({ text: '', file: '', range: Object.freeze({ start: Object.freeze({ line: 0, column: 0, offset: 0 }), end: Object.freeze({ line: 0, column: 0, offset: 0 }) }) }),
  next: null,
});

const UNWITNESSED: readonly Label[] = DATA_CLASSES.flatMap((cls) =>
  [false, true].flatMap((classed) =>
    [false, true].map((untrusted): Label =>
      cls === 'public' && !classed && !untrusted ? BOTTOM : Object.freeze({ cls, clsPath: classed ? UNREAD : null, untrusted: untrusted ? UNREAD : null }),
    ),
  ),
);

/** The shared label of class `cls` without a witness: `classed`, whether its class has a path; `untrusted`, whether it is. */
export function unwitnessed(cls: DataClass, classed: boolean, untrusted: boolean): Label {
  return UNWITNESSED[rank(cls) * 4 + (classed ? 2 : 0) + (untrusted ? 1 : 0)]!;
}

export function rank(c: DataClass): number {
  return DATA_CLASSES.indexOf(c);
}

export function join(a: Label, b: Label): Label {
  if (b === BOTTOM) return a;
  if (a === BOTTOM) return b;
  const higher = rank(b.cls) > rank(a.cls);
  const untrusted = a.untrusted ?? b.untrusted;
  if (!higher && untrusted === a.untrusted) return a;
  if (higher && untrusted === b.untrusted) return b;
  return higher ? { cls: b.cls, clsPath: b.clsPath, untrusted } : { cls: a.cls, clsPath: a.clsPath, untrusted };
}

/** The path's hops, nearest the sink first, as `a ← b ← c`. */
export function pathText(p: Path | null): string {
  const parts: string[] = [];
  for (let at = p; at; at = at.next) parts.push(at.hop.text);
  return parts.join(' ← ');
}

export function pathHops(p: Path | null): Hop[] {
  const out: Hop[] = [];
  for (let at = p; at; at = at.next) out.push(at.hop);
  return out;
}

/** What a step's output carries, with why (its hop's note) — stored once per step. */
export interface StepLabel {
  readonly cls: DataClass;
  /** Why the class (`data personal`, `output.email @personal`) when the step is its source; else the tail. */
  readonly clsWhy: string;
  readonly clsTail: Path | null;
  readonly untrusted: boolean;
  /** `llm`, `mcp`, `http_request`, `trust untrusted`, or `reads untrusted` (then the tail says what). */
  readonly why: string;
  readonly tail: Path | null;
}

/** What names an expression may read, and their labels. */
export interface LabelEnv {
  readonly file: string;
  readonly input: ReadonlyMap<string, FieldLabel>;
  readonly context: ReadonlyMap<string, FieldLabel>;
  /** A step's output label by step id. */
  readonly step: (id: string) => StepLabel | undefined;
  /**
   * A `for each` item, or a race/repeat name, in scope at the expression: its label. `then`: the
   * first two properties read after it (`previous`, `review` of `loop.previous.review.output`).
   */
  readonly local: (name: string, then?: readonly [string | undefined, string | undefined]) => Label | undefined;
  /** Whether labels carry their witness paths (false: `UNREAD`, see there). */
  readonly witness: boolean;
  /** Each `endorse` / `declassify` the analysis met (the preview lists them). */
  readonly onRelabel?: (kind: 'endorse' | 'declassify', at: Range, reason: string, to?: DataClass) => void;
}

/** A plan input or context field's own labels (its `@class` and `@untrusted`). */
export interface FieldLabel {
  readonly cls: DataClass;
  readonly untrusted: boolean;
  /** An input whose labels a caller decided (a sub-plan's `run` argument): used as is. */
  readonly given?: Label;
  /** Where the field is declared: its marks' hop (`input.body @untrusted`) points there, not at a read (§9.3). */
  readonly decl?: { readonly file: string; readonly range: Range };
}

/**
 * `ty`, the field's checked type, adds the classes and `@untrusted` marks of its nested fields
 * (`r: { a: string @personal }`, a named type, a list of them): the field as a whole carries the
 * highest class and any distrust, as a step's output carries its fields' class (§9.3) — else a
 * mark written one level down reached anywhere.
 */
export function fieldLabelOf(f: FieldDecl, ty?: Ty, file?: string): FieldLabel {
  const own = f.dataClass ?? 'public';
  const label = { cls: ty ? maxClass(own, classOfType(ty)) : own, untrusted: f.trust === 'untrusted' || (ty !== undefined && untrustedInType(ty)) };
  return file === undefined ? label : { ...label, decl: { file, range: f.name.range } };
}

/** A plan's input fields' labels, by name (`inputTy`: the plan's checked input record; `file`: where they are declared). */
export function inputFieldLabels(fields: readonly FieldDecl[], inputTy: Ty, file?: string): Map<string, FieldLabel> {
  const tys = inputTy.k === 'record' ? inputTy.fields : undefined;
  return new Map(fields.map((fd) => [fd.name.name, fieldLabelOf(fd, tys?.get(fd.name.name)?.ty, file)]));
}

/** An expression's labels: the join of everything it reads, less what `endorse`/`declassify` lift. */
export function exprLabel(e: Expr, env: LabelEnv): Label {
  switch (e.kind) {
    case 'StringLit': {
      let l = BOTTOM;
      for (const p of e.parts) if (typeof p !== 'string') l = join(l, exprLabel(p, env));
      return l;
    }
    case 'NumberLit': case 'DurationLit': case 'MoneyLit': case 'PercentLit': case 'BoolLit': case 'NullLit':
      return BOTTOM;
    case 'ListLit': {
      let l = BOTTOM;
      for (const i of e.items) l = join(l, exprLabel(i, env));
      return l;
    }
    case 'RecordLit': {
      let l = BOTTOM;
      for (const f of e.fields) l = join(l, exprLabel(f.value, env));
      return l;
    }
    case 'NameExpr':
    case 'MemberExpr':
    case 'IndexExpr':
      return readLabel(e, env);
    case 'CallExpr':
      return callLabel(e, env);
    case 'UnaryExpr':
      return exprLabel(e.operand, env);
    case 'BinaryExpr': {
      // Left-nested chains (`a ?? b ?? …`) run thousands deep: walked in a loop, not by recursion.
      // Joined in the order written, so the witness is the first source in the text (`join` keeps
      // its left operand's path).
      const rights: Expr[] = [];
      let at: Expr = e;
      while (at.kind === 'BinaryExpr') {
        rights.push(at.right);
        at = at.left;
      }
      let l = exprLabel(at, env);
      for (let k = rights.length - 1; k >= 0; k--) l = join(l, exprLabel(rights[k]!, env));
      return l;
    }
    case 'RangeExpr':
      return join(exprLabel(e.from, env), exprLabel(e.to, env));
    case 'ParenExpr':
      return exprLabel(e.inner, env);
  }
}

const NO_FIELDS: ReadonlyMap<string, FieldLabel> = new Map();

/** The `endorse`/`declassify` calls of an expression outside any plan (a trigger's `with`), in order. */
export function relabelsIn(e: Expr, file: string): { kind: 'endorse' | 'declassify'; reason: string; to?: DataClass }[] {
  const out: { kind: 'endorse' | 'declassify'; reason: string; to?: DataClass }[] = [];
  const env: LabelEnv = {
    file, input: NO_FIELDS, context: NO_FIELDS, witness: false, step: () => undefined, local: () => undefined,
    onRelabel: (kind, _at, reason, to) => out.push({ kind, reason, ...(to ? { to } : {}) }),
  };
  exprLabel(e, env);
  return out;
}

function callLabel(e: Extract<Expr, { kind: 'CallExpr' }>, env: LabelEnv): Label {
  const name = e.callee.name;
  // A credential is not data; known()/age() tell when a signal reported, not what it said.
  if (name === 'secret' || name === 'known' || name === 'age') return BOTTOM;
  let l = BOTTOM;
  for (const a of e.args) l = join(l, exprLabel(a, env));
  if (name === 'len') return l.untrusted ? { cls: 'public', clsPath: null, untrusted: l.untrusted } : BOTTOM;
  if (name !== 'endorse' && name !== 'declassify') return l;
  const reasonArg = e.named?.find((a) => a.name.name === 'reason')?.value;
  const reason = reasonArg?.kind === 'StringLit' ? reasonArg.parts.filter((p) => typeof p === 'string').join('') : '';
  if (name === 'endorse') {
    env.onRelabel?.('endorse', e.range, reason);
    return l.untrusted ? { cls: l.cls, clsPath: l.clsPath, untrusted: null } : l;
  }
  const toArg = e.named?.find((a) => a.name.name === 'to')?.value;
  const to: DataClass = toArg?.kind === 'NameExpr' && (DATA_CLASSES as readonly string[]).includes(toArg.name) ? (toArg.name as DataClass) : 'internal';
  env.onRelabel?.('declassify', e.range, reason, to);
  if (rank(l.cls) <= rank(to)) return l;
  if (rank(to) === 0) return l.untrusted ? { cls: to, clsPath: null, untrusted: l.untrusted } : BOTTOM;
  // Lowered part of the way (`to: personal`): the value still has a class, so its path names the
  // declassify and what it lowered — else a finding further on had an empty witness.
  if (!env.witness) return unwitnessed(to, true, l.untrusted !== null);
  return { cls: to, clsPath: { hop: { text: `declassify(…, to: ${to})`, file: env.file, range: e.range }, next: l.clsPath }, untrusted: l.untrusted };
}

/** `input.X`, `context.X`, `step.output.f`, a `for each` item: the source's labels, with a hop for the read. */
function readLabel(e: Expr, env: LabelEnv): Label {
  // Walk to the chain's root, remembering the first property after it.
  let root: Expr = e;
  let first: string | undefined;
  let second: string | undefined;
  let indexes = BOTTOM;
  while (root.kind === 'MemberExpr' || root.kind === 'IndexExpr') {
    if (root.kind === 'MemberExpr') [first, second] = [root.property.name, first];
    else {
      indexes = join(indexes, exprLabel(root.index, env));
      [first, second] = [undefined, undefined];
    }
    root = root.object;
  }
  if (root.kind !== 'NameExpr') return join(exprLabel(root, env), indexes);
  const name = root.name;
  const local = env.local(name, [first, second]);
  if (local) return join(withHop(local, e, env, ''), indexes);
  if (name === 'input' || name === 'context') {
    const fields = name === 'input' ? env.input : env.context;
    let l = BOTTOM;
    for (const [k, f] of fields) if (first === undefined || k === first) l = join(l, fieldRead(f, name, k, e, env));
    return join(l, indexes);
  }
  const s = env.step(name);
  if (!s) return indexes;
  return join(stepRead(s, e, env), indexes);
}

function fieldRead(f: FieldLabel, root: string, key: string, e: Expr, env: LabelEnv): Label {
  if (f.given) return withHop(f.given, e, env, '');
  if (!f.untrusted && rank(f.cls) === 0) return BOTTOM;
  if (!env.witness) return unwitnessed(f.cls, rank(f.cls) > 0, f.untrusted);
  return markedLabel(f, `${root}.${key}`, f.decl?.file ?? env.file, f.decl?.range ?? e.range);
}

/** A field's own marks as a label whose hops name it (`input.body @untrusted`), at `range`. */
export function markedLabel(f: FieldLabel, text: string, file: string, range: Range): Label {
  if (!f.untrusted && rank(f.cls) === 0) return BOTTOM;
  const hop = (note: string): Path => ({ hop: { text: `${text}${note}`, file, range }, next: null });
  return {
    cls: f.cls,
    clsPath: rank(f.cls) > 0 ? hop(` @${f.cls}`) : null,
    untrusted: f.untrusted ? hop(' @untrusted') : null,
  };
}

function stepRead(s: StepLabel, e: Expr, env: LabelEnv): Label {
  if (!s.untrusted && rank(s.cls) === 0) return BOTTOM;
  if (!env.witness) return unwitnessed(s.cls, rank(s.cls) > 0, s.untrusted);
  return {
    cls: s.cls,
    clsPath: rank(s.cls) > 0 ? { hop: new ReadHop(e, ` (${s.clsWhy})`, env.file), next: s.clsTail } : null,
    untrusted: s.untrusted ? { hop: new ReadHop(e, s.why === 'reads untrusted' ? READS_UNTRUSTED : ` (${s.why}, untrusted)`, env.file), next: s.tail } : null,
  };
}
const READS_UNTRUSTED = ' (reads untrusted, untrusted)';

/**
 * The hop of a read, its text (`s1.output.body (reads untrusted, untrusted)`) written when asked
 * for: only a broken rule's path is ever read, and a labelled 100,000-step plan reads a labelled
 * value some 150,000 times — a string each was a tenth of the flows stage.
 */
class ReadHop implements Hop {
  constructor(
    private readonly e: Expr,
    private readonly note: string,
    readonly file: string,
  ) {}

  get text(): string {
    return `${chainText(this.e)}${this.note}`;
  }

  get range(): Range {
    return this.e.range;
  }
}

/** A read of a value whose labels are known (a `for each` item, a sub-plan's input): one more hop. */
function withHop(l: Label, e: Expr, env: LabelEnv, note: string): Label {
  if (l === BOTTOM) return l;
  if (!env.witness) return unwitnessed(l.cls, l.clsPath !== null, l.untrusted !== null);
  const hop = new ReadHop(e, note, env.file);
  return {
    cls: l.cls,
    clsPath: l.clsPath ? { hop, next: l.clsPath } : null,
    untrusted: l.untrusted ? { hop, next: l.untrusted } : null,
  };
}

/** `a.b[…].c` as written (an index's own text elided). */
export function chainText(e: Expr): string {
  const parts: string[] = [];
  let at: Expr = e;
  for (;;) {
    if (at.kind === 'MemberExpr') parts.push(`.${at.property.name}`);
    else if (at.kind === 'IndexExpr') parts.push('[…]');
    else if (at.kind !== 'ParenExpr') break;
    at = at.kind === 'ParenExpr' ? at.inner : at.object;
  }
  parts.push(at.kind === 'NameExpr' ? at.name : '…');
  return parts.reverse().join('');
}

/** A broken rule: where (the sink), what it is (`email.to`) and the path back to the source. */
export interface FlowFinding {
  readonly code: 'E0902' | 'E0903';
  readonly file: string;
  readonly range: Range;
  readonly message: string;
  readonly path: Path | null;
  /** The sink as named in the message (`email.to`). */
  readonly sink: string;
  /** The step of this plan whose arguments (or `when`) break the rule (set by planFlows). */
  readonly step?: string;
  /** The step's `fallback` or `compensate` call whose arguments break it (absent: the step's own call or `when`). */
  readonly call?: 'fallback' | 'compensate';
  /**
   * The value at `range` may be relabelled where it is written: `endorse` it (E0902) or
   * `declassify` it to `to`, the class the sink takes (E0903). A finding a caller's labels bring
   * into a sub-plan or a triggered plan is moved to the caller's hop (givenFlows): the fix is there.
   */
  readonly relabel?: { readonly to?: DataClass };
  /**
   * Moved to a caller's value (givenFlows): its path already leads with the sink, where it is. A
   * caller further out (a trigger starting the plan whose sub-plan has the sink) moves it again
   * but adds no second sink hop.
   */
  readonly sinkLed?: true;
}

/** An `endorse` or `declassify` the plan makes (the preview lists them). */
export interface Relabel {
  readonly kind: 'endorse' | 'declassify';
  readonly file: string;
  readonly range: Range;
  readonly reason: string;
  readonly to?: DataClass;
  /** The step whose arguments hold it (set by planFlows). */
  readonly step?: string;
  /** In the step's `fallback` or `compensate` call (absent: its own call or `when`). */
  readonly call?: 'fallback' | 'compensate';
  /** In the `until` of this `repeat` block (no step holds it). */
  readonly loop?: string;
}

export interface PlanFlows {
  readonly step: (id: string) => StepLabel | undefined;
  /** Each step's arguments' labels joined (what it reads): the run time's `labels`. */
  readonly read: (id: string) => Label | undefined;
  readonly output: Label;
  readonly findings: FlowFinding[];
  readonly relabels: Relabel[];
  /** A `run` step's sub-plan analysed again under its arguments' labels (the run time's labels of its steps), by step id. */
  readonly given?: ReadonlyMap<string, GivenFlows>;
}

/** A plan analysed with its inputs labelled by a caller: its flows and those input labels. */
export interface GivenFlows {
  readonly flows: PlanFlows;
  readonly input: ReadonlyMap<string, FieldLabel>;
}
