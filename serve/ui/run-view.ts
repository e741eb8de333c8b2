/**
 * One run: controls, its DAG (recoloured live), a Gantt of its steps, the event stream with each
 * step's lines, and its input, outputs and errors (as the server sends them: redacted).
 */
import { dagSvg } from '../render/dag-svg.js';
import { ganttSvg, PHASES } from '../render/gantt-svg.js';
import { baseStep, pictureSteps, runStatusAfter, statusAfter, statusesFrom, type PictureStep } from '../render/model.js';
import { get, post, type PlanStep, type RunView, type StepView, type TimelineEvent } from './api.js';
import { h, json, statusBadge, svgNode, when } from './dom.js';
import { zoomable } from './zoom.js';
import { starterLabel } from '../render/starter-label.js';
import { canOperate } from './roles.js';
import { givenBack, givenBackBadge, heldNote, loadWorkers } from './workers.js';

const TERMINAL = new Set(['completed', 'failed', 'cancelled', 'timeout']);
const MAX_LINES = 500;

export interface RunPage {
  readonly runId: string;
  /** A live event of this run. */
  onEvent(e: TimelineEvent): void;
}

export async function runView(root: HTMLElement, runId: string, stepCancel: boolean): Promise<RunPage> {
  const id = encodeURIComponent(runId);
  // The timeline is read after the view, so it is at least as new: where the two differ (the run
  // moved on between the reads), its events win. Their live copies are then dropped as already
  // seen, so a status taken from the older view would never be corrected.
  const view = await get<RunView>(`/runs/${id}`);
  const [source, timeline, traced, workers] = await Promise.all([
    get<{ plan: { steps: PlanStep[] }; input: unknown }>(`/runs/${id}/plan`),
    get<{ events: TimelineEvent[] }>(`/runs/${id}/timeline`),
    // A server without the route (older) or a run without a trace: no link.
    get<{ traceId: string | null; url: string | null }>(`/runs/${id}/trace`).catch(() => null),
    // On a cluster: which of its steps an unreachable worker holds (null elsewhere).
    loadWorkers(),
  ]);
  const steps: PictureStep[] = pictureSteps(source.plan);
  const events: TimelineEvent[] = [...timeline.events];
  const seen = new Set(events.map((e) => e.seq));
  let runStatus = events.reduce((status, e) => runStatusAfter(e.type) ?? status, view.status);
  let selected: string | null = null;

  const statusEl = h('span', { class: 'run-status' }, statusBadge(runStatus));
  const message = h('p', { class: 'flash', role: 'status' });
  const act = action(id, message);
  const controls = runControls(id, message, act);
  const refreshControls = () => {
    // Retry is for a run that ended without completing; the others for a run still going.
    const retryable = runStatus === 'failed' || runStatus === 'timeout' || runStatus === 'cancelled';
    for (const b of controls.querySelectorAll('button')) b.disabled = b.dataset.action === 'retry' ? !retryable : TERMINAL.has(runStatus);
  };
  refreshControls();
  const upgradeNote = h('div', { class: 'upgrade-note' });
  if (!TERMINAL.has(runStatus)) void offerUpgrade(id, upgradeNote, message);

  const { frame: dagFrame, dag, fromEvents, paintSteps } = stepGraph(steps, events, (step) => select(step));
  paintSteps(view, TERMINAL.has(view.status));
  const held = heldNote(dag, runId, workers, () => !TERMINAL.has(runStatus));

  // Gantt
  const ganttFrame = h('div', { class: 'gantt-frame' });
  const drawGantt = () => {
    const now = TERMINAL.has(runStatus) && events.length ? Date.parse(events[events.length - 1]!.at) : Date.now();
    ganttFrame.replaceChildren(svgNode(ganttSvg(steps, events, now)));
  };
  drawGantt();

  // Events and details
  const eventList = h('ol', { class: 'events', 'aria-live': 'polite' });
  const stepDetail = h('div', { class: 'step-detail' });
  const drawEvents = () => {
    const shown = selected ? events.filter((e) => e.stepId && baseStep(e.stepId) === selected) : events;
    eventList.replaceChildren(...shown.slice(-MAX_LINES).map(eventItem));
  };
  const select = (step: string | null) => {
    selected = step;
    for (const n of dag.querySelectorAll('.node')) n.classList.toggle('selected', n.getAttribute('data-step') === step);
    drawEvents();
    void get<RunView>(`/runs/${id}`).then((v) => {
      const s = v.steps.find((x) => x.stepId === step);
      const buttons = h('div', { class: 'controls' });
      if (s && step && stepCancel && canOperate() && !TERMINAL.has(s.status)) {
        buttons.append(h('button', { type: 'button', class: 'danger', 'data-action': 'cancel-step', onclick: act('cancel step', `/runs/${id}/steps/${encodeURIComponent(step)}/cancel`) }, `Cancel step ${step}`));
      }
      stepDetail.replaceChildren(...stepDetailContent(s, buttons));
    });
  };
  drawEvents();

  const io = ioPanel(source.input, view);

  root.replaceChildren(
    h('p', {}, h('a', { href: '#/' }, '← All runs')),
    runHeading(view, runId, statusEl, traced),
    h('p', { class: 'muted' }, `started ${when(view.startedAt)}`, startedByNote(view), versionNote(events)),
    controls,
    upgradeNote,
    message,
    held,
    h('section', { class: 'card' }, h('h3', {}, 'Steps ', h('small', { class: 'muted' }, `${steps.length} · scroll or +/− to zoom, drag to pan, 0 to fit`)), dagFrame),
    h('details', { class: 'card', open: true, id: 'gantt' }, h('summary', {}, 'Timeline (Gantt)'), legend(), ganttFrame),
    h('div', { class: 'split' }, h('section', { class: 'card' }, h('h3', {}, 'Events'), eventList), h('section', { class: 'card' }, stepDetail)),
    h('section', { class: 'card' }, io),
  );
  const setRunStatus = (next: string) => {
    runStatus = next;
    statusEl.replaceChildren(statusBadge(runStatus));
    refreshControls();
    if (TERMINAL.has(runStatus)) void get<RunView>(`/runs/${id}`).then((v) => {
      io.querySelector('.run-output')!.textContent = json(v.output);
      io.querySelector('.run-error')!.textContent = v.error ? json(v.error) : '—';
    });
  };
  // The view was read before the run ended: its output is not there yet.
  if (TERMINAL.has(runStatus) && !TERMINAL.has(view.status)) setRunStatus(runStatus);
  const z = zoomable(dagFrame, dag);
  void z;
  select(null);

  let ganttTimer: number | undefined;
  return {
    runId,
    onEvent(e) {
      if (seen.has(e.seq)) return;
      seen.add(e.seq);
      events.push(e);
      if (e.stepId) {
        const step = baseStep(e.stepId);
        const prev = dag.querySelector(`.node[data-step="${CSS.escape(step)}"]`)?.getAttribute('data-status') ?? undefined;
        let next = statusAfter(e.type, prev);
        if (next === 'running' && steps.find((s) => s.id === step)?.waits) next = 'waiting';
        if (next) setStatus(dag, step, next);
      }
      const next = runStatusAfter(e.type);
      if (next) setRunStatus(next);
      // Ended: the steps as the run's result has them (the server answers once its journal says so).
      if (next && TERMINAL.has(next))
        void get<RunView>(`/runs/${id}`)
          .then((v) => {
            for (const [step, status] of statusesFrom(events)) fromEvents.set(step, status);
            if (TERMINAL.has(v.status)) paintSteps(v, true);
          })
          .catch(() => undefined);
      if (!selected || (e.stepId && baseStep(e.stepId) === selected)) {
        eventList.append(eventItem(e));
        // The list keeps the latest lines; the journal (and GET /runs/ID/timeline) keeps them all.
        while (eventList.childElementCount > MAX_LINES) eventList.firstElementChild!.remove();
      }
      ganttTimer ??= window.setTimeout(() => {
        ganttTimer = undefined;
        drawGantt();
      }, 250);
    },
  };
}

