/**
 * The `orch` command line. Each command lives in its own module under `commands/` and registers
 * itself on the program; this file only assembles them and maps failures to exit codes
 * (0 ok, 1 the checked thing failed, 2 usage or I/O error).
 */
import { Command, CommanderError } from 'commander';
import { loadCommands } from './commands/index.js';
import { CliError } from './errors.js';

export async function buildProgram(argv: readonly string[]): Promise<Command> {
  const program = new Command('orch')
    .description('Orch: check, compile, preview, run and verify .orch plans')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of await loadCommands(argv)) register(program);
  return program;
}

/** Runs the CLI and resolves to the process exit code. Never throws. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    const program = await buildProgram(argv);
    await program.parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit with code 0; usage errors with 2.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof CliError) {
      process.stderr.write(`orch: ${err.message}\n`);
      return err.exitCode;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`orch: internal error: ${message}\n`);
    if (process.env.ORCH_DEBUG) process.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
    return 2;
  }
}
