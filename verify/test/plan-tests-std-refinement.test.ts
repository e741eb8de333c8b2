/**
 * LANGUAGE.md §9.2: a mock's CAP is "any capability the plan can call, an MCP tool (`alias.tool`)
 * or a std capability (`email`, `notify`, `http_request`)". A plan that sends through a
 * refinement of one (`capability mail from email { cost 0.01usd }`, §8.4) can call it all the
 * same: `mock email` answers the refinement's calls (after a mock of the refinement itself),
 * counts for E0906, and `calls(email)` lists them — as a mock of an MCP tool does for its
 * refinements. It was E0901 ("plan p never calls capability email") and E0906. The std approval
 * is still never mocked.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../../compiler/index.js';
import { runPlanTest } from '../index.js';

const dir = mkdtempSync(join(tmpdir(), 'orch-mock-refined-std-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PLAN = `
capability mail from email { cost 0.01usd }
capability ping from notify { }
capability ask_boss from approval { }
plan p {
  step a = mail(to: ["a@example.com"], subject: "s", text: "t")
  step b = ping(channel: "ops", text: "x") { after a }
  step c = mail(to: ["b@example.com"], subject: "s2", text: "t2") { after b }
}
plan gate {
  step ok = ask_boss(approver: "lead", summary: "go?")
}
`;

function compiled(test: string) {
  const file = join(dir, 'p.test.orch');
  writeFileSync(join(dir, 'p.orch'), PLAN);
  writeFileSync(file, `import "./p.orch" as p\n${test}`);
  return compile({ entry: file, navigation: false, tests: true });
}

describe('a mock of a std capability that the plan reaches through a refinement', () => {
  it('answers the refinement’s calls after its own mock, counts for E0906, and calls() lists them', async () => {
    const out = compiled(`test "t" {
  plan p.p
  mock email returns { delivered: true, channel: "email", message_id: "m-1" }
  mock p.mail where input.subject == "s2" returns { delivered: false, channel: "email", message_id: "own" }
  mock notify returns { delivered: true, channel: "ops" }
  expect a.output.message_id == "m-1" and c.output.message_id == "own" and b.completed
  expect len(calls(email)) == 2 and calls(email)[0].to == ["a@example.com"] and len(calls(notify)) == 1
}
`);
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const result = await runPlanTest(out.tests[0]!, { real: null });
    expect(result.failures).toEqual([]);
    expect(result.passed).toBe(true);
  });

  it('is still E0901 for a std capability the plan does not reach, and for the approval', () => {
    const out = compiled(`test "t" {
  plan p.gate
  mock approval returns { approved: true }
  mock email returns { delivered: true, channel: "email", message_id: "m-1" }
}
`);
    const errors = out.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.message}`);
    expect(errors).toEqual([expect.stringMatching(/^E0901 approval is an approval/), 'E0901 plan gate never calls capability "email"']);
  });
});