/** The run's DAG, coloured from its events; a click or Enter on a step selects it. */
function stepGraph(steps: readonly PictureStep[], events: readonly TimelineEvent[], select: (step: string | null) => void) {
  const frame = h('div', { class: 'dag-frame', tabindex: 0, 'aria-label': 'step graph: +/− zoom, arrows pan, 0 fits' });
  const fromEvents = statusesFrom(events);
  const dag = svgNode(dagSvg(steps, fromEvents)) as SVGSVGElement;
  /**
   * A run that ended: each step as its result has it (a `for each` or `repeat` step over all its
   * instances, not its latest event). Still going: its latest event, the view where it has none.
   */
  const paintSteps = (v: RunView, ended: boolean) => {
    for (const s of v.steps) {
      const latest = fromEvents.get(s.stepId);
      const status = ended ? (latest === 'compensated' ? latest : s.status) : (latest ?? s.status);
      setStatus(dag, s.stepId, status === 'running' && steps.find((p) => p.id === s.stepId)?.waits ? 'waiting' : status);
    }
  };
  frame.append(dag);
  dag.addEventListener('click', (e) => {
    const node = (e.target as Element).closest('.node');
    if (node) select(node.getAttribute('data-step'));
  });
  dag.addEventListener('keydown', (e) => {
    const node = (e.target as Element).closest('.node');
    if (node && (e.key === 'Enter' || e.key === ' ')) {
      e.preventDefault();
      select(node.getAttribute('data-step'));
    }
  });
  return { frame, dag, fromEvents, paintSteps };
}

