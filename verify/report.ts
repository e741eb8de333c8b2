/** Human-readable rendering of `VerifyResult`s (`orch verify`'s text format). */
import { DEFAULT_RUNS, type Counterexample, type VerifyResult } from './verify.js';
import type { TraceEvent } from './trace.js';
import { moneyText } from '../compiler/index.js';

export interface TextStyle {
  readonly bold: (s: string) => string;
  readonly red: (s: string) => string;
  readonly green: (s: string) => string;
  readonly dim: (s: string) => string;
}

export const PLAIN: TextStyle = { bold: (s) => s, red: (s) => s, green: (s) => s, dim: (s) => s };

/**
 * One word of a command line the user copies into a POSIX shell: as written when it is plain,
 * else single-quoted (built-in invariant names, a user's `"never send without approval"`, a
 * path with a space would otherwise split into several arguments).
 */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** What shapes a search's cases, as `orch verify` takes it on its command line. */
export interface SearchShape {
  readonly runs?: number;
  readonly failures?: boolean;
  /** A fraction (0.25 is `--fail-rate 25%`). */
  readonly failRate?: number;
  readonly maxList?: number;
  readonly cancels?: boolean;
  readonly concurrentRuns?: number;
  readonly against?: string;
}

/**
 * The flags a replay line repeats so that its `--seed` finds the same case: every option that
 * shapes the cases (a case found past the default number of runs is found again only with as
 * many), in `orch verify`'s words, each with its leading space. The CLI and the MCP tool print it.
 */
export function replayFlags(shape: SearchShape): string {
  return [
    shape.runs !== undefined && shape.runs !== DEFAULT_RUNS ? ` --runs ${shape.runs}` : '',
    shape.failures === false ? ' --no-failures' : '',
    shape.failRate !== undefined ? ` --fail-rate ${Number((shape.failRate * 100).toFixed(6))}%` : '',
    shape.maxList !== undefined ? ` --max-list ${shape.maxList}` : '',
    shape.cancels ? ' --cancels' : '',
    shape.concurrentRuns !== undefined ? ` --concurrent-runs ${shape.concurrentRuns}` : '',
    shape.against !== undefined ? ` --against ${shellWord(shape.against)}` : '',
  ].join('');
}

/** `replay` is the command line prefix to replay with (`orch verify FILE --plan P`), its words quoted with `shellWord`. */
export function formatResult(result: VerifyResult, replay: string, style: TextStyle = PLAIN): string {
  const lines: string[] = [];
  lines.push(style.bold(`verify ${result.plan}`) + style.dim(` (${result.file}, seed ${result.seed})`));
  for (const v of result.violations) {
    lines.push('', ...formatCounterexample(v, replay, style));
  }
  const holding = result.invariants.filter((i) => i.status === 'holds');
  if (holding.length > 0) {
    lines.push('');
    for (const inv of holding) lines.push(`  ${style.green('✓')} ${inv.builtin ? inv.name : `${inv.modality} "${inv.name}"`}`);
  }
  const u = result.upgrades;
  if (u) {
    lines.push(
      '',
      `  upgrades: ${u.upgraded} run${u.upgraded === 1 ? '' : 's'} upgraded from ${u.against} (${u.from_hash.slice(0, 12)}) to ${result.file} (${u.to_hash.slice(0, 12)}); ` +
        `${u.refused} upgrade point${u.refused === 1 ? '' : 's'} refused as incompatible` +
        (u.ended ? `; ${u.ended} run${u.ended === 1 ? '' : 's'} of the old version ended before any point` : ''),
      ...u.reasons.slice(0, 5).map((r) => style.dim(`    refused ${r.count}×: ${r.step === null ? '' : `${r.step} `}${r.reason}`)),
    );
  }
  lines.push(
    '',
    `${result.ok ? style.green('ok') : style.red('FAILED')}: ${result.runs} run${result.runs === 1 ? '' : 's'} explored, ` +
      `${result.paths} distinct path${result.paths === 1 ? '' : 's'}, ${result.outcomes} step outcomes covered; ` +
      (result.concurrentRuns > 1 ? `${result.concurrentRuns} runs at once (${result.slotWaits} waits for a shared resource slot); ` : '') +
      `${result.violations.length} of ${result.invariants.length} invariants violated`,
  );
  return lines.join('\n');
}

