/**
 * What `orch run` / `orch resume` print while a run executes: in a TTY a live summary redrawn in
 * place; otherwise one plain line per step event; with `--quiet`, only the closing summary.
 */
import pc from 'picocolors';
import { runView, type RunEvent, type RunReader, type SecretView } from '../runtime/index.js';
import type { ExecutionResult } from '../runtime/index.js';
import { moneyText } from '../compiler/index.js';
import { decisionRoute } from './decision-route.js';

export interface Progress {
  onEvent(event: RunEvent, run: RunReader): void;
  stop(): void;
}

/** One plain line for a step event (null for the events the plain output does not show); amounts in `currency`. */
function plainLine(e: RunEvent, currency: string | undefined): string | null {
  switch (e.type) {
    case 'step_started':
      return `started   ${e.stepId}${e.data.attempt > 1 ? ` (attempt ${e.data.attempt})` : ''}${e.data.resource ? ` on ${e.data.resource}` : ''}`;
    case 'step_completed':
      return `completed ${e.stepId}${e.data.duration !== undefined ? ` in ${ms(e.data.duration)}` : ''}`;
    case 'step_failed':
      return `${e.data.status.padEnd(9)} ${e.stepId}: ${e.data.error ?? ''}`;
    case 'step_retried':
      return `retrying  ${e.stepId}: ${e.data.error}${e.data.rebind ? ` (rebinding to ${e.data.rebind})` : ''}${e.data.fallback ? ` (fallback ${e.data.fallback})` : ''}`;
    case 'attempt_lost':
      return `lost      ${e.stepId}: attempt ${e.data.attempt} (${e.data.reason ?? `worker ${e.data.worker} died`}), running it again`;
    case 'step_skipped':
      return `skipped   ${e.stepId}${e.data.reason ? ` (${e.data.reason})` : ''}`;
    case 'step_compensated':
      return `compensated ${e.stepId}${e.data.ok ? '' : `: ${e.data.error ?? 'failed'}`}`;
    case 'step_cancelled':
      return `cancelled ${e.stepId}${e.data.reason ? ` (${e.data.reason})` : ''}`;
    case 'race_won':
      return `race      ${e.stepId} won by ${e.data.winner}`;
    case 'loop_iteration':
      return `loop      ${e.stepId} iteration ${e.data.index}`;
    case 'guardrail_violation':
      return `guardrail ${e.data.guardrail} (${e.data.severity}): ${e.data.message}`;
    case 'execution_paused':
      return `paused${e.data.reason ? `: ${e.data.reason}` : ''}`;
    case 'execution_interrupted':
      return e.data.stopped
        ? 'interrupted: stopped, resumable'
        : `interrupting${e.data.reason ? ` (${e.data.reason})` : ''}: no step starts; waiting for ${e.data.running?.length ? e.data.running.join(', ') : 'nothing'}`;
    case 'execution_resumed':
      return 'resumed';
    case 'step_log':
      return `log       ${e.stepId}: ${e.data.compensation ? 'compensation: ' : ''}${e.data.line}`;
    case 'budget_exceeded':
      return `budget    ${e.data.label} exceeded${e.data.warn ? ' (warn)' : ''}`;
    case 'budget_overrun':
      return `overrun   ${e.stepId}: cost ${moneyText(e.data.actual, currency)}, reserved ${moneyText(e.data.reserved, currency)}`;
    case 'consent_denied':
      return `consent   missing: ${e.data.missing.join(', ')}`;
    case 'plan_upgraded':
      return `upgraded  ${e.data.from_hash.slice(0, 12)} → ${e.data.to_hash.slice(0, 12)}`;
    case 'approval_decided':
      return `${e.data.decision === 'approve' ? 'approved ' : 'rejected '} ${e.stepId} by ${e.data.by.subject} (${e.data.by.method}${e.data.by.issuer === 'local' ? '' : `, ${e.data.by.issuer}`}) ${e.data.approved}/${e.data.needed}`;
    default:
      return null;
  }
}

/** How many running steps the live view names (the longest-running first). */
const SLOWEST = 5;
/** The window over which the live view's rate (and so its ETA) is measured. */
const RATE_WINDOW_MS = 5000;

