/**
 * `orch mcp serve`: Orch's own MCP server (LANGUAGE.md §8.5), built on the official SDK's
 * `McpServer`. Every tool declares an input and an output schema and answers
 * `structuredContent` plus a text for people; a failure is a tool error (`isError`) carrying
 * the message a person would read — never a crash of the server. `run`, `signal` and `cancel`
 * exist only with `--allow-run` (without it they are registered disabled: not listed, and a
 * call is a tool error saying how to allow them).
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ExecutionResult } from '../../runtime/index.js';
import { z } from 'zod';
import { CheckSession } from './checker.js';
import * as tools from './tools.js';
import type { ToolAnswer, ToolContext } from './tools.js';

export interface OrchMcpOptions extends Omit<ToolContext, 'checks'> {
  /** Expose `run`, `signal` and `cancel`. */
  readonly allowRun: boolean;
  readonly version: string;
}

const position = z.object({ line: z.number().int(), column: z.number().int() });
const diagnostic = z.object({
  code: z.string(),
  severity: z.enum(['error', 'warning', 'info', 'hint']),
  message: z.string(),
  file: z.string(),
  range: z.object({ start: position, end: position }),
  // Where else it is about (E0102: the first declaration), as `orch check --format json` has it.
  related: z.array(z.object({ message: z.string(), file: z.string(), range: z.object({ start: position, end: position }) })).optional(),
});

/**
 * Unsaved source is at most this many characters (a tool error beyond): checking takes memory
 * in proportion (about 150 bytes a character), and a server that runs out of it ends.
 */
export const MAX_SOURCE_CHARS = 4_000_000;
const unsaved = (what: string) => z.string().max(MAX_SOURCE_CHARS, `source: at most ${MAX_SOURCE_CHARS} characters`).optional().describe(what);

const sourceArgs = {
  file: z.string().optional().describe('path of an .orch file, relative to the project root'),
  source: unsaved('unsaved .orch source to use instead of the file on disk'),
  path: z.string().optional().describe('with `source`: the file it stands for (imports resolve from there); default untitled.orch'),
  plan: z.string().optional().describe('the plan, when the file declares several'),
};

const scopeItem = z.object({
  kind: z.enum(['capability', 'resource', 'policy', 'guardrail', 'type']),
  name: z.string(),
  reference: z.string(),
  import: z.string().nullable(),
  module: z.string(),
  std: z.boolean(),
  file: z.string(),
  line: z.number().int(),
  doc: z.string().nullable(),
  summary: z.string(),
  input: z.array(z.object({ name: z.string(), type: z.string(), dataClass: z.string().nullable(), optional: z.boolean() })),
  output: z.string().nullable(),
  source: z.string(),
});

/** §9.1: who started a run (`plan_created.started_by`). */
const starter = z.object({ subject: z.string(), issuer: z.string(), method: z.string(), name: z.string().optional() });

/** Every way a run's result can end; the assertion below breaks the typecheck when the runtime adds one. */
const RESULT_STATUSES = ['completed', 'failed', 'cancelled', 'timeout', 'paused', 'interrupted'] as const;
const everyStatus: Exclude<ExecutionResult['status'], (typeof RESULT_STATUSES)[number]> extends never ? true : false = true;
void everyStatus;

const executionResult = {
  planId: z.string(),
  runId: z.string(),
  status: z.enum(RESULT_STATUSES),
  /** §9.1: who started the run. */
  started_by: starter.optional(),
  steps: z.array(z.record(z.string(), z.unknown())),
  output: z.unknown(),
  error: z.string().nullable(),
  waiting: z.array(z.string()).optional(),
  metadata: z.record(z.string(), z.unknown()),
  startedAt: z.string(),
  completedAt: z.string(),
};

const runEntry = z.object({
  runId: z.string(),
  plan: z.string(),
  status: z.string(),
  started_by: starter.optional(),
  startedAt: z.string(),
  completedAt: z.string().nullable(),
  duration: z.number().nullable(),
  cost: z.number(),
  events: z.number(),
  irHash: z.string().nullable(),
  parentRunId: z.string().optional(),
});

