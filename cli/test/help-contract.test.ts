/**
 * docs/cli.md "Conventions": every command's `--help` says its exit codes, and every option a
 * `--help` lists is documented in docs/cli.md. Built from the command modules themselves, so a new
 * command or flag without them fails here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../commands/index.js';
import { createProgram } from '../program.js';
import { REPO_ROOT } from '../../examples/test/cli.js';

/** Every command that runs something (a group such as `orch db` only lists its subcommands). */
function leaves(cmd: Command, prefix: string[] = []): { name: string; cmd: Command }[] {
  return cmd.commands.flatMap((c) => {
    const name = [...prefix, c.name()];
    return c.commands.length > 0 ? leaves(c, name) : [{ name: name.join(' '), cmd: c }];
  });
}

/** Every command group (`orch db`, `orch auth`, …): it lists subcommands, and its `--help` says its exit codes too. */
function groups(cmd: Command, prefix: string[] = []): { name: string; cmd: Command }[] {
  return cmd.commands.flatMap((c) => {
    const name = [...prefix, c.name()];
    return c.commands.length > 0 ? [{ name: name.join(' '), cmd: c }, ...groups(c, name)] : [];
  });
}

/** The help text as `orch … --help` prints it (options, then the text added after). */
function helpOf(cmd: Command): string {
  let after = '';
  cmd.configureOutput({ writeOut: (s) => (after += s) });
  cmd.outputHelp();
  return after;
}

describe('--help and docs/cli.md', async () => {
  const program = createProgram(await Promise.all(COMMANDS.map((c) => c.load())));
  const commands = leaves(program);
  const docs = readFileSync(path.join(REPO_ROOT, 'docs/cli.md'), 'utf8');

  it('every command says its exit codes in --help', () => {
    const without = commands.filter(({ cmd }) => !/Exit (codes|status):/.test(helpOf(cmd))).map((c) => c.name);
    expect(without).toEqual([]);
  });

  it('every command group says its exit codes in --help, as the commands in it do', () => {
    const all = groups(program);
    expect(all.map((g) => g.name)).toEqual(expect.arrayContaining(['auth', 'db', 'mcp']));
    expect(all.filter(({ cmd }) => !/Exit (codes|status):/.test(helpOf(cmd))).map((g) => g.name)).toEqual([]);
  });

  // `orch compile f.orch -p b` worked and `orch run f.orch -p b` was an unknown option.
  it('-p is --plan wherever --plan names a plan of the file (not a filter of listed runs)', () => {
    const without = commands
      .filter(({ name }) => name !== 'runs')
      .flatMap(({ name, cmd }) => cmd.options.filter((o) => o.long === '--plan' && o.short !== '-p').map(() => name));
    expect(without).toEqual([]);
  });

  it('every option of every --help is in docs/cli.md', () => {
    const missing = commands.flatMap(({ name, cmd }) =>
      cmd.options.map((o) => o.long).filter((flag): flag is string => flag !== undefined && flag !== '--help' && !docs.includes(flag)).map((flag) => `${name} ${flag}`),
    );
    expect(missing).toEqual([]);
  });
});
