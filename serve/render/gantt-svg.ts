/**
 * A run's Gantt chart as SVG: one lane per resource (steps without one share a lane), one row
 * per step, and bars for each phase the journal shows — queued, running, waiting (approvals,
 * waits), retried (a failed attempt before a retry), lost (an attempt whose cluster worker died,
 * run again as the next attempt), cancelled (the phase a step was in when it was cancelled —
 * `orch cancel`, a race's loser), compensating.
 */
import { baseStep, escapeXml, type PictureEvent, type PictureStep } from './model.js';

export type Phase = 'queued' | 'running' | 'waiting' | 'retried' | 'lost' | 'cancelled' | 'compensating';

/** Every phase a bar can have, in the order the dashboard's legend shows them. */
export const PHASES: readonly Phase[] = ['queued', 'running', 'waiting', 'retried', 'lost', 'cancelled', 'compensating'];

export interface Bar {
  readonly step: string;
  readonly phase: Phase;
  readonly from: number;
  readonly to: number;
  readonly open: boolean;
}

/** The phases of every step, from its events; a phase still open ends at `now`. */
export function phases(steps: readonly PictureStep[], events: readonly PictureEvent[], now: number): Bar[] {
  const waits = new Set(steps.filter((s) => s.waits).map((s) => s.id));
  const open = new Map<string, { phase: Phase; from: number; step: string }>();
  const bars: Bar[] = [];
  const close = (key: string, at: number, phase?: Phase) => {
    const o = open.get(key);
    if (!o) return;
    bars.push({ step: o.step, phase: phase ?? o.phase, from: o.from, to: Math.max(at, o.from), open: false });
    open.delete(key);
  };
  for (const e of events) {
    if (!e.stepId) continue;
    const key = e.stepId;
    const step = baseStep(key);
    const at = Date.parse(e.at);
    if (Number.isNaN(at)) continue;
    switch (e.type) {
      case 'step_queued':
        close(key, at);
        open.set(key, { phase: 'queued', from: at, step });
        break;
      case 'step_started':
        close(key, at);
        open.set(key, { phase: waits.has(step) ? 'waiting' : 'running', from: at, step });
        break;
      case 'step_retried':
        close(key, at, 'retried');
        break;
      case 'attempt_lost':
        close(key, at, 'lost');
        break;
      case 'step_compensated':
        close(key, at);
        bars.push({ step, phase: 'compensating', from: at, to: at, open: false });
        break;
      case 'step_cancelled':
        close(key, at, 'cancelled');
        break;
      case 'step_completed':
      case 'step_failed':
      case 'step_skipped':
        close(key, at);
        break;
    }
  }
  for (const o of open.values()) bars.push({ step: o.step, phase: o.phase, from: o.from, to: Math.max(now, o.from), open: true });
  return bars;
}

const ROW = 22;
const LABEL_W = 170;
const CHART_W = 760;
const LANE_GAP = 14;

export function ganttSvg(steps: readonly PictureStep[], events: readonly PictureEvent[], now: number): string {
  const bars = phases(steps, events, now);
  const lanes = new Map<string, PictureStep[]>();
  const resourceOf = new Map<string, string>();
  for (const e of events) if (e.type === 'step_started' && e.stepId && e.resource) resourceOf.set(baseStep(e.stepId), e.resource);
  for (const s of steps) {
    const lane = resourceOf.get(s.id) ?? s.resource ?? '(no resource)';
    const list = lanes.get(lane) ?? [];
    list.push(s);
    lanes.set(lane, list);
  }
  const t0 = Math.min(...bars.map((b) => b.from), now);
  const t1 = Math.max(...bars.map((b) => b.to), t0 + 1);
  const x = (t: number) => LABEL_W + ((t - t0) / (t1 - t0)) * CHART_W;
  const parts: string[] = [];
  let y = 28;
  const rows: string[] = [];
  for (const [lane, list] of [...lanes.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    rows.push(`<text class="lane" x="4" y="${y + 12}">${escapeXml(lane)}</text>`);
    y += ROW;
    for (const s of list) {
      rows.push(`<g class="row" data-step="${escapeXml(s.id)}"><text class="label" x="14" y="${y + 15}">${escapeXml(s.id)}</text>`);
      for (const b of bars.filter((b) => b.step === s.id)) {
        const w = Math.max(2, x(b.to) - x(b.from));
        rows.push(
          `<rect class="bar ${b.phase}${b.open ? ' open' : ''}" x="${x(b.from).toFixed(1)}" y="${y + 4}" width="${w.toFixed(1)}" height="${ROW - 8}" rx="3"><title>${escapeXml(
            `${s.id} ${b.phase} ${((b.to - b.from) / 1000).toFixed(2)}s`,
          )}</title></rect>`,
        );
      }
      rows.push('</g>');
      y += ROW;
    }
    y += LANE_GAP;
  }
  const height = y + 10;
  const width = LABEL_W + CHART_W + 20;
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" class="gantt" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="Gantt timeline of steps">`);
  const span = t1 - t0;
  for (let i = 0; i <= 4; i++) {
    const t = t0 + (span * i) / 4;
    parts.push(`<line class="tick" x1="${x(t).toFixed(1)}" y1="20" x2="${x(t).toFixed(1)}" y2="${height - 6}"/>`);
    parts.push(`<text class="axis" x="${x(t).toFixed(1)}" y="14" text-anchor="middle">+${((t - t0) / 1000).toFixed(1)}s</text>`);
  }
  parts.push(...rows);
  parts.push('</svg>');
  return parts.join('');
}
