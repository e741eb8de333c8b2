/**
 * A command group (`orch auth`, `orch db`, `orch mcp`): it runs nothing itself, but its `--help`
 * says the exit codes like every other command's (docs/cli.md "Conventions").
 */
import type { Command } from 'commander';

export function commandGroup(program: Command, name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .addHelpText('after', `\nExit codes: those of the command run (orch ${name} COMMAND --help); 2 without a command or with an unknown one.`);
}
