/**
 * Every example project under examples/ stays valid and runnable. Assertions for a command are
 * added once that command has landed and passes on the examples.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { format } from '../../language/format.js';
import { runCli } from '../../test/support/cli-in-process.js';
import { orchAsync as orch, REPO_ROOT } from './cli.js';
import { startModelServer } from '../../test/support/model-server.js';

/**
 * What compiles, formats, previews or verifies needs no process of its own: the CLI core runs in
 * this one (test/support/cli-in-process.ts). Runs, signals and timelines stay spawned: every
 * example runs end to end through the real `orch`.
 */
const inProcess = (args: readonly string[]) => runCli(args, REPO_ROOT);

const EXAMPLES_DIR = path.join(REPO_ROOT, 'examples');

/** Example folder → its entry file (the one with the plan). */
interface Example {
  readonly name: string;
  readonly entry: string;
  readonly plan: string;
  /** Extra `orch run` arguments besides the input. */
  readonly runArgs?: readonly string[];
  /** An approval step the run stops at (approved in the test, as a person would). */
  readonly approval?: string;
  /**
   * Its `kind llm` steps call model endpoints: the run uses a copy of the example whose
   * orch.config.json points every endpoint at a scripted model server (no model here).
   */
  readonly models?: boolean;
}

const EXAMPLES: readonly Example[] = [
  {
    name: 'home_energy',
    entry: 'home_energy/home_energy.orch',
    plan: 'optimize_energy',
    runArgs: ['--context', '@examples/home_energy/context.json'],
  },
  { name: 'movie_night', entry: 'movie_night/movie_night.orch', plan: 'movie_night' },
  { name: 'campaign_launch', entry: 'campaign_launch/campaign.orch', plan: 'campaign_launch', approval: 'approve' },
  { name: 'incident_response', entry: 'incident_response/incident.orch', plan: 'gas_leak_response' },
  { name: 'weekly_report', entry: 'weekly_report/weekly_report.orch', plan: 'weekly_sales_report' },
  { name: 'job_marketplace', entry: 'job_marketplace/marketplace.orch', plan: 'run_marketplace_job' },
  { name: 'copy_review', entry: 'copy_review/copy_review.orch', plan: 'copy_review', models: true },
];

interface RunResult {
  readonly runId: string;
  readonly status: string;
  readonly output: Record<string, unknown>;
  readonly steps: readonly { stepId: string; status: string; resource: string | null; output: unknown }[];
}

/** Steps that lose a race in the example's own run (the input sets no context signal). */
const RACE_LOSERS: { readonly [example: string]: readonly string[] } = { incident_response: ['reporter_clear'] };

/** A fresh journal per call, so tests never share runs or touch the repository's .orch/. */
function freshDb(): string {
  return path.join(mkdtempSync(path.join(tmpdir(), 'orch-examples-')), 'runs.db');
}

async function runExample(example: Example, db: string, extra: { input?: string; env?: NodeJS.ProcessEnv } = {}) {
  const input = extra.input ?? `@examples/${example.name}/input.json`;
  if (example.models) return runWithModels(example, db, input);
  const r = await orch(['run', `examples/${example.entry}`, '--input', input, ...(example.runArgs ?? []), '--json', '--db', db], {
    env: extra.env,
  });
  return { ...r, result: r.stdout ? (JSON.parse(r.stdout) as RunResult) : undefined };
}

