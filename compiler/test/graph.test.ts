/** The SVG graph is laid out by dagre: at 50 steps no two step boxes overlap and every edge is drawn. */
import { describe, expect, it } from 'vitest';
import { renderGraph } from '../graph.js';
import { compileText } from './helpers.js';

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
    const boxes = [...svg.matchAll(/<g class="step" data-step="[^"]+">\n<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/g)].map((m) => ({
      x: Number(m[1]), y: Number(m[2]), w: Number(m[3]), h: Number(m[4]),
    }));
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
    const [, w, h] = /viewBox="0 0 (\d+) (\d+)"/.exec(svg)!;
    expect(Number(w)).toBeGreaterThan(0);
    expect(Number(h)).toBeGreaterThan(0);
  });
  it('escapes names in DOT and Mermaid', () => {
    const plan = plan50();
    const dot = renderGraph(plan, 'dot');
    expect(dot.match(/->/g)).toHaveLength(plan.steps.reduce((n, s) => n + s.deps.length, 0));
    expect(renderGraph(plan, 'mermaid').split('\n')[0]).toBe('flowchart LR');
  });
});
