/**
 * What each tool of `orch mcp serve` does (LANGUAGE.md §8.5), over the same library functions
 * the CLI commands use: each answers a structured result (the tool's `structuredContent`) and a
 * short text for people, or throws an `Error` whose message a person reads (the server turns it
 * into a tool error). Nothing here writes to stdout: that stream is the protocol's.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { allExplanations, explanationFor, formatPathErrors, preview, renderGraph, renderPreviewText, shortHash, validatePlanIR, type PlanIR } from '../../compiler/index.js';
import type { Diagnostic } from '../../language/index.js';
import { borrowedEdge, loadPlan, replay, Runtime, RuntimeUsageError, shownResult, type EdgeHandler, type ExecutionResult } from '../../runtime/index.js';
import { DEFAULT_RUNS, formatResult, replayFlags, shellWord, verifyFile, VerifyUsageError } from '../../verify/index.js';
import { CliError } from '../errors.js';
import type { CheckSession } from './checker.js';
import { isProjectOrchFile, outside, projectSourceHost, realPath } from '../project-host.js';
import { projectOrchFiles, projectScope, referenceFrom, type ScopeEntry, type ScopeKind } from '../project-scope.js';
import { readSource } from '../read-source.js';
import { typedInput } from '../input-option.js';
import { diagnosticJson, renderText, type DiagnosticJson } from '../render-diagnostics.js';
import { PlanHasErrors, selectPlan, type SelectedPlan } from '../commands/compiled-plan.js';
import { refuseDecisionWhenPeopleConfigured } from '../commands/people-decisions.js';
import { controlRuntime, journalExists, requireRun, withJournal } from '../db-option.js';
import { DamagedRuns, runEntries, shownRunEvents, timelineJson, type RunListEntry } from '../commands/run-json.js';

/** Where the tools work: the project folder (the server's working directory) and its journal. */
export interface ToolContext {
  readonly root: string;
  /** SQLite path (relative to `root`) or Postgres URL of the journal. */
  readonly db: string;
  /** The `check` tool's compiler session, kept between calls. */
  readonly checks: CheckSession;
  /**
   * The runs this server executes now (a `run` or `signal` call still waiting for the end), by id,
   * with the runtime executing each: `cancel` and `signal` go to it. The journal would see this
   * process as the owner and write the cancellation beside the live run, which then could not commit.
   */
  readonly live?: Map<string, Runtime>;
  /**
   * What the runs of this server talk to outside (MCP servers, channels), made once for the
   * process and lent to each run's runtime: a stdio server starts with the first call that needs
   * it and serves every later run (§8.3), not one start per run. The server's maker closes them.
   */
  readonly edges?: readonly EdgeHandler[];
}

export interface ToolAnswer<T> {
  readonly structured: T;
  readonly text: string;
}

/** A plan given by file, or as unsaved source standing for the file at `path`. */
export interface SourceArgs {
  readonly file?: string;
  readonly source?: string;
  readonly path?: string;
}

const UNTITLED = 'untitled.orch';

/**
 * A path of the project as the caller wrote it — relative to the root, or absolute — which is
 * how `orch check` run in the root names it in diagnostics. Paths outside the project are refused,
 * and so is one inside that a symbolic link takes outside (a checked-out repository's link to a
 * key file is not the project's).
 */
function projectPath(ctx: ToolContext, file: string): string {
  const abs = resolve(ctx.root, file);
  if (outside(ctx.root, abs) || outside(realPath(ctx.root), realPath(abs)))
    throw new CliError(`${file} is outside the project (${ctx.root}); this server works on the project in its working directory`);
  return isAbsolute(file) ? abs : relative(ctx.root, abs);
}

/**
 * A project `.orch` file, by `projectPath`: the tools read nothing else of the project. A
 * diagnostic quotes the text it is about (its message names the token, its code frame shows the
 * line), so checking `.env` or a handler module would hand its secrets to the caller.
 */
function orchPath(ctx: ToolContext, file: string): string {
  const rel = projectPath(ctx, file);
  const abs = resolve(ctx.root, rel);
  if (!isProjectOrchFile(ctx.root, abs))
    throw new CliError(`${file} is not an .orch file; this server reads only the project's .orch files`);
  return rel;
}