/**
 * `live`: a summary block redrawn in place (counts by status, rate, ETA, the slowest running
 * steps) whose size does not grow with the plan; otherwise one plain line per step event.
 * `quiet`: nothing at all until the closing summary.
 */
export function createProgress(stream: NodeJS.WriteStream, live: boolean, quiet = false): Progress {
  if (quiet) return { onEvent() {}, stop() {} };
  return shown(live ? liveProgress(stream) : plainProgress(stream));
}

/** Progress that sees each event as shown: an error quoting a value of class `secret` prints `***`. */
function shown(p: Progress): Progress {
  const views = new Map<string, SecretView>();
  return {
    onEvent(e, run) {
      let v = views.get(e.runId);
      if (v === undefined) views.set(e.runId, (v = runView(run)));
      p.onEvent(v.event(e), run);
    },
    stop: () => p.stop(),
  };
}

function plainProgress(stream: NodeJS.WriteStream): Progress {
  // The root run's (its events come first): a sub-plan's IR may keep no currency of its own, and
  // a program has one (as orch timeline writes a sub-plan run's amounts).
  let currency: { readonly of: string | undefined } | undefined;
  return {
    onEvent(e, run) {
      currency ??= { of: run.plan.policy?.currency };
      const line = plainLine(e, currency.of);
      // Events of sub-plan runs are shown with their run-relative prefix.
      if (line !== null) stream.write(`${line}\n`);
    },
    stop() {},
  };
}

function liveProgress(stream: NodeJS.WriteStream): Progress {
  let reader: RunReader | null = null;
  let started = Date.now();
  let lines = 0;
  let total: number | null = null;
  const counts = { completed: 0, failed: 0, skipped: 0, cancelled: 0 };
  // Start times of running instances (by the event's own time), for "the slowest running".
  const since = new Map<string, number>();
  // Times of recent completions, for the rate; old ones are dropped as the window slides.
  const recent: number[] = [];
  const notes: string[] = [];
  const draw = () => {
    if (!reader) return;
    const now = Date.now();
    while (recent.length > 0 && recent[0]! < now - RATE_WINDOW_MS) recent.shift();
    const running = reader.running();
    const slowest = [...running]
      .map((id) => ({ id, at: since.get(id) ?? now }))
      .sort((x, y) => x.at - y.at)
      .slice(0, SLOWEST);
    const window = Math.min(RATE_WINDOW_MS, Math.max(now - started, 1));
    const rate = (recent.length * 1000) / window;
    const finished = counts.completed + counts.failed + counts.skipped + counts.cancelled;
    const left = total === null ? null : Math.max(0, total - finished - running.length);
    const parts = [
      pc.green(`${n(counts.completed)} completed`),
      pc.red(`${n(counts.failed)} failed`),
      `${n(counts.skipped)} skipped`,
      ...(counts.cancelled > 0 ? [`${n(counts.cancelled)} cancelled`] : []),
      pc.cyan(`${n(running.length)} running`),
      ...(left !== null ? [`${n(left)} waiting`] : []),
      `${rate >= 10 ? Math.round(rate) : rate.toFixed(1)} steps/s`,
      ...(left !== null && rate > 0 ? [`ETA ${ms(((left + running.length) / rate) * 1000)}`] : []),
      ms(now - started),
    ];
    const block = [
      ...slowest.map((s) => `  ${pc.cyan('●')} ${s.id} ${pc.dim(ms(now - s.at))}`),
      ...(running.length > slowest.length ? [`  … ${n(running.length - slowest.length)} more running`] : []),
      `  ${parts.join(' · ')}`,
    ];
    let text = lines > 0 ? `\x1b[${lines}A\x1b[0J` : '';
    text += notes.splice(0).map((l) => `${l}\n`).join('');
    text += block.map((l) => `${l}\n`).join('');
    lines = block.length;
    stream.write(text);
  };
  const timer = setInterval(draw, 100);
  timer.unref();
  return {
    onEvent(e, run) {
      if (!reader) {
        reader = run;
        started = Date.now();
        // Known only when no step fans out (a `for each` makes one instance per item).
        total = run.plan.steps.some((s) => s.for_each !== null) ? null : run.plan.steps.length;
      }
      if (e.runId !== reader.runId) return;
      const key = e.stepId ?? '';
      switch (e.type) {
        case 'step_started':
          since.set(key, e.ts);
          break;
        case 'step_completed':
          counts.completed++;
          recent.push(Date.now());
          since.delete(key);
          break;
        case 'step_failed':
          counts.failed++;
          since.delete(key);
          notes.push(pc.red(`✗ ${key}: ${e.data.error ?? ''}`));
          break;
        case 'step_skipped':
          counts.skipped++;
          break;
        case 'guardrail_violation':
          notes.push(pc.yellow(`! guardrail ${e.data.guardrail}: ${e.data.message}`));
          break;
        case 'step_retried':
          since.delete(key);
          notes.push(pc.yellow(`↻ ${key}: ${e.data.error}`));
          break;
        case 'attempt_lost':
          since.delete(key);
          notes.push(pc.yellow(`↻ ${key}: attempt ${String(e.data.attempt)} lost with worker ${String(e.data.worker)}`));
          break;
        case 'step_log':
          notes.push(pc.dim(`│ ${key}: ${e.data.compensation ? 'compensation: ' : ''}${e.data.line}`));
          break;
        case 'budget_exceeded':
          notes.push(pc.yellow(`$ ${e.data.label} exceeded${e.data.warn ? ' (warn)' : ''}`));
          break;
        case 'step_cancelled':
          counts.cancelled++;
          since.delete(key);
          break;
        default:
          break;
      }
    },
    stop() {
      clearInterval(timer);
      draw();
    },
  };
}

