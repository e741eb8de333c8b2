/**
 * How the extension starts the `orch` CLI: the one bundled in `server/dist/cli/main.js`, run by
 * the editor's own Node (`process.execPath`; in desktop VS Code that is Electron, which behaves as
 * Node with ELECTRON_RUN_AS_NODE=1), so nothing has to be on PATH. The `orch.cli.path` setting
 * replaces it with an installed command (`npx --no -- orch`, `/usr/local/bin/orch`).
 */
import * as vscode from 'vscode';

export interface CliInvocation {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Record<string, string>;
  /** What the user sees in logs: the command line without the long bundled path. */
  readonly label: string;
}

/** `orch.cli.path` split into a command and leading arguments; undefined for the bundled CLI. */
export function customCli(setting: string | undefined): { command: string; args: string[] } | undefined {
  const words = (setting ?? '').trim().match(/"[^"]*"|'[^']*'|\S+/g) ?? [];
  const unquoted = words.map((w) => (/^(["']).*\1$/.test(w) ? w.slice(1, -1) : w));
  const [command, ...args] = unquoted;
  return command ? { command, args } : undefined;
}

export function orchCli(context: vscode.ExtensionContext, args: readonly string[]): CliInvocation {
  const custom = customCli(vscode.workspace.getConfiguration('orch').get<string>('cli.path'));
  if (custom) return { command: custom.command, args: [...custom.args, ...args], env: {}, label: [custom.command, ...custom.args, ...args].join(' ') };
  return {
    command: process.execPath,
    args: [context.asAbsolutePath('server/dist/cli/main.js'), ...args],
    env: { ELECTRON_RUN_AS_NODE: '1' },
    label: ['orch', ...args].join(' '),
  };
}