/**
 * A folder of the project (`.`: the whole project) as `check` takes it, like `orch check DIR`: its
 * project `.orch` files (the folders `capabilities` skips left out), named as `projectPath` names
 * files; null when `folder` is not a folder.
 */
function folderOrchPaths(ctx: ToolContext, folder: string): string[] | null {
  const abs = resolve(ctx.root, folder);
  if (statSync(abs, { throwIfNoEntry: false })?.isDirectory() !== true) return null;
  // The root itself is the project; any other folder must be in it (links followed).
  if (abs !== ctx.root) projectPath(ctx, folder);
  const found = projectOrchFiles(abs).filter((f) => isProjectOrchFile(ctx.root, f));
  if (found.length === 0) throw new CliError(`${folder}: a folder with no .orch file of the project under it`);
  return found.map((f) => (isAbsolute(folder) ? f : relative(ctx.root, f)));
}

/** Compiler paths are resolved against the process's working directory; the tools' against the root. */
function compilerPath(ctx: ToolContext, path: string): string {
  return isAbsolute(path) ? path : relative(process.cwd(), resolve(ctx.root, path)) || '.';
}

/** Diagnostics with their files relative to the project root (as `orch check` prints them there). */
function shown(ctx: ToolContext, diagnostics: readonly Diagnostic[]): Diagnostic[] {
  if (resolve(process.cwd()) === ctx.root) return [...diagnostics];
  return diagnostics.map((d) => (isAbsolute(d.file) ? d : { ...d, file: relative(ctx.root, resolve(d.file)) }));
}

/** A project file's text; an unusable one is named by its project path. */
async function readProjectSource(ctx: ToolContext, rel: string): Promise<string> {
  const abs = resolve(ctx.root, rel);
  try {
    return await readSource(abs);
  } catch (err) {
    throw err instanceof CliError ? new CliError(err.message.replace(abs, rel)) : err;
  }
}

async function sourceOf(ctx: ToolContext, args: SourceArgs): Promise<{ rel: string; text: string }> {
  if (args.source !== undefined) return { rel: orchPath(ctx, args.path ?? args.file ?? UNTITLED), text: args.source };
  if (args.file === undefined) throw new CliError('give `file` (a path in the project) or `source` (unsaved text, with `path` saying where it would be saved)');
  const rel = orchPath(ctx, args.file);
  return { rel, text: await readProjectSource(ctx, rel) };
}

function diagnosticsText(ctx: ToolContext, diagnostics: readonly Diagnostic[], sources: ReadonlyMap<string, string>, fileCount: number): string {
  const keyed = new Map([...sources].map(([rel, text]) => [compilerPath(ctx, rel), text]));
  return renderText(diagnostics, { sources: keyed, color: false, fileCount }).trimEnd();
}

// ── check ─────────────────────────────────────────────────────────────────────

export interface CheckResult {
  readonly diagnostics: readonly DiagnosticJson[];
  readonly errors: number;
  readonly warnings: number;
}

export async function checkTool(ctx: ToolContext, args: { files?: readonly string[]; file?: string; source?: string; path?: string }): Promise<ToolAnswer<CheckResult>> {
  const overlay = new Map<string, string>();
  const rels: string[] = [];
  // `file` alone is one more file; with `source`, like `path`, the file the source stands for.
  const standsFor = args.path ?? (args.source !== undefined ? args.file : undefined);
  for (const f of [...(args.files ?? []), ...(args.file !== undefined && args.source === undefined ? [args.file] : [])])
    for (const rel of folderOrchPaths(ctx, f) ?? [orchPath(ctx, f)]) if (!rels.includes(rel)) rels.push(rel);
  if (args.source !== undefined) {
    const rel = orchPath(ctx, standsFor ?? UNTITLED);
    overlay.set(resolve(ctx.root, rel), args.source);
    if (!rels.includes(rel)) rels.push(rel);
  }
  if (rels.length === 0) throw new CliError('give `files` (paths in the project) or `source` (unsaved text, with `path` saying where it would be saved)');
  const texts = new Map<string, string>();
  const byPath = new Map<string, string>();
  for (const rel of rels) {
    const abs = resolve(ctx.root, rel);
    const text = overlay.get(abs) ?? (await readProjectSource(ctx, rel));
    texts.set(rel, text);
    byPath.set(abs, text);
  }
  const diagnostics = shown(ctx, ctx.checks.check(rels.map((r) => compilerPath(ctx, r)), byPath, projectSourceHost(ctx.root)));
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.filter((d) => d.severity === 'warning').length;
  const text = diagnostics.length ? diagnosticsText(ctx, diagnostics, texts, rels.length) : `${rels.join(', ')}: no problems`;
  return { structured: { diagnostics: diagnostics.map(diagnosticJson), errors, warnings }, text };
}

