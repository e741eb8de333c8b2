// PLACEHOLDER — replaced by the owner of this command. Registers nothing usable yet.
import type { Command } from 'commander';
import { CliError } from '../errors.js';

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('(not built yet)')
    .allowUnknownOption()
    .action(() => {
      throw new CliError('`orch check` is not built yet', 2);
    });
}
