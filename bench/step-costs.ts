/**
 * What each part of the runtime costs a step on the scheduler's thread, for a plan that uses none
 * of the optional features: one journal-on run of the runtime bench's DAG with V8's sampling
 * profiler on that thread, each sample's time given to the feature whose code was running
 * (by its source file, `FEATURES`). Abort signals, live logs, telemetry, budgets, people and
 * model checks, tool checks, redaction and the plan's version are all work a no-op step should
 * not pay for when its plan does not use them; the scheduler, the journal and the worker pool
 * are the step path itself.
 *
 * Samples are time, so the µs figures move with the box's load like any time; the shares do much
 * less. Work a feature does inline in the scheduler's own functions (a field set, an object
 * spread) is counted as the scheduler's. A feature that lands gets its row here (§9.3's labels,
 * when they do).
 */
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';

/** A feature and how its code is told apart: the path of its compiled file (under dist/). */
const FEATURES: readonly (readonly [string, RegExp])[] = [
  ['abort signals', /\/runtime\/executor\/(abort-channel|attempt-signal)\.js$/],
  ['live logs', /\/runtime\/executor\/(live-logs|output-capture)\.js$/],
  ['telemetry', /\/runtime\/telemetry\//],
  ['budgets', /\/runtime\/(scheduler\/core\/budget|spend)\.js$/],
  ['people and approvals', /\/runtime\/people\//],
  ['models', /\/runtime\/models\//],
  ['tools and channels', /\/runtime\/(mcp|channels)\/|\/runtime\/executor\/edge\.js$/],
  ['plan version (IR hash)', /\/compiler\/ir\/hash\.js$/],
  ['redaction', /\/runtime\/(redact|redacting-journal|config)\.js$/],
  ['limits', /\/runtime\/limits\/|\/runtime\/scheduler\/core\/limits\.js$/],
  ['journal', /\/runtime\/journal\/|\/runtime\/scheduler\/(commit-queue|commit-hooks|journal-events)\.js$|better-sqlite3|node:sqlite/],
  ['scheduler', /\/runtime\/scheduler\/|\/runtime\/(evaluate|placed-steps)\.js$|\/compiler\//],
  ['executor (main-thread side)', /\/runtime\/executor\//],
  ['worker pool (piscina)', /\/node_modules\/piscina\//],
];

export interface StepCost {
  readonly feature: string;
  /** Main-thread time per step, µs. */
  readonly us: number;
  /** Of all the main thread's sampled time, %. */
  readonly share: number;
}

/** Runs `work` (which executes `steps` steps) with the profiler on and splits the thread's time by feature. */
export async function stepCosts(steps: number, work: () => Promise<void>): Promise<readonly StepCost[]> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  const stop = async () => (await session.post('Profiler.stop')).profile;
  let profile: Awaited<ReturnType<typeof stop>>;
  try {
    await work();
  } finally {
    profile = await stop();
    session.disconnect();
  }
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const us = new Map<string, number>();
  let all = 0;
  for (let i = 0; i < profile.samples!.length; i++) {
    const dt = profile.timeDeltas![i] ?? 0;
    // A native function (SQLite's, a message port's) is the work of the code that called it.
    let id: number | undefined = profile.samples![i]!;
    while (id !== undefined && isNative(byNode.get(id)!.callFrame)) id = parent.get(id);
    const feature = id === undefined ? 'other (Node, V8, the bench)' : featureOf(byNode.get(id)!.callFrame);
    if (feature === null) continue; // idle: the thread waited
    us.set(feature, (us.get(feature) ?? 0) + dt);
    all += dt;
  }
  const rows = [...FEATURES.map(([f]) => f), 'garbage collector', 'other (Node, V8, the bench)'];
  return rows.map((feature) => ({ feature, us: (us.get(feature) ?? 0) / steps, share: all > 0 ? ((us.get(feature) ?? 0) / all) * 100 : 0 }));
}

/** A frame of no script: a native function called from JS, not one of V8's own pseudo-frames ("(idle)", "(program)", …). */
function isNative(frame: { readonly functionName: string; readonly url: string }): boolean {
  return frame.url === '' && !frame.functionName.startsWith('(');
}

function featureOf(frame: { readonly functionName: string; readonly url: string }): string | null {
  if (frame.functionName === '(idle)') return null;
  if (frame.functionName === '(garbage collector)') return 'garbage collector';
  if (frame.url === '') return 'other (Node, V8, the bench)';
  const url = frame.url.startsWith('file:') ? fileURLToPath(frame.url) : frame.url;
  for (const [feature, pattern] of FEATURES) if (pattern.test(url)) return feature;
  return 'other (Node, V8, the bench)';
}
