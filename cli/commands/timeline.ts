/** `orch timeline RUN [--json] [--stats] [--format svg|html]`: a run's journal, event by event, with times and durations. */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { moneyText, type PlanIR } from '../../compiler/index.js';
import { eventReason, eventResource, type RunEvent } from '../../runtime/index.js';
import { originNote, renderTimelineFile, type TimelineFileFormat } from '../../serve/index.js';
import { CliError } from '../errors.js';
import { ms } from '../progress.js';
import { DB_HELP, journalOf, withJournal } from '../db-option.js';
import { shownRunEvents, timelineJson } from './run-json.js';

export function registerTimeline(program: Command): void {
  program
    .command('timeline')
    .description('replay the journal of a run: every event with its time and duration')
    .argument('<run>', 'run id')
    .option('--db <path>', DB_HELP)
    .option('--json', 'print the events as JSON')
    .option('--stats', 'print totals: duration, average step duration, event counts')
    .option('--format <format>', 'text (default), or svg / html: the Gantt and step graph as one self-contained file', timelineFormat, 'text')
    .option('-o, --out <file>', 'with --format svg|html: write to this file instead of stdout')
    .addHelpText('after', ['', 'Examples:', '  $ orch timeline hello-20260131-101500-3f9a2c --stats', '  $ orch timeline hello-20260131-101500-3f9a2c --format html -o run.html', '', 'Exit codes: 0 printed, 2 unknown run, no journal or usage error.'].join('\n'))
    .action(async (runId: string, opts: { db?: string; json?: boolean; stats?: boolean; format: 'text' | TimelineFileFormat; out?: string }) => {
      const { row, events, currency } = await withJournal(journalOf(opts.db), shownRunEvents(runId));
      if (opts.format !== 'text') {
        if (!row.ir) throw new CliError(`run ${runId} has no plan recorded in its journal; cannot draw it`, 2);
        const file = renderTimelineFile(
          {
            runId,
            planId: row.plan,
            status: row.status,
            plan: JSON.parse(row.ir) as PlanIR,
            events: events.map((e) => ({ type: e.type, stepId: e.stepId, at: new Date(e.ts).toISOString(), resource: eventResource(e) })),
          },
          opts.format,
        );
        if (opts.out) writeFileSync(opts.out, file);
        else process.stdout.write(file);
        return;
      }
      const stats = timelineStats(events);
      if (opts.json) {
        process.stdout.write(
          `${JSON.stringify({ ...timelineJson(row, events), ...(opts.stats ? { stats } : {}) }, null, 2)}\n`,
        );
        return;
      }
      if (opts.stats) {
        process.stdout.write(`run ${runId} (${row.plan}): ${row.status}\n`);
        process.stdout.write(`total duration      ${ms(stats.totalDuration)}\n`);
        process.stdout.write(`steps finished      ${stats.stepsFinished}\n`);
        process.stdout.write(`avg step duration   ${ms(stats.avgStepDuration)}\n`);
        process.stdout.write(`max step duration   ${ms(stats.maxStepDuration)}\n`);
        process.stdout.write('events\n');
        for (const [type, n] of Object.entries(stats.eventCounts)) process.stdout.write(`  ${type.padEnd(22)}${n}\n`);
        return;
      }
      const t0 = events[0]?.ts ?? 0;
      const started = new Map<string, number>();
      for (const e of events) {
        let dur = '';
        if (e.type === 'step_started' && e.stepId) started.set(e.stepId, e.ts);
        if ((e.type === 'step_completed' || e.type === 'step_failed' || e.type === 'step_cancelled') && e.stepId && started.has(e.stepId))
          dur = ` (${ms(e.ts - started.get(e.stepId)!)})`;
        const detail = describeEvent(e, currency);
        process.stdout.write(
          `+${ms(e.ts - t0).padStart(7)}  #${String(e.seq).padEnd(4)} ${e.type.padEnd(20)} ${e.stepId ?? ''}${dur}${detail ? `  ${detail}` : ''}\n`,
        );
      }
    });
}

