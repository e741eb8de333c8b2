/**
 * Runs one compiled `test` block (LANGUAGE.md §9.2) on the runtime's scheduler — the code `orch
 * run` uses, with its budgets, limits and guardrails — on a virtual clock, with a journal of its
 * own in memory, the boundaries mocked, the decisions and signals delivered as written. A test
 * passes when every `expect` and every invariant of its plan holds.
 */
import type { Range } from '../../language/index.js';
import type { CompiledTest, DecisionIR, ExpectIR, PlanIR, TestPerson } from '../../compiler/index.js';
import { approvalRefusal, approvalRule, condition, ContextStore, evaluate, fillDefaults, matchesApprover, neededScopes, REDACTED, Run, starterOf, UNKNOWN, unknownReason, VirtualClock, type AttemptRequest, type Executor, type ExecutionResult, type Identity, type ModelPrice, type PersonRef, type RunEvent, type RunReader } from '../../runtime/index.js';
import { CaseMonitor, readsOf } from '../monitor.js';
import { isOver, MAX_TIMER_FIRINGS, stuckMessage } from '../run-case.js';
import { parseInstance, type TraceEvent, type Violation } from '../trace.js';
import { MockExecutor, type VirtualAnswer } from './mock-executor.js';
import { OutcomeRecorder, SubplanOutcomes, type SubplanCoverage } from './coverage.js';
import { staleMessage } from './stale.js';
import { tellRun } from '../scenario-context.js';

export const TEST_RUN = 'test';

export interface TestFailure {
  /**
   * `expect` / `invariant`: a condition that did not hold; `stuck`: the run could make no progress;
   * `refused`: the decisions §8.8 refused, listed after the failures of a test that failed for
   * another reason (they are why an approval timed out; alone they fail nothing).
   */
  readonly kind: 'expect' | 'invariant' | 'stuck' | 'stale' | 'error' | 'refused';
  readonly message: string;
  /** The file of `line` and `range` when it is not the test's (an invariant declared in the plan's file). */
  readonly file?: string;
  /** The failing `expect` line (1-based) and its text; an invariant's declaration. */
  readonly line?: number;
  readonly range?: Range;
  readonly text?: string;
  /** What the condition read, in the state it was judged on. */
  readonly values?: { readonly [read: string]: unknown };
}

export interface TestResult {
  readonly name: string;
  readonly file: string;
  readonly line: number;
  readonly plan: string;
  readonly passed: boolean;
  /** The run's final status (`stuck` when it could make no progress). */
  readonly run_status: string;
  /** Virtual milliseconds the run took. */
  readonly elapsed_ms: number;
  /** Real milliseconds the test took to run (what CI reports as its time); set by the runner. */
  readonly duration_ms?: number;
  /** The program's currency: money the test read (`run.cost`) is shown with it. */
  readonly currency?: string;
  readonly failures: readonly TestFailure[];
  readonly timeline: readonly TraceEvent[];
  /** The coverage outcomes the run showed (`step:send:ran`, `when:send:false` …; see coverage.ts). */
  readonly covered: readonly string[];
  /** The same for each sub-plan its run reached (absent when none). */
  readonly covered_subplans?: readonly SubplanCoverage[];
}

export interface RunTestOptions {
  /** Runs the handlers of capabilities no mock answers (worker threads); null: such a call fails. */
  readonly real: Executor | null;
  /** orch.config `prices` by model: mock `usage` and budget reservations. */
  readonly prices?: { readonly [model: string]: ModelPrice };
  /** Answers every call on the virtual clock instead of mocks and handlers (a capture's first run). */
  readonly answer?: (request: AttemptRequest) => VirtualAnswer;
  /** Hears the test run's journal once it ended (`orch test --update` captures from it). */
  readonly onJournal?: (events: readonly RunEvent[]) => void;
  /** Hears, once the run ended, each step's final status as an `expect` reads `STEP.status` (a capture writes them). */
  readonly onStatuses?: (statusOf: (stepId: string) => string | undefined) => void;
}

