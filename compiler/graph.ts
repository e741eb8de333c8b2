/**
 * Renders a plan's DAG as Graphviz DOT, Mermaid or a standalone SVG. The SVG is laid out by
 * dagre (ranked left to right by dependency), so it stays readable at 50+ steps; `for each`
 * steps are drawn with a double border. Blocks (`for each`, a `repeat` loop body, a `race`) are
 * labelled clusters, nested as in the source, in every format.
 */
import dagre from '@dagrejs/dagre';
import type { BlockIR, PlanIR, StepIR } from './ir/types.js';

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

/** A block with its own steps (not those of nested blocks) and its nested blocks. */
interface Cluster {
  readonly block: BlockIR;
  readonly steps: StepIR[];
  readonly children: Cluster[];
}

/** The plan's blocks as a tree, and the steps outside every block. v1 IR: one level of `for each` groups. */
function clusters(plan: PlanIR): { top: StepIR[]; roots: Cluster[] } {
  const blocks: readonly BlockIR[] = plan.blocks ?? [];
  const byId = new Map<string, Cluster>();
  const roots: Cluster[] = [];
  const add = (b: BlockIR): Cluster => {
    const c: Cluster = { block: b, steps: [], children: [] };
    byId.set(b.id, c);
    const parent = b.parent === null ? undefined : byId.get(b.parent);
    if (parent) parent.children.push(c);
    else roots.push(c);
    return c;
  };
  for (const b of blocks) add(b);
  const top: StepIR[] = [];
  for (const s of plan.steps) {
    const path = s.blocks ?? (s.for_each ? [s.for_each.group] : []);
    const inner = path[path.length - 1];
    let c = inner === undefined ? undefined : byId.get(inner);
    if (!c && inner !== undefined && s.for_each) c = add({ type: 'for_each', id: inner, parent: null, item: s.for_each.item, list: s.for_each.list, parallel: s.for_each.parallel });
    if (c) c.steps.push(s);
    else top.push(s);
  }
  return { top, roots };
}

export function clusterLabel(b: BlockIR): string {
  switch (b.type) {
    case 'for_each':
      return `for each ${b.item}${b.parallel ? ` (parallel ${b.parallel})` : ''}`;
    case 'repeat':
      return `repeat ${b.id} ×1..${b.max}`;
    case 'race':
      return `race ${b.id}: first wins`;
  }
}

const DOT_STYLE: Record<BlockIR['type'], string> = {
  for_each: 'style=dashed;',
  repeat: 'style="rounded,bold"; color="#1565c0";',
  race: 'style="rounded,dashed"; color="#ef6c00";',
};

function toDot(plan: PlanIR): string {
  const lines = [`digraph ${dotString(plan.plan)} {`, '  rankdir=LR;', '  node [shape=box, style="rounded"];'];
  const node = (s: StepIR, indent: string): string => `${indent}${dotString(s.id)} [label=${dotString(label(s))}${s.when ? ', style="rounded,dashed"' : ''}];`;
  const { top, roots } = clusters(plan);
  for (const s of top) lines.push(node(s, '  '));
  const cluster = (c: Cluster, indent: string): void => {
    lines.push(`${indent}subgraph ${dotString(`cluster_${c.block.id}`)} {`, `${indent}  label=${dotString(clusterLabel(c.block))};`, `${indent}  ${DOT_STYLE[c.block.type]}`);
    for (const s of c.steps) lines.push(node(s, `${indent}  `));
    for (const child of c.children) cluster(child, `${indent}  `);
    lines.push(`${indent}}`);
  };
  for (const c of roots) cluster(c, '  ');
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
  const { top, roots } = clusters(plan);
  for (const s of top) lines.push(`  ${mermaidId(s.id)}["${text(s)}"]`);
  const cluster = (c: Cluster, indent: string): void => {
    lines.push(`${indent}subgraph ${mermaidId(`block_${c.block.id}`)}["${clusterLabel(c.block).replace(/"/g, '#quot;')}"]`);
    for (const s of c.steps) lines.push(`${indent}  ${mermaidId(s.id)}["${text(s)}"]`);
    for (const child of c.children) cluster(child, `${indent}  `);
    lines.push(`${indent}end`);
  };
  for (const c of roots) cluster(c, '  ');
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
  const { roots } = clusters(plan);
  const g = new dagre.graphlib.Graph({ compound: roots.length > 0 });
  g.setGraph({ rankdir: 'LR', nodesep: 24, ranksep: 56 });
  g.setDefaultEdgeLabel(() => ({}));
  const charW = 7.2;
  for (const s of plan.steps) {
    const lines = label(s).split('\n');
    const width = Math.max(90, Math.max(...lines.map((l) => l.length)) * charW + 24);
    g.setNode(s.id, { width, height: 44 });
  }
  // Blocks are dagre clusters (ids that no step id can take: step ids are identifiers).
  const drawn: Cluster[] = [];
  const addCluster = (c: Cluster, parent: string | undefined): void => {
    const id = `block:${c.block.id}`;
    g.setNode(id, { paddingTop: 24 });
    if (parent) g.setParent(id, parent);
    for (const s of c.steps) g.setParent(s.id, id);
    drawn.push(c);
    for (const child of c.children) addCluster(child, id);
  };
  for (const c of roots) addCluster(c, undefined);
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
    [...plan.steps.map((s) => s.id), ...drawn.map((c) => `block:${c.block.id}`)].flatMap((id) => {
      const n = g.node(id);
      return n && n.width !== undefined ? [{ x: n.x - n.width / 2, y: n.y - n.height / 2 }, { x: n.x + n.width / 2, y: n.y + n.height / 2 }] : [];
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
  for (const c of drawn) {
    const n = g.node(`block:${c.block.id}`);
    if (!n || n.width === undefined) continue;
    const x = n.x - n.width / 2;
    const y = n.y - n.height / 2;
    const stroke = c.block.type === 'repeat' ? '#1565c0' : c.block.type === 'race' ? '#ef6c00' : '#777';
    const dash = c.block.type === 'for_each' ? ' stroke-dasharray="5 3"' : c.block.type === 'race' ? ' stroke-dasharray="2 2"' : '';
    out.push(`<g class="block" data-block="${esc(c.block.id)}" data-type="${c.block.type}">`);
    out.push(`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${n.width.toFixed(1)}" height="${n.height.toFixed(1)}" rx="8" fill="none" stroke="${stroke}"${dash}/>`);
    out.push(`<text x="${(x + 8).toFixed(1)}" y="${(y + 15).toFixed(1)}" fill="${stroke}">${esc(clusterLabel(c.block))}</text>`);
    out.push('</g>');
  }
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
