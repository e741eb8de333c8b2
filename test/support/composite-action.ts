/**
 * Runs a composite action's `run` steps as a GitHub runner would, for tests on a machine without
 * one: `${{ inputs.NAME }}` filled from the given inputs or the action's defaults, bash started as
 * the runner starts it, GITHUB_ACTION_PATH / GITHUB_OUTPUT / GITHUB_STEP_SUMMARY / GITHUB_WORKSPACE
 * set, and the action's outputs read back from the step outputs. Steps that `uses:` another action,
 * and any expression other than an input, are refused rather than guessed at.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

interface ActionMetadata {
  readonly inputs?: Record<string, { readonly default?: string }>;
  readonly outputs?: Record<string, { readonly value: string }>;
  readonly runs: { readonly using: string; readonly steps: readonly Record<string, unknown>[] };
}

export interface ActionRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly outputs: Record<string, string>;
  readonly summary: string;
}

export function readAction(dir: string): ActionMetadata {
  return parse(readFileSync(join(dir, 'action.yml'), 'utf8')) as ActionMetadata;
}

export function runCompositeAction(dir: string, given: Record<string, string>, opts: { cwd: string; env?: NodeJS.ProcessEnv }): ActionRun {
  const action = readAction(dir);
  if (action.runs.using !== 'composite') throw new Error(`not a composite action: ${action.runs.using}`);
  for (const name of Object.keys(given)) if (!(name in (action.inputs ?? {}))) throw new Error(`the action has no input "${name}"`);
  const input = (name: string): string => {
    if (!(name in (action.inputs ?? {}))) throw new Error(`the action reads an input it does not declare: ${name}`);
    return String(given[name] ?? action.inputs![name]!.default ?? '');
  };
  const expand = (s: string, context: (path: string) => string): string =>
    s.replace(/\$\{\{\s*([^}]*?)\s*\}\}/g, (_, expr: string) => context(expr));
  const inputsOnly = (expr: string): string => {
    const m = /^inputs\.([A-Za-z0-9_-]+)$/.exec(expr);
    if (!m) throw new Error(`expression not emulated: \${{ ${expr} }}`);
    return input(m[1]!);
  };

  const scratch = mkdtempSync(join(tmpdir(), 'orch-action-run-'));
  const stepOutputs: Record<string, Record<string, string>> = {};
  let stdout = '';
  let stderr = '';
  let status: number | null = 0;
  let summary = '';
  try {
    for (const [i, step] of action.runs.steps.entries()) {
      if (typeof step.run !== 'string') throw new Error(`step ${i}: only run steps are emulated`);
      if (step.shell !== 'bash') throw new Error(`step ${i}: only shell: bash is emulated`);
      const outputFile = join(scratch, `output-${i}`);
      const summaryFile = join(scratch, `summary-${i}`);
      writeFileSync(outputFile, '');
      writeFileSync(summaryFile, '');
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        ...opts.env,
        GITHUB_ACTIONS: 'true',
        GITHUB_ACTION_PATH: dir,
        GITHUB_WORKSPACE: opts.cwd,
        GITHUB_OUTPUT: outputFile,
        GITHUB_STEP_SUMMARY: summaryFile,
        RUNNER_TEMP: scratch,
      };
      for (const [k, v] of Object.entries((step.env ?? {}) as Record<string, string>)) env[k] = expand(String(v), inputsOnly);
      const cwd = resolve(opts.cwd, expand(String(step['working-directory'] ?? '.'), inputsOnly));
      // The runner's template for `shell: bash`.
      const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', expand(step.run, inputsOnly)], { cwd, env, encoding: 'utf8', maxBuffer: 1 << 28 });
      stdout += r.stdout;
      stderr += r.stderr;
      status = r.status;
      summary += readFileSync(summaryFile, 'utf8');
      if (typeof step.id === 'string') stepOutputs[step.id] = parseOutputs(readFileSync(outputFile, 'utf8'));
      if (status !== 0) break;
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const outputs: Record<string, string> = {};
  for (const [name, { value }] of Object.entries(action.outputs ?? {})) {
    outputs[name] = expand(value, (expr) => {
      const m = /^steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)$/.exec(expr);
      if (!m) throw new Error(`expression not emulated: \${{ ${expr} }}`);
      return stepOutputs[m[1]!]?.[m[2]!] ?? '';
    });
  }
  return { status, stdout, stderr, outputs, summary };
}

/** `name=value` lines, as the script writes them (the runner also takes heredocs; none are used). */
function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) out[line.slice(0, at)] = line.slice(at + 1);
  }
  return out;
}
