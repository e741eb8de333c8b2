/**
 * The `orch` command line. Each command lives in its own module under `commands/` and registers
 * itself on the program; this entry loads the module of the command named on the command line
 * (all of them for help) and runs it through the shared core in `program.ts`.
 */
import type { Command } from 'commander';
import { loadCommands } from './commands/index.js';
import { createProgram, runCli } from './program.js';

export async function buildProgram(argv: readonly string[]): Promise<Command> {
  return createProgram(await loadCommands(argv));
}

/** Runs the CLI and resolves to the process exit code. Never throws. */
export function main(argv: readonly string[]): Promise<number> {
  return runCli(argv, loadCommands);
}