export async function runPlanTest(test: CompiledTest, opts: RunTestOptions): Promise<TestResult> {
  const base = { name: test.name, file: test.file, line: test.range.start.line, plan: test.planName, ...(test.currency !== undefined ? { currency: test.currency } : {}) };
  if (test.stale.length > 0) {
    return { ...base, passed: false, run_status: 'not run', elapsed_ms: 0, failures: [{ kind: 'stale', message: staleMessage(test, null) }], timeline: [], covered: [] };
  }
  const plan = test.plan;
  const clock = new VirtualClock(0);
  const prices = opts.prices ?? {};
  const exec = new MockExecutor(test, clock, TEST_RUN, opts.real, prices, opts.answer);
  const monitor = new CaseMonitor(plan, { invariants: plan.invariants, builtins: new Set(), every: true });
  const journal: RunEvent[] = [];
  const always = new AlwaysWatch(test.expects.filter((e) => e.always));
  const outcomes = new OutcomeRecorder(plan);
  const subplanOutcomes = new SubplanOutcomes();
  let run: Run | null = null;
  let result: ExecutionResult | null = null;
  const initial = test.context ? (evaluate(test.context, { vars: {} }) as Record<string, unknown>) : {};
  const context = testContext(plan, clock, initial, () => run);
  // A signal at 0 is set as the run starts, so its first steps read it: a timer at 0 fires only
  // after `begin` has started them (and never, when real handlers end the run within that instant).
  for (const s of test.signals) if (s.at_ms === 0) context.set(s.signal, evaluate(s.value, { vars: {} }), { source: TEST_SOURCE });
  const env = (reader: RunReader) => expectEnv(reader, exec, result, clock, context);
  /** Decisions §8.8 refused (the step went on waiting): a stuck run says them. */
  const refused: string[] = [];
  const starter = starterOf(identityOf(test.startedBy.candidates[0] ?? { subject: 'test', roles: ['operator'], groups: [] }));
  const decide = decisions(test, clock, () => run, refused, starter);
  const observe = (event: RunEvent, reader: RunReader): void => {
    if (event.runId !== TEST_RUN) {
      // A sub-plan step's input is its run's (`TEST_RUN/KEY`), recorded as a call's input is.
      const key = event.runId.startsWith(`${TEST_RUN}/`) ? event.runId.slice(TEST_RUN.length + 1) : null;
      if (event.type === 'plan_created' && key !== null && !key.includes('/')) exec.inputs.set(key, (event.data as { input: unknown }).input);
      subplanOutcomes.observe(event, reader);
      return;
    }
    // An approval's input is what it evaluated on starting to wait (no handler receives it): read
    // at the next event, as its own `step_started` comes before it evaluates its arguments.
    for (const key of run?.running() ?? []) {
      if (exec.inputs.has(key) || (event.type === 'step_started' && event.stepId === key)) continue;
      const args = run!.approvalInput(key);
      if (args) exec.inputs.set(key, structuredClone(args));
    }
    monitor.observe(event, reader);
    outcomes.observe(event);
    always.check(reader, env);
    if (event.type === 'step_started' && event.stepId !== null) decide.started(event.stepId);
  };
  run = new Run(
    plan,
    {
      clock,
      executor: exec,
      // Kept as a durable journal keeps them: copies, not the run's live objects (its context changes in place).
      journal: { commit: (_state, events) => void journal.push(...events.map((e) => structuredClone(e))), load: (id) => journal.filter((e) => e.runId === id) },
      observe,
      random: () => 0.5,
      // A test never reads a secret: `secret("X")` is the redaction marker, for mocks and handlers alike.
      secret: () => REDACTED,
      modelPrices: prices,
      signal: (name) => context.read(name),
    },
    {
      runId: TEST_RUN,
      // Defaults filled as `orch run` fills them (the compiler checked the rest).
      input: fillDefaults(plan.input, test.input ? evaluate(test.input, { vars: {} }) : {}),
      context: context.values(),
      consent: neededScopes(plan),
      startedBy: starter,
      onFinish: (r) => (result = r),
    },
  );
  for (const s of test.signals) if (s.at_ms > 0) clock.setTimer(s.at_ms, () => context.set(s.signal, evaluate(s.value, { vars: {} }), { source: TEST_SOURCE }));
  const failures: TestFailure[] = [];
  let stuck: string | null = null;
  try {
    run.begin();
    stuck = await drive(clock, run, exec);
  } catch (err) {
    failures.push({ kind: 'error', message: (err as Error).message ?? String(err) });
  }
  const over = isOver(run);
  outcomes.finish(run);
  const trace = monitor.finish(run, over, stuck);
  refused.push(...decide.unheard());
  if (stuck !== null) failures.push({ kind: 'stuck', message: [stuck, ...refused].join('\n') });
  for (const v of trace.violations) failures.push(invariantFailure(test, v));
  failures.push(...always.failures);
  for (const e of test.expects.filter((x) => !x.always)) {
    const f = judge(e, env(run));
    if (f) failures.push(f);
  }
  // A stuck run says them already; otherwise they explain an approval that waited to its timeout.
  if (stuck === null && refused.length > 0 && failures.length > 0) failures.push({ kind: 'refused', message: refused.join('\n') });
  context.close();
  opts.onJournal?.(journal);
  const ended = run;
  opts.onStatuses?.((id) => ended.stepView(id)?.status);
  const subplans = subplanOutcomes.finish();
  return {
    ...base,
    passed: failures.length === 0,
    run_status: over ? run.status() : 'stuck',
    elapsed_ms: run.actuals().elapsed,
    failures,
    timeline: trace.trace(),
    covered: outcomes.keys(),
    ...(subplans.length > 0 ? { covered_subplans: subplans } : {}),
  };
}

