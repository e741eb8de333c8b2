/**
 * The boundary of a plan under test (LANGUAGE.md §9.2): a mocked capability answers on the
 * virtual clock as its `mock` lines say; any other runs its real handler through the executor
 * given (worker threads). Every call's input is recorded for `calls(CAP)` and `STEP.input`.
 */
import type { CompiledTest, MockIR, PlanIR } from '../../compiler/index.js';
import { boundaryOf } from '../../compiler/index.js';
import { evaluate, modelOf, priceOf, pricedOutcome, type AttemptHandle, type AttemptOutcome, type AttemptRequest, type Clock, type Executor, type ModelPrice } from '../../runtime/index.js';

/** How long a handler without a timeout of its own may run (real time) before its attempt fails. */
export const REAL_HANDLER_LIMIT_MS = 60_000;

/** An answer given on the virtual clock, `latency_ms` after the call. */
export interface VirtualAnswer {
  readonly outcome: AttemptOutcome;
  readonly latency_ms: number;
}

export class MockExecutor implements Executor {
  /** Capability IR name → the inputs of its calls, in order. */
  readonly calls: Record<string, unknown[]> = {};
  /** Instance key of the run under test → the input of its last attempt. */
  readonly inputs = new Map<string, unknown>();
  /** Real attempts in flight (the driver waits on them before moving virtual time). */
  private realInFlight = 0;
  private wake: (() => void) | null = null;
  private readonly answered = new Map<MockIR, number>();

  constructor(
    private readonly test: CompiledTest,
    private readonly clock: Clock,
    private readonly rootRun: string,
    private readonly real: Executor | null,
    private readonly prices: { readonly [model: string]: ModelPrice },
    /** Answers a call on the virtual clock before mocks and handlers (a capture's first run answers from the journal). */
    private readonly answer?: (request: AttemptRequest) => VirtualAnswer,
  ) {
    // `calls(CAP)` of a capability never called is an empty list, not null.
    const each = (plan: PlanIR): void => {
      for (const name of Object.keys(plan.capabilities)) this.calls[name] ??= [];
      for (const sub of Object.values(plan.subplans)) each(sub);
    };
    each(test.plan);
    for (const tool of Object.values(test.refines ?? {})) this.calls[tool] ??= [];
  }

  get realAttempts(): number {
    return this.realInFlight;
  }

  /** Resolves when a real attempt finishes. */
  realDone(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }

  start(request: AttemptRequest, done: (outcome: AttemptOutcome) => void, logged?: (lines: readonly string[]) => void): AttemptHandle {
    const cap = request.capability.name;
    (this.calls[cap] ??= []).push(request.input);
    // A refinement's call is a call of the MCP tool it refines too, for a test that names the tool.
    const tool = this.test.refines?.[cap];
    if (tool !== undefined) this.calls[tool]!.push(request.input);
    if (request.runId === this.rootRun) this.inputs.set(request.stepId, request.input);
    if (this.answer) {
      const a = this.answer(request);
      return this.later(a.latency_ms, a.outcome, done);
    }
    const mock = this.mockFor(request);
    if (mock) return this.answerBy(mock, request, done);
    const reaches = boundaryOf(request.capability);
    if (reaches !== null || this.real === null) {
      // orch check refuses such a test (E0906); a sub-plan loaded at run time could still get here.
      const why = reaches !== null ? `reaches ${reaches}` : 'has a handler, and handlers do not run here';
      // With `where` mocks of it, named as the test writes it (`files.read_text_file`, not `mcp.files.read_text_file`).
      const mocked = this.test.mocks.find((m) => m.capability === cap || m.capability === tool);
      const none = mocked ? 'no where of its mocks holds for this call' : 'no mock answers it in this test';
      return this.later(0, { ok: false, error: `${mocked?.written ?? cap} ${why}: ${none}`, final: 'config' }, done);
    }
    this.realInFlight++;
    let over = false;
    const finish = (outcome: AttemptOutcome | null): void => {
      if (over) return;
      over = true;
      clearTimeout(guard);
      this.realInFlight--;
      if (outcome) done(outcome);
      this.wake?.();
    };
    // Virtual time stands still while a real handler runs, so its timeout is kept in real time.
    const limit = request.timeoutMs ?? REAL_HANDLER_LIMIT_MS;
    const guard = setTimeout(() => {
      handle.abort(`timed out after ${limit} ms`);
      // Past its own timeout the handler is given up without an answer: virtual time then moves on
      // to the scheduler's timer for that timeout, and the attempt times out as under `orch run`
      // (status `timeout`, its wording) at the virtual moment it would have.
      finish(request.timeoutMs !== null ? null : { ok: false, error: `the handler of ${cap} took longer than ${limit} ms (real time) in this test` });
    }, limit);
    // A real handler's `ctx.usage()` costs what it costs under `orch run` (§8.1).
    const handle = this.real.start(request, (outcome) => finish(pricedOutcome(outcome, this.prices)), logged);
    return {
      abort: (reason) => {
        if (over) return;
        handle.abort(reason);
        finish(null);
      },
    };
  }

