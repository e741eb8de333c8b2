/**
 * `orch test --capture RUN` (LANGUAGE.md §9.2): a `test` block written from a run's journal — its
 * input and context, a mock per capability it called (answers in call order, with the latency and
 * usage they recorded; keyed by their input with `where` when one capability was called with
 * different inputs, as calls that may run in parallel are), its signals at their times, and `expect` lines for the final status, each step's
 * status and the output, and its approvals' decisions with their deciders and times — with private
 * values replaced (orch-value.ts). Two runs of the test runner: the first answers every call from
 * the journal (after the time it took) and records each call's input, which the mocks are keyed by; the second runs the
 * written test, which must pass before it is returned.
 */
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { boundaryOf, canonicalJson, compile, diskHost, moneyText, toolIdent, validateValue, type CompiledTest, type JsonSchema, type PlanIR } from '../../compiler/index.js';
import type { AttemptRequest, ModelPrice, RunEvent } from '../../runtime/index.js';
import { stringLiteral } from '../../language/index.js';
import type { VirtualAnswer } from './mock-executor.js';
import { baseId, SecretView } from '../../runtime/index.js';
import { fitted, leastValue, orchValue, Placeholders, scrub } from './orch-value.js';
import { runPlanTest, type TestResult } from './run-test.js';

export class CaptureError extends Error {}

export interface CaptureSource {
  readonly runId: string;
  readonly plan: PlanIR;
  readonly events: readonly RunEvent[];
}

export interface CaptureOptions {
  /** Where the test will be written (its import of the plan's file is relative to it). */
  readonly file: string;
  readonly keepPersonal?: boolean;
  readonly prices?: { readonly [model: string]: ModelPrice };
  /** The test's name (default `captured from run RUN`). */
  readonly name?: string;
}

/** What an attempt reported using: tokens (priced again by the test) or, without them, a cost. */
type Usage =
  | { readonly input_tokens: number; readonly output_tokens: number; readonly model?: string }
  | { readonly cost: number };
/** What an attempt answered, how long it took (ms, from its `step_started`) and the usage it reported. */
type Outcome = ({ readonly ok: true; readonly output: unknown } | { readonly ok: false; readonly error: string }) & {
  readonly ms?: number;
  readonly usage?: Usage;
  /** The run cancelled the attempt (a race's loser …): it never answered. */
  readonly cancelled?: true;
};

/** How each step instance's compensation ended (`step_compensated`; a compensation that never reached its handler is left out). */
function compensationsOf(events: readonly RunEvent[]): Map<string, Outcome> {
  const out = new Map<string, Outcome>();
  for (const e of events)
    if (e.type === 'step_compensated' && e.stepId !== null && !BEFORE_THE_HANDLER.test(e.data.error ?? ''))
      out.set(e.stepId, e.data.ok ? { ok: true, output: null } : { ok: false, error: e.data.error ?? 'failed' });
  return out;
}

/** How the runtime fails an attempt before its handler is called (`runtime/scheduler/core/start.ts`), or a compensation it never ran. */
const BEFORE_THE_HANDLER = /^(?:arguments: |unknown capability |not run: |E090[23]: refused before the handler)/;

/**
 * The attempts that never reached a handler — their arguments failed, or a rule a `"flows":
 * "warn"` compile let through refused them (§9.3) — by their `step_started` and their end: no
 * call was made, so none is mocked; the test's run fails them alike before asking.
 */
function unreached(events: readonly RunEvent[]): ReadonlySet<RunEvent> {
  const out = new Set<RunEvent>();
  const open = new Map<string, RunEvent>();
  for (const e of events) {
    if (e.stepId === null) continue;
    if (e.type === 'step_started') open.set(e.stepId, e);
    else if ((e.type === 'step_failed' || e.type === 'step_retried') && open.has(e.stepId)) {
      if (e.data.permanent === true && BEFORE_THE_HANDLER.test(e.data.error ?? '')) out.add(open.get(e.stepId)!).add(e);
      open.delete(e.stepId);
    }
  }
  return out;
}

