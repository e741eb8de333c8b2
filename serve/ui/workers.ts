/**
 * A cluster's workers as the dashboard shows them (issue #49): `GET /workers` is `orch workers`
 * — an unreachable one (alive, but its heartbeat missed more than two beats) is flagged, with the
 * attempts it holds. Its steps stay its own until its lease lapses (or it gives them back), so
 * the run page marks them; an attempt it gave back is journaled `attempt_lost` with the reason.
 */
import { get, type TimelineEvent } from './api.js';
import { baseStep } from '../render/model.js';
import { h } from './dom.js';

export interface WorkerInfo {
  readonly id: string;
  readonly host: string;
  readonly state: string;
  readonly unreachable: boolean;
  readonly heartbeatAgeMs: number;
  readonly slots: number;
  readonly running: number;
  readonly resources: readonly string[];
  readonly holding: readonly { readonly run: string; readonly step: string; readonly attempt: number }[];
}

/** The cluster's live workers; null where the server has none (SQLite) or cannot say. */
export async function loadWorkers(): Promise<readonly WorkerInfo[] | null> {
  const r = await get<{ cluster: boolean; workers: WorkerInfo[] }>('/workers').catch(() => null);
  return r?.cluster ? r.workers : null;
}

/** The steps of `runId` held by an unreachable worker: step (its base id) → that worker's id. */
export function heldByUnreachable(workers: readonly WorkerInfo[] | null, runId: string): Map<string, string> {
  const held = new Map<string, string>();
  for (const w of workers ?? []) if (w.unreachable) for (const a of w.holding) if (a.run === runId) held.set(baseStep(a.step), w.id);
  return held;
}

/** An `attempt_lost` its worker gave back itself, cut off from the database (its reason says so). */
export const givenBack = (e: TimelineEvent): boolean => e.type === 'attempt_lost' && typeof e.reason === 'string' && e.reason.startsWith('given back');

/** The badge of an event `givenBack`: that run of the handler is an attempt of its own, run again as the next. */
export const givenBackBadge = (e: TimelineEvent): HTMLElement | null => (givenBack(e) ? h('span', { class: 'badge given-back' }, 'given back') : null);

/**
 * Marks the run's steps held by an unreachable worker in `dag` and names them in the note it
 * returns. A cluster's workers change without a journal event, so they are read again every 2 s
 * while `going()` and the graph is shown.
 */
export function heldNote(dag: Element, runId: string, workers: readonly WorkerInfo[] | null, going: () => boolean): HTMLElement {
  const note = h('p', { class: 'held-note', role: 'status' });
  const mark = (held: Map<string, string>): void => {
    for (const n of dag.querySelectorAll('.node')) n.classList.toggle('unreachable', held.has(n.getAttribute('data-step') ?? ''));
    note.replaceChildren(
      ...[...held].map(([step, worker]) =>
        h('span', { 'data-held': step }, `Step ${step} is held by worker ${worker}, which is unreachable: it runs again elsewhere once that worker's lease lapses, or once the worker gives it back. `),
      ),
    );
  };
  mark(heldByUnreachable(workers, runId));
  if (workers === null || !going()) return note;
  const poll = window.setInterval(() => {
    if (dag.isConnected && going()) return void loadWorkers().then((w) => mark(heldByUnreachable(w, runId)));
    window.clearInterval(poll);
    mark(new Map());
  }, 2000);
  return note;
}

/** The worker's state as `orch workers` prints it. */
export const workerState = (w: WorkerInfo): string => `${w.state}${w.unreachable ? ' (unreachable)' : ''}`;

/** The workers table of the resources page. */
export function workersTable(workers: readonly WorkerInfo[]): HTMLElement {
  if (workers.length === 0) return h('p', { class: 'muted' }, 'No worker is registered.');
  return h(
    'table',
    { class: 'workers' },
    h('thead', {}, h('tr', {}, ...['Worker', 'State', 'Heartbeat', 'Slots in use', 'Holds'].map((c) => h('th', {}, c)))),
    h(
      'tbody',
      {},
      ...workers.map((w) =>
        h(
          'tr',
          { 'data-worker': w.id, class: w.unreachable ? 'unreachable' : '' },
          h('td', {}, w.id),
          h('td', { class: 'worker-state' }, workerState(w)),
          h('td', {}, `${(w.heartbeatAgeMs / 1000).toFixed(1)} s ago`),
          h('td', {}, `${w.running} / ${w.slots}`),
          h('td', {}, ...w.holding.map((a) => h('a', { href: `#/runs/${encodeURIComponent(a.run)}`, class: 'held' }, `${a.run} ${a.step}#${a.attempt}`))),
        ),
      ),
    ),
  );
}