  /**
   * The first `where` mock whose condition holds, else the unconditional one (§9.2); for a
   * refinement of an MCP tool the test mocks, the tool's mocks after its own.
   */
  private mockFor(request: AttemptRequest): MockIR | null {
    const tool = this.test.refines?.[request.capability.name];
    return this.mockOf(request.capability.name, request) ?? (tool !== undefined ? this.mockOf(tool, request) : null);
  }

  private mockOf(capability: string, request: AttemptRequest): MockIR | null {
    let fallback: MockIR | null = null;
    for (const m of this.test.mocks) {
      if (m.capability !== capability) continue;
      if (m.where === null) {
        fallback ??= m;
        continue;
      }
      try {
        if (evaluate(m.where, { vars: { input: request.input }, now: () => this.clock.now() }) === true) return m;
      } catch {
        // A condition that cannot be evaluated on this input does not hold.
      }
    }
    return fallback;
  }

  private answerBy(mock: MockIR, request: AttemptRequest, done: (outcome: AttemptOutcome) => void): AttemptHandle {
    const n = this.answered.get(mock) ?? 0;
    this.answered.set(mock, n + 1);
    const a = mock.answers[Math.min(n, mock.answers.length - 1)]!;
    const spend = this.spendOf(mock, request);
    let outcome: AttemptOutcome;
    if (!a.ok) outcome = { ok: false, error: a.error, ...spend };
    else {
      try {
        outcome = { ok: true, output: evaluate(a.value, { vars: { input: request.input }, now: () => this.clock.now() }), ...spend };
      } catch (err) {
        outcome = { ok: false, error: `mock ${mock.written}: ${(err as Error).message}`, ...spend };
      }
    }
    return this.later(mock.latency_ms, outcome, done);
  }

  /** `cost M`, or `usage {…}` priced as §8.1 prices a model's answer (its model's config price). */
  private spendOf(mock: MockIR, request: AttemptRequest): Pick<AttemptOutcome, 'cost' | 'usage'> {
    if (mock.cost !== null) return { cost: mock.cost };
    if (mock.usage === null) return {};
    // The model the call uses (§8.1): the bound resource's, else the capability's.
    const model = mock.usage.model ?? modelOf(request.capability, request.resource);
    const price = model !== null ? this.prices[model] : undefined;
    const cost = price ? priceOf(price, mock.usage.input_tokens, mock.usage.output_tokens) : undefined;
    const usage = { input_tokens: mock.usage.input_tokens, output_tokens: mock.usage.output_tokens, ...(model !== null ? { model } : {}), ...(cost !== undefined ? { cost } : {}) };
    return cost !== undefined ? { cost, usage } : { usage };
  }

  private later(ms: number, outcome: AttemptOutcome, done: (outcome: AttemptOutcome) => void): AttemptHandle {
    let timer: ReturnType<Clock['setTimer']> | null = this.clock.setTimer(ms, () => {
      timer = null;
      done(outcome);
    });
    return {
      abort: () => {
        if (timer !== null) this.clock.cancelTimer(timer);
        timer = null;
      },
    };
  }
}
