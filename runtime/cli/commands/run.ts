// PLACEHOLDER — replaced by the owner of this command. Registers nothing usable yet.
import type { Command } from 'commander';
import { CliError } from '../errors.js';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('(not built yet)')
    .allowUnknownOption()
    .action(() => {
      throw new CliError('`orch run` is not built yet', 2);
    });
}