/** The outcome of every attempt that ended, per step instance, in order (a crash's lost attempt has none). */
function outcomesOf(events: readonly RunEvent[]): Map<string, Outcome[]> {
  const out = new Map<string, Outcome[]>();
  const never = unreached(events);
  const began = new Map<string, number>();
  const push = (key: string, ts: number, o: Outcome) => {
    const start = began.get(key);
    began.delete(key);
    (out.get(key) ?? out.set(key, []).get(key)!).push(start === undefined ? o : { ...o, ms: Math.max(0, ts - start) });
  };
  /** The cost each running attempt was charged as it started (its estimate): its end's `cost_delta` settles it. */
  const charged = new Map<string, number>();
  const usageOf = (key: string, u: { input_tokens?: number; output_tokens?: number; model?: string } | undefined, delta: number | undefined): { usage?: Usage } =>
    u?.input_tokens !== undefined && u.output_tokens !== undefined
      ? { usage: { input_tokens: u.input_tokens, output_tokens: u.output_tokens, ...(u.model !== undefined ? { model: u.model } : {}) } }
      : delta !== undefined && delta !== 0
        ? { usage: { cost: (charged.get(key) ?? 0) + delta } }
        : {};
  for (const e of events) {
    if (e.stepId === null || never.has(e)) continue;
    if (e.type === 'step_started') {
      began.set(e.stepId, e.ts);
      charged.set(e.stepId, e.data.cost);
    } else if (e.type === 'step_completed' && e.data.items === undefined) push(e.stepId, e.ts, { ok: true, output: e.data.output, ...usageOf(e.stepId, e.data.usage, e.data.cost_delta) });
    // A forked run's adopted step (§9.2) answered in the run it came from: the test calls it, at once.
    else if (e.type === 'step_adopted') push(e.stepId, e.ts, { ok: true, output: e.data.output });
    else if (e.type === 'step_retried') push(e.stepId, e.ts, { ok: false, error: e.data.error });
    else if (e.type === 'step_failed' && e.data.attempt !== undefined) push(e.stepId, e.ts, { ok: false, error: e.data.error ?? 'failed' });
    // An attempt cancelled while it ran (a race's loser) never answered: its mock fails just after
    // the moment it was cancelled, so under the test's clock the run cancels it again first.
    else if (e.type === 'step_cancelled' && began.has(e.stepId))
      push(e.stepId, e.ts + 1, { ok: false, error: `cancelled: ${e.data.reason}`, cancelled: true });
    // Cancelled before it ever started (a fork's race decided by an adopted winner): later than that winner.
    else if (e.type === 'step_cancelled' && !out.has(e.stepId)) out.set(e.stepId, [{ ok: false, error: `cancelled: ${e.data.reason}`, cancelled: true, ms: 1 }]);
  }
  return out;
}

/**
 * Each step's final status (§9.2: the captured test expects "each step's status"), by the last
 * event of the run that settled it: a step in a race or a `repeat` (its last iteration's, as
 * `ID.status` reads it in a test) as one at the plan's level, a timed-out or cancelled one too. A
 * step in a `for each` has one status per item in the journal and one for all its items in a
 * test (`STEP.status`): `together` gives that one, from the run under the journal's answers. A
 * step that never settled is left out.
 */
function finalStatuses(plan: PlanIR, events: readonly RunEvent[], together: (id: string) => string | undefined): Map<string, string> {
  const perItem = new Set((plan.blocks ?? []).filter((b) => b.type === 'for_each').map((b) => b.id));
  const single = new Set(plan.steps.filter((s) => s.for_each === null && !(s.blocks ?? []).some((b) => perItem.has(b))).map((s) => s.id));
  const last = new Map<string, string>();
  for (const e of events) {
    if (e.stepId === null || !single.has(baseId(e.stepId)) || e.stepId.includes('/')) continue;
    const id = baseId(e.stepId);
    if (e.type === 'step_completed' || e.type === 'step_adopted') last.set(id, 'completed');
    else if (e.type === 'step_skipped') last.set(id, 'skipped');
    else if (e.type === 'step_failed') last.set(id, e.data.status === 'timeout' || e.data.status === 'cancelled' ? e.data.status : 'failed');
    else if (e.type === 'step_cancelled') last.set(id, 'cancelled');
  }
  for (const s of plan.steps) {
    const st = single.has(s.id) ? undefined : together(s.id);
    if (st === 'completed' || st === 'skipped' || st === 'failed' || st === 'timeout' || st === 'cancelled') last.set(s.id, st);
  }
  return last;
}

/**
 * ` latency D` and ` usage {…}` (or ` cost M`) of a mock, as its calls recorded them: one mock has
 * one latency and one usage, so the mean over its answers that recorded one (a where-keyed mock
 * mostly has one).
 */