// ── preview, compile, graph ───────────────────────────────────────────────────

async function selected(ctx: ToolContext, args: SourceArgs & { plan?: string }): Promise<SelectedPlan & { rel: string }> {
  const { rel, text } = await sourceOf(ctx, args);
  try {
    return { ...selectPlan(compilerPath(ctx, rel), text, args.plan, projectSourceHost(ctx.root)), rel };
  } catch (err) {
    if (err instanceof PlanHasErrors) {
      const diagnostics = shown(ctx, err.diagnostics);
      throw new CliError(`${diagnosticsText(ctx, diagnostics.filter((d) => d.severity === 'error'), new Map([[rel, text]]), 1)}\n${rel}: the plan has errors; fix them (the \`check\` tool lists them) first`);
    }
    if (err instanceof CliError) throw new CliError(err.message.replace('--plan NAME', 'the `plan` argument'));
    throw err;
  }
}

export async function previewTool(ctx: ToolContext, args: SourceArgs & { plan?: string; input?: unknown }): Promise<ToolAnswer<Record<string, unknown>>> {
  const { plan, model } = await selected(ctx, args);
  // Read as `orch preview --input` reads it (units, defaults); an input the plan does not take is an error.
  const p = preview(plan, model, args.input === undefined ? {} : { input: await typedInput(plan, args.input) });
  return { structured: p as unknown as Record<string, unknown>, text: renderPreviewText(p, false).trimEnd() };
}

export async function compileTool(ctx: ToolContext, args: SourceArgs & { plan?: string }): Promise<ToolAnswer<{ plan: string; ir: Record<string, unknown> }>> {
  const { plan } = await selected(ctx, args);
  const ir = JSON.parse(JSON.stringify(plan)) as Record<string, unknown>;
  const valid = validatePlanIR(ir);
  if (!valid.ok) throw new Error(`internal error: the compiled IR does not match the schema:\n${formatPathErrors(valid.errors)}`);
  return { structured: { plan: plan.plan, ir }, text: `plan ${plan.plan}: ${plan.steps.length} steps, IR ${String(ir.version)}` };
}

export async function graphTool(ctx: ToolContext, args: SourceArgs & { plan?: string }): Promise<ToolAnswer<{ plan: string; mermaid: string }>> {
  const { plan } = await selected(ctx, args);
  const mermaid = renderGraph(plan, 'mermaid');
  return { structured: { plan: plan.plan, mermaid }, text: mermaid.trimEnd() };
}

// ── explain ───────────────────────────────────────────────────────────────────

export function explainTool(args: { code?: string }): ToolAnswer<{ explanations: readonly Record<string, unknown>[] }> {
  if (args.code === undefined) {
    const all = allExplanations();
    return { structured: { explanations: all.map((e) => ({ ...e })) }, text: all.map((e) => `${e.code} (${e.severity}): ${e.title}`).join('\n') };
  }
  const e = explanationFor(args.code);
  if (!e) throw new CliError(`unknown diagnostic code '${args.code}'; known codes: ${allExplanations().map((x) => x.code).join(', ')}`);
  return {
    structured: { explanations: [{ ...e }] },
    text: `${e.code} (${e.severity}): ${e.title}\n\n${e.details}\n\nExample that triggers it:\n${e.trigger}\nFixed:\n${e.fix}\nSee ${e.reference}.`,
  };
}

