/**
 * Tasks of type `orch` (`orch check`, `run`, `verify`) with the bundled CLI and the `$orch`
 * problem matcher, which reads `file:line:col: severity[CODE]: message` — `orch check`'s lines.
 * The provider offers "check" (every .orch file) for each workspace folder; tasks.json can name
 * any command. Processes, not a shell: the bundled CLI needs nothing on PATH.
 */
import * as vscode from 'vscode';
import { orchCli } from './cli.js';

export interface OrchTaskDefinition extends vscode.TaskDefinition {
  readonly type: 'orch';
  readonly command: 'check' | 'run' | 'verify';
  readonly file?: string;
  readonly plan?: string;
  readonly args?: readonly string[];
}

/** The .orch files `orch check` looks at when a task names none. */
async function orchFiles(folder: vscode.WorkspaceFolder): Promise<string[]> {
  const found = await vscode.workspace.findFiles(new vscode.RelativePattern(folder, '**/*.orch'), '**/{node_modules,.git,dist}/**', 2000);
  return found.map((u) => vscode.workspace.asRelativePath(u, false)).sort();
}

export class OrchTaskProvider implements vscode.TaskProvider {
  constructor(private readonly context: vscode.ExtensionContext) {}

  async provideTasks(): Promise<vscode.Task[]> {
    const tasks: vscode.Task[] = [];
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      const files = await orchFiles(folder);
      if (files.length > 0) tasks.push(this.task({ type: 'orch', command: 'check' }, folder, files));
    }
    return tasks;
  }

  async resolveTask(task: vscode.Task): Promise<vscode.Task | undefined> {
    const def = task.definition as OrchTaskDefinition;
    if (def.type !== 'orch' || !def.command) return undefined;
    const folder = typeof task.scope === 'object' ? task.scope : vscode.workspace.workspaceFolders?.[0];
    if (!folder) return undefined;
    return this.task(def, folder, def.command === 'check' && !def.file ? await orchFiles(folder) : []);
  }

  /** `files`: what `check` without a `file` checks (paths relative to the folder). */
  task(def: OrchTaskDefinition, folder: vscode.WorkspaceFolder, files: readonly string[]): vscode.Task {
    const args: string[] = [def.command];
    if (def.file) args.push(def.file);
    else if (def.command === 'check') args.push(...files);
    if (def.plan) args.push('--plan', def.plan);
    args.push(...(def.args ?? []));
    const cli = orchCli(this.context, args);
    const execution = new vscode.ProcessExecution(cli.command, [...cli.args], { cwd: folder.uri.fsPath, env: cli.env });
    const task = new vscode.Task(def, folder, def.file ? `${def.command} ${def.file}` : def.command, 'orch', execution, ['$orch']);
    if (def.command === 'check') task.group = vscode.TaskGroup.Build;
    task.presentationOptions = { reveal: vscode.TaskRevealKind.Silent, clear: true };
    return task;
  }
}