function spendText(all: readonly Outcome[], currency: string): string {
  const os = all.some((o) => !o.cancelled) ? all.filter((o) => !o.cancelled) : all;
  const sum = (xs: readonly number[]) => xs.reduce((a, x) => a + x, 0);
  const mean = (xs: readonly number[]) => Math.round(sum(xs) / xs.length);
  const ms = os.flatMap((o) => (o.ms !== undefined ? [o.ms] : []));
  const reported = os.flatMap((o) => (o.ok && o.usage ? [o.usage] : []));
  const used = reported.filter((u) => 'input_tokens' in u);
  // A cost reported without tokens (a handler's `ctx.usage({ cost })`, a mock's `cost`) is
  // written as one, or the test would spend the capability's estimate instead.
  const costs = reported.flatMap((u) => ('cost' in u ? [u.cost] : []));
  let text = ms.length > 0 && mean(ms) > 0 ? ` latency ${mean(ms)}ms` : '';
  if (used.length === 0 && costs.length > 0) text += ` cost ${moneyText(sum(costs) / costs.length, currency)}`;
  if (used.length > 0) {
    const model = used.find((u) => u.model !== undefined)?.model;
    text += ` usage { input_tokens: ${mean(used.map((u) => u.input_tokens))}, output_tokens: ${mean(used.map((u) => u.output_tokens))}${model !== undefined ? `, model: ${JSON.stringify(model)}` : ''} }`;
  }
  return text;
}

/**
 * Answers each call from the journal, by its step instance's n-th ended attempt, on the virtual
 * clock after the time that attempt took (so the run meets its signals and decisions as the
 * journaled one did), and records its input.
 */
class JournalAnswers {
  readonly calls: { readonly capability: string; readonly input: unknown; readonly outcome: Outcome }[] = [];
  private readonly seen = new Map<string, number>();
  constructor(
    private readonly outcomes: Map<string, Outcome[]>,
    private readonly compensations: Map<string, Outcome>,
    private readonly scrubbed: (o: Outcome, req: AttemptRequest) => Outcome,
  ) {}

  readonly answer = (req: AttemptRequest): VirtualAnswer => {
    // A sub-plan's run is `ROOT/KEY…` in the test as in the journal: its steps are keyed by that path.
    const key = runPathKey(req.runId.includes('/') ? req.runId.slice(req.runId.indexOf('/') + 1) : '', req.stepId);
    if (req.purpose === 'compensate') {
      // The journal records how a compensation ended, not its output (nothing reads it): the plainest value of its type.
      const c = this.compensations.get(key);
      const o: Outcome = c?.ok ? { ok: true, output: leastValue(req.capability.output as Record<string, unknown>) } : { ok: false, error: c ? (c as { error: string }).error : `the journal has no compensation of ${key}` };
      this.calls.push({ capability: req.capability.name, input: req.input, outcome: o });
      return { outcome: o.ok ? { ok: true, output: o.output } : { ok: false, error: o.error }, latency_ms: 0 };
    }
    const n = this.seen.get(key) ?? 0;
    this.seen.set(key, n + 1);
    const recorded = this.outcomes.get(key)?.[n];
    const o = recorded ? this.scrubbed(recorded, req) : { ok: false as const, error: `the journal has no answer for attempt ${n + 1} of ${key}` };
    this.calls.push({ capability: req.capability.name, input: req.input, outcome: o });
    return { outcome: o.ok ? { ok: true, output: o.output } : { ok: false, error: o.error }, latency_ms: o.ms ?? 0 };
  };
}

/** A step instance of the run (path '') or of a sub-plan run under it (path `s`, `s[1]/t`): `PATH/STEP`. */
function runPathKey(path: string, stepId: string): string {
  return path === '' ? stepId : `${path}/${stepId}`;
}

/** The run's events, and each sub-plan run's under it by its path from the run (`s`, `s[1]/t`), with the plan it ran. */
interface RunPart {
  readonly path: string;
  readonly plan: PlanIR;
  events: readonly RunEvent[];
}

/**
 * The journal's runs split by run: the captured one (whose `plan_created` has no parent) and the
 * sub-plan runs under it (`RUN/KEY…`), each with its sub-plan's IR, found by the step that ran it.
 */
function runParts(plan: PlanIR, runId: string, events: readonly RunEvent[]): RunPart[] {
  const root = events.find((e) => e.type === 'plan_created' && e.data.parentRunId === null)?.runId ?? runId;
  const parts = new Map<string, RunPart>();
  for (const e of events) {
    const path = e.runId === root ? '' : e.runId.startsWith(`${root}/`) ? e.runId.slice(root.length + 1) : null;
    if (path === null) continue;
    let part = parts.get(path);
    if (!part) {
      const ir = path === '' ? plan : subPlanAt(plan, path);
      if (!ir) throw new CaptureError(`run ${runId}: the sub-plan run ${path} matches no run step of plan ${plan.plan}`);
      parts.set(path, (part = { path, plan: ir, events: [] }));
    }
    (part.events as RunEvent[]).push(e);
  }
  return [...parts.values()];
}

