/**
 * `orch auth hash` (a password hash for the config), `orch auth token USER [--expires 30d]` (a new
 * API token, printed once; only its hash is stored, in the journal's database), `orch auth
 * revoke TOKEN_ID` and `orch auth tokens [USER]` (LANGUAGE.md §8.8).
 */
import type { Command } from 'commander';
import { projectRootOf } from '../../compiler/index.js';
import { hashPassword, loadConfig, newApiToken, parseAge, revokeTokensOfRemovedUsers, type ApiTokenRow } from '../../runtime/index.js';
import { CliError } from '../errors.js';
import { DB_HELP, journalOf, withPeople } from '../db-option.js';
import { commandGroup } from '../command-group.js';

/** The password to hash: piped on stdin, or typed at a prompt that does not echo it. */
async function readPassword(): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const c of stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  }
  process.stderr.write('Password: ');
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise((done, fail) => {
    let typed = '';
    const onData = (s: string) => {
      for (const ch of s) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off('data', onData);
          process.stderr.write('\n');
          return done(typed);
        }
        if (ch === '\u0003') {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off('data', onData);
          process.stderr.write('\n');
          return fail(new CliError('cancelled', 2));
        }
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    stdin.on('data', onData);
  });
}

function expiryOf(text: string | undefined): number | null {
  if (text === undefined || text === 'never') return null;
  const ms = parseAge(text);
  if (ms === null) throw new CliError(`--expires must be an age such as 30d, 12h or 90m (or "never"), not "${text}"`, 2);
  return Date.now() + ms;
}

const iso = (ms: number | null) => (ms === null ? 'never' : new Date(ms).toISOString());

function tokenState(t: ApiTokenRow, now = Date.now()): string {
  if (t.revokedAt !== null) return `revoked ${iso(t.revokedAt)}`;
  if (t.expiresAt !== null && t.expiresAt <= now) return `expired ${iso(t.expiresAt)}`;
  return t.expiresAt === null ? 'active, never expires' : `active until ${iso(t.expiresAt)}`;
}

export function registerAuth(program: Command): void {
  const auth = commandGroup(program, 'auth', 'people of orch serve: password hashes and API tokens (config "auth" block)');

  auth
    .command('hash')
    .description('print an argon2id hash of a password (read from stdin, or typed without echo) for "auth.users.NAME.password"')
    .addHelpText('after', ['', 'Example:', '  orch auth hash > alice.hash            (type the password)', '  printf %s "$PW" | orch auth hash', '', 'Exit codes: 0 printed, 2 an empty password.'].join('\n'))
    .action(async () => {
      const password = await readPassword();
      if (password === '') throw new CliError('an empty password cannot be hashed', 2);
      process.stdout.write(`${await hashPassword(password)}\n`);
    });

  auth
    .command('token')
    .description('create an API token for a configured user and print it once (only its hash is stored)')
    .argument('<user>', 'a user of the "auth.users" config block')
    .option('--expires <age>', 'how long it stays valid, e.g. 30d, 12h (default: never)')
    .option('--db <path>', DB_HELP)
    .option('--json', 'print {"id", "user", "token", "expiresAt"} as JSON')
    .addHelpText(
      'after',
      ['', 'The user must be in the project\'s orch.config "auth.users" (the current directory\'s project).', 'Scripts send it as "Authorization: Bearer TOKEN" and act as that user.', '', 'Example:', '  orch auth token alice --expires 30d', '', 'Exit codes: 0 created, 2 a user the config does not have (or no "auth" block), a bad --expires, or I/O error.'].join('\n'),
    )
    .action(async (user: string, opts: { expires?: string; db?: string; json?: boolean }) => {
      const expiresAt = expiryOf(opts.expires);
      let config;
      try {
        config = await loadConfig(projectRootOf(process.cwd()));
      } catch (err) {
        throw new CliError((err as Error).message, 2);
      }
      if (!config.auth) throw new CliError(`no "auth" block in ${config.file ?? 'the project (no orch.config here)'}: API tokens are for configured users`, 2);
      if (!config.auth.users.has(user)) throw new CliError(`"${user}" is not a user of ${config.file} (auth.users: ${[...config.auth.users.keys()].join(', ') || 'none'})`, 2);
      const { id, token, hash } = newApiToken();
      const users = config.auth.users;
      await withPeople(journalOf(opts.db), true, async (store) => {
        // Tokens of users the config no longer has are revoked first: a name added again starts with none.
        await revokeTokensOfRemovedUsers(store, users, Date.now());
        await store.createToken({ id, user, hash, createdAt: Date.now(), expiresAt, revokedAt: null });
      });
      if (opts.json) process.stdout.write(`${JSON.stringify({ id, user, token, expiresAt: expiresAt === null ? null : iso(expiresAt) })}\n`);
      else {
        process.stdout.write(`${token}\n`);
        process.stderr.write(`token ${id} for ${user}, expires ${iso(expiresAt)}; it is shown only now (revoke: orch auth revoke ${id})\n`);
      }
    });

  auth
    .command('revoke')
    .description('revoke an API token by its id (as `orch auth token` and `orch auth tokens` print it)')
    .argument('<token-id>', 'the token id')
    .option('--db <path>', DB_HELP)
    .addHelpText('after', ['', 'Example:', '  $ orch auth revoke 3f9a2c1d', '', 'Exit codes: 0 revoked, 2 unknown token id or no journal.'].join('\n'))
    .action(async (id: string, opts: { db?: string }) => {
      // A whole token pasted by mistake names its id too (orch_<id>_…); never print it back.
      const m = /^orch_([0-9a-f]+)_/.exec(id);
      const tokenId = m ? m[1]! : id;
      await withPeople(journalOf(opts.db), false, async (store, backend) => {
        if (!(await store.revokeToken(tokenId, Date.now()))) throw new CliError(`no API token ${m ? '(of the token given)' : `"${tokenId}"`} in ${backend.displayName}`, 2);
      });
      process.stdout.write(`revoked token ${tokenId}\n`);
    });

  auth
    .command('tokens')
    .description('list API tokens (ids, users, expiry, revocation; never the tokens)')
    .argument('[user]', 'only this user\'s')
    .option('--db <path>', DB_HELP)
    .option('--json', 'print them as JSON')
    .addHelpText('after', ['', 'Example:', '  $ orch auth tokens alice --json', '', 'Exit codes: 0 listed, 2 no journal or usage error.'].join('\n'))
    .action(async (user: string | undefined, opts: { db?: string; json?: boolean }) => {
      const rows = await withPeople(journalOf(opts.db), false, (store) => store.tokens(user));
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ tokens: rows.map((t) => ({ ...t, createdAt: iso(t.createdAt), expiresAt: t.expiresAt === null ? null : iso(t.expiresAt), revokedAt: t.revokedAt === null ? null : iso(t.revokedAt) })) })}\n`);
        return;
      }
      if (rows.length === 0) process.stdout.write('no API tokens\n');
      for (const t of rows) process.stdout.write(`${t.id}  ${t.user}  created ${iso(t.createdAt)}  ${tokenState(t)}\n`);
    });
}
