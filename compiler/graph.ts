/**
 * Renders a plan's DAG as Graphviz DOT, Mermaid or a standalone SVG. The SVG is laid out by
 * dagre (ranked left to right by dependency), so it stays readable at 50+ steps; `for each`
 * steps are drawn with a double border and their group name.
 */
import dagre from '@dagrejs/dagre';
import type { PlanIR, StepIR } from './ir/types.js';

export type GraphFormat = 'dot' | 'mermaid' | 'svg';

export function renderGraph(plan: PlanIR, format: GraphFormat): string {
  switch (format) {
    case 'dot':
      return toDot(plan);
    case 'mermaid':
      return toMermaid(plan);
    case 'svg':
      return toSvg(plan);
  }
}

function label(s: StepIR): string {
  const what = s.capability ? s.capability.split('.').pop()! : s.action.type.replace('_', ' ');
  return `${s.id}\n${what}${s.resource ? ` @ ${s.resource}` : ''}`;
}

function dotString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

function toDot(plan: PlanIR): string {
  const lines = [`digraph ${dotString(plan.plan)} {`, '  rankdir=LR;', '  node [shape=box, style="rounded"];'];
  const groups = new Map<string, StepIR[]>();
  for (const s of plan.steps) {
    if (s.for_each) {
      const g = groups.get(s.for_each.group) ?? [];
      g.push(s);
      groups.set(s.for_each.group, g);
    } else lines.push(`  ${dotString(s.id)} [label=${dotString(label(s))}${s.when ? ', style="rounded,dashed"' : ''}];`);
  }
  for (const [g, steps] of groups) {
    const fe = steps[0]!.for_each!;
    lines.push(`  subgraph ${dotString(`cluster_${g}`)} {`, `    label=${dotString(`for each ${fe.item}${fe.parallel ? ` (parallel ${fe.parallel})` : ''}`)};`, '    style=dashed;');
    for (const s of steps) lines.push(`    ${dotString(s.id)} [label=${dotString(label(s))}];`);
    lines.push('  }');
  }
  for (const s of plan.steps) for (const d of s.deps) lines.push(`  ${dotString(d)} -> ${dotString(s.id)};`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function mermaidId(id: string): string {
  return `s_${id.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

function toMermaid(plan: PlanIR): string {
  const lines = ['flowchart LR'];
  const text = (s: StepIR): string => label(s).replace(/"/g, '#quot;').replace('\n', '<br/>');
  const groups = new Map<string, StepIR[]>();
  for (const s of plan.steps) {
    if (s.for_each) groups.set(s.for_each.group, [...(groups.get(s.for_each.group) ?? []), s]);
    else lines.push(`  ${mermaidId(s.id)}["${text(s)}"]`);
  }
  for (const [g, steps] of groups) {
    lines.push(`  subgraph ${mermaidId(g)}["for each ${steps[0]!.for_each!.item}"]`);
    for (const s of steps) lines.push(`    ${mermaidId(s.id)}["${text(s)}"]`);
    lines.push('  end');
  }
  for (const s of plan.steps) for (const d of s.deps) lines.push(`  ${mermaidId(d)} --> ${mermaidId(s.id)}`);
  return `${lines.join('\n')}\n`;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

interface Point {
  readonly x: number;
  readonly y: number;
}

/** Room around the drawing: arrow heads and the stroke extend a few units past their points. */
const VIEW_MARGIN = 16;

function bounds(...groups: readonly (readonly Point[])[]): { minX: number; minY: number; maxX: number; maxY: number } {
  const box = { minX: Infinity, minY: Infinity, maxX: -Infinity, maxY: -Infinity };
  for (const group of groups)
    for (const p of group) {
      box.minX = Math.min(box.minX, p.x);
      box.minY = Math.min(box.minY, p.y);
      box.maxX = Math.max(box.maxX, p.x);
      box.maxY = Math.max(box.maxY, p.y);
    }
  return box.minX === Infinity ? { minX: 0, minY: 0, maxX: 200, maxY: 100 } : box;
}

const TIER_FILL: Record<string, string> = { local: '#e8f5e9', edge: '#e3f2fd', cloud: '#fff3e0', human: '#f3e5f5' };

function toSvg(plan: PlanIR): string {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 24, ranksep: 56 });
  g.setDefaultEdgeLabel(() => ({}));
  const charW = 7.2;
  for (const s of plan.steps) {
    const lines = label(s).split('\n');
    const width = Math.max(90, Math.max(...lines.map((l) => l.length)) * charW + 24);
    g.setNode(s.id, { width, height: 44 });
  }
  for (const s of plan.steps) for (const d of s.deps) g.setEdge(d, s.id);
  dagre.layout(g);
  const edges: (readonly Point[])[] = [];
  for (const e of g.edges()) {
    const pts: readonly Point[] = g.edge(e).points ?? [];
    if (pts.length) edges.push(pts);
  }
  // dagre's graph width/height cover the nodes only: edge points (splines bending around
  // ranks) can lie above, left of or beyond them, so the viewBox is the bounds of everything drawn.
  const box = bounds(
    plan.steps.flatMap((s) => {
      const n = g.node(s.id);
      return n ? [{ x: n.x - n.width / 2, y: n.y - n.height / 2 }, { x: n.x + n.width / 2, y: n.y + n.height / 2 }] : [];
    }),
    edges.flat(),
  );
  const minX = Math.floor(box.minX - VIEW_MARGIN);
  const minY = Math.floor(box.minY - VIEW_MARGIN);
  const W = Math.ceil(box.maxX + VIEW_MARGIN) - minX;
  const H = Math.ceil(box.maxY + VIEW_MARGIN) - minY;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="${minX} ${minY} ${W} ${H}" font-family="ui-monospace, Menlo, Consolas, monospace" font-size="12">`,
    `<title>${esc(plan.plan)}</title>`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
  ];
  for (const pts of edges) {
    const d = pts.map((p: Point, i: number) => `${i ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="#555" stroke-width="1.2" marker-end="url(#arrow)"/>`);
  }
  for (const s of plan.steps) {
    const n = g.node(s.id);
    if (!n) continue;
    const x = n.x - n.width / 2;
    const y = n.y - n.height / 2;
    const fill = TIER_FILL[s.binding.tier ?? ''] ?? '#f5f5f5';
    const dash = s.when ? ' stroke-dasharray="4 3"' : '';
    out.push(`<g class="step" data-step="${esc(s.id)}">`);
    out.push(`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${n.width.toFixed(1)}" height="${n.height}" rx="6" fill="${fill}" stroke="#333"${dash}/>`);
    if (s.for_each) out.push(`<rect x="${(x + 3).toFixed(1)}" y="${(y + 3).toFixed(1)}" width="${(n.width - 6).toFixed(1)}" height="${n.height - 6}" rx="4" fill="none" stroke="#333" stroke-width="0.6"/>`);
    const [l1, l2] = label(s).split('\n');
    out.push(`<text x="${n.x.toFixed(1)}" y="${(n.y - 3).toFixed(1)}" text-anchor="middle" font-weight="bold">${esc(l1 ?? '')}</text>`);
    out.push(`<text x="${n.x.toFixed(1)}" y="${(n.y + 12).toFixed(1)}" text-anchor="middle" fill="#444">${esc(l2 ?? '')}</text>`);
    out.push('</g>');
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