/** The IR of the sub-plan run at `path` (`s`, `s[1]/t`): each key's step runs a plan of the one above. */
function subPlanAt(plan: PlanIR, path: string): PlanIR | null {
  let at: PlanIR | undefined = plan;
  for (const key of path.split('/')) {
    const action: PlanIR['steps'][number]['action'] | undefined = at?.steps.find((s) => s.id === baseId(key))?.action;
    at = action?.type === 'run' ? at!.subplans[action.plan] : undefined;
    if (!at) return null;
  }
  return at ?? null;
}

/** Every capability the plan can call, its sub-plans' included. */
function allCapabilities(plan: PlanIR): PlanIR['capabilities'] {
  return Object.assign({}, ...Object.values(plan.subplans).map(allCapabilities), plan.capabilities) as PlanIR['capabilities'];
}

/** An approval a sub-plan run began to wait on (`s/ok`): a test decides only its own plan's. */
function subPlanApproval(parts: readonly RunPart[]): string | null {
  for (const p of parts) {
    if (p.path === '') continue;
    const human = new Set(p.plan.steps.filter((s) => s.kind === 'human').map((s) => s.id));
    const started = p.events.find((e) => e.type === 'step_started' && e.stepId !== null && human.has(baseId(e.stepId)));
    if (started) return `${p.path}/${started.stepId}`;
  }
  return null;
}

/**
 * A capability's IR name as the test's file sees it: the plan's module is imported under its own
 * name, a std capability is bare, and an MCP tool is `alias.tool` under an `import mcp` of the
 * test's own (the plan file's alias is not seen there), one per server, made as they are named.
 */
class CapabilityNames {
  /** The `import` lines the names given so far need. */
  readonly imports: string[] = [];
  /** `mcp:SERVER` or `file:MODULE` → its alias in the test's file. */
  private readonly aliases = new Map<string, string>();
  /** The alias the test's file imports the plan's own file under: its module name, when that is a name. */
  readonly planAlias: string;
  private readonly capabilities: PlanIR['capabilities'];
  constructor(
    private readonly plan: PlanIR,
    /** Module name → file, of the program the plan's file loads (not std). */
    private readonly modules: ReadonlyMap<string, string>,
    /** The test's file: a module's import is relative to it. */
    private readonly file: string,
  ) {
    this.planAlias = /^[A-Za-z_][A-Za-z0-9_]*$/.test(plan.module) ? plan.module : toolIdent(plan.module.split('.').pop()!);
    this.capabilities = allCapabilities(plan);
  }

  of(name: string): string {
    if (name.startsWith('std.capabilities.')) return name.slice('std.capabilities.'.length);
    const h = this.capabilities[name]?.handler;
    if (h && 'mcp' in h && name.startsWith(`mcp.${h.mcp}.`)) {
      const alias = this.alias(`mcp:${h.mcp}`, toolIdent(h.mcp), (a) => `import mcp ${JSON.stringify(h.mcp)} as ${a}`);
      return `${alias}.${name.slice(`mcp.${h.mcp}.`.length)}`;
    }
    // A capability of another module the plan's file imports: the test's file imports it too.
    const dot = name.lastIndexOf('.');
    const mod = dot > 0 ? name.slice(0, dot) : null;
    if (mod === this.plan.module) return `${this.planAlias}.${name.slice(dot + 1)}`;
    const file = mod !== null ? this.modules.get(mod) : undefined;
    if (file === undefined) return name;
    let rel = relative(dirname(this.file), file);
    if (!rel.startsWith('.')) rel = `./${rel}`;
    const alias = this.alias(`file:${mod}`, toolIdent(mod!.split('.').pop()!), (a) => `import ${JSON.stringify(rel)} as ${a}`);
    return `${alias}.${name.slice(dot + 1)}`;
  }

  private alias(key: string, base: string, line: (alias: string) => string): string {
    const known = this.aliases.get(key);
    if (known !== undefined) return known;
    // Never the plan module's alias, nor another import's.
    const taken = new Set([this.planAlias, ...this.aliases.values()]);
    let alias = base;
    for (let n = 2; taken.has(alias); n++) alias = `${base}_${n}`;
    this.aliases.set(key, alias);
    this.imports.push(line(alias));
    return alias;
  }
}

/** `returns … then …` / `fails "M" times N then returns …` for answers in call order (the last repeats). */
function answersText(all: readonly Outcome[], schema: Record<string, unknown> | undefined, currency: string | null, cap: string): string {
  // A cancelled attempt's answer is never heard: it only matters when the mock has no other.
  const os = all.some((o) => !o.cancelled) ? all.filter((o) => !o.cancelled) : all;
  const fails = os.findIndex((o) => o.ok);
  const lead = fails === -1 ? os.length : fails;
  const rest = os.slice(lead);
  if (rest.some((o) => !o.ok)) throw new CaptureError(`capability ${cap} failed after it had succeeded, which a mock cannot say; capture a run without that`);
  const returns = rest.map((o) => orchValue((o as { output: unknown }).output, schema, currency)).join(' then ');
  if (lead === 0) return `returns ${returns}`;
  const msg = stringLiteral((os[0] as { error: string }).error);
  return rest.length === 0 ? `fails ${msg}` : `fails ${msg} times ${lead} then returns ${returns}`;
}