/** The answer as MCP wants it: structured content, and the same for people as text. */
function answered<T>(a: ToolAnswer<T>): CallToolResult {
  return { content: [{ type: 'text', text: a.text }], structuredContent: a.structured as Record<string, unknown> };
}

/** Any failure of a tool, as a tool error with the message a person reads. */
function failed(err: unknown): CallToolResult {
  const message = err instanceof Error ? err.message : String(err);
  if (process.env.ORCH_DEBUG && err instanceof Error) process.stderr.write(`${err.stack ?? message}\n`);
  return { content: [{ type: 'text', text: message }], isError: true };
}

function guarded<A>(f: (args: A) => ToolAnswer<unknown> | Promise<ToolAnswer<unknown>>) {
  return async (args: A): Promise<CallToolResult> => {
    try {
      return answered(await f(args));
    } catch (err) {
      return failed(err);
    }
  };
}

const INSTRUCTIONS = `Orch checks, previews, verifies and runs .orch plans of the project in this server's working directory.
Write a plan, call \`check\` (pass unsaved text as \`source\` with its \`path\`) until it has no errors, then \`preview\` and \`verify\` it.
\`capabilities\` lists what a plan can use (capabilities with their input and output types, resources, policies, guardrails) and how to import each.
\`explain\` explains a diagnostic code. Running plans (\`run\`, \`signal\`, \`cancel\`) needs the server started with --allow-run.`;

export function createOrchMcpServer(options: OrchMcpOptions): McpServer {
  const ctx: ToolContext = { root: options.root, db: options.db, checks: new CheckSession(), live: new Map(), ...(options.edges ? { edges: options.edges } : {}) };
  const server = new McpServer({ name: 'orch', version: options.version }, { instructions: INSTRUCTIONS });
  registerAuthoringTools(server, ctx);
  registerJournalTools(server, ctx);
  const runTools = registerRunTools(server, ctx);
  if (!options.allowRun) {
    for (const t of runTools) t.disable();
    explainDisabled(server, new Set(RUN_TOOLS));
  }
  return server;
}

const RUN_TOOLS = ['run', 'signal', 'cancel'] as const;

/** What a call of `run`, `signal` or `cancel` answers on a server started without --allow-run. */
function notAllowed(tool: string): CallToolResult {
  return failed(new Error(`the ${tool} tool is off: this server was started without --allow-run. Restart it as \`orch mcp serve --allow-run\` to let an assistant run plans and act on runs.`));
}

type RawHandler = (request: { params?: { name?: unknown } }, extra: unknown) => Promise<unknown>;

/**
 * A disabled tool is unlisted, and the SDK answers a call of it with a tool error reading "MCP
 * error -32602: Tool run disabled", which reads as a broken protocol and says nothing of the
 * flag. Its tools/call handler is wrapped so that those calls are told how to allow them instead.
 * (The SDK offers no public way to read the handler; should it move, the call keeps the SDK's
 * answer and cli/test/mcp-allow-run.test.ts fails.)
 */
function explainDisabled(server: McpServer, names: ReadonlySet<string>): void {
  const handlers = (server.server as unknown as { _requestHandlers?: Map<string, RawHandler> })._requestHandlers;
  const sdk = handlers?.get('tools/call');
  if (!handlers || !sdk) return;
  handlers.set('tools/call', async (request, extra) => {
    const name = request.params?.name;
    return typeof name === 'string' && names.has(name) ? notAllowed(name) : sdk(request, extra);
  });
}

const readOnly = { readOnlyHint: true, openWorldHint: false } as const;