// ── capabilities ──────────────────────────────────────────────────────────────

export interface ScopeItem {
  readonly kind: ScopeKind;
  readonly name: string;
  /** How a file at the project root refers to it, and the import that needs (null: none). */
  readonly reference: string;
  readonly import: string | null;
  readonly module: string;
  readonly std: boolean;
  readonly file: string;
  readonly line: number;
  readonly doc: string | null;
  readonly summary: string;
  readonly input: readonly { name: string; type: string; dataClass: string | null; optional: boolean }[];
  readonly output: string | null;
  readonly source: string;
}

export interface CapabilitiesResult {
  readonly capabilities: readonly ScopeItem[];
  readonly resources: readonly ScopeItem[];
  readonly policies: readonly ScopeItem[];
  readonly guardrails: readonly ScopeItem[];
  readonly types: readonly ScopeItem[];
}

export function capabilitiesTool(ctx: ToolContext, args: { kind?: ScopeKind; std?: boolean }): ToolAnswer<CapabilitiesResult> {
  const scope = projectScope(ctx.root);
  const at = resolve(ctx.root, 'plan.orch');
  const item = (e: ScopeEntry): ScopeItem => {
    const ref = referenceFrom(e, at);
    return {
      kind: e.kind, name: e.name, reference: ref.name, import: ref.import, module: e.module, std: e.std,
      file: e.std ? e.module : relative(ctx.root, e.file), line: e.line, doc: e.doc, summary: e.summary,
      input: e.input, output: e.output, source: e.source,
    };
  };
  const wanted = scope.entries.filter((e) => (args.kind === undefined || e.kind === args.kind) && (args.std !== false || !e.std)).map(item);
  const of = (k: ScopeKind) => wanted.filter((e) => e.kind === k);
  const result = { capabilities: of('capability'), resources: of('resource'), policies: of('policy'), guardrails: of('guardrail'), types: of('type') };
  const text = (['capabilities', 'resources', 'policies', 'guardrails', 'types'] as const)
    .filter((k) => result[k].length)
    .map((k) => `${k}:\n${result[k].map((e) => `  ${e.reference}  ${e.summary}${e.doc ? `  — ${e.doc}` : ''}`).join('\n')}`)
    .join('\n');
  return { structured: result, text: text || 'nothing declared' };
}

// ── verify ────────────────────────────────────────────────────────────────────

export async function verifyTool(
  ctx: ToolContext,
  args: SourceArgs & { plan?: string; runs?: number; seed?: number; invariant?: string; failures?: boolean },
): Promise<ToolAnswer<{ ok: boolean; seed: number; results: readonly Record<string, unknown>[] }>> {
  const { rel, text } = await sourceOf(ctx, args);
  const file = compilerPath(ctx, rel);
  const key = resolve(file);
  const imports = projectSourceHost(ctx.root);
  const seed = args.seed ?? Math.floor(Math.random() * 0x7fffffff);
  const verified = await verifyFile(file, {
    host: { readFile: (p) => (resolve(p) === key ? text : imports.readFile(p)) },
    runs: args.runs ?? DEFAULT_RUNS,
    seed,
    ...(args.plan !== undefined ? { plan: args.plan } : {}),
    ...(args.invariant !== undefined ? { invariant: args.invariant } : {}),
    ...(args.failures !== undefined ? { failures: args.failures } : {}),
  }).catch((err: unknown) => {
    if (err instanceof VerifyUsageError) throw new CliError(err.message);
    throw err;
  });
  if (!verified.ok) {
    const reason = verified.reason;
    if (reason.kind !== 'errors') throw new CliError(reason.message);
    const diagnostics = shown(ctx, reason.diagnostics);
    throw new CliError(`${diagnosticsText(ctx, diagnostics.filter((d) => d.severity === 'error'), new Map([[rel, text]]), 1)}\n${rel} has errors; fix them before verifying`);
  }
  const results = verified.results.map((r) => ({ ...r, file: relative(ctx.root, resolve(r.file)) }));
  const ok = results.every((r) => r.ok);
  // The replay line repeats what shapes the search, so its --seed finds the same case (as orch verify's).
  const shape = replayFlags({ runs: args.runs, failures: args.failures });
  const lines = verified.results.map((r) => formatResult(r, `orch verify ${shellWord(rel)} --plan ${r.plan}${shape}`));
  return { structured: { ok, seed, results }, text: lines.join('\n\n') || `no plan to verify in ${rel}` };
}


