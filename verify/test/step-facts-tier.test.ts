/**
 * `orch verify` judges guardrails as the runtime does (LANGUAGE.md §9.1): a model step's `step.tier`
 * is the higher of its resource's and its endpoint's, so a run that let a local resource send a
 * prompt to a cloud endpoint past a `forbid` on the cloud tier is a counterexample, not a pass.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../../compiler/index.js';
import { stepFacts } from '../monitor.js';

const dir = mkdtempSync(join(tmpdir(), 'orch-facts-tier-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the step facts verify’s guardrail monitor sees', () => {
  it('give a model step the higher of its resource’s and its endpoint’s tier', () => {
    writeFileSync(join(dir, 'orch.config.json'), JSON.stringify({ endpoints: { far: { api: 'openai', base_url: 'https://models.example.com/v1' }, near: { api: 'openai', base_url: 'http://127.0.0.1:11434/v1' } } }));
    writeFileSync(
      join(dir, 'main.orch'),
      `capability ask { kind llm  input { q: string }  output { text: string }  prompt "\${input.q}"  model "m"  requires llm }
resource box { kind local_device  provides llm  endpoint "far" }
resource lab { kind edge_cluster  provides gpu  endpoint "near" }
capability tune { kind llm  input { q: string }  output { text: string }  prompt "\${input.q}"  model "m"  requires gpu }
plan p {
  step a = ask(q: "hi")
  step b = tune(q: "hi")
  output { t: a.output.text, u: b.output.text }
}
`,
    );
    const out = compile({ entry: join(dir, 'main.orch') });
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const plan = out.plans[0]!;
    const [a, b] = plan.steps;
    expect(stepFacts(a!, plan, 'box')).toMatchObject({ placement: 'local_device', tier: 'cloud' });
    // A local endpoint on an edge resource: the resource's tier, the higher one.
    expect(stepFacts(b!, plan, 'lab')).toMatchObject({ placement: 'edge_cluster', tier: 'edge' });
  });
});