/** A model example, run against a scripted model server: plain text for text outputs, else a JSON answer. */
async function runWithModels(example: Example, db: string, input: string) {
  const server = await startModelServer((req) => {
    const body = req.body as { response_format?: unknown };
    return body.response_format ? { answer: { approved: true, notes: 'ok' }, input_tokens: 200, output_tokens: 20 } : { answer: 'Meet the Aster kettle.', input_tokens: 100, output_tokens: 30 };
  });
  try {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'orch-models-')), example.name);
    cpSync(path.join(EXAMPLES_DIR, example.name), dir, { recursive: true });
    const configFile = path.join(dir, 'orch.config.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as { endpoints: Record<string, { base_url?: string }> };
    for (const e of Object.values(config.endpoints)) e.base_url = server.openaiUrl;
    writeFileSync(configFile, JSON.stringify(config));
    const r = await orch(['run', path.join(dir, path.basename(example.entry)), '--input', input, '--json', '--db', db], {
      env: { OPENAI_API_KEY: 'sk-examples-test-key' },
    });
    expect(server.requests.length).toBeGreaterThan(0);
    expect(r.stdout).not.toContain('sk-examples-test-key');
    // Each model step reports its tokens and actual cost (§8.1): review's 200 in + 20 out at gpt-4o-mini's price.
    const review = (JSON.parse(r.stdout) as { steps: { stepId: string; cost?: number; usage?: { input_tokens: number } }[] }).steps.find((s) => s.stepId === 'review');
    expect(review?.usage?.input_tokens).toBe(200);
    expect(review?.cost).toBeCloseTo((200 * 0.15 + 20 * 0.6) / 1e6, 9);
    return { ...r, result: r.stdout ? (JSON.parse(r.stdout) as RunResult) : undefined };
  } finally {
    await server.close();
  }
}

async function approve(runId: string, step: string, db: string) {
  const r = await orch(['signal', runId, step, 'approve', '--by', 'examples-test', '--json', '--db', db]);
  return { ...r, result: r.stdout ? (JSON.parse(r.stdout) as RunResult) : undefined };
}

/** Runs an example to its end, approving its approval step if it has one. */
/** Copies an example to a temp folder with one edit to its entry file; returns the entry path. */
function mutated(example: Example, edit: (text: string) => string): string {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'orch-mutant-')), example.name);
  cpSync(path.join(EXAMPLES_DIR, example.name), dir, { recursive: true });
  const entry = path.join(dir, path.basename(example.entry));
  const before = readFileSync(entry, 'utf8');
  const after = edit(before);
  expect(after, 'the edit applies').not.toBe(before);
  writeFileSync(entry, after);
  return entry;
}

async function errorCodes(entry: string): Promise<string[]> {
  const r = await inProcess(['check', entry, '--format', 'json']);
  expect(r.code).toBe(1);
  return (JSON.parse(r.stdout) as { diagnostics: { code: string; severity: string }[] }).diagnostics
    .filter((d) => d.severity === 'error')
    .map((d) => d.code);
}

async function runToEnd(example: Example, extra: { input?: string; env?: NodeJS.ProcessEnv } = {}) {
  const db = freshDb();
  const first = await runExample(example, db, extra);
  if (!example.approval) return { ...first, db };
  expect(first.result?.status, first.stderr).toBe('paused');
  expect(first.code).toBe(1);
  return { ...(await approve(first.result!.runId, example.approval, db)), db };
}