/** The tools that write and check plans from files alone: check, preview, compile, graph, explain, capabilities, verify. */
function registerAuthoringTools(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'check',
    {
      title: 'Check .orch files',
      description: 'Check .orch files (or unsaved source) like `orch check --format json`: syntax, names, types, placement, guardrails. Returns every diagnostic with its code (E0201 …), file and 1-based range.',
      inputSchema: {
        files: z.array(z.string()).optional().describe('paths of .orch files (or folders: every .orch file under them; "." the whole project), relative to the project root'),
        file: z.string().optional().describe('one .orch file (with `source`: the file the source stands for, like `path`)'),
        source: unsaved('unsaved .orch source, checked as the file at `path`'),
        path: z.string().optional().describe('with `source`: the file it stands for (imports resolve from there); default untitled.orch'),
      },
      outputSchema: { diagnostics: z.array(diagnostic), errors: z.number().int(), warnings: z.number().int() },
      annotations: readOnly,
    },
    guarded((args) => tools.checkTool(ctx, args)),
  );

  server.registerTool(
    'preview',
    {
      title: 'Preview a plan',
      description: 'What a plan will do before it runs (`orch preview --format json`): stages, parallel groups, each step\'s resource with the placement rationale, estimates against budgets, guardrail verdicts, consent scopes, triggers.',
      inputSchema: { ...sourceArgs, input: z.record(z.string(), z.unknown()).optional().describe('plan input: resolves conditions and fan-out sizes that depend only on it') },
      // The preview has more than these keys (policy, blocks, consent, triggers …): an open object.
      outputSchema: z.looseObject({
        plan: z.string(),
        module: z.string(),
        goal: z.string().nullable(),
        stages: z.array(z.looseObject({ index: z.number(), steps: z.array(z.string()) })),
        steps: z.array(z.record(z.string(), z.unknown())),
        estimates: z.unknown(),
        guardrails: z.unknown(),
      }),
      annotations: readOnly,
    },
    guarded((args) => tools.previewTool(ctx, args)),
  );

  server.registerTool(
    'compile',
    {
      title: 'Compile a plan to its IR',
      description: 'The plan\'s IR (orch.plan/v3 JSON, schema-validated), as `orch compile` writes it.',
      inputSchema: sourceArgs,
      outputSchema: { plan: z.string(), ir: z.record(z.string(), z.unknown()) },
      annotations: readOnly,
    },
    guarded((args) => tools.compileTool(ctx, args)),
  );

  server.registerTool(
    'graph',
    {
      title: 'Dependency graph (Mermaid)',
      description: 'The plan\'s step graph as a Mermaid flowchart.',
      inputSchema: sourceArgs,
      outputSchema: { plan: z.string(), mermaid: z.string() },
      annotations: readOnly,
    },
    guarded((args) => tools.graphTool(ctx, args)),
  );

  server.registerTool(
    'explain',
    {
      title: 'Explain a diagnostic code',
      description: 'The long explanation of a diagnostic code (e.g. E0301) with an example that triggers it and its fix; without a code, every code.',
      inputSchema: { code: z.string().optional().describe('a diagnostic code such as E0201 (case-insensitive)') },
      outputSchema: {
        explanations: z.array(z.object({ code: z.string(), severity: z.string(), title: z.string(), details: z.string(), trigger: z.string(), fix: z.string(), reference: z.string() })),
      },
      annotations: readOnly,
    },
    guarded((args) => tools.explainTool(args)),
  );

  server.registerTool(
    'capabilities',
    {
      title: 'What a plan can use',
      description: 'Every capability (with its input and output types), resource, policy, guardrail and type declared in the project\'s .orch files and in std, with its doc, source, and the import and name a plan uses for it.',
      inputSchema: {
        kind: z.enum(['capability', 'resource', 'policy', 'guardrail', 'type']).optional().describe('only this kind'),
        std: z.boolean().optional().describe('include std declarations (default true)'),
      },
      outputSchema: { capabilities: z.array(scopeItem), resources: z.array(scopeItem), policies: z.array(scopeItem), guardrails: z.array(scopeItem), types: z.array(scopeItem) },
      annotations: readOnly,
    },
    guarded((args) => tools.capabilitiesTool(ctx, args)),
  );

  server.registerTool(
    'verify',
    {
      title: 'Verify invariants',
      description: 'Explore simulated executions of a plan and check its invariants (`orch verify --format json`); a violated invariant comes with a minimal counterexample (the scenario\'s choices and the trace up to the violation).',
      inputSchema: {
        ...sourceArgs,
        runs: z.number().int().min(1).max(100_000).optional().describe('scenarios to explore per plan (default 200)'),
        seed: z.number().int().optional().describe('generator seed; the same seed gives the same result'),
        invariant: z.string().optional().describe('check only this invariant'),
        failures: z.boolean().optional().describe('explore failures, timeouts and rejections (default true)'),
      },
      outputSchema: { ok: z.boolean(), seed: z.number(), results: z.array(z.record(z.string(), z.unknown())) },
      annotations: readOnly,
    },
    guarded((args) => tools.verifyTool(ctx, args)),
  );
}

