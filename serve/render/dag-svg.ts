/**
 * A run's DAG as SVG: laid out by dagre left to right, one box per step with its status in
 * `data-status` (the stylesheet colours it, so the dashboard recolours a step by changing one
 * attribute). Every text is escaped; the SVG carries no script.
 */
import dagre from '@dagrejs/dagre';
import { escapeXml, type PictureStep } from './model.js';

const NODE_W = 150;
const NODE_H = 44;

export function dagSvg(steps: readonly PictureStep[], statuses: ReadonlyMap<string, string>): string {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 18, ranksep: 46, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  // dagre keeps nodes in plain objects: a step named `valueOf` or `constructor` would collide
  // with Object.prototype, so the layout sees index keys instead of step ids.
  const key = new Map(steps.map((s, i) => [s.id, `n${i}`] as const));
  for (const s of steps) g.setNode(key.get(s.id)!, { width: NODE_W, height: NODE_H });
  for (const s of steps) for (const d of s.deps) if (key.has(d)) g.setEdge(key.get(d)!, key.get(s.id)!);
  dagre.layout(g);
  const graph = g.graph();
  const width = Math.ceil(graph.width ?? NODE_W);
  const height = Math.ceil(graph.height ?? NODE_H);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="dag" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="Step graph">`,
  );
  parts.push('<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrow"/></marker></defs>');
  for (const e of g.edges()) {
    const pts = g.edge(e).points ?? [];
    const d = pts.map((p: { x: number; y: number }, i: number) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
    parts.push(`<path class="edge" d="${d}" marker-end="url(#arrow)"/>`);
  }
  for (const s of steps) {
    const n = g.node(key.get(s.id)!);
    const x = n.x - NODE_W / 2;
    const y = n.y - NODE_H / 2;
    const status = statuses.get(s.id) ?? 'pending';
    const sub = `${s.what}${s.resource ? ` @ ${s.resource}` : ''}`;
    parts.push(
      `<g class="node" data-step="${escapeXml(s.id)}" data-status="${escapeXml(status)}"${s.block ? ` data-block="${escapeXml(s.block)}"` : ''} transform="translate(${x.toFixed(1)},${y.toFixed(1)})" tabindex="0">` +
        `<title>${escapeXml(`${s.id}: ${status}${s.block ? ` (in ${s.block})` : ''}`)}</title>` +
        `<rect width="${NODE_W}" height="${NODE_H}" rx="7"/>` +
        `<text x="10" y="18" class="id">${escapeXml(clip(s.id, s.block ? 12 : 20))}</text>` +
        (s.block ? `<text x="${NODE_W - 6}" y="13" class="block" text-anchor="end">${escapeXml(clip(s.block, 14))}</text>` : '') +
        `<text x="10" y="34" class="sub">${escapeXml(clip(sub, 24))}</text>` +
        '</g>',
    );
  }
  parts.push('</svg>');
  return parts.join('');
}

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
