/**
 * `mock CAP [where COND] returns V [then V]… [latency D] [cost M | usage {…}]` and `mock CAP fails
 * "MESSAGE" [times N then returns V…]` (LANGUAGE.md §9.2): CAP is a capability the plan can call;
 * `where` is a bool over the call's `input`; every answer is checked against CAP's output type
 * (E0201 at the value) and may read `input` too.
 */
import type { MockDecl, RecordLit } from '../../language/index.js';
import { diagnostic } from '../../language/index.js';
import type { RootInfo } from '../check/expr.js';
import { checkExpr, durationMs } from '../check/expr.js';
import { assignable, formatTy, T } from '../types/ty.js';
import { partsOf, type TestUnderCheck } from './test-under-check.js';
import { textOf } from './people.js';
import { isApprovalCapability, type PlanFacts } from './plan-facts.js';
import type { MockAnswer, MockIR } from './types.js';
import { checkValue } from './values.js';

export function checkMocks(t: TestUnderCheck, facts: PlanFacts): MockIR[] {
  const out: MockIR[] = [];
  /** The line of each capability's mock without `where`: a second one would never answer. */
  const plain = new Map<string, number>();
  for (const m of t.test.mocks) {
    const mock = checkMock(t, m, facts);
    if (!mock) continue;
    const first = mock.where === null ? plain.get(mock.capability) : undefined;
    if (first !== undefined)
      t.diags.push(diagnostic('E0102', `mock ${mock.written} without where is given twice (first on line ${first}): only the first would answer — write successive answers with then`, t.file, m.capability.range));
    else if (mock.where === null) plain.set(mock.capability, mock.line);
    out.push(mock);
  }
  return out;
}

function checkMock(t: TestUnderCheck, m: MockDecl, facts: PlanFacts): MockIR | undefined {
  const cap = t.capability(m.capability, facts);
  if (!cap) return undefined;
  const written = partsOf(m.capability);
  if (isApprovalCapability(cap.ir)) {
    t.diags.push(diagnostic('E0901', `${written} is an approval: decide its steps with approve / reject STEP by PEOPLE, not with a mock`, t.file, m.capability.range));
    return undefined;
  }
  const roots = new Map<string, RootInfo>([['input', { ty: cap.input, ir: { op: 'var', name: 'input' } }]]);
  const env = t.valueEnv(roots);
  let where = null;
  if (m.where) {
    const r = checkExpr(m.where, env);
    if (!assignable(r.ty, T.bool)) t.diags.push(diagnostic('E0201', `a mock's where needs a bool over the call's input, not ${formatTy(r.ty)}`, t.file, m.where.range));
    where = r.ir;
  }
  const answers: MockAnswer[] = [];
  if (m.fails) {
    const error = textOf(m.fails);
    const times = m.times ? failTimes(t, m.times) : 1;
    for (let i = 0; i < times; i++) answers.push({ ok: false, error });
  }
  for (const v of m.returns) answers.push({ ok: true, value: checkValue(v, cap.output, env, { what: `the answer of mock ${written}` }).ir });
  return {
    capability: cap.name,
    written,
    where,
    answers,
    latency_ms: m.latency ? Math.max(0, durationMs(m.latency.value, m.latency.unit)) : 0,
    cost: m.cost ? m.cost.amount : null,
    usage: m.usage ? usageOf(t, m.usage) : null,
    line: m.range.start.line,
  };
}

/** `times N`: a whole number of failing calls, at least one. */
function failTimes(t: TestUnderCheck, n: { readonly value: number; readonly integer: boolean; readonly range: MockDecl['range'] }): number {
  if (!n.integer || n.value < 1) {
    t.diags.push(diagnostic('E0201', `times needs a whole number of calls of at least 1, not ${n.value}`, t.file, n.range));
    return 1;
  }
  return n.value;
}

const USAGE_FIELDS = ['input_tokens', 'output_tokens', 'model'];

/** `usage { input_tokens: 900, output_tokens: 120 [, model: "gpt-4o-mini"] }`: literals, as §8.1 records them. */
function usageOf(t: TestUnderCheck, u: RecordLit): NonNullable<MockIR['usage']> {
  const out = { input_tokens: 0, output_tokens: 0, model: null as string | null };
  for (const f of u.fields) {
    const name = f.key.name;
    const v = f.value;
    if (!USAGE_FIELDS.includes(name)) {
      t.diags.push(diagnostic('E0201', `usage has no field "${name}" (it takes ${USAGE_FIELDS.join(', ')})`, t.file, f.key.range));
      continue;
    }
    if (name === 'model') {
      if (v.kind === 'StringLit' && v.parts.every((p) => typeof p === 'string')) out.model = textOf(v);
      else t.diags.push(diagnostic('E0201', 'usage model needs a string literal', t.file, v.range));
    } else if (v.kind === 'NumberLit' && v.integer && v.value >= 0) out[name as 'input_tokens' | 'output_tokens'] = v.value;
    else t.diags.push(diagnostic('E0201', `usage ${name} needs a whole number of tokens (≥ 0)`, t.file, v.range));
  }
  return out;
}
