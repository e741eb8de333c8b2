/**
 * The run pictures (serve/render/): whatever the step ids and event orders, the DAG has one
 * escaped node per step and the Gantt's bars are well-formed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dagSvg } from '../render/dag-svg.js';
import { ganttSvg, phases } from '../render/gantt-svg.js';
import { compile } from '../../compiler/index.js';
import { pictureSteps, statusesFrom, type PictureEvent, type PictureStep } from '../render/model.js';

const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');

// Any text, but not ending in `[n]` or `#n`: such a suffix marks an instance key (a `for each` item,
// a `repeat` iteration; drawn on its step, `baseStep`), which no step id can end with.
const stepId = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !/(\[\d+\]|#\d+)$/.test(s));
const stepsArb = fc.uniqueArray(stepId, { minLength: 1, maxLength: 25 }).map((ids) =>
  ids.map<PictureStep>((id, i) => ({ id, deps: i > 0 ? [ids[i - 1]!] : [], resource: i % 2 ? 'box' : null, what: 'nap', waits: i % 5 === 4 })),
);
const TYPES = ['step_queued', 'step_started', 'step_retried', 'attempt_lost', 'step_completed', 'step_failed', 'step_skipped', 'step_cancelled', 'step_compensated', 'execution_started'];

describe('instance keys', () => {
  it('nested for each items and repeat iterations are drawn on their step', () => {
    const at = '2026-01-01T00:00:00.000Z';
    const events: PictureEvent[] = [
      { type: 'step_completed', stepId: 'greet[0][1]', at },
      { type: 'step_started', stepId: 'draft#2', at },
      { type: 'step_cancelled', stepId: 'note[1]#0', at },
    ];
    expect([...statusesFrom(events)]).toEqual([
      ['greet', 'completed'],
      ['draft', 'running'],
      ['note', 'cancelled'],
    ]);
  });
});

describe('Gantt legend', () => {
  it('a cancelled step ends with a cancelled bar, and every phase has a colour in the chart and the legend', async () => {
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
    const steps: PictureStep[] = [{ id: 'a', deps: [], resource: null, what: 'nap', waits: false }];
    const bars = phases(steps, [
      { type: 'step_started', stepId: 'a', at: at(0) },
      { type: 'step_cancelled', stepId: 'a', at: at(2) },
    ], Date.parse(at(3)));
    expect(bars.map((b) => b.phase)).toEqual(['cancelled']);
    const { PHASES } = await import('../render/gantt-svg.js');
    const { PICTURE_CSS } = await import('../render/picture-style.js');
    const { readFileSync } = await import('node:fs');
    const ui = readFileSync(new URL('../ui/style.css', import.meta.url), 'utf8');
    const view = readFileSync(new URL('../ui/run-view.ts', import.meta.url), 'utf8');
    expect(PHASES).toContain('cancelled');
    expect(view).toMatch(/PHASES\.map/);
    for (const p of PHASES) {
      expect(PICTURE_CSS, p).toContain(`.bar.${p} {`);
      expect(ui, p).toContain(`.key.${p}::before`);
    }
  });
});

describe('run pictures', () => {
  it('the DAG has one node per step, ids escaped and read back intact, no markup from data', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        const svg = dagSvg(steps, new Map());
        const ids = [...svg.matchAll(/<g class="node" data-step="([^"]*)"/g)].map((m) => unescape(m[1]!));
        expect(ids).toEqual(steps.map((s) => s.id));
        expect(svg).not.toMatch(/<script/i);
        // Every tag in the output is one the renderer writes.
        for (const tag of svg.matchAll(/<([a-zA-Z]+)/g)) expect(['svg', 'defs', 'marker', 'path', 'g', 'title', 'rect', 'text']).toContain(tag[1]);
      }),
      { numRuns: 150 },
    );
  });

  it('Gantt bars never run backwards, belong to known steps, and stay open only for unfinished steps', () => {
    fc.assert(
      fc.property(
        stepsArb.chain((steps) =>
          fc.tuple(
            fc.constant(steps),
            fc.array(fc.record({ type: fc.constantFrom(...TYPES), step: fc.constantFrom(...steps.map((s) => s.id)), dt: fc.nat(5000) }), { maxLength: 60 }),
          ),
        ),
        ([steps, raw]) => {
          let t = Date.parse('2026-01-01T00:00:00Z');
          const events: PictureEvent[] = raw.map((r) => ({ type: r.type, stepId: r.step, at: new Date((t += r.dt)).toISOString() }));
          const now = t + 1000;
          const bars = phases(steps, events, now);
          const known = new Set(steps.map((s) => s.id));
          const statuses = statusesFrom(events);
          for (const b of bars) {
            expect(known.has(b.step)).toBe(true);
            expect(b.to).toBeGreaterThanOrEqual(b.from);
            if (b.open) expect(['queued', 'running', 'retrying']).toContain(statuses.get(b.step));
          }
          expect(ganttSvg(steps, events, now)).toMatch(/^<svg [^>]*class="gantt"/);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('an attempt lost with its cluster worker is a `lost` bar, then the next attempt runs (issue 34)', () => {
    const steps: PictureStep[] = [{ id: 'slow', deps: [], resource: null, what: 'tagged', waits: false }];
    const at = (s: number) => new Date(Date.parse('2026-01-01T00:00:00Z') + s * 1000).toISOString();
    const events: PictureEvent[] = [
      { type: 'step_started', stepId: 'slow', at: at(0) },
      { type: 'attempt_lost', stepId: 'slow', at: at(6) },
      { type: 'step_started', stepId: 'slow', at: at(6) },
      { type: 'step_completed', stepId: 'slow', at: at(9) },
    ];
    const bars = phases(steps, events, Date.parse(at(10)));
    expect(bars.map((b) => [b.phase, (b.to - b.from) / 1000])).toEqual([
      ['lost', 6],
      ['running', 3],
    ]);
    expect(statusesFrom(events.slice(0, 2)).get('slow')).toBe('retrying');
    expect(ganttSvg(steps, events, Date.parse(at(10)))).toContain('<rect class="bar lost"');
  });

  it('steps inside a race, a repeat or a for each are marked with their block (v0.2)', () => {
    const examples = new URL('../../examples/patterns/', import.meta.url).pathname;
    const marks = new Map<string, string>();
    for (const file of ['reply_or_remind.orch', 'draft_review_loop.orch', 'nested_teams.orch']) {
      const out = compile({ entry: examples + file });
      expect(out.plans.length, file).toBeGreaterThan(0);
      for (const plan of out.plans) {
        const svg = dagSvg(pictureSteps(plan as Parameters<typeof pictureSteps>[0]), new Map());
        for (const m of svg.matchAll(/data-step="([^"]*)" data-status="[^"]*" data-block="([^"]*)"/g)) marks.set(m[1]!, unescape(m[2]!));
      }
    }
    const kinds = [...marks.values()].map((b) => b.split(' ')[0]);
    expect(kinds).toContain('race');
    expect(kinds).toContain('repeat');
    expect(kinds).toContain('for');
    expect([...marks.values()].some((b) => /^repeat \w+ ≤\d+$/.test(b))).toBe(true);
  });
});
