// PLACEHOLDER — replaced by the owner of this command. Registers nothing usable yet.
import type { Command } from 'commander';
import { CliError } from '../errors.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('(not built yet)')
    .allowUnknownOption()
    .action(() => {
      throw new CliError('`orch serve` is not built yet', 2);
    });
}