// ── runs and timelines ────────────────────────────────────────────────────────

function journal(ctx: ToolContext): string {
  return /^postgres(ql)?:\/\//.test(ctx.db) ? ctx.db : resolve(ctx.root, ctx.db);
}

/** `orch runs --json`, by the same code: each run with its version (`irHash`); a damaged run left out and named. */
export async function runsTool(
  ctx: ToolContext,
  args: { all?: boolean; limit?: number },
): Promise<ToolAnswer<{ runs: readonly RunListEntry[]; damaged?: readonly { runId: string; error: string }[] }>> {
  const db = journal(ctx);
  const damaged = new DamagedRuns();
  const runs = (await journalExists(db))
    ? await withJournal(db, async (j) => (await runEntries(j, (await j.listRuns(args.all === true, damaged.note)).slice(0, args.limit ?? 50), damaged.note)).filter((r) => !damaged.has(r.runId)))
    : [];
  const lines = runs.map((r) => `${r.runId}  ${r.plan}  ${r.status}  ${r.startedAt}${r.irHash ? `  ${shortHash(r.irHash)}` : ''}`);
  const text = [...(lines.length ? lines : ['no runs']), ...damaged.warnings()].join('\n');
  return { structured: { runs, ...(damaged.size > 0 ? { damaged: damaged.list() } : {}) }, text };
}

/** `orch timeline --json`, by the same code: the run's version (`irHash`) and every event. */
export async function timelineTool(ctx: ToolContext, args: { runId: string }) {
  const { row, events } = await withJournal(journal(ctx), shownRunEvents(args.runId));
  const structured = timelineJson(row, events);
  const version = structured.irHash ? ` version ${shortHash(structured.irHash)}` : '';
  const text = [`run ${args.runId} (${row.plan}): ${row.status}${version}`, ...structured.events.map((e) => `#${e.seq} ${new Date(e.ts).toISOString()} ${e.type}${e.stepId ? ` ${e.stepId}` : ''}`)].join('\n');
  return { structured, text };
}

// ── run, signal, cancel (only with --allow-run) ───────────────────────────────

/**
 * The runtime of a `run` (or a run `signal` continues), placed as `orch run` places it (§7.5): on a
 * Postgres journal its steps go to the `orch worker`s when one is live, else they run here.
 */
async function openRunner(ctx: ToolContext): Promise<Runtime> {
  try {
    return await Runtime.open({ db: journal(ctx), suspendOnApproval: true, placement: 'auto', ...(ctx.edges ? { edges: ctx.edges.map(borrowedEdge) } : {}) });
  } catch (err) {
    throw new CliError(`cannot open the runtime: ${(err as Error).message}`);
  }
}

async function finish(ctx: ToolContext, runtime: Runtime, begin: () => ReturnType<Runtime['start']>): Promise<ExecutionResult> {
  let runId: string | undefined;
  try {
    const active = await begin();
    runId = active.run.runId;
    ctx.live?.set(runId, runtime);
    // Every result here goes back to the client: as shown, a secret-class value reads `***`.
    return shownResult(active.run, await active.result);
  } catch (err) {
    if (err instanceof RuntimeUsageError) throw new CliError(err.message);
    throw err;
  } finally {
    if (runId !== undefined && ctx.live?.get(runId) === runtime) ctx.live.delete(runId);
    await runtime.close();
  }
}

function resultText(r: ExecutionResult): string {
  const waiting = r.status === 'paused' && r.waiting?.length ? `; waiting for ${r.waiting.join(', ')} (answer with the \`signal\` tool)` : '';
  return `run ${r.runId} (${r.planId}): ${r.status}${r.error ? ` — ${r.error}` : ''}${waiting}; ${r.metadata.completedSteps}/${r.metadata.totalSteps} steps completed`;
}

