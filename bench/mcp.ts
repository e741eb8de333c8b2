/**
 * MCP tool calls (LANGUAGE.md §8.3): what Orch adds to a tool call over a bare SDK `callTool` on
 * the same server program (the executor's edge: hash check, arguments, output check, outcome),
 * measured interleaved in one process so both see the same machine; and calls/s through one
 * stdio server from a `for each … parallel 16` plan run by the real runtime.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { compile, type PlanIR } from '../compiler/index.js';
import { connectServer, lockProject, McpTools, Runtime, type AttemptRequest, type McpServerSpec } from '../runtime/index.js';
import { median, smoke, type BenchFigure } from './figure.js';

const require = createRequire(import.meta.url);
const everything = join(dirname(require.resolve('@modelcontextprotocol/server-everything/package.json')), 'dist', 'index.js');

const PAIRS = smoke(400, 4);
const WARMUP = smoke(50, 1);
const FANOUT = smoke(480, 16);

export async function bench(): Promise<BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'orch-bench-mcp-'));
  const spec: McpServerSpec = { transport: 'stdio', command: process.execPath, args: [everything], env: {} };
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  writeFileSync(join(dir, 'orch.config.json'), JSON.stringify({ mcp: { everything: { command: spec.command, args: spec.args } } }));
  writeFileSync(join(dir, 'bench.orch'), `import mcp "everything" as demo
plan one { step s = demo.get_sum(a: 1, b: 2) }
plan fan {
  input { items: list<int> }
  for each i in input.items parallel 16 {
    step s = demo.get_sum(a: i, b: 1)
  }
}
`);
  await lockProject(dir);
  const out = compile({ entry: join(dir, 'bench.orch') });
  const plans = new Map(out.plans.map((p) => [p.plan, p] as const));
  const one = plans.get('one')!;
  const fan = plans.get('fan')!;

  // Overhead: the executor's MCP edge against a bare client of its own, alternating call by call.
  const tools = new McpTools();
  const bare = await connectServer('everything', spec, { cwd: dir, secrets: () => undefined });
  const req: AttemptRequest = {
    runId: 'bench', stepId: 's', baseStepId: 's', attempt: 1, purpose: 'call', capability: one.capabilities['mcp.everything.get_sum']!,
    input: { a: 1, b: 2 }, resource: null, timeoutMs: null, secrets: {}, plan: one,
  };
  const viaOrch = () =>
    new Promise<void>((resolve, reject) => tools.start(req, (o) => (o.ok ? resolve() : reject(new Error(o.error)))));
  const viaSdk = async () => {
    await bare.client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } });
  };
  const orchMs: number[] = [];
  const sdkMs: number[] = [];
  for (let i = 0; i < WARMUP; i++) await Promise.all([viaOrch(), viaSdk()]);
  for (let i = 0; i < PAIRS; i++) {
    const order = i % 2 === 0 ? ([[viaOrch, orchMs], [viaSdk, sdkMs]] as const) : ([[viaSdk, sdkMs], [viaOrch, orchMs]] as const);
    for (const [fn, into] of order) {
      const t = performance.now();
      await fn();
      into.push(performance.now() - t);
    }
  }
  await tools.close();
  await bare.close();
  const overhead = median(orchMs) - median(sdkMs);

  // Throughput: one server, 16 calls in flight, the whole runtime (journal, scheduler, executor).
  const rt = await Runtime.open({ db: join(dir, 'runs.db'), workers: 1 });
  let callsPerSec = 0;
  try {
    await (await rt.start(fan as PlanIR, { input: { items: [1, 2, 3, 4] } })).result; // starts the server
    const t = performance.now();
    const result = await (await rt.start(fan, { input: { items: Array.from({ length: FANOUT }, (_, i) => i) } })).result;
    const s = (performance.now() - t) / 1000;
    if (result.status !== 'completed') throw new Error(`bench run ${result.status}: ${result.error}`);
    callsPerSec = FANOUT / s;
  } finally {
    await rt.close();
  }

  return [
    { name: `MCP tool call overhead over a bare SDK callTool, p50 (get-sum, ${PAIRS} interleaved pairs; SDK p50 ${median(sdkMs).toFixed(2)} ms)`, value: overhead, unit: 'ms', target: '≤ 1 ms', met: overhead <= 1 },
    { name: `MCP calls through one stdio server, parallel 16 (${FANOUT} get-sum steps, journaled)`, value: callsPerSec, unit: 'calls/s', target: '', met: true },
  ];
}