/** An operator's control of the run (POST `path`), its outcome said in `message`. */
function action(id: string, message: HTMLElement) {
  return (verb: string, path = `/runs/${id}/${verb}`, body?: unknown) => async () => {
    message.textContent = '';
    try {
      await post(path, body);
      message.textContent = `${verb}: sent`;
    } catch (err) {
      message.textContent = `${verb}: ${(err as Error).message}`;
    }
  };
}

/** Pause, resume, cancel and retry (a retry opens the new run's page); shown to operators only. */
function runControls(id: string, message: HTMLElement, act: ReturnType<typeof action>): HTMLElement {
  return h(
    'div',
    { class: 'controls', hidden: !canOperate() },
    h('button', { type: 'button', 'data-action': 'pause', onclick: act('pause') }, 'Pause'),
    h('button', { type: 'button', 'data-action': 'resume', onclick: act('resume'), title: 'resume a paused or interrupted run from its journal' }, 'Resume'),
    h('button', { type: 'button', class: 'danger', 'data-action': 'cancel', onclick: act('cancel') }, 'Cancel run'),
    h(
      'button',
      {
        type: 'button',
        'data-action': 'retry',
        title: 'run it again as a new run: the same plan and input, from its journal',
        onclick: async () => {
          message.textContent = '';
          try {
            const r = await post<{ runId: string }>(`/runs/${id}/retry`);
            location.hash = `#/runs/${encodeURIComponent(r.runId)}`;
          } catch (err) {
            message.textContent = `retry: ${(err as Error).message}`;
          }
        },
      },
      'Retry',
    ),
  );
}

/** The run's plan, id, status and, when it was traced, a link to its trace. */
function runHeading(view: RunView, runId: string, statusEl: HTMLElement, traced: { traceId: string | null; url: string | null } | null): HTMLElement {
  return h(
    'h2',
    {},
    `${view.planId} `,
    h('small', { class: 'muted' }, runId),
    ' ',
    statusEl,
    traced?.url ? h('a', { class: 'trace-link', href: traced.url, target: '_blank', rel: 'noopener noreferrer', title: `trace ${traced.traceId ?? ''}` }, 'Trace') : null,
  );
}

/** One line of the event list: time, type, step, and the event's other data. */
function eventItem(e: TimelineEvent): HTMLElement {
  const { seq: _s, at, type, stepId, ...rest } = e;
  const extra = Object.keys(rest).length ? JSON.stringify(rest) : '';
  // An attempt a cut-off worker gave back: an attempt of its own, run again as the next one.
  return h('li', { 'data-step': stepId ?? '', 'data-type': type, 'data-given-back': givenBack(e) }, h('time', {}, new Date(at).toLocaleTimeString()), h('code', {}, type), stepId ? h('b', {}, stepId) : null, givenBackBadge(e), extra ? h('span', { class: 'muted' }, extra) : null);
}

/** The selected step's status, controls, facts, output and error; a hint when none is selected. */
function stepDetailContent(s: StepView | undefined, buttons: HTMLElement): HTMLElement[] {
  return s
    ? [
        h('h3', {}, `Step ${s.stepId} `, statusBadge(s.status)),
        buttons,
        h('dl', {}, h('dt', {}, 'Resource'), h('dd', {}, s.resource ?? '—'), h('dt', {}, 'Attempts'), h('dd', {}, s.attempts ?? 0), h('dt', {}, 'Started'), h('dd', {}, when(s.startedAt)), h('dt', {}, 'Finished'), h('dd', {}, when(s.completedAt)), h('dt', {}, 'Cost'), h('dd', {}, s.cost === undefined ? '—' : String(s.cost)), ...(s.usage ? [h('dt', {}, 'Tokens'), h('dd', {}, `${s.usage.input_tokens ?? 'unknown'} in, ${s.usage.output_tokens ?? 'unknown'} out${s.usage.model ? ` (${s.usage.model}${s.usage.endpoint ? ` on ${s.usage.endpoint}` : ''})` : ''}`)] : [])),
        h('h4', {}, 'Output'),
        h('pre', {}, json(s.output)),
        ...(s.error ? [h('h4', {}, 'Error'), h('pre', { class: 'error' }, json(s.error))] : []),
      ]
    : [h('p', { class: 'muted' }, 'Select a step in the graph to see its lines and outputs.')];
}

