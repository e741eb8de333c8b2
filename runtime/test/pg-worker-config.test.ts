/**
 * Secrets and every v0.3 capability on `orch worker` processes, from each worker's OWN project
 * config (docs/cluster.md, "Secrets and config on workers"): one Postgres database, three workers
 * in this process (`runWorker`, each with a project copy of its own) and an owner whose config has
 * no secret at all. Real handlers on worker threads, the real `openai` SDK against a scripted
 * Chat Completions server, the real server-everything over stdio.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { compile, type PlanIR } from '../../compiler/index.js';
import { startModelServer, type ModelServer } from '../../test/support/model-server.js';
import { startPostgres, type TestPostgres } from '../../test/support/postgres.js';
import { runWorker } from '../cluster/worker.js';
import { lockProject, Runtime } from '../index.js';
import { migrate } from '../backend/pg/migrations.js';
import { clusterDb, tempDir } from './helpers.js';

const require = createRequire(import.meta.url);
const everything = join(dirname(require.resolve('@modelcontextprotocol/server-everything/package.json')), 'dist', 'index.js');

/** Values that must never reach Postgres. */
const API_KEY = 'api-key-7f3a9c1e5b';
const ENV_TOKEN = 'env-token-4d8e2b6a0c';
const VAULT_KEY = 'vault-key-1c5e9a3f7d';
const MODEL_KEYS = ['model-key-w1-a8c4e0', 'model-key-w2-b9d5f1', 'model-key-w3-c0e6a2'];
const HOOK_TOKENS = ['hook-token-w1-5e1d', 'hook-token-w2-6f2e', 'hook-token-w3-7a3f'];
const SECRETS = [API_KEY, ENV_TOKEN, VAULT_KEY, ...MODEL_KEYS, ...HOOK_TOKENS];

const HANDLERS = `
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
export async function use(input, ctx) {
  writeFileSync(input.started, String(process.pid));
  // Held until the test has read every table of the database.
  while (!existsSync(input.gate)) await new Promise((r) => setTimeout(r, 20));
  console.log('calling with ' + input.token);
  const seen = [input.token, input.env, ctx.secrets.API_KEY, ctx.secrets.ENV_TOKEN].join('|');
  return { sha: createHash('sha256').update(seen).digest('hex'), echoed: input.token };
}
export function echo(input) {
  return { value: input.value };
}
export function big(input) {
  return { text: 'x'.repeat(input.n) };
}
export function vault(input) {
  return { value: input.key.length };
}
`;

const CAPS = `
import mcp "everything" as demo

capability use {
  kind tool
  input { token: string, env: string, started: string, gate: string }
  output { sha: string, echoed: string }
  handler "./h.js#use"
}
capability echo {
  kind tool
  input { value: string }
  output { value: string }
  handler "./h.js#echo"
}
capability big {
  kind tool
  input { n: int }
  output { text: string }
  handler "./h.js#big"
}
capability open_vault {
  kind tool
  input { key: string }
  output { value: int }
  handler "./h.js#vault"
  retry 2 backoff fixed 1ms
  requires vault
}
resource vault_host { kind cloud_region  provides vault }
capability summ {
  kind llm
  input { text: string }
  output { text: string }
  prompt "Say \${input.text}"
  model "gpt-test"
  max_tokens 10
  cost 0usd
  requires llm
}
resource cloud { kind cloud_region  provides llm  endpoint "cloud" }
policy roomy { strategy cost  budget cost <= 0.35usd }
policy capped { strategy cost  budget cost <= 0.1usd }
`;

const PLANS = `${CAPS}
plan secrets {
  input { started: string, gate: string }
  step a = use(token: "Bearer " + secret("API_KEY"), env: secret("ENV_TOKEN"), started: input.started, gate: input.gate)
  step b = echo(value: a.output.echoed)
  output { sha: a.output.sha, echoed: b.output.value }
}

plan locked {
  step v = open_vault(key: secret("VAULT_KEY")) { on vault_host }
}

plan spend {
  input { items: list<int> }
  policy roomy
  for each n in input.items parallel 2 {
    step s = demo.get_sum(a: n, b: 1)
    step m = summ(text: s.output.text) { on cloud }
  }
}

plan outputs {
  step small = big(n: 100)
  step large = big(n: 5000)
}

plan notice {
  step n = notify(channel: "audit", text: "all done", level: "info")
  output { delivered: n.output.delivered }
}

plan capped_spend {
  input { items: list<int> }
  policy capped
  for each n in input.items parallel 3 {
    step m = summ(text: "item \${n}") { on cloud }
  }
}
`;