/**
 * The currency money is written in: a bare number is no `money` to the test's checker. The
 * program's own when it writes one, else usd (a `money` field has no currency of its own).
 */
function programFacts(source: string): { readonly currency: string; readonly modules: ReadonlyMap<string, string> } {
  const model = compile({ entry: source, navigation: false }).model;
  return { currency: model?.currency ?? 'usd', modules: new Map((model?.modules ?? []).filter((m) => !m.std).map((m) => [m.name, m.file])) };
}

function compileTest(file: string, text: string, name: string): CompiledTest {
  const host = { readFile: (p: string) => (resolve(p) === file ? text : diskHost.readFile(p)) };
  const out = compile({ entry: file, host, navigation: false, tests: true });
  const errors = out.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new CaptureError(`the captured test does not check:\n${errors.map((d) => `  ${d.code} ${d.message}`).join('\n')}`);
  const t = out.tests.find((x) => x.name === name);
  if (!t) throw new CaptureError(`the captured test "${name}" was not found after compiling`);
  return t;
}

export async function captureTest(src: CaptureSource, opts: CaptureOptions): Promise<{ readonly text: string; readonly result: TestResult }> {
  const { plan, runId } = src;
  // The run as it is shown (runtime/redact-classes.ts): the journal holds values of class `secret`
  // as they were, and a test file is committed — neither they nor a copy of one (a step that echoes
  // a token, an error that quotes it) may be written into it.
  const parts = runParts(plan, runId, src.events);
  const root = parts.find((p) => p.path === '');
  if (!root) throw new CaptureError(`run ${runId} has no plan_created event`);
  // One view for the run and its sub-plan runs: a secret of one is blanked where another copies it.
  const view = new SecretView(plan, root.events);
  const views = parts.map((p) => (p === root ? view : new SecretView(p.plan, p.events, undefined, view)));
  parts.forEach((p, i) => (p.events = views[i]!.events(p.events)));
  const events = root.events;
  const file = resolve(opts.file);
  const created = events.find((e) => e.type === 'plan_created');
  if (created?.type !== 'plan_created') throw new CaptureError(`run ${runId} has no plan_created event`);
  const inner = subPlanApproval(parts);
  if (inner) throw new CaptureError(`run ${runId} runs a sub-plan with an approval (${inner}), which is decided in that sub-plan's own run, not by a test of this plan: capture the sub-plan's run instead`);
  const ph = new Placeholders(opts.keepPersonal === true);
  for (const p of parts) seePrivate(p.plan, p.events, ph);
  const capabilities = allCapabilities(plan);
  /** A value as written: private fields by the schema as placeholders, then copies of them elsewhere. */
  const hide = (v: unknown, schema: unknown) => ph.copies(scrub(v, schema as Record<string, unknown> | undefined, ph));
  const source = isAbsolute(plan.source_file) ? plan.source_file : resolve(plan.base_dir, plan.source_file);
  const program = programFacts(source);
  const currency = plan.policy?.currency ?? program.currency;
  const names = new CapabilityNames(plan, program.modules, file);
  let rel = relative(dirname(file), source);
  if (!rel.startsWith('.')) rel = `./${rel}`;
  const name = opts.name ?? `captured from run ${runId}`;
  const start = events.find((e) => e.type === 'execution_started')?.ts ?? created.ts;
  // What a source set (§9.4): a derived signal is computed by the test's context as it was by the
  // run's, and a null is a signal gone stale, which max_age brings about again in virtual time.
  const wasSet = (name: string, value: unknown) => value !== null && !plan.context_signals?.[name]?.derived;
  const context = Object.fromEntries(Object.entries(created.data.context).filter(([k, v]) => wasSet(k, v)));
  // The version the run ended on (§8.6: an upgrade moved it), which is `plan`, not the one it started on.
  const upgraded = [...events].reverse().find((e) => e.type === 'plan_upgraded');
  const version = upgraded?.type === 'plan_upgraded' ? upgraded.data.to_hash : (created.data.ir_hash ?? '');
  const head = [
    `import ${JSON.stringify(rel)} as ${names.planAlias}`,
    '',
    `test ${JSON.stringify(name)} {`,
    `  captured_from ${JSON.stringify(runId)} ir_hash ${JSON.stringify(version)}`,
    `  plan ${names.planAlias}.${plan.plan}`,
    `  input ${orchValue(hide(created.data.input, plan.input), plan.input, currency)}`,
    ...(Object.keys(context).length > 0 ? [`  context ${orchValue(hide(context, plan.context), plan.context, currency)}`] : []),
  ];
  const signals = events.flatMap((e) =>
    e.type === 'context_updated'
      ? Object.entries(e.data.patch)
          .filter(([k, v]) => wasSet(k, v))
          .map(([k, v]) => `  signal context.${k} = ${orchValue(hide(v, propOf(plan.context, k)), propOf(plan.context, k), currency)} at ${Math.max(0, e.ts - start)}ms`)
      : [],
  );
  const decisions = decisionLines(plan, events, runId);
  // Each run's steps by their path (a sub-plan run's under the step that ran it), its compensations alike.
  const outcomes = new Map<string, Outcome[]>();
  const compensations = new Map<string, Outcome>();
  const called: string[] = [];
  for (const p of parts) {
    const own = compensationsOf(p.events);
    for (const [id, o] of outcomesOf(p.events)) outcomes.set(runPathKey(p.path, id), o);
    for (const [id, o] of own) compensations.set(runPathKey(p.path, id), o);
    for (const cap of calledIn(p.plan, p.events, own)) if (!called.includes(cap)) called.push(cap);
  }
  const outputSchema = (cap: string) => capabilities[cap]?.output as Record<string, unknown> | undefined;
  // First run: every call answered from the journal (private values replaced as the mocks will be).
  const answers = new JournalAnswers(outcomes, compensations, (o, req) => (o.ok ? { ...o, output: hide(fitted(o.output, outputSchema(req.capability.name)), outputSchema(req.capability.name)) } : { ...o, error: ph.copies(o.error) }));
  // A model, channel or network the run never reached (it failed or skipped first) has no call to
  // answer from, yet a test must mock it (E0906): it fails saying so, which shows if a change calls it.
  const written = (cap: string) => names.of(cap);
  const uncalled = Object.entries(capabilities)
    .filter(([cap, ir]) => !called.includes(cap) && boundaryOf(ir) !== null)
    .map(([cap]) => `  mock ${written(cap)} fails ${stringLiteral(`not called in run ${runId}`)}`);
  const placeholderMocks = [...called.map((c) => `  mock ${written(c)} fails "captured"`), ...uncalled];
  head.splice(1, 0, ...names.imports);
  const probe = compileTest(file, [...head, ...placeholderMocks, ...decisions, ...signals, '}', ''].join('\n'), name);
  let probeEnd: RunEvent | undefined;
  let statusOf: (id: string) => string | undefined = () => undefined;
  const replayed = await runPlanTest(
    { ...probe, mocks: [] },
    { real: null, answer: answers.answer, prices: opts.prices ?? {}, onJournal: (js) => (probeEnd = [...js].reverse().find((e) => e.type === 'execution_completed')), onStatuses: (s) => (statusOf = s) },
  );
  const mocks: string[] = [];
  for (const cap of called) {
    const calls = answers.calls.filter((c) => c.capability === cap);
    // The run called it, its replay under the test's own lines did not: they do not say what the
    // run saw (an approval decided without people, where the first decision decides, wants every
    // approver it counts in a test), and a mock with no answer to write would not even parse.
    if (calls.length === 0)
      throw new CaptureError(`the captured test does not pass, so it was not written: run ${runId} called ${written(cap)}, and under the test's lines the run never does (${replayEnd(replayed)})${countedWithoutPeople(events)}`);
    const byInput = new Map<string, { input: unknown; outcomes: Outcome[] }>();
    for (const c of calls) {
      const k = canonicalJson(c.input);
      (byInput.get(k) ?? byInput.set(k, { input: c.input, outcomes: [] }).get(k)!).outcomes.push(c.outcome);
    }
    const schema = outputSchema(cap);
    const inputSchema = capabilities[cap]?.input as Record<string, unknown> | undefined;
    if (byInput.size <= 1) mocks.push(`  mock ${written(cap)} ${answersText(calls.map((c) => c.outcome), schema, currency, cap)}${spendText(calls.map((c) => c.outcome), currency)}`);
    else {
      // An input its type cannot say (a null read through `any` for a `string`) is no value a
      // `where` may compare with (E0201): the one such input is answered by the mock without `where`.
      const groups = [...byInput.values()];
      const unsaid = groups.filter((g) => !validateValue((inputSchema ?? {}) as JsonSchema, g.input).ok);
      if (unsaid.length > 1)
        throw new CaptureError(
          `capability ${written(cap)} was called with ${unsaid.length} inputs its input type cannot say (${unsaid.map((g) => canonicalJson(g.input)).join(', ')}), which no mock's where can tell apart: capture a run without them, or write the test by hand`,
        );
      for (const g of [...groups.filter((x) => !unsaid.includes(x)), ...unsaid]) {
        const where = unsaid.includes(g) ? '' : ` where input == ${orchValue(g.input, inputSchema, currency)}`;
        mocks.push(`  mock ${written(cap)}${where} ${answersText(g.outcomes, schema, currency, cap)}${spendText(g.outcomes, currency)}`);
      }
    }
  }
  mocks.push(...uncalled);
  const final = [...events].reverse().find((e) => e.type === 'execution_completed' || e.type === 'execution_failed' || e.type === 'execution_cancelled');
  if (!final) throw new CaptureError(`run ${runId} has not finished: capture a finished run`);
  const status = final.type === 'execution_completed' ? 'completed' : final.type === 'execution_failed' ? final.data.status : 'cancelled';
  const expects = [`  expect run.status == ${JSON.stringify(status)}`];
  for (const [id, st] of finalStatuses(plan, events, statusOf)) expects.push(st === 'timeout' || st === 'cancelled' ? `  expect ${id}.status == "${st}"` : `  expect ${id}.${st}`);
  // The output the run gives under the written answers (the first run's): what private values
  // became there, not the journal's, which holds values of class `secret` as they were.
  const output = probeEnd?.type === 'execution_completed' ? probeEnd.data.output : undefined;
  if (final.type === 'execution_completed' && output !== null && output !== undefined)
    expects.push(`  expect run.output == ${orchValue(output, plan.output as Record<string, unknown> | undefined, currency)}`);
  const text = [...head, ...mocks, ...decisions, ...signals, ...expects, '}', ''].join('\n');
  // Second run: the test as written, every call mocked; it must pass.
  const captured = compileTest(file, text, name);
  // The file now holds another version of the plan: the test would be stale at once (and there is no file to --update).
  if (captured.stale.length > 0)
    throw new CaptureError(`run ${runId} ran an earlier version of plan ${plan.module}.${plan.plan}, which no longer has ${captured.stale.join(', ')}: capture a run of the plan as it is now`);
  const result = await runPlanTest(captured, { real: null, prices: opts.prices ?? {} });
  if (!result.passed) throw new CaptureError(`the captured test does not pass, so it was not written:\n${result.failures.map((f) => `  ${f.message}`).join('\n')}`);
  return { text, result };
}

