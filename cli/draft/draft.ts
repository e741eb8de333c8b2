/**
 * `orch draft` end to end (LANGUAGE.md §8.5): the endpoint and model from the project's
 * orch.config, the prompt from the project's declarations, the loop (loop.ts) with the compiler
 * checking each answer as the file it will be, then the file written and its preview. The model
 * client is a parameter so tests can give their own; the CLI gives the configured endpoint's.
 * It never runs the plan.
 */
import { existsSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { dirname, relative, resolve, sep } from 'node:path';
import { checkFiles, compile, diskHost, preview, projectRootOf, renderPreviewText } from '../../compiler/index.js';
import { parse, type Diagnostic } from '../../language/index.js';
import { loadConfig, modelClientFor, redactConfigSecrets, Redactor, secretResolver, type EndpointConfig, type ModelClient } from '../../runtime/index.js';
import { CliError } from '../errors.js';
import { projectSourceHost } from '../project-host.js';
import { projectScope } from '../project-scope.js';
import { renderText } from '../render-diagnostics.js';
import { draftLoop, withDiagnosticsAsComments, type DraftFiles, type DraftRound } from './loop.js';
import { intentMessage, repairMessage, systemPrompt } from './prompt.js';

export const DEFAULT_DRAFT_FILE = 'draft.orch';
export const DEFAULT_MAX_ROUNDS = 4;
/** Used when neither --model nor the config's `draft.model` names one. */
const DEFAULT_MODELS: Record<EndpointConfig['api'], string> = { openai: 'gpt-4o-mini', anthropic: 'claude-sonnet-4-5' };
const MODEL_TIMEOUT_MS = 180_000;

export interface DraftOptions {
  readonly intent: string;
  /** Where the plan is written (relative to the working directory); default draft.orch. */
  readonly output?: string;
  readonly endpoint?: string;
  readonly model?: string;
  readonly maxRounds?: number;
  readonly force?: boolean;
}

export interface DraftIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Replaces the configured endpoint's client (tests). */
  readonly client?: (endpoint: EndpointConfig) => ModelClient;
}

export interface DraftReport {
  readonly file: string;
  readonly clean: boolean;
  readonly rounds: number;
  readonly errors: number;
}

