// PLACEHOLDER — replaced by the owner of this command. Registers nothing usable yet.
import type { Command } from 'commander';
import { CliError } from '../errors.js';

export function registerExplain(program: Command): void {
  program
    .command('explain')
    .description('(not built yet)')
    .allowUnknownOption()
    .action(() => {
      throw new CliError('`orch explain` is not built yet', 2);
    });
}