/** How a capture's replay ended, for a refusal: its stuck or refused decisions, else the error that ended it. */
function replayEnd(r: TestResult): string {
  if (r.failures.length > 0) return r.failures.map((f) => f.message).join('; ');
  const end = [...r.timeline].reverse().find((t) => t.type.startsWith('execution_'));
  return `it ${r.run_status}${end?.detail ? `: ${end.detail}` : ''}`;
}

/**
 * Approvals the run let one decision settle though they ask for more (`approvals` > 1): decided
 * without people, the first decision decides (§8.8), while a test's decider is a person.
 */
function countedWithoutPeople(events: readonly RunEvent[]): string {
  const byPeople = new Set(events.flatMap((e) => (e.type === 'approval_decided' && e.stepId !== null ? [baseId(e.stepId)] : [])));
  const steps = new Map<string, number>();
  for (const e of events) {
    const wanted = e.type === 'step_started' && e.stepId !== null ? (e.data as { input?: { approvals?: unknown } }).input?.approvals : undefined;
    if (typeof wanted === 'number' && wanted > 1 && !byPeople.has(baseId(e.stepId!))) steps.set(baseId(e.stepId!), wanted);
  }
  return [...steps]
    .map(([id, n]) => `; approval ${id} was decided without people, where the first decision decides, and a test's deciders are people: it wants ${n} of them`)
    .join('');
}

