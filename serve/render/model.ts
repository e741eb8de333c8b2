/**
 * What a picture of a run is drawn from: the plan's steps (ids, dependencies, resources) and the
 * run's journal events. Pure data, shared by the dashboard (in the browser) and
 * `orch timeline --format svg|html` (in Node).
 */
export interface PictureStep {
  readonly id: string;
  readonly deps: readonly string[];
  readonly resource: string | null;
  /** What the step does, one short line (`nap`, `approval`, `wait`). */
  readonly what: string;
  /** Steps that wait rather than work (approvals, waits): drawn as waiting while they run. */
  readonly waits: boolean;
  /** The innermost v0.2 block around the step (`race reply`, `repeat draft ≤3`, `for each t`), if any. */
  readonly block?: string;
}

export interface PictureEvent {
  readonly type: string;
  readonly stepId?: string | null;
  readonly at: string;
  readonly resource?: string | null;
}

/** The status a step shows after an event about it, for the events that change it. */
export function statusAfter(type: string, previous: string | undefined): string | undefined {
  switch (type) {
    case 'step_queued':
      return 'queued';
    case 'step_started':
      return 'running';
    case 'step_retried':
    case 'attempt_lost':
      return 'retrying';
    case 'step_completed':
      return 'completed';
    case 'step_failed':
      return 'failed';
    case 'step_skipped':
      return 'skipped';
    case 'step_compensated':
      return 'compensated';
    case 'step_cancelled':
      return 'cancelled';
    default:
      return previous;
  }
}

/** A run's status after one of its events; `undefined` for an event that leaves it as it was. */
export function runStatusAfter(type: string): string | undefined {
  if (!type.startsWith('execution_') || type === 'execution_started') return undefined;
  return type === 'execution_paused' ? 'paused' : type === 'execution_resumed' ? 'running' : type.slice('execution_'.length);
}

/**
 * An instance key → its step: `name[3]`, `name[0][1]` (nested `for each`), `name#2` (a `repeat`
 * iteration), `name[1]#0` … are drawn on the step itself.
 */
export function baseStep(key: string): string {
  return key.replace(/(?:\[\d+\]|#\d+)+$/, '');
}

/** Every step's latest status according to the events (steps without events: absent). */
export function statusesFrom(events: readonly PictureEvent[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of events) {
    if (!e.stepId) continue;
    const id = baseStep(e.stepId);
    const next = statusAfter(e.type, out.get(id));
    if (next) out.set(id, next);
  }
  return out;
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Steps as the pictures need them, from a plan IR (loosely typed: it arrives as JSON in the browser). */
type BlockShape =
  | { readonly type: 'race'; readonly id: string }
  | { readonly type: 'repeat'; readonly id: string; readonly max: number }
  | { readonly type: 'for_each'; readonly id: string; readonly item: string };

function blockLabel(b: BlockShape | undefined): string | undefined {
  if (!b) return undefined;
  if (b.type === 'race') return `race ${b.id}`;
  if (b.type === 'repeat') return `repeat ${b.id} ≤${b.max}`;
  return `for each ${b.item}`;
}

export function pictureSteps(plan: {
  readonly blocks?: readonly BlockShape[];
  readonly steps: readonly {
    readonly blocks?: readonly string[];
    readonly id: string;
    readonly deps: readonly string[];
    readonly resource: string | null;
    readonly capability: string | null;
    readonly kind?: string | null;
    readonly action: { readonly type: string };
  }[];
}): PictureStep[] {
  const blocks = new Map((plan.blocks ?? []).map((b) => [b.id, b]));
  return plan.steps.map((s) => {
    const block = blockLabel(blocks.get(s.blocks?.at(-1) ?? ''));
    return {
      id: s.id,
      deps: s.deps,
      resource: s.resource,
      what: s.capability ? s.capability.split('.').pop()! : s.action.type.replace('_', ' '),
      waits: s.kind === 'human' || s.action.type === 'wait' || s.action.type === 'wait_until',
      ...(block ? { block } : {}),
    };
  });
}
