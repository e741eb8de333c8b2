/**
 * `orch db migrate [--db URL]`: creates or upgrades the Orch schema of a Postgres database
 * (LANGUAGE.md §7.5). Idempotent and safe to run from several machines at once: each migration is
 * applied once, under an advisory lock. SQLite journals need no such step (they create their
 * tables on open).
 */
import type { Command } from 'commander';
import { journalOf, withBackend } from '../db-option.js';
import { CliError } from '../errors.js';
import { commandGroup } from '../command-group.js';

interface MigrateFlags {
  readonly db?: string;
  readonly json?: boolean;
}

export function registerDb(program: Command): void {
  const db = commandGroup(program, 'db', 'manage the Postgres database of an Orch cluster');
  db.command('migrate')
    .description('create or upgrade the orch schema of a Postgres database (idempotent)')
    .option('--db <url>', 'postgres://… URL (default: $ORCH_DB)')
    .option('--json', 'print {"from", "to", "applied"} as JSON')
    .addHelpText(
      'after',
      [
        '',
        'Example:',
        '  orch db migrate --db postgres://orch@db.internal:5432/orch',
        '  ORCH_DB=postgres://orch@db.internal/orch orch db migrate',
        '',
        'Exit codes: 0 the schema is current, 2 no URL, not a Postgres URL, the database cannot be reached,',
        'or its schema is newer than this Orch knows.',
      ].join('\n'),
    )
    .action(async (opts: MigrateFlags) => {
      if (opts.db === undefined && !process.env.ORCH_DB) throw new CliError('no database: pass --db postgres://… or set ORCH_DB', 2);
      const need = { capability: 'migrations', why: 'is not a Postgres URL (postgres://…); SQLite journals need no migration' } as const;
      const { shown, result } = await withBackend(journalOf(opts.db), async (backend) => {
        try {
          return { shown: backend.displayName, result: await backend.migrate() };
        } catch (err) {
          throw new CliError(`cannot migrate ${backend.displayName}: ${(err as Error).message}`, 2);
        }
      }, need);
      if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
      else if (result.applied.length === 0) process.stdout.write(`${shown}: orch schema already at version ${result.to}\n`);
      else process.stdout.write(`${shown}: orch schema migrated from version ${result.from} to ${result.to}\n`);
    });
}