function timelineFormat(value: string): 'text' | TimelineFileFormat {
  if (value === 'text' || value === 'svg' || value === 'html') return value;
  throw new InvalidArgumentError('must be text, svg or html');
}

/** `currency`: the run's (runCurrencies), in which its amounts are written. */
function describeEvent(e: RunEvent, currency: string | undefined): string {
  switch (e.type) {
    case 'plan_created':
      // §9.1: who started it, and the run it came from.
      return [e.data.ir_hash ? `version ${e.data.ir_hash.slice(0, 12)}` : null, originNote(e.data) || null].filter((x) => x !== null).join(' · ');
    case 'step_started':
      return `attempt ${e.data.attempt}${e.data.resource ? ` on ${e.data.resource}` : ''}`;
    case 'attempt_lost':
      return `attempt ${e.data.attempt} lost: ${e.data.reason ?? `worker ${e.data.worker} died`}`;
    case 'guardrail_violation':
      return `${e.data.guardrail} (${e.data.severity}): ${e.data.message}`;
    case 'execution_interrupted':
      return e.data.stopped ? 'stopped (orch resume continues it)' : (e.data.reason ?? '');
    case 'compensation_started':
      return `calls ${e.data.capability}`;
    case 'step_compensated':
      return e.data.ok ? 'ok' : (e.data.error ?? 'failed');
    case 'step_log':
      return `${e.data.compensation ? 'compensation: ' : ''}${e.data.line}`;
    case 'budget_exceeded':
      return `${e.data.label}${e.data.warn ? ' (warn: the run went on)' : ''}`;
    case 'budget_overrun':
      return `attempt ${e.data.attempt} cost ${moneyText(e.data.actual, currency)}, reserved ${moneyText(e.data.reserved, currency)}`;
    case 'consent_denied':
      return `missing ${e.data.missing.join(', ')}`;
    case 'plan_upgraded':
      return `${e.data.from_hash} → ${e.data.to_hash} (${e.data.changes.length} change${e.data.changes.length === 1 ? '' : 's'})`;
    case 'race_won':
      return `won by ${e.data.winner}`;
    case 'loop_iteration':
      return `iteration ${e.data.index}`;
    case 'step_rebound':
      return `${e.data.from} → ${e.data.to}: ${e.data.reason}`;
    case 'endorsed':
      return `endorsed: ${e.data.reason}`;
    case 'declassified':
      return `to ${e.data.to}: ${e.data.reason}`;
    case 'step_adopted':
      return e.data.given ? `output given by orch fork --output (run ${e.data.from_run})` : `adopted from ${e.data.from_run}`;
    case 'approval_decided':
      // §8.8: the authenticated person, never a typed name; how many of the needed approvals are in.
      return `${e.data.decision} by ${e.data.by.subject} (${e.data.by.name}, ${e.data.by.method}, ${e.data.by.issuer}) · ${e.data.approved} of ${e.data.needed}${e.data.comment ? `: ${e.data.comment}` : ''}`;
    default:
      return eventReason(e) ?? '';
  }
}

export function timelineStats(events: readonly RunEvent[]) {
  const counts: Record<string, number> = {};
  const started = new Map<string, number>();
  const durations: number[] = [];
  for (const e of events) {
    counts[e.type] = (counts[e.type] ?? 0) + 1;
    if (e.type === 'step_started' && e.stepId && !started.has(e.stepId)) started.set(e.stepId, e.ts);
    if ((e.type === 'step_completed' || e.type === 'step_failed') && e.stepId && started.has(e.stepId))
      durations.push(e.ts - started.get(e.stepId)!);
  }
  const total = events.length ? events[events.length - 1]!.ts - events[0]!.ts : 0;
  return {
    totalDuration: total,
    stepsFinished: durations.length,
    avgStepDuration: durations.length ? durations.reduce((a, b) => a + b, 0) / durations.length : 0,
    maxStepDuration: durations.length ? Math.max(...durations) : 0,
    eventCounts: counts,
  };
}