/** The tools that read the journal: runs, timeline. */
function registerJournalTools(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'runs',
    {
      title: 'Runs in the journal',
      description: 'The runs recorded in the project\'s journal, newest first (`orch runs --json`); a run whose journal is damaged is left out and named under `damaged`.',
      inputSchema: { all: z.boolean().optional().describe('include sub-plan runs'), limit: z.number().int().min(1).optional().describe('at most this many (default 50)') },
      outputSchema: { runs: z.array(runEntry), damaged: z.array(z.object({ runId: z.string(), error: z.string() })).optional().describe('runs whose journal is damaged, left out of the list') },
      annotations: readOnly,
    },
    guarded((args) => tools.runsTool(ctx, args)),
  );

  server.registerTool(
    'timeline',
    {
      title: 'Timeline of a run',
      description: 'Every journal event of a run with its time (`orch timeline --json`).',
      inputSchema: { runId: z.string().describe('run id') },
      outputSchema: {
        runId: z.string(),
        plan: z.string(),
        status: z.string(),
        irHash: z.string().nullable(),
        // Each event as the journal holds it (orch.events/v2: ts in epoch ms).
        events: z.array(z.object({ runId: z.string(), seq: z.number(), ts: z.number(), type: z.string(), stepId: z.string().nullable(), data: z.unknown() })),
      },
      annotations: readOnly,
    },
    guarded((args) => tools.timelineTool(ctx, args)),
  );
}

/** The tools that run plans and act on runs (run, signal, cancel): disabled unless --allow-run. */
function registerRunTools(server: McpServer, ctx: ToolContext) {
  const [run, signal, cancel] = RUN_TOOLS;
  return [
    server.registerTool(
      run,
      {
        title: 'Run a plan',
        description: 'Execute a plan of the project with its durable journal and wait for the result (`orch run --json`). A run that reaches an approval stops as `paused`; answer it with `signal`.',
        inputSchema: {
          file: z.string().describe('.orch file (or compiled plan .json), relative to the project root'),
          plan: z.string().optional(),
          input: z.record(z.string(), z.unknown()).optional().describe('the plan input'),
          consent: z.array(z.string()).optional().describe('consent scopes granted to the run'),
        },
        outputSchema: z.looseObject(executionResult),
        annotations: { destructiveHint: true, openWorldHint: true },
      },
      guarded((args) => tools.runTool(ctx, args)),
    ),
    server.registerTool(
      signal,
      {
        title: 'Answer an approval',
        description: 'Approve or reject a waiting approval step of a run (`orch signal RUN STEP approve|reject`); a run no process executes continues here and its result is returned. Refused when the project configures people (an "auth" block): they decide in the dashboard or with their API token.',
        inputSchema: {
          runId: z.string(),
          step: z.string().describe('the approval step id (`id[i]` inside for each)'),
          decision: z.enum(['approve', 'reject']),
          comment: z.string().optional(),
          by: z.string().optional().describe('who decides (recorded with the decision; default "mcp")'),
        },
        outputSchema: { message: z.string(), result: z.looseObject(executionResult).nullable() },
        annotations: { destructiveHint: true, openWorldHint: true },
      },
      guarded((args) => tools.signalTool(ctx, args)),
    ),
    server.registerTool(
      cancel,
      {
        title: 'Cancel a run or one step',
        description: 'Cancel a run (running steps get their abort signal) or, with `step`, only that step (`orch cancel RUN [--step STEP]`).',
        inputSchema: { runId: z.string(), step: z.string().optional() },
        outputSchema: { message: z.string() },
        annotations: { destructiveHint: true, openWorldHint: false },
      },
      guarded((args) => tools.cancelTool(ctx, args)),
    ),
  ];
}