let db: TestPostgres;
let client: pg.Client;
let model: ModelServer;
/** A webhook receiver: each worker's `audit` channel posts to /w1, /w2 or /w3, the owner's to /owner. */
let hooks: Server;
let hookUrl = '';
const hooked: { path: string; token: string | undefined; body: string }[] = [];
let owner: string;
let rt: Runtime;
const stop = new AbortController();
/** The workers' `runWorker` promises, settled once they stopped. */
const running: Promise<void>[] = [];
const workerIds: string[] = [];

/** A project copy: the same handlers (hash-checked against the owner's) and a config of its own. */
function projectCopy(name: string, config: object): string {
  const dir = join(tempDir('orch-wcfg-'), name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  writeFileSync(join(dir, 'h.js'), HANDLERS);
  writeFileSync(join(dir, 'orch.config.json'), JSON.stringify(config));
  return dir;
}

const mcp = { everything: { command: process.execPath, args: [everything] } };
const channels = (path: string) => ({ audit: { webhook: { url: `${hookUrl}/${path}`, headers: { 'x-token': 'secret:HOOK_TOKEN' } } } });
const endpoints = (withKey: boolean) => ({ cloud: { api: 'openai', base_url: model.openaiUrl, ...(withKey ? { api_key: 'secret:MODEL_KEY' } : {}) } });
const prices = { 'gpt-test': { input_per_mtok: 1000, output_per_mtok: 2000 } };

function planOf(name: string): PlanIR {
  const out = compile({ entry: join(owner, 'plans.orch') });
  const errors = out.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(errors.map((d) => `${d.code} ${d.message}`).join('\n'));
  const p = out.plans.find((x) => x.plan === name);
  if (!p) throw new Error(`no plan ${name}`);
  return p;
}

/**
 * Every row of every table of the orch schema (the step queue's job payloads included: the attempt
 * row is the job) and of graphile-worker's, should a database still have them, as text (deflated
 * IRs inflated).
 */
async function everyRow(): Promise<string> {
  const { rows: tables } = await client.query<{ s: string; t: string }>(
    `SELECT table_schema AS s, table_name AS t FROM information_schema.tables
      WHERE table_schema IN ('orch', 'graphile_worker', '_private_graphile_worker') AND table_type = 'BASE TABLE'`,
  );
  expect(tables.map((t) => `${t.s}.${t.t}`)).toEqual(expect.arrayContaining(['orch.attempts', 'orch.runs']));
  const parts: string[] = [];
  for (const { s, t } of tables) {
    const { rows } = await client.query(`SELECT * FROM "${s}"."${t}"`);
    for (const row of rows as Record<string, unknown>[])
      for (const v of Object.values(row)) {
        if (Buffer.isBuffer(v)) {
          parts.push(v.toString('utf8'));
          try {
            parts.push(inflateRawSync(v).toString('utf8'));
          } catch {
            // not deflated
          }
        } else parts.push(typeof v === 'string' ? v : JSON.stringify(v));
      }
  }
  return parts.join('\n');
}

async function until<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  [db, model] = await Promise.all([startPostgres(), startModelServer()]);
  hooks = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += String(c)));
    req.on('end', () => {
      hooked.push({ path: req.url ?? '', token: req.headers['x-token'] as string | undefined, body });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}`;
  await migrate(db.url);
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  // The owner: endpoints, prices and MCP servers (to check and lock the plan), no secret at all.
  owner = projectCopy('owner', { mcp, endpoints: endpoints(true), prices, channels: channels('owner') });
  writeFileSync(join(owner, 'plans.orch'), PLANS);
  const locked = await lockProject(owner);
  expect(locked.failed).toEqual([]);
  // The workers: each its own secrets and model key; only the third takes the vault's steps, and
  // its config lacks VAULT_KEY. ENV_TOKEN comes from the environment.
  process.env.ENV_TOKEN = ENV_TOKEN;
  const projects = MODEL_KEYS.map((key, i) =>
    projectCopy(`w${i + 1}`, {
      mcp,
      endpoints: endpoints(true),
      prices,
      channels: channels(`w${i + 1}`),
      // The owner has none (1 MiB): the worker's own limit holds.
      maxOutputBytes: 4096,
      secrets: { API_KEY, MODEL_KEY: key, HOOK_TOKEN: HOOK_TOKENS[i], ...(i < 2 ? { VAULT_KEY } : {}) },
    }),
  );
  // In order, so workerIds[i] is the worker of projects[i].
  const cluster = await clusterDb(db.url);
  for (const [i, project] of projects.entries())
    await new Promise<void>((ready, failed) => {
      const r = runWorker({ db: cluster, project, slots: 2, resources: i === 2 ? ['cloud', 'vault_host'] : ['cloud'], signal: stop.signal, log: () => undefined, onReady: (id) => (workerIds.push(id), ready()) });
      r.catch(failed);
      running.push(r.catch(() => undefined));
    });
  rt = await Runtime.open({ db: db.url, placement: 'workers', controlPollMs: 50 });
}, 120_000);

afterAll(async () => {
  await rt?.close();
  stop.abort();
  await Promise.all(running);
  await client?.end();
  await model?.close();
  hooks?.close();
  await db?.stop();
  delete process.env.ENV_TOKEN;
});

describe('secrets on workers', () => {
  it('a job names its secrets: no value in any table while the step runs, nor after; the worker resolves them', async () => {
    const dir = tempDir('orch-wcfg-gate-');
    const started = join(dir, 'started');
    const gate = join(dir, 'gate');
    const active = await rt.start(planOf('secrets'), { input: { started, gate } });
    onTestFinished(() => writeFileSync(gate, ''));
    expect(active.placement).toBe('workers');
    await until(() => existsSync(started), 'the handler to start on a worker');
    // During the run: the job, the attempt row, the journal — nothing holds a value.
    const during = await everyRow();
    for (const s of SECRETS) expect(during).not.toContain(s);
    // The job is the attempt row's `job` column: names and placeholders, no value.
    const { rows: jobs } = await client.query<{ job: string }>(`SELECT job FROM orch.attempts WHERE run_id = $1 AND job IS NOT NULL`, [active.runId]);
    expect(jobs).toHaveLength(1);
    const payload = JSON.parse(jobs[0]!.job) as { secrets: string[]; input: { token: string } };
    expect(payload.secrets).toEqual(['API_KEY', 'ENV_TOKEN']);
    expect(payload.input.token).toMatch(/^Bearer ⟦orch\.secret:API_KEY#[0-9a-f]{16}⟧$/);
    writeFileSync(gate, '');
    const result = await active.result;
    expect(result.status).toBe('completed');
    // The handler saw the worker's values (the config's API_KEY, the environment's ENV_TOKEN) in
    // its input and in ctx.secrets; what it returned and logged left the worker redacted.
    const seen = [`Bearer ${API_KEY}`, ENV_TOKEN, API_KEY, ENV_TOKEN].join('|');
    expect(result.output).toEqual({ sha: createHash('sha256').update(seen).digest('hex'), echoed: 'Bearer ***' });
    const events = await rt.store!.load(active.runId);
    // The placeholders were journaled as `***`, as a secret of a run in-process is.
    expect(JSON.stringify(events)).not.toContain('⟦orch.secret');
    expect(events.some((e) => e.type === 'step_log' && String(e.data.line).includes('calling with Bearer ***'))).toBe(true);
    const after = await everyRow();
    for (const s of SECRETS) expect(after).not.toContain(s);
    // The payload is cleared once the result is recorded.
    expect((await client.query(`SELECT 1 FROM orch.attempts WHERE run_id = $1 AND job IS NOT NULL`, [active.runId])).rowCount).toBe(0);
    const { rows } = await client.query<{ worker: string }>(`SELECT worker FROM orch.attempts WHERE run_id = $1`, [active.runId]);
    expect(rows.map((r) => workerIds.includes(r.worker))).toEqual([true, true]);
  }, 60_000);

  it('a worker whose config lacks a secret fails the step, naming the secret and the worker, without retrying', async () => {
    const active = await rt.start(planOf('locked'));
    const result = await active.result;
    expect(result.status).toBe('failed');
    const v = result.steps.find((s) => s.stepId === 'v')!;
    expect(v.error).toMatch(/secret "VAULT_KEY" is not set on worker \S+ \(environment variable or "secrets" of .*w3\/orch\.config\.json\)/);
    expect(v.error).toContain(workerIds[2]);
    // A configuration error is final: `retry 2` is not spent on it.
    const { rows } = await client.query(`SELECT attempt, worker FROM orch.attempts WHERE run_id = $1`, [active.runId]);
    expect(rows).toEqual([{ attempt: 1, worker: workerIds[2] }]);
  }, 60_000);
});

describe('maxOutputBytes on workers', () => {
  it('holds outputs to the worker’s config when it is smaller than the owner’s', async () => {
    const result = await (await rt.start(planOf('outputs'))).result;
    const by = Object.fromEntries(result.steps.map((s) => [s.stepId, s]));
    expect(by.small!.status).toBe('completed');
    expect(by.large!.status).toBe('failed');
    expect(by.large!.error).toMatch(/more than the limit of 4\.?\d* KiB \(4096 bytes\)|more than the limit of 4096 bytes/);
  }, 30_000);
});

describe('channels on workers', () => {
  it('notify posts through the worker’s own channel, with the worker’s token', async () => {
    const active = await rt.start(planOf('notice'));
    const result = await active.result;
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ delivered: true });
    expect(hooked).toHaveLength(1);
    const { rows } = await client.query<{ worker: string }>(`SELECT worker FROM orch.attempts WHERE run_id = $1`, [active.runId]);
    const w = workerIds.indexOf(rows[0]!.worker);
    expect(w).toBeGreaterThanOrEqual(0);
    expect(hooked[0]).toMatchObject({ path: `/w${w + 1}`, token: HOOK_TOKENS[w] });
    expect(hooked[0]!.body).toContain('all done');
    const after = await everyRow();
    for (const s of SECRETS) expect(after).not.toContain(s);
    // The payload is cleared once the result is recorded.
    expect((await client.query(`SELECT 1 FROM orch.attempts WHERE run_id = $1 AND job IS NOT NULL`, [active.runId])).rowCount).toBe(0);
  }, 30_000);
});

describe('models and MCP tools on workers, under one budget', () => {
  it('calls each worker’s endpoint with its key and prices and its MCP server; the owner’s ledger settles what workers report', async () => {
    const before = model.requests.length;
    // The first answer costs more than its reservation (40 output tokens, max_tokens 10).
    model.script({ answer: 'big', input_tokens: 5, output_tokens: 40 });
    const items = [1, 2, 3, 4, 5, 6];
    const active = await rt.start(planOf('spend'), { input: { items } });
    const result = await active.result;
    const events = await rt.store!.load(active.runId);
    expect(result.status).toBe('completed');
    // Priced by the workers' table: 5 × 0.001 + 40 × 0.002 = 0.085 once, then the server's
    // default answer 10 × 0.001 + 5 × 0.002 = 0.02 five times; the ledger (2 calls in flight at
    // most, each reserving ~0.08) stays within 0.35.
    expect(result.metadata.totalCost).toBeCloseTo(0.085 + 5 * 0.02, 9);
    const overruns = events.filter((e) => e.type === 'budget_overrun');
    expect(overruns.map((e) => (e.data as { actual: number }).actual)).toEqual([0.085]);
    const calls = events.filter((e) => e.type === 'step_completed' && /^m\[/.test(e.stepId ?? ''));
    expect(calls).toHaveLength(items.length);
    for (const c of calls) expect((c.data as { usage?: unknown }).usage).toMatchObject({ model: 'gpt-test', endpoint: 'cloud', input_tokens: expect.any(Number) });
    // The model calls went out from the workers, each with its own key (the owner has none).
    const sent = model.requests.slice(before);
    expect(sent).toHaveLength(items.length);
    for (const r of sent) expect(MODEL_KEYS.map((k) => `Bearer ${k}`)).toContain(r.headers.authorization);
    // The MCP tool ran on the workers' own servers, and each prompt carried its answer.
    const prompts = sent.map((r) => String((r.body.messages as { content: string }[]).at(-1)!.content)).sort();
    expect(prompts).toEqual(items.map((n) => `Say The sum of ${n} and 1 is ${n + 1}.`).sort());
    const { rows } = await client.query<{ worker: string; n: number }>(`SELECT worker, count(*)::int AS n FROM orch.attempts WHERE run_id = $1 GROUP BY worker`, [active.runId]);
    expect(rows.reduce((n, r) => n + r.n, 0)).toBe(2 * items.length);
    for (const r of rows) expect(workerIds).toContain(r.worker);
    const after = await everyRow();
    for (const s of SECRETS) expect(after).not.toContain(s);
    // The payload is cleared once the result is recorded.
    expect((await client.query(`SELECT 1 FROM orch.attempts WHERE run_id = $1 AND job IS NOT NULL`, [active.runId])).rowCount).toBe(0);
  }, 60_000);

  it('stops what would pass the budget: spend stays within it', async () => {
    const active = await rt.start(planOf('capped_spend'), { input: { items: [1, 2, 3] } });
    const result = await active.result;
    // Each call reserves ~0.08 and costs 0.02: a second fits once the first settled, a third never.
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/budget exceeded: budget cost <= 0\.10usd of policy capped/);
    expect(result.metadata.totalCost).toBeLessThanOrEqual(0.1);
    expect(result.metadata.totalCost).toBeGreaterThan(0);
  }, 60_000);
});
