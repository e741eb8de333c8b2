/**
 * The CLI core every entry shares: builds the `orch` program from command modules and runs it,
 * mapping failures to exit codes (0 ok, 1 the checked thing failed, 2 usage or I/O error).
 * Which command modules are loaded is the entry's choice: `main.ts` loads the one named on the
 * command line (all of them for help), `check-main.ts` only `check`.
 */
import { Command, CommanderError } from 'commander';
import { CliError } from './errors.js';

/** What each command module exports: adds its command(s) to the program. */
export type Register = (program: Command) => void;

export function createProgram(registers: readonly Register[]): Command {
  const program = new Command('orch')
    .description('Orch: check, compile, preview, run and verify .orch plans')
    .version('0.1.0')
    // A usage error is one line like every other error (`orch: …`), with where to look for usage.
    .configureOutput({ outputError: (text, write) => write(usageLine(text)) })
    .exitOverride();
  for (const register of registers) register(program);
  return program;
}

/** Commander's `error: unknown option '--x'\n` as `orch: unknown option '--x' (run with --help for usage)`. */
export function usageLine(text: string): string {
  return `orch: ${text.trim().replace(/^error: /, '').replace(/\s*\n\s*/g, ' ')} (run with --help for usage)\n`;
}

/** Runs the CLI and resolves to the process exit code. Never throws. */
export async function runCli(argv: readonly string[], load: (argv: readonly string[]) => Promise<readonly Register[]>): Promise<number> {
  try {
    const program = createProgram(await load(argv));
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
    // The runtime's JournalCorrupt, from whichever command read the damaged row: known by name,
    // since this core is also the `orch check` bundle's, which must not load the runtime.
    if (err instanceof Error && err.name === 'JournalCorrupt') {
      process.stderr.write(`orch: ${err.message}\n`);
      return 2;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`orch: internal error: ${message}\n`);
    if (process.env.ORCH_DEBUG) process.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
    return 2;
  }
}
