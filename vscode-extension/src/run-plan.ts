/**
 * "Orch: Run Plan" and "Orch: Verify Plan (full trace)": the CLI on the plan's file, its output
 * streamed into the "Orch" output channel (shown without taking focus), the verdict as a
 * notification. Runs in the file's workspace folder, so the journal lands in its `.orch/`.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { orchCli } from './cli.js';

export type PlanCommand = 'run' | 'verify';

export interface PlanTarget {
  readonly uri: vscode.Uri;
  readonly plan?: string;
}

/** The arguments of `orch run|verify` for a plan file: input and context files found next to it. */
export function planArgs(command: PlanCommand, file: string, plan: string | undefined, inputFile: string): string[] {
  const args: string[] = [command, file];
  if (plan) args.push('--plan', plan);
  if (command === 'run') {
    const dir = dirname(file);
    if (inputFile && existsSync(join(dir, inputFile))) args.push('--input', `@${join(dir, inputFile)}`);
    if (existsSync(join(dir, 'context.json'))) args.push('--context', `@${join(dir, 'context.json')}`);
  }
  return args;
}

export class PlanRunner implements vscode.Disposable {
  private readonly output = vscode.window.createOutputChannel('Orch');
  private running = new Set<() => void>();

  constructor(private readonly context: vscode.ExtensionContext) {}

  async run(command: PlanCommand, target: PlanTarget): Promise<number | undefined> {
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === target.uri.toString());
    if (doc?.isDirty) await doc.save();
    const file = target.uri.fsPath;
    const folder = vscode.workspace.getWorkspaceFolder(target.uri)?.uri.fsPath ?? dirname(file);
    const inputFile = vscode.workspace.getConfiguration('orch').get<string>('run.inputFile') ?? 'input.json';
    const cli = orchCli(this.context, planArgs(command, file, target.plan, inputFile));
    this.output.show(true);
    this.output.appendLine(`$ ${cli.label}    (in ${folder})`);
    const started = Date.now();
    const code = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: `orch ${command} ${vscode.workspace.asRelativePath(target.uri)}` },
      () => this.spawn(cli.command, cli.args, folder, cli.env),
    );
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    this.output.appendLine(code === undefined ? `[orch ${command} could not start]` : `[orch ${command} exited with code ${code} after ${seconds}s]`);
    this.output.appendLine('');
    const what = command === 'run' ? 'run' : 'verification';
    if (code === 0) void vscode.window.showInformationMessage(`Orch: ${what} of ${target.plan ?? vscode.workspace.asRelativePath(target.uri)} succeeded.`);
    else void vscode.window.showWarningMessage(`Orch: ${what} ${code === undefined ? 'could not start' : `failed (exit ${code})`}; see the Orch output.`, 'Show Output')
      .then((c) => c && this.output.show());
    return code;
  }

  private spawn(command: string, args: readonly string[], cwd: string, env: Record<string, string>): Promise<number | undefined> {
    return new Promise((resolve) => {
      let child;
      try {
        child = spawn(command, args, { cwd, env: { ...process.env, ...env, FORCE_COLOR: '0', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (err) {
        this.output.appendLine(`cannot start ${command}: ${String(err)}`);
        resolve(undefined);
        return;
      }
      const kill = () => child.kill();
      this.running.add(kill);
      child.stdout.setEncoding('utf8').on('data', (s: string) => this.output.append(s));
      child.stderr.setEncoding('utf8').on('data', (s: string) => this.output.append(s));
      child.on('error', (err) => {
        this.output.appendLine(`cannot start ${command}: ${err.message}`);
      });
      child.on('close', (code) => {
        this.running.delete(kill);
        resolve(code ?? undefined);
      });
    });
  }

  showOutput(): void {
    this.output.show();
  }

  dispose(): void {
    for (const kill of this.running) kill();
    this.output.dispose();
  }
}
