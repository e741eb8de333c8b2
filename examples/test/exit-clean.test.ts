/**
 * Examples end cleanly on whichever Node runs the tests (CI runs this file on Node 20, 22, 24
 * and 26): `orch run` exits with its documented code and writes nothing after its summary, and
 * `orch serve` runs plans, then exits 0 on SIGTERM with nothing on stderr. The failure this
 * guards against is a native abort while the process tears down (better-sqlite3 12 on Node 24:
 * exit 134 and a C++ stack on stderr, after a run that had succeeded).
 *
 * Order matters, so each `orch run` writes stdout and stderr into ONE file: the child's writes
 * land there in the order it made them.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { http } from '../../serve/test/http-helpers.js';
import { startServe, TOKEN } from '../../serve/test/serve-process.js';
import { REPO_ROOT } from './cli.js';

const BIN = path.join(REPO_ROOT, 'bin', 'orch.js');
const dir = mkdtempSync(path.join(tmpdir(), 'orch-exit-clean-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const example = (file: string): string => path.join(REPO_ROOT, 'examples', file);

/** Runs `orch …` with stdout and stderr interleaved in one file, as a terminal would show them. */
function orchInterleaved(args: readonly string[]): { code: number | null; signal: string | null; lines: string[] } {
  const log = path.join(dir, `out-${Math.random().toString(36).slice(2)}.log`);
  const fd = openSync(log, 'w');
  try {
    const r = spawnSync(process.execPath, [BIN, ...args], {
      cwd: dir,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, NO_COLOR: '1' },
      timeout: 120_000,
    });
    return { code: r.status, signal: r.signal, lines: readFileSync(log, 'utf8').split('\n').filter((l) => l !== '') };
  } finally {
    closeSync(fd);
  }
}

/** Lines after the run summary (`run <id> (<plan>): <status> …`). */
function afterSummary(lines: string[], plan: string): string[] {
  const at = lines.findIndex((l) => l.startsWith('run ') && l.includes(` (${plan}): `));
  expect(at, `no summary line for ${plan} in:\n${lines.join('\n')}`).toBeGreaterThanOrEqual(0);
  return lines.slice(at + 1);
}

describe(`orch run ends cleanly on Node ${process.version}`, () => {
  const cases = [
    { name: 'home_energy', plan: 'optimize_energy', file: 'home_energy/home_energy.orch', extra: ['--context', `@${example('home_energy/context.json')}`], code: 0 },
    { name: 'job_marketplace', plan: 'run_marketplace_job', file: 'job_marketplace/marketplace.orch', extra: [], code: 0 },
    { name: 'incident_response', plan: 'gas_leak_response', file: 'incident_response/incident.orch', extra: [], code: 0 },
    // Stops at its approval step: status paused, exit 1 (README), and still a clean exit.
    { name: 'campaign_launch', plan: 'campaign_launch', file: 'campaign_launch/campaign.orch', extra: [], code: 1 },
  ];
  for (const c of cases) {
    it(`${c.name}: exit ${c.code}, and after the summary only stdout's own lines`, () => {
      const db = path.join(dir, `${c.name}.db`);
      const input = `@${example(path.join(path.dirname(c.file), 'input.json'))}`;
      const r = orchInterleaved(['run', example(c.file), '--input', input, '--db', db, ...c.extra]);
      const text = r.lines.join('\n');
      expect(r.signal, text).toBeNull();
      expect(r.code, text).toBe(c.code);
      // What `orch run` prints after its summary: the output, or how to answer a waiting approval.
      for (const line of afterSummary(r.lines, c.plan)) expect(line, text).toMatch(/^(output: |waiting for approval: | {2}orch )/);
    });
  }
});

describe(`orch serve ends cleanly on Node ${process.version}`, () => {
  it('runs a plan over HTTP and an event-triggered one, then exits 0 on SIGTERM with nothing on stderr after its stopping line', async () => {
    const s = await startServe([example('job_marketplace/marketplace.orch'), example('incident_response/incident.orch')], {
      db: path.join(dir, 'serve.db'),
    });
    try {
      const input = JSON.parse(readFileSync(example('job_marketplace/input.json'), 'utf8')) as unknown;
      const started = await http(s.url, 'POST', '/runs', { token: TOKEN, body: { plan: 'run_marketplace_job', input } });
      expect(started.status, started.text).toBe(202);
      const event = await http(s.url, 'POST', '/events', {
        token: TOKEN,
        body: { type: 'sensor.gas', id: 'exit-1', sensor_id: 'gs-9', ppm: 90, lat: 53.5, lon: 9.9, address: '9 Dock Road' },
      });
      expect(event.status, event.text).toBe(202);
      const fired = (event.json.results as { runId?: string }[])[0]?.runId;
      expect(fired).toBeTypeOf('string');
      for (const runId of [started.json.runId as string, fired!]) {
        for (;;) {
          const r = await http(s.url, 'GET', `/runs/${runId}`, { token: TOKEN });
          if (['completed', 'failed', 'cancelled', 'timeout'].includes(r.json.status as string)) {
            expect(r.json.status).toBe('completed');
            break;
          }
          await new Promise((done) => setTimeout(done, 50));
        }
      }
    } finally {
      const code = await s.stop();
      // serve's own closing words are its stopping line; nothing may follow it.
      const err = s.stderr().split('\n').filter((l) => l !== '');
      const stopping = err.findIndex((l) => l.startsWith('orch serve: SIGTERM: stopping'));
      expect(stopping, s.stderr()).toBeGreaterThanOrEqual(0);
      expect(err.slice(stopping + 1), s.stderr()).toEqual([]);
      expect(code, s.stderr()).toBe(0);
    }
  }, 60_000);
});
