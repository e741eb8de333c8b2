/**
 * What `orch run` / `orch resume` print while a run executes: in a TTY a live block (one line per
 * running step, counts, elapsed) redrawn in place; otherwise one plain line per step event.
 */
import pc from 'picocolors';
import type { RunEvent, RunReader } from '../scheduler/types.js';
import type { ExecutionResult } from '../scheduler/types.js';

export interface Progress {
  onEvent(event: RunEvent, run: RunReader): void;
  stop(): void;
}

const PLAIN: Partial<Record<RunEvent['type'], (e: RunEvent) => string>> = {
  step_started: (e) => `started   ${e.stepId}${Number(e.data.attempt) > 1 ? ` (attempt ${String(e.data.attempt)})` : ''}${e.data.resource ? ` on ${String(e.data.resource)}` : ''}`,
  step_completed: (e) => `completed ${e.stepId}${typeof e.data.duration === 'number' ? ` in ${ms(e.data.duration)}` : ''}`,
  step_failed: (e) => `${String(e.data.status ?? 'failed').padEnd(9)} ${e.stepId}: ${String(e.data.error ?? '')}`,
  step_retried: (e) => `retrying  ${e.stepId}: ${String(e.data.error ?? '')}${e.data.rebind ? ` (rebinding to ${String(e.data.rebind)})` : ''}${e.data.fallback ? ` (fallback ${String(e.data.fallback)})` : ''}`,
  step_skipped: (e) => `skipped   ${e.stepId}${e.data.reason ? ` (${String(e.data.reason)})` : ''}`,
  step_compensated: (e) => `compensated ${e.stepId}${e.data.ok ? '' : `: ${String(e.data.error ?? 'failed')}`}`,
  guardrail_violation: (e) => `guardrail ${String(e.data.guardrail)} (${String(e.data.severity)}): ${String(e.data.message)}`,
  execution_paused: (e) => `paused${e.data.reason ? `: ${String(e.data.reason)}` : ''}`,
  execution_resumed: () => 'resumed',
};

export function createProgress(stream: NodeJS.WriteStream, live: boolean): Progress {
  if (!live) {
    return {
      onEvent(e) {
        const f = PLAIN[e.type];
        // Events of sub-plan runs are shown with their run-relative prefix.
        if (f) stream.write(`${f(e)}\n`);
      },
      stop() {},
    };
  }
  let reader: RunReader | null = null;
  let started = Date.now();
  let lines = 0;
  const counts = { completed: 0, failed: 0, skipped: 0 };
  const notes: string[] = [];
  const draw = () => {
    if (!reader) return;
    const running = reader.running();
    const out: string[] = [];
    for (const n of notes.splice(0)) out.push(n);
    const block = [
      ...running.slice(0, 12).map((id) => `  ${pc.cyan('●')} ${id}`),
      ...(running.length > 12 ? [`  … ${running.length - 12} more running`] : []),
      `  ${pc.green(`${counts.completed} completed`)} · ${pc.red(`${counts.failed} failed`)} · ${counts.skipped} skipped · ${running.length} running · ${ms(Date.now() - started)}`,
    ];
    let text = lines > 0 ? `\x1b[${lines}A\x1b[0J` : '';
    text += out.map((l) => `${l}\n`).join('');
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
      }
      if (e.runId !== reader.runId) return;
      if (e.type === 'step_completed') counts.completed++;
      else if (e.type === 'step_failed') {
        counts.failed++;
        notes.push(pc.red(`✗ ${e.stepId}: ${String(e.data.error ?? '')}`));
      } else if (e.type === 'step_skipped') counts.skipped++;
      else if (e.type === 'guardrail_violation') notes.push(pc.yellow(`! guardrail ${String(e.data.guardrail)}: ${String(e.data.message)}`));
      else if (e.type === 'step_retried') notes.push(pc.yellow(`↻ ${e.stepId}: ${String(e.data.error ?? '')}`));
    },
    stop() {
      clearInterval(timer);
      draw();
    },
  };
}

export function ms(n: unknown): string {
  const v = Number(n);
  if (!Number.isFinite(v)) return '?';
  if (v < 1000) return `${Math.round(v)}ms`;
  if (v < 60_000) return `${(v / 1000).toFixed(1)}s`;
  return `${Math.floor(v / 60_000)}m${Math.round((v % 60_000) / 1000)}s`;
}

/** The closing summary of a run (text mode). */
export function summaryLines(r: ExecutionResult, color: boolean): string[] {
  const c = color ? pc : { green: (s: string) => s, red: (s: string) => s, yellow: (s: string) => s, bold: (s: string) => s };
  const status =
    r.status === 'completed' ? c.green(r.status) : r.status === 'paused' ? c.yellow(r.status) : c.red(r.status);
  const m = r.metadata;
  const lines = [
    `run ${c.bold(r.runId)} (${r.planId}): ${status} in ${ms(m.totalDuration)} — ${m.completedSteps}/${m.totalSteps} steps completed, ${m.failedSteps} failed, ${m.skippedSteps} skipped, cost ${m.totalCost}`,
  ];
  if (r.error) lines.push(`error: ${r.error}`);
  if (r.status === 'paused') {
    const waiting = r.steps.filter((s) => s.status === 'running').map((s) => s.stepId);
    for (const w of waiting) lines.push(`waiting for approval: orch signal ${r.runId} ${w} approve|reject`);
  }
  if (r.status === 'completed' && r.output !== null && r.output !== undefined) lines.push(`output: ${JSON.stringify(r.output)}`);
  return lines;
}