/** The capabilities one run called, in the order it first called them (an approval is decided, never called). */
function calledIn(plan: PlanIR, events: readonly RunEvent[], compensations: ReadonlyMap<string, Outcome>): string[] {
  const human = new Set(plan.steps.filter((s) => s.kind === 'human').map((s) => s.id));
  const adoptedCap = (id: string) => plan.steps.find((s) => s.id === baseId(id))?.capability ?? null;
  const never = unreached(events);
  return [
    ...new Set(
      events.flatMap((e) => {
        // A compensation that reached its handler is a call too (it has no step_started of its own).
        if (e.type === 'step_compensated' && e.stepId !== null && compensations.has(e.stepId)) {
          const cap = plan.steps.find((s) => s.id === baseId(e.stepId!))?.compensate?.capability;
          return cap !== undefined ? [cap] : [];
        }
        if (e.stepId === null || human.has(baseId(e.stepId)) || never.has(e)) return [];
        // A step started before an upgrade names its capability as the old version's IR did (an entry
        // module named after its old file: `plans.f`); the upgrade kept it, so the plan's own name for it is the one to mock.
        const started = e.type === 'step_started' ? e.data.capability : null;
        const cap = started !== null ? (plan.capabilities[started] ? started : (adoptedCap(e.stepId) ?? started)) : e.type === 'step_adopted' ? adoptedCap(e.stepId) : null;
        return cap !== null ? [cap] : [];
      }),
    ),
  ];
}