function orchFilesOf(name: string): string[] {
  const dir = path.join(EXAMPLES_DIR, name);
  // Only files: a `.orch/` journal folder left by a run in the example's folder is not a module.
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isFile() && d.name.endsWith('.orch'))
    .map((d) => path.join(dir, d.name));
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
    // `patterns/` holds v0.2 control-flow patterns that are checked, not run (patterns.test.ts);
    // `notes_digest/` needs MCP servers and an SMTP server to run (notes-digest.test.ts).
    const folders = readdirSync(EXAMPLES_DIR, { withFileTypes: true })
      .filter((d) => d.isDirectory() && d.name !== 'test' && d.name !== 'patterns' && d.name !== 'notes_digest')
      .map((d) => d.name)
      .sort();
    expect(folders).toEqual(EXAMPLES.map((e) => e.name).sort());
  });

  it('the standard library is in the canonical format too (users read it, and copy it)', () => {
    const dir = path.join(REPO_ROOT, 'stdlib', 'std');
    const files = readdirSync(dir).filter((f) => f.endsWith('.orch'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const file = path.join(dir, f);
      const result = format(file, readFileSync(file, 'utf8'));
      expect(result.refused, file).toBeUndefined();
      expect(result.changed, file).toBe(false);
    }
  });

  describe.concurrent.each(EXAMPLES)('$name', (example) => {
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
      // A model example has no handler code: the built-in model handler answers its steps.
      if (!example.models) expect(refs.length).toBeGreaterThan(0);
      for (const ref of refs) {
        expect(existsSync(ref.module), ref.module).toBe(true);
        const mod = (await import(pathToFileURL(ref.module).href)) as Record<string, unknown>;
        const fn = mod[ref.exportName];
        expect(typeof fn, `${ref.module}#${ref.exportName}`).toBe('function');
        expect((fn as () => unknown).constructor.name, `${ref.exportName} is async`).toBe('AsyncFunction');
      }
    });

    it('passes orch fmt --check', async ({ expect }) => {
      const r = await inProcess(['fmt', '--check', `examples/${example.name}`]);
      expect(r.stdout + r.stderr).not.toMatch(/\.orch/);
      expect(r.code).toBe(0);
    });

    it('is in the canonical format (what orch fmt prints)', () => {
      for (const file of orchFilesOf(example.name)) {
        const result = format(file, readFileSync(file, 'utf8'));
        expect(result.refused, file).toBeUndefined();
        expect(result.changed, file).toBe(false);
      }
    });

    it('passes orch check (every .orch file of the folder)', async ({ expect }) => {
      for (const file of orchFilesOf(example.name)) {
        const r = await inProcess(['check', path.relative(REPO_ROOT, file), '--format', 'json']);
        const diagnostics = (JSON.parse(r.stdout) as { diagnostics: { severity: string; message: string }[] }).diagnostics;
        expect(diagnostics.filter((d) => d.severity === 'error'), file).toEqual([]);
        expect(r.code, file).toBe(0);
      }
    });

    it('previews its stages, bindings and estimates', async ({ expect }) => {
      const r = await inProcess(['preview', `examples/${example.entry}`]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`Plan ${example.plan}`);
      expect(r.stdout).toMatch(/Stage 0/);
      expect(r.stdout).toContain('Estimates');
    });

    it('runs to completion from the CLI', async ({ expect }) => {
      const r = await runToEnd(example);
      expect(r.result?.status, r.stderr).toBe('completed');
      expect(r.code).toBe(0);
      // A race's losing branch ends `cancelled` by design (LANGUAGE.md §7.1); nothing else may.
      const losers = RACE_LOSERS[example.name] ?? [];
      const ended = r.result!.steps.filter((s) => !(s.status === 'completed' || s.status === 'skipped'));
      expect(ended.map((s) => `${s.stepId}:${s.status}`)).toEqual(losers.map((id) => `${id}:cancelled`));
    });

    it('verifies: every invariant holds over simulated runs', async ({ expect }) => {
      const r = await inProcess(['verify', `examples/${example.entry}`, '--runs', '40', '--seed', '11']);
      expect(r.stdout).toMatch(/^ok: /m);
      expect(r.code, r.stdout).toBe(0);
    });
  });

  describe.concurrent('scenario behaviour', () => {
    const byName = (name: string): Example => EXAMPLES.find((e) => e.name === name)!;

    it('campaign_launch: the send fan-out waits for the approval and covers every recipient', async ({ expect }) => {
      const r = await runToEnd(byName('campaign_launch'));
      expect(r.result?.status).toBe('completed');
      // A `for each` step is reported once, with the per-item outputs as a list in item order.
      const send = r.result!.steps.find((s) => s.stepId === 'send');
      expect(send?.status).toBe('completed');
      expect(send?.resource).toBe('edge_mailer');
      expect((send?.output as { to: string }[]).map((m) => m.to)).toEqual(['ana@example.com', 'bo@example.org', 'chen@example.net']);
      expect(r.result!.output).toMatchObject({ sent: 3, tone: 'positive' });
    });

    it('campaign_launch: too many bounces roll the launch back and recall the sent emails', async ({ expect }) => {
      const r = await runToEnd(byName('campaign_launch'), { input: '@examples/campaign_launch/input.rollback.json' });
      expect(r.result?.status).toBe('failed');
      expect(r.code).toBe(1);
      const timeline = await orch(['timeline', r.result!.runId, '--json', '--db', r.db]);
      expect(timeline.code).toBe(0);
      const compensated = (JSON.parse(timeline.stdout) as { events: { type: string; stepId: string | null }[] }).events
        .filter((e) => e.type === 'step_compensated')
        .map((e) => e.stepId)
        .sort();
      expect(compensated).toEqual(['send[0]', 'send[1]']);
    });

    it('job_marketplace: an outage on the first pool rebinds the job to the next one', async ({ expect }) => {
      const rerouted = await runToEnd(byName('job_marketplace'));
      expect(rerouted.result?.status).toBe('completed');
      expect(rerouted.result!.output.pool).toBe('pool_us');

      const clean = await runToEnd(byName('job_marketplace'), { env: { POOL_OUTAGE_ATTEMPTS: '0' } });
      expect(clean.result?.status).toBe('completed');
      expect(clean.result!.output.pool).toBe('pool_eu');
    });

    it('campaign_launch: sending without the approval is rejected by human_before_send', async ({ expect }) => {
      const entry = mutated(byName('campaign_launch'), (t) => t.replace(/\n\s*after approve\n/, '\n'));
      expect(await errorCodes(entry)).toEqual(['E0401']);
    });

    it('home_energy: pinning the occupancy planner to the cloud is rejected by no_personal_data_in_cloud', async ({ expect }) => {
      const entry = mutated(byName('home_energy'), (t) =>
        t.replace(/(step setpoints = plan_setpoints\([^)]*\))/, '$1 {\n    on eu_cloud\n  }'),
      );
      // The guardrail, and §9.3's rule that personal data reaches a cloud resource only by declassify.
      expect(await errorCodes(entry)).toEqual(['E0401', 'E0903']);
    });

    it('home_energy: personal-data steps stay on local resources', async ({ expect }) => {
      const r = await runToEnd(byName('home_energy'));
      const where = Object.fromEntries(r.result!.steps.map((s) => [s.stepId, s.resource]));
      expect(where.reading).toBe('thermostat_hub');
      expect(where.setpoints).toBe('home_gateway');
      expect(where.prices).toBe('metro_edge');
    });

    it('weekly_report: a rejected warehouse token falls back to the snapshot', async ({ expect }) => {
      const r = await runToEnd(byName('weekly_report'), { env: { WAREHOUSE_TOKEN: 'expired' } });
      expect(r.result?.status).toBe('completed');
      expect(r.result!.output).toMatchObject({ source: 'snapshot', sent: true, issues: [] });
    });

    it('campaign_launch: every member of every sales team is briefed; the output is a list of lists in item order', async ({ expect }) => {
      const r = await runToEnd(byName('campaign_launch'));
      expect(r.result?.status).toBe('completed');
      const briefed = (r.result!.output as { briefed: { channel: string }[][] }).briefed;
      expect(briefed.map((team) => team.map((m) => m.channel))).toEqual([
        ['#sales-emea', '#sales-emea'],
        ['#sales-apac', '#sales-apac', '#sales-apac'],
      ]);
    });

    it('weekly_report: the checker passes the first draft, so the draft/critique loop runs once', async ({ expect }) => {
      const r = await runToEnd(byName('weekly_report'));
      expect(r.result?.status).toBe('completed');
      expect(r.result!.output).toMatchObject({ sent: true, drafts: 1, issues: [] });
    });

    it('incident_response: with no confirmation from the reporter the call-back reminder wins the race', async ({ expect }) => {
      const r = await runToEnd(byName('incident_response'));
      expect(r.result?.status).toBe('completed');
      const status = Object.fromEntries(r.result!.steps.map((s) => [s.stepId, s.status]));
      expect(status).toMatchObject({ call_back_due: 'completed', reporter_clear: 'cancelled', reporter_follow_up: 'completed' });
    });
  });
});
