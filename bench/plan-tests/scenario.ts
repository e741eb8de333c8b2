/**
 * The scenario `npm run bench -- test` measures (issue #52): a renewal that waits 30 days, asks
 * three people, then charges three times through a rate-limited capability whose first call
 * fails five times (five retries with exponential backoff). Written once as an Orch plan with N
 * `test` blocks, once as the equivalent Inngest function (`inngest-anchor.ts`).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PLAN = `capability charge {
  kind service
  input { order: string, amount: money }
  output { ok: bool, id: string }
  handler "./handlers.js#charge"
  timeout 10s
  retry 5 backoff exponential 1s max 1h
  cost 0.001usd
  requires payments
  idempotent true
}

resource payments_api {
  kind cloud_region
  provides payments
  concurrency 1
}

policy paced {
  rate_limit charge 2 per 1m
}

plan renewal {
  input { order: string, amount: money }
  policy paced
  step cool_off = wait 30d
  step finance = approval(approver: "finance", summary: "Renew \${input.order}?") { after cool_off  timeout 40d }
  step legal = approval(approver: "legal", summary: "Renew \${input.order}?") { after cool_off  timeout 40d }
  step owner = approval(approver: "owner", summary: "Renew \${input.order}?") { after finance, legal  timeout 40d }
  step first = charge(order: input.order, amount: input.amount) { after owner }
  step second = charge(order: "\${input.order}-b", amount: input.amount) { after owner }
  step third = charge(order: "\${input.order}-c", amount: input.amount) { after owner }
  output { id: first.output.id }
}
`;

function testBlock(i: number): string {
  return `
test "renewal ${i}" {
  plan renewal
  input { order: "o-${i}", amount: ${10 + (i % 90)}usd }
  mock charge where input.order == "o-${i}" fails "card declined" times 5 then returns { ok: true, id: "c-${i}" }
  mock charge returns { ok: true, id: "c-other" }
  approve finance by "fran" at 1h
  approve legal by "lee" at 2d
  approve owner by "olga" at 3d
  expect run.status == "completed" and first.attempts == 6 and second.attempts == 1
  expect run.output.id == "c-${i}" and run.elapsed >= 33d
  expect len(calls(charge)) == 8
  expect always not first.started or owner.completed
}
`;
}

/** A fresh folder with the plan, its (never called) handler module and `tests` test blocks. */
export function writeScenario(tests: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'orch-bench-test-'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'handlers.js'), 'export async function charge() { throw new Error("a test never reaches the payment API"); }\n');
  writeFileSync(join(dir, 'renewal.orch'), PLAN);
  writeFileSync(join(dir, 'renewal.test.orch'), `import "./renewal.orch" as r\n${Array.from({ length: tests }, (_, i) => testBlock(i)).join('').replaceAll('plan renewal', 'plan r.renewal').replaceAll('mock charge', 'mock r.charge').replaceAll('calls(charge)', 'calls(r.charge)')}`);
  return dir;
}