/**
 * A plan invariant that broke: an `always` / `never` one with the virtual time it broke at, as
 * `expect always` says it; at its declaration (the plan's file, which may not be the test's).
 */
function invariantFailure(test: CompiledTest, v: Violation): TestFailure {
  const modality = test.plan.invariants.find((i) => i.name === v.invariant)?.modality;
  const when = modality === 'always' || modality === 'never' ? ` at ${v.state.at_ms} ms (virtual)` : '';
  const at = test.invariants[v.invariant];
  const where = at ? { file: at.file, line: at.range.start.line, range: at.range } : {};
  return { kind: 'invariant', message: `${v.message}${when}`, ...where, ...(v.state.values ? { values: v.state.values } : {}) };
}

/** The source a test's `context` and `signal` lines set signals as. */
const TEST_SOURCE = 'test';

/**
 * The test's signals in §9.4's context store on the virtual clock, as `orch serve` keeps them: its
 * `context` is set when the run starts, signals go stale when their age passes `max_age` and
 * derived ones are recomputed; every change reaches the run (a stale signal is null to its copy).
 */
function testContext(plan: PlanIR, clock: VirtualClock, initial: Record<string, unknown>, run: () => Run | null): ContextStore {
  const store = new ContextStore({ signals: plan.context_signals ?? {}, clock });
  for (const [name, value] of Object.entries(initial)) store.set(name, value, { source: TEST_SOURCE });
  tellRun(store, run);
  return store;
}

/**
 * Fires virtual timers until the run ends; while a real handler runs, time stands still (it
 * would otherwise pass its timeout at once). Null when the run ended, else why it is stuck.
 */