/** The run's input, output and error. */
function ioPanel(input: unknown, view: RunView): HTMLElement {
  return h(
    'div',
    { class: 'io' },
    h('div', {}, h('h3', {}, 'Input'), h('pre', {}, json(input))),
    h('div', {}, h('h3', {}, 'Output'), h('pre', { class: 'run-output' }, json(view.output))),
    h('div', {}, h('h3', {}, 'Error'), h('pre', { class: 'run-error' }, view.error ? json(view.error) : '—')),
  );
}

function setStatus(dag: Element, step: string, status: string): void {
  const node = dag.querySelector(`.node[data-step="${CSS.escape(step)}"]`);
  if (!node) return;
  node.setAttribute('data-status', status);
  const title = node.querySelector('title');
  if (title) title.textContent = `${step}: ${status}`;
}

function legend(): HTMLElement {
  // Every phase a bar can have: a colour the chart uses is never missing here.
  return h('p', { class: 'legend' }, ...PHASES.map((p) => h('span', { class: `key ${p}` }, p)));
}

/**
 * The run's version (LANGUAGE.md §8.6): the IR hash its `plan_created` recorded, or the last
 * `plan_upgraded` moved it to, with where it started when it was upgraded. Empty for runs
 * journaled before versions were recorded.
 */
function versionNote(events: readonly TimelineEvent[]): string {
  const short = (h: unknown) => (typeof h === 'string' ? h.slice(0, 12) : null);
  const created = short(events.find((e) => e.type === 'plan_created')?.ir_hash);
  const upgrades = events.filter((e) => e.type === 'plan_upgraded');
  const now = upgrades.length ? short(upgrades[upgrades.length - 1]!.to_hash) : created;
  if (!now) return '';
  return ` · version ${now}${upgrades.length ? ` (upgraded from ${short(upgrades[0]!.from_hash) ?? '?'})` : ''}`;
}

interface UpgradeReport {
  compatible: boolean;
  fromHash: string;
  toHash: string;
  reasons: { step: string | null; reason: string }[];
  diff: { steps: { step: string; change: string; what: string[] }[] } | null;
  behind?: boolean;
}

/**
 * LANGUAGE.md §8.6: when the server loaded another version of the run's plan, say so, whether
 * the run may move to it (with what differs, or why not), and offer the move to an operator.
 */
async function offerUpgrade(id: string, into: HTMLElement, message: HTMLElement): Promise<void> {
  let r: UpgradeReport;
  try {
    r = await get<UpgradeReport>(`/runs/${id}/upgrade`);
  } catch {
    return;
  }
  if (!r.toHash || r.toHash === r.fromHash || !canOperate()) return;
  // `orch upgrade` moved the run past the version this server loaded: nothing to offer.
  if (r.behind) {
    into.replaceChildren(h('p', { class: 'muted' }, `This run was upgraded past the version of its plan this server loaded (${r.toHash.slice(0, 12)}); it stays on ${r.fromHash.slice(0, 12)}.`));
    return;
  }
  const changes = (r.diff?.steps ?? []).map((s) => h('li', {}, `${s.change} ${s.step}${s.what.length ? `: ${s.what.join(', ')}` : ''}`));
  const head = `The loaded plan is another version (${r.toHash.slice(0, 12)}; this run is on ${r.fromHash.slice(0, 12)}).`;
  if (!r.compatible) {
    into.replaceChildren(h('p', { class: 'muted' }, `${head} This run cannot move to it:`), h('ul', {}, ...r.reasons.map((x) => h('li', {}, `${x.step ? `step ${x.step}: ` : ''}${x.reason}`))));
    return;
  }
  const button = h(
    'button',
    {
      type: 'button',
      'data-action': 'upgrade',
      onclick: async () => {
        message.textContent = '';
        try {
          await post(`/runs/${id}/upgrade`);
          message.textContent = 'upgrade: sent';
        } catch (err) {
          message.textContent = `upgrade: ${(err as Error).message}`;
        }
      },
    },
    'Upgrade to it',
  );
  into.replaceChildren(h('p', { class: 'muted' }, `${head} It is compatible:`), h('ul', {}, ...changes), button);
}


/** " · by alice (token)", " · by trigger nightly" (§9.1), with the trigger a person fired; before v0.4 journals: the trigger alone. */
function startedByNote(view: RunView): HTMLElement | string {
  const by = view.started_by;
  const trigger = view.trigger ?? null;
  if (!by) return view.trigger !== undefined ? ` · by ${trigger ?? 'POST /runs'}` : '';
  const via = trigger !== null && by.method !== 'trigger' ? ` through trigger ${trigger}` : '';
  return h('span', { class: 'started-by', 'data-subject': by.subject, 'data-issuer': by.issuer }, ` · by ${starterLabel(by)}${via}`);
}
