/**
 * The dashboard: how fast the server pushes live run events (`GET /stream`, Server-Sent Events)
 * while the run's page is open in headless Chromium, and how long the first render of a
 * 200-step run page (DAG laid out by dagre in the browser) takes. The server is the real one
 * (Fastify, sessions, stream); the runs come from a scripted starter so the event rate is the
 * server's, not the worker pool's.
 */
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { PlanIR } from '../compiler/index.js';
import { openBackend } from '../runtime/index.js';
import { startServer, type JournalEntry, type RunStarter, type RunView } from '../serve/index.js';
import { smoke, type BenchFigure } from './figure.js';

const here = dirname(fileURLToPath(import.meta.url));
// Compiled to dist/bench/dashboard.js; the repository root is two levels up from there.
const repo = resolve(here, here.includes(join('dist', 'bench')) ? '../..' : '..');
const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'bench-token-0123456789';
const STEPS = 200;
const EVENTS = smoke(20_000, 500);
const RUN = 'wide-run';

/** A 200-step plan: 20 layers of 10, each step depending on two of the layer before. */
function widePlan(): PlanIR {
  const steps = Array.from({ length: STEPS }, (_, i) => {
    const layer = Math.floor(i / 10);
    const deps = layer === 0 ? [] : [`s${(layer - 1) * 10 + (i % 10)}`, `s${(layer - 1) * 10 + ((i + 3) % 10)}`];
    return { id: `s${i}`, deps, resource: i % 2 ? 'box' : 'edge', capability: 'bench.work', kind: 'tool', action: { type: 'call' } };
  });
  return { plan: 'wide', steps, resources: {}, policy: null } as unknown as PlanIR;
}

function scriptedStarter(plan: PlanIR): RunStarter & { emit(n: number): Promise<void> } {
  const listeners: ((e: { runId: string; planId: string; event: JournalEntry }) => void)[] = [];
  const view: RunView = { planId: 'wide', runId: RUN, status: 'running', steps: plan.steps.map((s) => ({ stepId: s.id, status: 'pending' })) };
  const none = async () => ({ ok: false as const, reason: 'conflict' as const, message: 'bench' });
  return {
    start: async () => ({ runId: RUN }),
    get: async (id) => (id === RUN ? view : null),
    list: async () => [{ runId: RUN, planId: 'wide', status: 'running', startedAt: new Date().toISOString() }],
    timeline: async (id) => (id === RUN ? [] : null),
    source: async (id) => (id === RUN ? { plan, input: {} } : null),
    pause: none,
    resume: none,
    cancel: none,
    cancelStep: none,
    retry: none,
    rateHitsSince: async () => 0,
    decide: none,
    signalContext: async () => {},
    onFinished: () => {},
    onEvent: (l) => void listeners.push(l),
    resumeUnfinished: async () => [],
    activeCount: () => 1,
    drain: async () => true,
    close: async () => {},
    // Events in bursts of 500 per macrotask, as a busy runtime would hand them over.
    async emit(n) {
      for (let seq = 1; seq <= n; ) {
        for (const end = Math.min(n, seq + 499); seq <= end; seq++) {
          const step = `s${seq % STEPS}`;
          const event = { seq, at: new Date().toISOString(), type: seq % 2 ? 'step_started' : 'step_completed', stepId: step, resource: 'box' };
          for (const l of listeners) l({ runId: RUN, planId: 'wide', event });
        }
        await new Promise((r) => setImmediate(r));
      }
    },
  };
}

/** Counts `event: run` messages on the stream until `n` arrived; resolves to the elapsed ms. */
function countStream(url: string, n: number): { ready: Promise<void>; done: Promise<number> } {
  let ready!: () => void;
  const readyP = new Promise<void>((r) => (ready = r));
  const done = new Promise<number>((resolve, reject) => {
    const req = request(`${url}/stream?run=${RUN}`, { headers: { authorization: `Bearer ${TOKEN}` }, agent: false }, (res) => {
      let seen = 0;
      let t0 = 0;
      let tail = '';
      ready();
      res.on('data', (c: Buffer) => {
        const text = tail + c.toString('utf8');
        const parts = text.split('\n\n');
        tail = parts.pop() ?? '';
        for (const p of parts)
          if (p.startsWith('id:')) {
            if (seen === 0) t0 = performance.now();
            seen += 1;
          }
        if (seen >= n) {
          resolve(performance.now() - t0);
          req.destroy();
        }
      });
    });
    req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(e)));
    req.end();
  });
  return { ready: readyP, done };
}

export async function bench(): Promise<readonly BenchFigure[]> {
  const plan = widePlan();
  const starter = scriptedStarter(plan);
  const server = await startServer({
    plans: [],
    triggers: [],
    starter,
    evaluate: () => null,
    state: await (await openBackend(join(mkdtempSync(join(tmpdir(), 'orch-dash-bench-')), 'state.db'))).triggerState(),
    token: TOKEN,
    host: '127.0.0.1',
    port: 0,
    catchUp: false,
    mode: 'ui',
  });
  const figures: BenchFigure[] = [];
  const browser = existsSync(CHROMIUM)
    ? await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] })
    : null;
  try {
    let renderMs = NaN;
    if (browser) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(`${server.url}/login`);
      await page.fill('#token', TOKEN);
      await page.click('button[type=submit]');
      await page.waitForURL(`${server.url}/`);
      await page.locator('.live', { hasText: 'live' }).waitFor();
      // First render: from navigation to 200 laid-out, coloured nodes on screen (best of 3).
      const times: number[] = [];
      for (let i = 0; i < smoke(3, 1); i++) {
        await page.goto(`${server.url}/#/`);
        await page.locator('tr[data-run]').waitFor();
        const t0 = performance.now();
        await page.goto(`${server.url}/#/runs/${RUN}`);
        await page.waitForFunction((n) => document.querySelectorAll('.dag .node').length === n, STEPS);
        times.push(performance.now() - t0);
      }
      renderMs = Math.min(...times);
      // For a person to look at: is a 200-step graph readable? (test-output/ is gitignored.)
      const shots = join(repo, 'test-output', 'dashboard');
      mkdirSync(shots, { recursive: true });
      await page.screenshot({ path: join(shots, 'bench-200-steps.png') });
      await page.locator('.live', { hasText: 'live' }).waitFor();
    }
    figures.push({ name: `first render of a ${STEPS}-step run page in headless Chromium (DAG + Gantt)`, value: renderMs, unit: 'ms', target: '≤ 1000 ms', met: renderMs <= 1000 });

    const counter = countStream(server.url, EVENTS);
    await counter.ready;
    await new Promise((r) => setTimeout(r, 100));
    const emitted = starter.emit(EVENTS);
    const ms = await counter.done;
    await emitted;
    const rate = (EVENTS / ms) * 1000;
    figures.push({
      name: `live events pushed over SSE with the run page open${browser ? '' : ' (no Chromium: page not open)'}`,
      value: rate,
      unit: 'events/s',
      target: '≥ 2000 events/s',
      met: rate >= 2000,
    });
  } finally {
    await browser?.close();
    await server.close();
  }
  return figures;
}
