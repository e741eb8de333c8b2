/**
 * Every example project under examples/ stays valid and runnable. Assertions for a command are
 * added once that command has landed and passes on the examples.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './cli.js';

const EXAMPLES_DIR = path.join(REPO_ROOT, 'examples');

/** Example folder → its entry file (the one with the plan). */
const EXAMPLES: readonly { readonly name: string; readonly entry: string; readonly plan: string }[] = [
  { name: 'home_energy', entry: 'home_energy/home_energy.orch', plan: 'optimize_energy' },
  { name: 'movie_night', entry: 'movie_night/movie_night.orch', plan: 'movie_night' },
  { name: 'campaign_launch', entry: 'campaign_launch/campaign.orch', plan: 'campaign_launch' },
  { name: 'incident_response', entry: 'incident_response/incident.orch', plan: 'gas_leak_response' },
  { name: 'weekly_report', entry: 'weekly_report/weekly_report.orch', plan: 'weekly_sales_report' },
  { name: 'job_marketplace', entry: 'job_marketplace/marketplace.orch', plan: 'run_marketplace_job' },
];

function orchFilesOf(name: string): string[] {
  const dir = path.join(EXAMPLES_DIR, name);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.orch'))
    .map((f) => path.join(dir, f));
}

/** `handler "./handlers/x.js#name"` references of one .orch file, resolved against that file. */
function handlerRefs(file: string): { module: string; exportName: string }[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/\bhandler\s+"([^"#]+)#([A-Za-z_][A-Za-z0-9_]*)"/g)].map((m) => ({
    module: path.resolve(path.dirname(file), m[1]!),
    exportName: m[2]!,
  }));
}

describe('examples', () => {
  it('has one folder per scenario and nothing unlisted', () => {
    const folders = readdirSync(EXAMPLES_DIR, { withFileTypes: true })
      .filter((d) => d.isDirectory() && d.name !== 'test')
      .map((d) => d.name)
      .sort();
    expect(folders).toEqual(EXAMPLES.map((e) => e.name).sort());
  });

  describe.each(EXAMPLES)('$name', (example) => {
    it('has its entry file and a JSON object as input.json', () => {
      expect(existsSync(path.join(EXAMPLES_DIR, example.entry))).toBe(true);
      const input = JSON.parse(readFileSync(path.join(EXAMPLES_DIR, example.name, 'input.json'), 'utf8')) as unknown;
      expect(typeof input).toBe('object');
      expect(Array.isArray(input)).toBe(false);
    });

    it('declares invariants and simulate blocks', () => {
      const text = readFileSync(path.join(EXAMPLES_DIR, example.entry), 'utf8');
      expect(text).toMatch(/^\s*invariant\s/m);
      expect(text).toMatch(/^simulate\s/m);
      expect(text).toContain(`plan ${example.plan} {`);
    });

    it('points every handler at an exported async function', async () => {
      const refs = orchFilesOf(example.name).flatMap(handlerRefs);
      expect(refs.length).toBeGreaterThan(0);
      for (const ref of refs) {
        expect(existsSync(ref.module), ref.module).toBe(true);
        const mod = (await import(pathToFileURL(ref.module).href)) as Record<string, unknown>;
        const fn = mod[ref.exportName];
        expect(typeof fn, `${ref.module}#${ref.exportName}`).toBe('function');
        expect((fn as () => unknown).constructor.name, `${ref.exportName} is async`).toBe('AsyncFunction');
      }
    });
  });
});