/** What `draft` needs of the config: its endpoints and its optional `draft` section. */
async function chooseModel(root: string, opts: DraftOptions) {
  let config;
  try {
    config = await loadConfig(root);
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
  const endpoints = config.models?.endpoints ?? [];
  if (endpoints.length === 0)
    throw new CliError(
      `no model endpoint configured: add "endpoints" to ${config.file ?? `${root}/orch.config.json`}, e.g. { "endpoints": { "openai": { "api": "openai", "api_key": "secret:OPENAI_API_KEY" } } } (see docs/assistants.md)`,
      2,
    );
  const section = draftSection(config.file, root);
  const wanted = opts.endpoint ?? section.endpoint;
  const endpoint = wanted === undefined ? endpoints[0]! : endpoints.find((e) => e.name === wanted);
  if (!endpoint) throw new CliError(`no endpoint "${wanted}" in ${config.file} (endpoints: ${endpoints.map((e) => e.name).join(', ')})`, 2);
  const model = opts.model ?? section.model ?? DEFAULT_MODELS[endpoint.api];
  return { config, endpoint, model };
}

/** `"draft": { "endpoint", "model" }` of a JSON config (an Orch extension; docs/assistants.md). */
function draftSection(file: string | null, root: string): { endpoint?: string; model?: string } {
  void root;
  if (!file?.endsWith('.json')) return {};
  try {
    const raw = JSON.parse(diskHost.readFile(file) ?? '{}') as { draft?: { endpoint?: unknown; model?: unknown } };
    const d = raw.draft ?? {};
    return {
      ...(typeof d.endpoint === 'string' ? { endpoint: d.endpoint } : {}),
      ...(typeof d.model === 'string' ? { model: d.model } : {}),
    };
  } catch {
    return {};
  }
}

export async function runDraft(opts: DraftOptions, io: DraftIo): Promise<DraftReport> {
  const out = opts.output ?? DEFAULT_DRAFT_FILE;
  const abs = resolve(out);
  if (!out.endsWith('.orch')) throw new CliError(`-o ${out}: a plan file must end in .orch`, 2);
  if (!existsSync(dirname(abs))) throw new CliError(`-o ${out}: no folder ${dirname(out)}`, 2);
  const maxRounds = opts.maxRounds ?? DEFAULT_MAX_ROUNDS;
  const root = projectRootOf(dirname(abs));
  const { config, endpoint, model } = await chooseModel(root, opts);
  const redactor = new Redactor();
  redactConfigSecrets(config, redactor);
  let client: ModelClient;
  try {
    client = io.client ? io.client(endpoint) : modelClientFor(endpoint, secretResolver(config, redactor), { timeoutMs: MODEL_TIMEOUT_MS });
  } catch (err) {
    throw new CliError(`endpoint "${endpoint.name}": ${redactor.text((err as Error).message)}`, 2);
  }

  const scope = projectScope(root, { exclude: [abs] });
  const system = systemPrompt(scope.entries, abs, relative(root, abs) || out);
  const shownPath = out;
  const check = async (source: string): Promise<readonly Diagnostic[]> => {
    // The diagnostics go to the model: imports read only std and the project's .orch files.
    const diagnostics = await checkFiles([shownPath], async () => source, { imports: projectSourceHost(root) });
    const none = diagnostics.some((d) => d.severity === 'error') ? null : noPlan(shownPath, source);
    return none ? [...diagnostics, none] : diagnostics;
  };
  // A diagnostic may be in a file the draft imports (a module whose handler is missing): it keeps
  // that file's name and line, in the comments (from the draft's folder) and for the model.
  const files: DraftFiles = {
    own: (file) => resolve(file) === abs,
    name: (file) => relative(dirname(abs), resolve(file)).split(sep).join('/'),
  };
  const describe = (diagnostics: readonly Diagnostic[], source: string) =>
    renderText(diagnostics, { sources: new Map([[shownPath, source]]), color: false, fileCount: Math.max(1, new Set(diagnostics.map((d) => resolve(d.file))).size) }).trimEnd();
  // Named as the diagnostics text names them.
  const otherFiles = (diagnostics: readonly Diagnostic[]) => [...new Set(diagnostics.filter((d) => !files.own(d.file)).map((d) => d.file))];

  io.stderr(`orch draft: ${scope.entries.filter((e) => e.kind === 'capability').length} capabilities in scope; asking ${model} at endpoint "${endpoint.name}" (at most ${maxRounds} round${maxRounds === 1 ? '' : 's'})\n`);
  let lastRound: DraftRound | null = null;
  const usage = { calls: 0, input: 0, output: 0 };
  const usageLine = () => `model usage: ${usage.calls} call${usage.calls === 1 ? '' : 's'}, ${usage.input} input tokens, ${usage.output} output tokens\n`;
  let outcome;
  try {
    outcome = await draftLoop({
      system,
      intent: opts.intent,
      maxRounds,
      ask: async (sys, messages) => {
        const answer = await client.complete({ model, system: sys, messages, temperature: 0.2 });
        usage.calls++;
        usage.input += answer.input_tokens ?? 0;
        usage.output += answer.output_tokens ?? 0;
        return answer.text;
      },
      check,
      describe,
      firstMessage: intentMessage,
      repairMessage: (text, errors, diagnostics) => repairMessage(text, errors, shownPath, otherFiles(diagnostics)),
      onRound: (r) => {
        lastRound = r;
        const codes = [...new Set(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code))].join(', ');
        io.stderr(`round ${r.round}/${maxRounds}: ${r.errors === 0 ? 'no errors' : `${r.errors} error${r.errors === 1 ? '' : 's'} left (${codes})`}\n`);
      },
    });
  } catch (err) {
    const why = redactor.text((err as Error).message);
    const last = lastRound as DraftRound | null;
    if (!last) throw new CliError(`the model endpoint "${endpoint.name}" failed: ${why}`, 2);
    // Keep what the model wrote so far, with its diagnostics, as if the rounds had ended here.
    await write(abs, withDiagnosticsAsComments(last.source, last.diagnostics, last.round, files), out, opts.force === true, io);
    io.stderr(`${describe(last.diagnostics, last.source)}\n`);
    throw new CliError(`the model endpoint "${endpoint.name}" failed in round ${last.round + 1}: ${why}; wrote ${out} with ${last.errors} error${last.errors === 1 ? '' : 's'} left`, 1);
  }

  const { last, clean } = outcome;
  await write(abs, clean ? last.source : withDiagnosticsAsComments(last.source, last.diagnostics, last.round, files), out, opts.force === true, io);
  if (!clean) {
    io.stderr(`${describe(last.diagnostics.filter((d) => d.severity === 'error'), last.source)}\n`);
    io.stderr(`orch draft: wrote ${out} with ${last.errors} error${last.errors === 1 ? '' : 's'} left after ${last.round} round${last.round === 1 ? '' : 's'} (as comments at its top)\n`);
    io.stderr(usageLine());
    return { file: out, clean, rounds: last.round, errors: last.errors };
  }
  io.stderr(`orch draft: wrote ${out} (clean after ${last.round} round${last.round === 1 ? '' : 's'}); it was not run\n`);
  io.stderr(usageLine());
  io.stdout(previewOf(abs, last.source));
  return { file: out, clean, rounds: last.round, errors: 0 };
}

/**
 * §8.5 asks the model for a plan: an answer that checks clean but declares none (an empty answer,
 * prose without a fence that happens to parse, only types or capabilities) is an error of the
 * round like any other, sent back, and never a clean exit.
 */
function noPlan(file: string, source: string): Diagnostic | null {
  if (parse({ file, text: source }).module.declarations.some((d) => d.kind === 'PlanDecl')) return null;
  const at = { line: 1, column: 1, offset: 0 };
  return { code: 'E0001', severity: 'error', message: 'the draft declares no plan: answer with a `plan NAME { … }` that reaches the intent', file, range: { start: at, end: at } };
}

/**
 * §8.5 always writes the draft (exit 0 or 1, never "it exists"), so drafting again replaces the
 * last draft; a file already there is kept beside it as `FILE~` (a plan someone wrote is never
 * lost to a draft), unless `--force`.
 */
async function write(abs: string, text: string, shown: string, force: boolean, io: DraftIo): Promise<void> {
  try {
    if (!force && existsSync(abs)) {
      await rename(abs, `${abs}~`);
      io.stderr(`orch draft: kept the previous ${shown} as ${shown}~\n`);
    }
    await writeFile(abs, text);
  } catch (err) {
    throw new CliError(`cannot write ${shown}: ${(err as Error).message}`, 2);
  }
}

/** The preview of every plan of the clean draft (a draft without a plan says so). */
function previewOf(abs: string, source: string): string {
  const key = resolve(abs);
  const compiled = compile({ entry: abs, host: { readFile: (p) => (resolve(p) === key ? source : diskHost.readFile(p)) } });
  if (compiled.plans.length === 0) return 'the draft declares no plan\n';
  return compiled.plans.map((p) => renderPreviewText(preview(p, compiled.model), false)).join('\n');
}