/**
 * Every private value of the run, given its placeholder before anything is written: a copy
 * (an error quoting an email) may come before the field of class `personal` that holds it.
 */
function seePrivate(plan: PlanIR, events: readonly RunEvent[], ph: Placeholders): void {
  const capOf = new Map<string, string>();
  for (const e of events) {
    if (e.type === 'plan_created') {
      scrub(e.data.input, plan.input, ph);
      scrub(e.data.context, plan.context, ph);
    } else if (e.type === 'context_updated') scrub(e.data.patch, plan.context, ph);
    else if (e.type === 'step_started' && e.stepId !== null && e.data.capability !== null) capOf.set(e.stepId, e.data.capability);
    else if (e.type === 'step_completed' && e.stepId !== null) scrub(e.data.output, plan.capabilities[capOf.get(e.stepId) ?? '']?.output as Record<string, unknown> | undefined, ph);
  }
}

/**
 * The run's decisions as `approve` / `reject` lines, in the order they came: each decider (a
 * person's subject, or the name a decision without people carried) and how long after the step
 * began to wait (its first `step_started`: a resumed run starts it again) the decision came.
 * A test's line decides every instance of its step (inside a `for each` or a block): the first
 * instance decided speaks for them all, and instances decided otherwise cannot be written.
 */
function decisionLines(plan: PlanIR, events: readonly RunEvent[], runId: string): string[] {
  const human = new Set(plan.steps.filter((s) => s.kind === 'human').map((s) => s.id));
  const since = new Map<string, number>();
  const byPeople = new Set<string>();
  /** Each instance's decisions in order, and the instance that speaks for its step. */
  const made = new Map<string, { readonly decision: 'approve' | 'reject'; readonly who: string; readonly ms: number }[]>();
  const first = new Map<string, string>();
  const order: { readonly key: string; readonly n: number }[] = [];
  const add = (decision: 'approve' | 'reject', key: string, who: string, ts: number) => {
    const list = made.get(key) ?? made.set(key, []).get(key)!;
    list.push({ decision, who, ms: Math.max(0, ts - (since.get(key) ?? ts)) });
    if (!first.has(baseId(key))) first.set(baseId(key), key);
    if (first.get(baseId(key)) === key) order.push({ key, n: list.length - 1 });
  };
  for (const e of events) {
    if (e.stepId === null || !human.has(baseId(e.stepId))) continue;
    if (e.type === 'step_started') {
      if (!since.has(e.stepId)) since.set(e.stepId, e.ts);
    } else if (e.type === 'approval_decided') {
      byPeople.add(e.stepId);
      add(e.data.decision, e.stepId, e.data.by.subject, e.ts);
    } else if (byPeople.has(e.stepId)) continue;
    // Decided without people: the name it carried is in the step's end.
    else if (e.type === 'step_completed' || e.type === 'step_adopted') {
      const approver = (e.data.output as { approver?: unknown } | null)?.approver;
      add('approve', e.stepId, typeof approver === 'string' ? approver : 'someone', e.ts);
    } else if (e.type === 'step_failed') {
      const rejected = /^rejected(?: by (.+?))?(?:: |$)/.exec(e.data.error ?? '');
      if (rejected) add('reject', e.stepId, rejected[1] ?? 'someone', e.ts);
    }
  }
  const said = (key: string) => (made.get(key) ?? []).map((d) => `${d.decision} by ${JSON.stringify(d.who)}`).join(', ');
  for (const [key, list] of made) {
    const speaker = first.get(baseId(key))!;
    if (list.length > 0 && said(key) !== said(speaker))
      throw new CaptureError(
        `run ${runId} decided the instances of approval ${baseId(key)} differently (${speaker}: ${said(speaker)}; ${key}: ${said(key)}), and a test's approve / reject line decides every instance alike: capture a run whose instances were decided alike, or write the test by hand`,
      );
  }
  return order.map(({ key, n }) => {
    const d = made.get(key)![n]!;
    return `  ${d.decision} ${baseId(key)} by ${JSON.stringify(d.who)} at ${d.ms}ms`;
  });
}

function propOf(schema: unknown, key: string): Record<string, unknown> | undefined {
  const props = (schema as { properties?: Record<string, Record<string, unknown>> } | undefined)?.properties;
  return props && Object.hasOwn(props, key) ? props[key] : undefined;
}