/** 12345 → "12,345": counts of a 100,000-step run stay readable. */
function n(x: number): string {
  return x.toLocaleString('en-US');
}

export function ms(n: unknown): string {
  const v = Number(n);
  if (!Number.isFinite(v)) return '?';
  if (v < 1000) return `${Math.round(v)}ms`;
  if (v < 60_000) return `${(v / 1000).toFixed(1)}s`;
  return `${Math.floor(v / 60_000)}m${Math.round((v % 60_000) / 1000)}s`;
}

/**
 * The closing summary of a run (text mode). Its cost is money as the rest of Orch writes it
 * (`0.002usd`, `0.50usd`): in `currency`, the plan's (its budget's); bare for a plan without one,
 * as the runtime's budget messages are.
 */
export function summaryLines(r: ExecutionResult, color: boolean, currency?: string, decidedBy: (stepId: string) => 'anyone' | 'people' = () => 'anyone'): string[] {
  const c = color ? pc : { green: (s: string) => s, red: (s: string) => s, yellow: (s: string) => s, bold: (s: string) => s };
  const status =
    r.status === 'completed' ? c.green(r.status) : r.status === 'paused' ? c.yellow(r.status) : c.red(r.status);
  const m = r.metadata;
  const lines = [
    `run ${c.bold(r.runId)} (${r.planId}): ${status} in ${ms(m.totalDuration)} — ${m.completedSteps}/${m.totalSteps} steps completed, ${m.failedSteps} failed, ${m.skippedSteps} skipped${m.cancelledSteps ? `, ${m.cancelledSteps} cancelled` : ''}, cost ${moneyText(m.totalCost, currency)}`,
  ];
  if (r.error) lines.push(`error: ${r.error}`);
  if (r.status === 'paused') {
    const waiting = r.waiting ?? r.steps.filter((s) => s.status === 'running').map((s) => s.stepId);
    // A run bound to people (§9.1) refuses `orch signal`: say where its approval can be decided,
    // and that this stopped run goes on only when resumed (no server takes up a run `orch run` stopped).
    for (const w of waiting)
      lines.push(
        decidedBy(w) === 'people'
          ? `waiting for approval: ${w} is decided by a signed-in person — in the dashboard (orch serve / orch ui) or with their API token: POST ${decisionRoute(r.runId, w)}/approve|reject; then orch resume ${r.runId} continues the run`
          : `waiting for approval: orch signal ${r.runId} ${w} approve|reject`,
      );
  }
  if (r.status === 'completed' && r.output !== null && r.output !== undefined) lines.push(`output: ${JSON.stringify(r.output)}`);
  return lines;
}
