/**
 * An `orch worker` holds a model step to the endpoint tier it was compiled for (LANGUAGE.md §9.1):
 * the owner's config makes endpoint "ep" an `edge` endpoint and the plan is compiled so; a worker
 * whose own orch.config.json calls "ep" `cloud` refuses the step before any request (a permanent
 * failure naming the endpoint and both tiers), and one whose config makes it `local` (its loopback
 * URL, no "tier") answers it. Real `orch worker` and `orch run --remote` processes, one Postgres
 * database, the scripted model server.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startModelServer, type ModelServer } from '../../test/support/model-server.js';
import { migratedPostgres, type MigratedPostgres } from '../../test/support/postgres.js';
import { orchAsync, tempDir } from './helpers.js';

let db: MigratedPostgres;
let model: ModelServer;
let root: string;

beforeAll(async () => {
  [db, model] = await Promise.all([migratedPostgres(), startModelServer()]);
  root = tempDir('orch-wtier-');
}, 120_000);
afterAll(async () => {
  await Promise.all([db?.stop(), model?.close()]);
});

const PLAN = `
capability chat {
  kind llm
  input { q: string }
  output { text: string }
  prompt "\${input.q}"
  model "gpt-test"
  endpoint "ep"
  retry 2 backoff fixed 1ms
}
plan p {
  step a = chat(q: "hello")
  output { text: a.output.text }
}
`;

function project(name: string, ep: object): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  writeFileSync(join(dir, 'orch.config.json'), JSON.stringify({ endpoints: { ep: { api: 'openai', base_url: model.openaiUrl, ...ep } } }));
  writeFileSync(join(dir, 'p.orch'), PLAN);
  return dir;
}

/** One worker on `dir`'s config runs the owner's plan; the worker is stopped before returning. */
async function runOnWorker(owner: string, workerDir: string, runId: string) {
  const w = orchAsync(['worker', '--db', db.url, '--project', workerDir, '--slots', '1'], workerDir);
  try {
    const r = await orchAsync(['run', 'p.orch', '--db', db.url, '--remote', '--json', '--run-id', runId], owner).done;
    const { rows } = await db.client.query<{ type: string; data: string }>(`SELECT type, data FROM orch.events WHERE run_id = $1 AND step_id = 'a' ORDER BY seq`, [runId]);
    return { r, events: rows.map((e) => ({ type: e.type, data: JSON.parse(e.data) as Record<string, unknown> })) };
  } finally {
    w.child.kill('SIGTERM');
    expect((await w.done).code).toBe(0);
  }
}

describe('a worker whose config gives the endpoint a higher tier', () => {
  it('refuses the step (permanent, no request); a worker that gives it a lower tier runs it', async () => {
    const owner = project('owner', { tier: 'edge' });
    const before = model.requests.length;

    const refused = await runOnWorker(owner, project('cloudy', { tier: 'cloud' }), 'tier-refused');
    expect(refused.r.code, refused.r.stderr).toBe(1);
    expect(model.requests.length).toBe(before);
    const started = refused.events.filter((e) => e.type === 'step_started');
    expect(started).toHaveLength(1); // never retried
    const failed = refused.events.find((e) => e.type === 'step_failed')!.data;
    expect(failed.permanent).toBe(true);
    expect(String(failed.error)).toMatch(new RegExp(`^model endpoint "ep" is tier cloud in this worker's .*cloudy/orch\\.config\\.json but the plan was compiled for tier edge: .*no request was made`));

    model.script({ answer: 'hi there', input_tokens: 3, output_tokens: 2 });
    const ran = await runOnWorker(owner, project('loopback', {}), 'tier-lower');
    expect(ran.r.code, ran.r.stderr).toBe(0);
    expect(JSON.parse(ran.r.stdout).output).toEqual({ text: 'hi there' });
    expect(model.requests.length).toBe(before + 1);
  }, 120_000);
});