async function drive(clock: VirtualClock, run: Run, exec: MockExecutor): Promise<string | null> {
  let fired = 0;
  for (;;) {
    while (!isOver(run) && exec.realAttempts === 0 && fired < MAX_TIMER_FIRINGS && clock.step()) {
      fired++;
      // A sub-plan reports back through a promise: let it land before time moves on.
      for (let i = 0; i < 4; i++) await Promise.resolve();
    }
    if (isOver(run)) return null;
    if (fired >= MAX_TIMER_FIRINGS) return `still ${run.status()} after ${MAX_TIMER_FIRINGS} timer firings (an endless retry or wait loop)`;
    if (exec.realAttempts > 0) {
      await exec.realDone();
      continue;
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (clock.pending() > 0 || isOver(run) || exec.realAttempts > 0) continue;
    return stuckMessage(run);
  }
}

/** `approve` / `reject` lines: each decides its step `at` after the step begins to wait. */
function decisions(test: CompiledTest, clock: VirtualClock, run: () => Run | null, refused: string[], starter: PersonRef): { started: (key: string) => void; unheard: () => string[] } {
  const byStep = new Map<string, DecisionIR[]>();
  for (const d of test.decisions) byStep.set(d.step, [...(byStep.get(d.step) ?? []), d]);
  const asked = new Set<string>();
  /** Decisions whose time has not come (the run ended first), by step instance. */
  const pending = new Set<{ readonly key: string; readonly d: DecisionIR }>();
  const statusOf = (key: string) => run()?.stepView(key)?.status ?? 'not started';
  return {
    started: (key) => {
      // Every instance of the step is decided (`sign_off[2]` inside a `for each`).
      const step = parseInstance(key).step;
      const mine = byStep.get(step);
      if (!mine || asked.has(key)) return;
      asked.add(key);
      for (const d of mine) {
        const p = { key, d };
        pending.add(p);
        clock.setTimer(d.at_ms, () => {
          pending.delete(p);
          deliver(run(), key, d, refused, starter);
        });
      }
    },
    // A decision of a step that never began to wait, or whose time came after the run ended, decides nothing.
    unheard: () => [
      ...[...pending].filter((p) => !decided(statusOf(p.key))).map((p) => lateText(p.key, p.d, statusOf(p.key))),
      ...test.decisions
        .filter((d) => ![...asked].some((k) => parseInstance(k).step === d.step))
        .map((d) => `${d.decision} ${d.step} (line ${d.line}) decided nothing: ${d.step} never began to wait (${statusOf(d.step)})`),
    ],
  };
}

/** An approval that ended by a decision (approved, or rejected: it fails): later decisions of it are moot, not late. */
function decided(status: string | undefined): boolean {
  return status === 'completed' || status === 'failed';
}

function lateText(key: string, d: DecisionIR, status: string): string {
  return `${d.decision} ${key} (line ${d.line}) came after ${key} had ended (${status})`;
}

function deliver(run: Run | null, key: string, d: DecisionIR, refused: string[], starter: PersonRef): void {
  if (!run) return;
  // As the step evaluated it when it started: a computed approver (`input.team`) names its group too.
  const approver = run.approverOf(key);
  for (const person of d.by) {
    const status = run.stepView(key)?.status;
    // Too late: the step ended without a decision (a timeout before its `at`).
    if (status !== 'running') {
      if (!decided(status)) refused.push(lateText(key, d, status ?? 'gone'));
      return;
    }
    const ids = identities(person, approver);
    const who = ids.find((id) => run.decisionRefusal(key, d.decision, id) === null);
    if (who) run.signal(key, d.decision, null, null, who);
    // A name no config describes, for an approver that names someone else: a label, as without
    // people the first decision decides. Never when the person matches the approver and §8.8 still
    // refuses them (`not_starter`, a second approval by one person): §9.2, any name is a person.
    // A label still names a person for the rules about who they are (§9.1: the starter of a
    // `not_starter` approval decides nothing, whatever the approver names).
    else if (person.candidates.some((c) => c.groups.includes('*')) && !ids.some((id) => matchesApprover(approver, id)) && labelRefusal(run, key, d.decision, ids, starter) === null)
      run.signal(key, d.decision, person.written);
    else {
      const why = labelRefusal(run, key, d.decision, ids, starter) ?? ids.map((id) => run.decisionRefusal(key, d.decision, id)).find((r) => r !== null) ?? 'no one of that name may decide it';
      refused.push(`${d.decision} ${key} by ${JSON.stringify(person.written)} (line ${d.line}) was refused: ${why}`);
    }
  }
}

/**
 * Why §8.8 refuses a name taken as a label: the rules about the person alone (the approver it
 * names being someone else is what made it a label). Null when none does.
 */
function labelRefusal(run: Run, key: string, decision: 'approve' | 'reject', ids: readonly Identity[], starter: PersonRef): string | null {
  const args = run.approvalInput(key);
  if (!args) return null;
  const rule = { ...approvalRule(args), approver: null };
  for (const id of ids) {
    // A label has no roles to check (no config describes it): only who the person is counts.
    const why = approvalRefusal(rule, { ...id, roles: ['approver'] }, decision, { approvedBy: [], startedBy: starter });
    if (why !== null) return why;
  }
  return null;
}

/** A person the config does not describe may stand for anyone: a member of the approval's group. */
function identities(person: TestPerson, approver: string | null): Identity[] {
  const group = approver?.startsWith('group:') ? approver.slice('group:'.length) : null;
  return person.candidates.map((c) => identityOf(c.groups.includes('*') ? { ...c, groups: group ? [group] : [] } : c));
}

function identityOf(c: { readonly subject: string; readonly roles: readonly string[]; readonly groups: readonly string[] }): Identity {
  return { subject: c.subject, issuer: 'local', name: c.subject, method: 'token', roles: c.roles as Identity['roles'], groups: c.groups };
}

/** The state an `expect` reads: `run.*` (with `output` once it ended), input, context, steps with their `input`, `calls`. */
function expectEnv(reader: RunReader, exec: MockExecutor, result: ExecutionResult | null, clock: VirtualClock, context: ContextStore) {
  return {
    vars: { run: { ...reader.actuals(), output: result?.output ?? null }, input: reader.input(), context: reader.context(), calls: exec.calls },
    step: (id: string) => {
      const v = reader.stepView(id);
      return v ? { ...v, input: stepInput(exec.inputs, id, v.output) } : undefined;
    },
    block: (id: string) => reader.blockView?.(id),
    signal: (name: string) => context.read(name),
    now: () => clock.now(),
  };
}

/**
 * `STEP.input`, shaped as `STEP.output` is: the input of its instance's last attempt — in a loop,
 * of its last iteration; inside `for each`, a list by item (nested for nested blocks), null for an
 * item that never started, as long as the output's list. Instance keys: `id`, `id[i]`, `id[i][j]`,
 * `id#k` (iteration k), `id[i]#k`.
 */
function stepInput(inputs: ReadonlyMap<string, unknown>, id: string, output: unknown): unknown {
  const latest = new Map<string, { readonly items: readonly number[]; readonly iteration: readonly number[]; readonly value: unknown }>();
  for (const [key, value] of inputs) {
    const m = /^([^[#]*)((?:\[\d+\]|#\d+)*)$/.exec(key);
    if (!m || m[1] !== id) continue;
    const items = [...m[2]!.matchAll(/\[(\d+)\]/g)].map((x) => Number(x[1]));
    const iteration = [...m[2]!.matchAll(/#(\d+)/g)].map((x) => Number(x[1]));
    const at = items.join(',');
    const had = latest.get(at);
    if (!had || later(iteration, had.iteration)) latest.set(at, { items, iteration, value });
  }
  if (latest.size === 0) return null;
  const one = latest.get('');
  if (one) return one.value;
  const root: unknown[] = [];
  for (const { items, value } of latest.values()) {
    let list = root;
    items.forEach((ix, depth) => {
      if (depth === items.length - 1) list[ix] = value;
      else list = (list[ix] ??= []) as unknown[];
    });
  }
  if (Array.isArray(output) && output.length > root.length) root.length = output.length;
  const filled = (list: unknown[]): unknown[] => Array.from(list, (v) => (Array.isArray(v) ? filled(v) : (v ?? null)));
  return filled(root);
}

/** Iteration `a` came after `b` (`#k` indices, outer loop first). */
function later(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? -1) !== (b[i] ?? -1)) return (a[i] ?? -1) > (b[i] ?? -1);
  return false;
}

function judge(e: ExpectIR, env: ReturnType<typeof expectEnv>): TestFailure | null {
  let holds: boolean | string;
  try {
    // Kleene (§9.4): an expect over a signal that is not known does not hold, and says which.
    const t = condition(e.condition, env);
    holds = t === UNKNOWN ? `is unknown: ${unknownReason(e.condition, env)}` : t;
  } catch (err) {
    holds = `cannot be evaluated: ${(err as Error).message}`;
  }
  if (holds === true) return null;
  const why = holds === false ? (e.always ? 'became false' : 'does not hold in the final state') : holds;
  return { kind: 'expect', message: `expect${e.always ? ' always' : ''} ${e.text} ${why}`, line: e.line, range: e.range, text: e.text, values: valuesRead(e, env) };
}

function valuesRead(e: ExpectIR, env: ReturnType<typeof expectEnv>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [path, expr] of readsOf(e.condition)) {
    // `calls(CAP)` is shown as written, not as the IR's `calls.CAP`.
    const cap = expr.op === 'get' && expr.object.op === 'var' && expr.object.name === 'calls' ? expr.key : undefined;
    const text = cap === undefined ? path : `calls(${e.calls?.[cap] ?? cap})`;
    try {
      // A copy: `calls` and the run's state live on, and an `expect always` shows the state it broke in.
      const v = evaluate(expr, env);
      out[text] = v !== null && typeof v === 'object' ? structuredClone(v) : v;
    } catch (err) {
      out[text] = `<${(err as Error).message}>`;
    }
  }
  return out;
}

/** `expect always P`, judged after every event of the run; the first state that breaks each is kept. */
class AlwaysWatch {
  readonly failures: TestFailure[] = [];
  private readonly broken = new Set<ExpectIR>();

  constructor(private readonly expects: readonly ExpectIR[]) {}

  check(reader: RunReader, env: (r: RunReader) => ReturnType<typeof expectEnv>): void {
    for (const e of this.expects) {
      if (this.broken.has(e)) continue;
      const f = judge(e, env(reader));
      if (!f) continue;
      this.broken.add(e);
      this.failures.push({ ...f, message: `${f.message} at ${reader.actuals().elapsed} ms (virtual)` });
    }
  }
}
