/**
 * `expect [always] P` (LANGUAGE.md §9.2): P is an invariant expression over `run.*` (its
 * `output` too), the plan's input and context, its steps — with their `input` — and `calls(CAP)`,
 * the inputs of every call CAP received, in order. A name that is no step of the plan is E0901
 * (W0907 in a captured test).
 */
import type { Expr, Ident, QualifiedName, Range } from '../../language/index.js';
import { diagnostic, printExpr, type Diagnostic } from '../../language/index.js';
import { checkExpr, stepViewTy, type ExprEnv, type ExprResult, type RootInfo, type StepRefInfo } from '../check/expr.js';
import { RUN_TY } from '../check/invariants.js';
import { assignable, field, formatTy, listOf, optional, record, T, type Ty } from '../types/ty.js';
import type { TestUnderCheck } from './test-under-check.js';
import type { PlanFacts } from './plan-facts.js';
import type { ExpectIR } from './types.js';

/**
 * `run` in a test: the run's actuals and, once it ended, its output — null before, and its
 * fields by the plan's `output` names (their types stay `any`, as a `run` step's do), so a name
 * the output lacks is an error at check, not a null at run time.
 */
function testRunTy(facts: PlanFacts): Ty {
  const out = facts.plan.entry.node.output;
  // Each field keeps its key's declaration (check/plan-output-keys.ts), for the editor.
  const declared = facts.plan.outputTy?.k === 'record' ? facts.plan.outputTy.fields : undefined;
  const key = (name: string) => {
    const decl = declared?.get(name)?.decl;
    return decl ? { ...field(name, T.any), decl } : field(name, T.any);
  };
  const output = out ? optional(record(out.fields.map((f) => key(f.key.name)))) : T.null;
  return record([...(RUN_TY as Ty & { k: 'record' }).fields.values(), field('output', output)]);
}

export function checkExpects(t: TestUnderCheck, facts: PlanFacts): ExpectIR[] {
  const out: ExpectIR[] = [];
  for (const e of t.test.expects) {
    const scratch: Diagnostic[] = [];
    const calls: Record<string, string> = {};
    const r = checkExpr(e.condition, { ...expectEnv(t, facts, calls), diags: scratch });
    for (const d of scratch) report(t, facts, d);
    if (!assignable(r.ty, T.bool)) t.diags.push(diagnostic('E0201', `expect needs a bool, not ${formatTy(r.ty)}`, t.file, e.condition.range));
    out.push({ always: e.always === true, condition: r.ir, text: printExpr(e.condition), line: e.range.start.line, range: e.range, calls });
  }
  return out;
}

/** An unknown name in an expect names no step of the plan: the test's own code for it. */
function report(t: TestUnderCheck, facts: PlanFacts, d: Diagnostic): void {
  const name = d.code === 'E0101' ? /^unknown name "([^"]+)"/.exec(d.message)?.[1] : undefined;
  if (name === undefined) return void t.diags.push(d);
  t.missing(name, `plan ${facts.plan.entry.node.name.name} has no step "${name}"`, facts.steps.keys(), d.range);
}

/** `calls` gathers, for each `calls(CAP)` the expect reads, CAP's IR name → the name as written. */
function expectEnv(t: TestUnderCheck, facts: PlanFacts, calls: Record<string, string>): ExprEnv {
  const cp = facts.plan;
  const steps = new Map<string, StepRefInfo>(
    cp.steps.map((s) => [s.id, { id: s.id, symbol: s.symbol.id, outputTy: s.outputTy, group: s.forEach?.group, eachPath: s.eachPath }]),
  );
  const views = new Map<string, Ty>();
  const roots = new Map<string, RootInfo>([
    ['run', { ty: testRunTy(facts), ir: { op: 'var', name: 'run' } }],
    ['input', { ty: cp.inputTy, ir: { op: 'var', name: 'input' } }],
    ['context', t.cx.contextRoot],
  ]);
  return {
    file: t.file,
    model: t.cx.model,
    diags: t.diags,
    roots,
    steps,
    blocks: cp.blockRefs,
    stepViewOf: (step, output) => {
      let v = views.get(step.id);
      if (!v) {
        const checked = facts.steps.get(step.id)!;
        v = record([...(stepViewTy(output) as Ty & { k: 'record' }).fields.values(), field('input', facts.inputOf(checked))]);
        views.set(step.id, v);
      }
      return v;
    },
    calls: (args, range) => callsOf(t, facts, args, range, calls),
  };
}

/** `calls(CAP)`: a list of CAP's inputs; CAP is a capability the plan can call, as the file names it. */
function callsOf(t: TestUnderCheck, facts: PlanFacts, args: readonly Expr[], range: Range, written: Record<string, string>): ExprResult {
  const name = args.length === 1 ? qualifiedName(args[0]!) : undefined;
  if (!name) {
    t.diags.push(diagnostic('E0201', 'calls() takes one capability name: calls(charge), calls(refunds.charge)', t.file, range));
    return { ty: T.unknown, data: 'public', ir: { op: 'lit', value: null } };
  }
  const cap = t.capability(name, facts);
  if (!cap) return { ty: T.unknown, data: 'public', ir: { op: 'lit', value: null } };
  written[cap.name] = name.parts.map((p) => p.name).join('.');
  return { ty: listOf(cap.input), data: 'public', ir: { op: 'get', object: { op: 'var', name: 'calls' }, key: cap.name } };
}

/** `charge` or `refunds.charge` written as an expression. */
function qualifiedName(e: Expr): QualifiedName | undefined {
  const parts: Ident[] = [];
  let cur: Expr = e;
  while (cur.kind === 'MemberExpr') {
    parts.unshift(cur.property);
    cur = cur.object;
  }
  if (cur.kind !== 'NameExpr') return undefined;
  parts.unshift({ kind: 'Ident', name: cur.name, range: cur.range });
  return { kind: 'QualifiedName', parts, range: e.range };
}
