/** The expression environment of a step instance, a block's frame, or the run: inputs, context, actuals, steps, blocks. */
import type { ExprIR, StepIR } from '../../../compiler/index.js';
import { type EvalEnv, evaluate, readSignal, type SignalRead } from '../../evaluate.js';
import { derivedReader, hasDerived } from '../../context/derived-read.js';
import { hasHold, RunContext, type RunContextView } from '../../context/run-context.js';
import type { RunState } from './run-state.js';
import type { Frame, Inst } from './state.js';
import { blockViewFrom, previousFrom, stepViewFrom } from './views.js';

/** `_step` is kept for callers that name the step an expression belongs to; the instance decides. */
export function env(c: RunState, inst: Inst | null, _step?: StepIR | null): EvalEnv {
  return envAt(c, inst, inst);
}

/** Evaluated at `frame` (its items and the instances it sees); `inst` records the secrets used. */
export function envAt(c: RunState, frame: Frame | null, inst: Inst | null): EvalEnv {
  const p = c.plan;
  return {
    vars: {
      input: c.inputValue,
      context: c.ctx,
      run: c.actuals(),
      // The worst case (loops at their max), as the compiler judges `assert plan.*` and budgets.
      plan: { cost: p.estimates.cost_max ?? p.estimates.cost, duration: p.estimates.duration_ms_max ?? p.estimates.duration_ms, steps: p.steps.length, local_ratio: p.estimates.local_ratio },
    },
    items: frame && frame.dims.some((d) => d.type === 'for_each') ? frame.items : undefined,
    step: (id) => stepViewFrom(c, frame, id),
    block: (id) => blockViewFrom(c, frame, id),
    previous: (loop) => previousFrom(c, frame, loop),
    secret: (name) => {
      if (!c.cfg.secret) throw new Error(`secret("${name}") cannot be resolved here`);
      const v = c.cfg.secret(name);
      if (inst) (inst.secretsUsed ??= {})[name] = v;
      return v;
    },
    now: () => c.now,
    ...signalOption(c),
  };
}

/**
 * §9.4: how the run reads a context signal — the live context's state when it is given one, else
 * its own context, where a derived signal is computed from the signals it reads.
 */
export function signalReader(c: RunState): ((name: string) => SignalRead) | undefined {
  if (c.cfg.signal) return c.cfg.signal;
  const aging = c.cfg.contextAges === true;
  // A hold needs the history of its expression: the run's values fed to a store of its own, as `orch serve` keeps them.
  const kept = runContext(c);
  if (kept) return (name) => kept.read(name, runContextView(c));
  if (!aging && !hasDerived(c.plan.context_signals)) return undefined;
  const own = aging ? (name: string) => agedSignal(c, name) : (name: string) => readSignal({ vars: { context: c.ctx } }, name);
  return derivedReader(c.plan.context_signals ?? {}, own, () => c.now);
}

/** The run's own context store where a derived signal has a `hold` (one per run), else null. */
export function runContext(c: RunState): RunContext | null {
  if (c.ownContext !== undefined) return c.ownContext;
  // A resumed run's store is rebuilt from what it journaled, in order: a hold in progress when it stopped goes on.
  c.ownContext =
    c.cfg.signal || !hasHold(c.plan.context_signals) ? null : new RunContext(c.plan.context_signals ?? {}, c.startedAt, c.cfg.contextAges === true, c.opts.restored?.contextHistory);
  return c.ownContext;
}

export function runContextView(c: RunState): RunContextView {
  return { values: c.ctx, setAt: (name) => c.facts.contextAt[name] ?? c.startedAt, now: c.now };
}

/**
 * A value of the run's own context as §9.4 reads it: set when the event that carried it was
 * journaled, so it goes stale once its age passes the signal's `max_age`, as in a context store.
 */
export function agedSignal(c: RunState, name: string): SignalRead {
  const value = Object.hasOwn(c.ctx, name) ? c.ctx[name] : undefined;
  const max = c.plan.context_signals?.[name]?.max_age_ms ?? null;
  if (value === undefined || value === null) return { value: null, state: 'never_set', age_ms: null, max_age_ms: max };
  const setAt = c.facts.contextAt[name] ?? c.startedAt;
  const age = Math.max(0, c.now - setAt);
  return { value, state: max === null || age <= max ? 'fresh' : 'stale', age_ms: age, max_age_ms: max, set_at: setAt };
}

function signalOption(c: RunState): { signal?: (name: string) => SignalRead } {
  const signal = signalReader(c);
  return signal ? { signal } : {};
}

export function evalArgs(c: RunState, inst: Inst, args: { readonly [k: string]: ExprIR }): { [k: string]: unknown } {
  // The environment only for arguments to evaluate: a call without any (a no-op step) makes none.
  let e: EvalEnv | undefined;
  const out: { [k: string]: unknown } = {};
  for (const [k, x] of Object.entries(args)) out[k] = evaluate(x, (e ??= env(c, inst, inst.logical.step)));
  return out;
}