function formatCounterexample(v: Counterexample, replay: string, style: TextStyle): string[] {
  const where = v.range ? ` at ${v.file}:${v.range.start.line}:${v.range.start.column}` : '';
  const lines = [
    `${style.red('✗')} ${style.bold(v.builtin ? `built-in invariant "${v.invariant}"` : `invariant "${v.invariant}"`)} violated${where}`,
    `  ${v.message}`,
    ...(v.upgrade ? [upgradeLine(v)] : []),
    ...(v.run !== undefined ? [`  in run ${v.run} of the concurrent runs (its scenario below; the others' steps show in the message)`] : []),
    style.dim(`  minimal counterexample after ${v.shrinks} shrink${v.shrinks === 1 ? '' : 's'}:`),
    `  input:   ${compact(v.input)}`,
  ];
  if (Object.keys(v.context).length > 0) lines.push(`  context: ${compact(v.context)}`);
  for (const c of v.contextChanges) lines.push(`  context change at ${ms(c.at_ms)}: ${c.signal} = ${compact(c.value)}`);
  for (const s of v.stale) lines.push(`  stale from ${ms(s.at_ms)}: context.${s.signal} (its source fell silent: unknown to the run)`);
  lines.push(
    v.choices.length === 0
      ? '  outcomes: every step succeeded'
      : `  outcomes: ${v.choices.map((c) => `${c.step}${c.item === null ? '' : `[${c.item}]`} attempt ${c.attempt} ${c.outcome === 'fail' ? 'fails' : c.outcome === 'hang' ? 'hangs' : 'rejected'}`).join(', ')}; everything else succeeds`,
  );
  for (const c of v.cancels) lines.push(`  cancel at ${ms(c.at_ms)}: step ${c.step} (orch cancel RUN --step ${c.step})`);
  lines.push('  trace:');
  const width = Math.max(4, ...v.trace.map((e) => ms(e.at_ms).length));
  for (const e of v.trace) if (!QUIET.has(e.type)) lines.push(`    ${ms(e.at_ms).padStart(width)}  ${describe(e)}`);
  const s = v.state;
  const statuses = Object.entries(s.steps)
    .filter(([, st]) => st !== 'pending')
    .map(([id, st]) => `${id} ${st}`);
  lines.push(
    `  state that broke it (at ${ms(s.at_ms)}): run ${s.run.status}, cost ${moneyText(s.run.cost)}` +
      (s.running.length ? `, running ${s.running.join(', ')}` : ''),
    `    ${statuses.length ? statuses.join(', ') : 'no step started'}`,
    ...(s.values && Object.keys(s.values).length
      ? [`    ${Object.entries(s.values).map(([k, val]) => `${k} = ${compact(val)}`).join(', ')}`]
      : []),
    `  replay: ${replay} --seed ${v.seed}` + style.dim(`   (this case only: --path ${v.path} --invariant ${shellWord(v.invariant)})`),
  );
  return lines;
}

/** Where the counterexample's run moved to the new version (`orch verify NEW --against OLD`). */
function upgradeLine(v: Counterexample): string {
  const u = v.upgrade!;
  const before = [...v.trace.slice(0, u.event)].reverse().find((e) => !QUIET.has(e.type));
  const said = before ? describe(before).replace(/\s+/g, ' ') : null;
  const list = (xs: readonly string[]) => (xs.length ? xs.join(', ') : 'none');
  return (
    `  upgraded to the new version after event ${u.event}${said ? ` (${said})` : ' (before any)'} at ${ms(u.at_ms)}, ` +
    `${u.turns} turn${u.turns === 1 ? '' : 's'} into the old version; completed: ${list(u.completed)}; in flight: ${list(u.running)}`
  );
}

/** Bookkeeping events left out of the printed trace (they stay in the JSON). */
const QUIET = new Set(['plan_created', 'step_queued']);

const VERB: { readonly [type: string]: string } = {
  execution_started: 'run started',
  execution_completed: 'run completed',
  execution_failed: 'run failed',
  execution_cancelled: 'run cancelled',
  step_queued: 'queued',
  step_started: 'started',
  step_completed: 'completed',
  step_failed: 'failed',
  step_retried: 'retry scheduled',
  step_skipped: 'skipped',
  step_compensated: 'compensated',
  guardrail_violation: 'guardrail violated',
  context_updated: 'context changed',
  step_cancelled: 'cancelled',
  plan_upgraded: 'upgraded to the new version',
};

function describe(e: TraceEvent): string {
  const who = e.step === null ? '' : `${e.step}${e.item === null ? '' : `[${e.item}]`}  `;
  const verb = VERB[e.type] ?? e.type;
  const extras: string[] = [];
  if (e.type === 'step_started' && e.attempt !== null) extras.push(`attempt ${e.attempt}`);
  if (e.type === 'step_started' && e.resource) extras.push(`on ${e.resource}`);
  if (e.detail) extras.push(e.detail);
  return `${who}${verb}${extras.length ? ` (${extras.join(', ')})` : ''}`;
}

export function ms(n: number): string {
  if (n >= 60_000 && n % 1000 === 0) return `${n / 1000}s`;
  return `${n}ms`;
}

function compact(v: unknown): string {
  const s = JSON.stringify(v) ?? 'null';
  return s.length > 300 ? `${s.slice(0, 297)}…` : s;
}