export async function runTool(ctx: ToolContext, args: { file: string; plan?: string; input?: unknown; consent?: readonly string[] }): Promise<ToolAnswer<ExecutionResult>> {
  const rel = projectPath(ctx, args.file);
  const abs = resolve(ctx.root, rel);
  if (!existsSync(abs)) throw new CliError(`${rel}: no such file`);
  // As the other tools read it: its errors (and those of what it imports) said without reading past the project's .orch files.
  if (rel.endsWith('.orch')) await selected(ctx, { file: rel, ...(args.plan !== undefined ? { plan: args.plan } : {}) });
  else if (!rel.endsWith('.json') || !realPath(abs).endsWith('.json')) throw new CliError(`${args.file} is neither an .orch file nor a compiled plan (.json)`);
  else {
    try {
      JSON.parse(readFileSync(abs, 'utf8'));
    } catch {
      // Not the parser's message: it quotes the file's text.
      throw new CliError(`${rel} is not JSON (a compiled plan is what \`orch compile\` writes)`);
    }
  }
  const loaded = await loadPlan(abs, args.plan);
  if (loaded.kind === 'usage') throw new CliError(loaded.message);
  if (loaded.kind === 'errors') {
    const diagnostics = shown(ctx, loaded.diagnostics.filter((d) => d.severity === 'error'));
    throw new CliError(`${diagnosticsText(ctx, diagnostics, new Map(), 1)}\n${rel} has errors; nothing was run`);
  }
  const runtime = await openRunner(ctx);
  const result = await finish(ctx, runtime, () => runtime.start(loaded.plan as PlanIR, { input: args.input ?? {}, consent: args.consent ?? [] }));
  return { structured: result, text: resultText(result) };
}

export async function signalTool(
  ctx: ToolContext,
  args: { runId: string; step: string; decision: 'approve' | 'reject'; comment?: string; by?: string },
): Promise<ToolAnswer<{ message: string; result: ExecutionResult | null }>> {
  const db = journal(ctx);
  const here = ctx.live?.get(args.runId);
  const elsewhere = await withJournal(db, async (j) => {
    const row = await requireRun(j, args.runId);
    if (['completed', 'failed', 'cancelled', 'timeout'].includes(row.status)) throw new CliError(`run ${args.runId} has already finished (${row.status})`);
    await refuseDecisionWhenPeopleConfigured(args.runId, args.step, row.ir, ctx.root);
    const s = replay(await j.load(args.runId)).steps.get(args.step);
    if (s && ['completed', 'failed', 'skipped', 'cancelled', 'timeout'].includes(s.status)) throw new CliError(`step ${args.step} has already finished (${s.status})`);
    return j.ownedElsewhere(args.runId);
  });
  const rt = here ?? (await controlRuntime(db));
  const r = await rt.signal(args.runId, { stepId: args.step, decision: args.decision, by: args.by ?? 'mcp', comment: args.comment ?? null });
  if (!here) await rt.close();
  if (!r.ok) throw new CliError(r.message);
  // A run this server (its `run` call) or another process executes goes on there.
  if (elsewhere || here) return { structured: { message: r.message, result: null }, text: r.message };
  // No process runs it (it stopped at the approval): continue it here, as `orch signal` does.
  const runtime = await openRunner(ctx);
  const result = await finish(ctx, runtime, () => runtime.resume(args.runId));
  return { structured: { message: r.message, result }, text: `${r.message}\n${resultText(result)}` };
}

export async function cancelTool(ctx: ToolContext, args: { runId: string; step?: string }): Promise<ToolAnswer<{ message: string }>> {
  const db = journal(ctx);
  await withJournal(db, (j) => requireRun(j, args.runId));
  const here = ctx.live?.get(args.runId);
  const rt = here ?? (await controlRuntime(db));
  try {
    const r = args.step !== undefined ? await rt.cancelStep(args.runId, args.step) : await rt.control(args.runId, 'cancel');
    if (!r.ok) throw new CliError(r.message);
    return { structured: { message: r.message }, text: r.message };
  } finally {
    if (!here) await rt.close();
  }
}
