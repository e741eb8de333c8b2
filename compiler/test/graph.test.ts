/**
 * The SVG graph is laid out by dagre: at 50 steps no two step boxes overlap, every edge is drawn,
 * and nothing drawn falls outside the viewBox (dagre's edge points can leave its graph size).
 */
import { describe, expect, it } from 'vitest';
import { renderGraph } from '../graph.js';
import { compileText } from './helpers.js';

const NUM = '-?[\\d.]+';

function viewBoxOf(svg: string) {
  const m = new RegExp(`viewBox="(${NUM}) (${NUM}) (${NUM}) (${NUM})"`).exec(svg);
  expect(m).not.toBeNull();
  const [x, y, w, h] = m!.slice(1).map(Number) as [number, number, number, number];
  return { x, y, w, h };
}

function boxesOf(svg: string) {
  const re = new RegExp(`<g class="step" data-step="[^"]+">\\n<rect x="(${NUM})" y="(${NUM})" width="(${NUM})" height="(${NUM})"`, 'g');
  return [...svg.matchAll(re)].map((m) => ({ x: Number(m[1]), y: Number(m[2]), w: Number(m[3]), h: Number(m[4]) }));
}

function edgePointsOf(svg: string) {
  return [...svg.matchAll(/<path d="([^"]+)" fill="none"/g)].map((m) =>
    [...m[1]!.matchAll(new RegExp(`[ML](${NUM}),(${NUM})`, 'g'))].map((p) => ({ x: Number(p[1]), y: Number(p[2]) })),
  );
}

function expectAllInside(svg: string, steps: number, edges: number) {
  const vb = viewBoxOf(svg);
  expect(vb.w).toBeGreaterThan(0);
  expect(vb.h).toBeGreaterThan(0);
  const [, w, h] = /<svg [^>]*width="(\d+)" height="(\d+)"/.exec(svg)!;
  expect([Number(w), Number(h)]).toEqual([vb.w, vb.h]);
  const inside = (x: number, y: number) => x >= vb.x && y >= vb.y && x <= vb.x + vb.w && y <= vb.y + vb.h;
  const boxes = boxesOf(svg);
  expect(boxes).toHaveLength(steps);
  for (const b of boxes) {
    expect(inside(b.x, b.y), `box ${JSON.stringify(b)} in ${JSON.stringify(vb)}`).toBe(true);
    expect(inside(b.x + b.w, b.y + b.h), `box ${JSON.stringify(b)} in ${JSON.stringify(vb)}`).toBe(true);
  }
  const paths = edgePointsOf(svg);
  expect(paths).toHaveLength(edges);
  for (const pts of paths) {
    expect(pts.length).toBeGreaterThan(0);
    for (const p of pts) expect(inside(p.x, p.y), `edge point ${JSON.stringify(p)} in ${JSON.stringify(vb)}`).toBe(true);
  }
}

function plan50() {
  const caps = 'capability w { kind tool input { v: string } output { v: string } latency 1s }\n';
  const steps = Array.from({ length: 50 }, (_, i) => {
    const deps = i === 0 ? '"x"' : `"\${s${Math.floor((i - 1) / 2)}.output.v}"`;
    return `  step s${i} = w(v: ${deps})${i % 7 === 6 ? ` { after s${i - 3} }` : ''}`;
  });
  const out = compileText(`${caps}plan big {\n${steps.join('\n')}\n  output { n: 1 }\n}\n`);
  expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return out.plans[0]!;
}

describe('renderGraph svg', () => {
  it('lays out 50 steps without overlapping boxes', () => {
    const plan = plan50();
    const svg = renderGraph(plan, 'svg');
    const boxes = boxesOf(svg);
    expect(boxes).toHaveLength(50);
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i]!;
        const b = boxes[j]!;
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        expect(overlap).toBe(false);
      }
    const edges = plan.steps.reduce((n, s) => n + s.deps.length, 0);
    expect(svg.match(/marker-end="url\(#arrow\)"/g)).toHaveLength(edges);
    expectAllInside(svg, 50, edges);
  });
  const caps = 'capability w { kind tool input { v: string } output { v: string } latency 1s }\n';
  const layouts: [string, string][] = [
    ['one step', '  step a = w(v: "x")'],
    ['a chain', '  step a = w(v: "x")\n  step b = w(v: "${a.output.v}")\n  step c = w(v: "${b.output.v}")'],
    [
      'a diamond with a long skip edge',
      '  step a = w(v: "x")\n  step b = w(v: "${a.output.v}")\n  step c = w(v: "${a.output.v}")\n  step d = w(v: "${b.output.v}")\n' +
        '  step e = w(v: "${d.output.v}${c.output.v}")\n  step f = w(v: "${a.output.v}") { after e }',
    ],
    [
      'a fan-in from many roots',
      Array.from({ length: 8 }, (_, i) => `  step r${i} = w(v: "x")`).join('\n') +
        `\n  step z = w(v: "x") { after ${Array.from({ length: 8 }, (_, i) => `r${i}`).join(', ')} }`,
    ],
  ];
  it.each(layouts)('keeps every node and edge point of %s inside the viewBox', (_, body) => {
    const out = compileText(`${caps}plan p {\n${body}\n  output { n: 1 }\n}\n`);
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const plan = out.plans[0]!;
    expectAllInside(renderGraph(plan, 'svg'), plan.steps.length, plan.steps.reduce((n, s) => n + s.deps.length, 0));
  });
  it('escapes names in DOT and Mermaid', () => {
    const plan = plan50();
    const dot = renderGraph(plan, 'dot');
    expect(dot.match(/->/g)).toHaveLength(plan.steps.reduce((n, s) => n + s.deps.length, 0));
    expect(renderGraph(plan, 'mermaid').split('\n')[0]).toBe('flowchart LR');
  });
});
