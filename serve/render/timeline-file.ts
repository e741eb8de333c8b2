/**
 * `orch timeline RUN --format svg|html`: the Gantt and the DAG of a run as one self-contained
 * file (inline styles, no script, no external reference), readable offline.
 */
import { dagSvg } from './dag-svg.js';
import { ganttSvg } from './gantt-svg.js';
import { escapeXml, pictureSteps, statusesFrom, type PictureEvent } from './model.js';
import { PICTURE_CSS } from './picture-style.js';

export type TimelineFileFormat = 'svg' | 'html';

export interface TimelineFileInput {
  readonly runId: string;
  readonly planId: string;
  readonly status: string;
  readonly plan: Parameters<typeof pictureSteps>[0];
  readonly events: readonly PictureEvent[];
}

export function renderTimelineFile(input: TimelineFileInput, format: TimelineFileFormat): string {
  const steps = pictureSteps(input.plan);
  const statuses = statusesFrom(input.events);
  const last = input.events.length ? Date.parse(input.events[input.events.length - 1]!.at) : Date.now();
  const gantt = ganttSvg(steps, input.events, last);
  const dag = dagSvg(steps, statuses);
  const title = `${input.planId} — run ${input.runId} (${input.status})`;
  if (format === 'html') {
    return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title>
<style>${PICTURE_CSS}
body { margin: 0; padding: 24px; background: var(--bg); color: var(--ink); font: 14px system-ui, sans-serif; }
h1 { font-size: 18px; } h2 { font-size: 15px; color: var(--muted); } section { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px; margin-bottom: 18px; overflow: auto; }
</style></head><body>
<h1>${escapeXml(title)}</h1>
<h2>Timeline</h2><section>${gantt}</section>
<h2>Steps</h2><section>${dag}</section>
</body></html>
`;
  }
  // One SVG: the Gantt above the DAG, each in its own nested <svg>.
  const size = (svg: string) => {
    const m = /width="(\d+)" height="(\d+)"/.exec(svg);
    return { w: Number(m?.[1] ?? 0), h: Number(m?.[2] ?? 0) };
  };
  const g = size(gantt);
  const d = size(dag);
  const width = Math.max(g.w, d.w) + 20;
  const height = 40 + g.h + 20 + d.h + 10;
  const place = (svg: string, y: number) => svg.replace('<svg ', `<svg x="10" y="${y}" `);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">
<style>${PICTURE_CSS}</style>
<rect width="100%" height="100%" fill="var(--bg)"/>
<text x="10" y="24" style="font-size:16px;font-weight:600">${escapeXml(title)}</text>
${place(gantt, 40)}
${place(dag, 60 + g.h)}
</svg>
`;
}
