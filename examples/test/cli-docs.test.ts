/**
 * docs/cli.md documents every command `orch --help` lists and every option each command accepts,
 * so the reference cannot silently fall behind the CLI.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../test/support/cli-in-process.js';
import { REPO_ROOT } from './cli.js';

const DOC = readFileSync(path.join(REPO_ROOT, 'docs/cli.md'), 'utf8');

/** Command names from the "Commands:" block of a help text. */
function commandsIn(help: string): string[] {
  const block = help.split(/^Commands:$/m)[1] ?? '';
  return [...block.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
}

/** Long options from the "Options:" block of a help text (without --help). */
function optionsIn(help: string): string[] {
  const block = (help.split(/^Options:$/m)[1] ?? '').split(/^\S/m)[0] ?? '';
  return [...block.matchAll(/^ {2}(?:-\w, )?(--[a-z][a-z-]*)/gm)].map((m) => m[1]!).filter((o) => o !== '--help');
}

/** The part of docs/cli.md about one command: from its heading to the next heading. */
function sectionOf(command: string): string {
  const start = DOC.indexOf(`### \`orch ${command}\``);
  if (start < 0) return '';
  const next = DOC.indexOf('\n### ', start + 1);
  return DOC.slice(start, next < 0 ? undefined : next);
}

// In-process: help needs no process of its own, and some thirty spawns cost ~10 s.
const TOP = await runCli(['--help'], REPO_ROOT);
const COMMANDS = commandsIn(TOP.stdout);

describe('docs/cli.md', () => {
  it('finds the commands in orch --help', () => {
    expect(TOP.code).toBe(0);
    expect(COMMANDS).toEqual(expect.arrayContaining(['check', 'compile', 'preview', 'run', 'verify', 'init', 'explain']));
  });

  it.each(COMMANDS)('documents `orch %s` and each of its options', async (command) => {
    const section = sectionOf(command);
    expect(section, `no "### \`orch ${command}\`" section`).not.toBe('');
    const help = await runCli([command, '--help'], REPO_ROOT);
    expect(help.code).toBe(0);
    for (const option of optionsIn(help.stdout)) expect(section, `${command} ${option}`).toContain(option);
    for (const sub of commandsIn(help.stdout)) expect(section, `${command} ${sub}`).toContain(`orch ${command} ${sub}`);
  });
});
