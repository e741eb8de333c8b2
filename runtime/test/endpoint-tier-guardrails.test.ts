/**
 * LANGUAGE.md §9.1: "The step's tier for guardrails, placement and §9.3 is the higher of its
 * resource's tier and its endpoint's tier" — at run time too. A `forbid` rule the compiler cannot
 * decide (it reads the run's input) is judged before the step starts: a model step on a local
 * resource whose endpoint is a cloud one is a cloud step there, and its prompt is never sent.
 * The real compiler, runtime (SQLite journal), model handler and HTTP client; a scripted model server.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, type PlanIR } from '../../compiler/index.js';
import { startModelServer, type ModelServer } from '../../test/support/model-server.js';
import { loadConfig, Runtime } from '../index.js';

const SOURCE = `
capability ask { kind llm  input { q: string }  output { text: string }  prompt "\${input.q}"  model "m"  requires llm }
resource box { kind local_device  provides llm  endpoint "far" }
guardrail no_cloud_when_strict {
  severity blocking
  forbid step where step.tier == cloud and input.strict
  message "strict runs stay off the cloud"
}
plan p {
  input { strict: bool }
  guardrails no_cloud_when_strict
  step a = ask(q: "hi")
  output { t: a.output.text }
}
`;

let dir: string;
let model: ModelServer;
let rt: Runtime;
let plan: PlanIR;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'orch-tier-guard-'));
  model = await startModelServer();
  writeFileSync(join(dir, 'orch.config.json'), JSON.stringify({ endpoints: { far: { api: 'openai', base_url: model.openaiUrl, tier: 'cloud' } }, prices: { m: { input_per_mtok: 1, output_per_mtok: 1 } } }));
  writeFileSync(join(dir, 'main.orch'), SOURCE);
  const out = compile({ entry: join(dir, 'main.orch') });
  expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  plan = out.plans[0]!;
  expect(plan.steps[0]!.binding).toMatchObject({ resource: 'box', tier: 'cloud', endpoint: 'far', endpoint_tier: 'cloud' });
  rt = await Runtime.open({ db: join(dir, 'runs.db'), workers: 1 });
}, 60_000);
afterAll(async () => {
  await rt?.close();
  await model?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('run-time guardrails see a model step at its endpoint’s tier (§9.1)', () => {
  it('a forbid on the cloud tier stops a step whose local resource sends the prompt to a cloud endpoint, before any request', async () => {
    const config = await loadConfig(dir);
    const strict = await (await rt.start(plan, { input: { strict: true }, config })).result;
    expect(strict.status).toBe('failed');
    expect(JSON.stringify(strict.error)).toContain('no_cloud_when_strict');
    expect(model.requests).toHaveLength(0);
    // The same plan where the rule does not apply: the prompt goes to its endpoint.
    const relaxed = await (await rt.start(plan, { input: { strict: false }, config })).result;
    expect(relaxed.status).toBe('completed');
    expect(model.requests).toHaveLength(1);
  });
});
