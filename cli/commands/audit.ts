/**
 * `orch audit [--since D] [--format text|json] [--db]`: the audit trail of `orch serve` / `orch
 * ui` (LANGUAGE.md §8.8): every state-changing request with who, what, the answer, when and from
 * where, oldest first, then the refused requests that proved no identity, counted per hour.
 * Read-only: nothing in Orch edits or deletes an entry.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { auditEntryJson, sinceOf } from '../../serve/index.js';
import { CliError } from '../errors.js';
import { DB_HELP, journalOf, withPeople } from '../db-option.js';

export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description('list the audit trail: who changed what through orch serve / orch ui, when and from where')
    .option('--since <when>', 'only entries from this date (2026-01-31, ISO 8601) or age (7d, 12h) on')
    .option(
      '--format <format>',
      'text or json',
      (v: string) => {
        if (v !== 'text' && v !== 'json') throw new InvalidArgumentError('use text or json');
        return v;
      },
      'text',
    )
    .option('--db <path>', DB_HELP)
    .addHelpText('after', ['', 'Example:', '  orch audit --since 7d', '  orch audit --since 2026-01-01 --format json | jq \'.entries[].subject\'', '', 'Exit codes: 0 listed (none: "no audit entries"), 2 no journal at --db or usage error.'].join('\n'))
    .action(async (opts: { since?: string; format: 'text' | 'json'; db?: string }) => {
      let since = 0;
      if (opts.since !== undefined) {
        const s = sinceOf(opts.since);
        if (s === undefined) throw new CliError(`--since must be a date (2026-01-31) or an age such as 7d, not "${opts.since}"`, 2);
        since = s;
      }
      // The requests refused before proving anyone (a wrong password, a bad token, a 429) are
      // journaled as counts per hour, not rows (docs/language.md): listed after the entries, as GET /audit does.
      const [entries, refused] = await withPeople(journalOf(opts.db), false, async (store) => [await store.audit({ since, order: 'oldest' }), await store.refused({ since })] as const);
      const iso = (ms: number) => new Date(ms).toISOString();
      if (opts.format === 'json') {
        const json = { entries: entries.map(auditEntryJson), refused: refused.map((r) => ({ ...r, hour: iso(r.hour), firstAt: iso(r.firstAt), lastAt: iso(r.lastAt) })) };
        process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
        return;
      }
      if (entries.length === 0) process.stdout.write('no audit entries\n');
      for (const e of entries) {
        const who = e.subject === null ? '(anonymous)' : `${e.subject}${e.issuer && e.issuer !== 'local' ? `@${e.issuer}` : ''}${e.authMethod ? ` [${e.authMethod}]` : ''}`;
        const started = (e.started ?? []).map((r) => `  started ${r.runId} (${r.plan})`).join('');
        process.stdout.write(`${iso(e.at)}  ${who}  ${e.httpMethod} ${e.path}  ${e.status}  from ${e.client ?? '?'}${started}\n`);
      }
      if (refused.length > 0) process.stdout.write('\nrefused without an identity (counted per hour):\n');
      for (const r of [...refused].sort((a, b) => a.hour - b.hour)) {
        process.stdout.write(`${iso(r.hour)}  ${r.subject ?? '(anonymous)'}  ${r.httpMethod} ${r.route}  ${r.status}  ×${r.count}  from ${r.client ?? '?'}  (${iso(r.firstAt)} … ${iso(r.lastAt)})\n`);
      }
    });
}
