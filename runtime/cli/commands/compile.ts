// PLACEHOLDER — replaced by the owner of this command. Registers nothing usable yet.
import type { Command } from 'commander';
import { CliError } from '../errors.js';

export function registerCompile(program: Command): void {
  program
    .command('compile')
    .description('(not built yet)')
    .allowUnknownOption()
    .action(() => {
      throw new CliError('`orch compile` is not built yet', 2);
    });
}
