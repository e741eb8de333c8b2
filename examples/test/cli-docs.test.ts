/**
 * docs/cli.md documents every command `orch --help` lists, every option each command (and
 * subcommand) accepts and every diagnostic code `orch explain` knows; every help ends with an
 * example or its exit codes; README.md shows only options that exist, a plan that checks and
 * preview lines `orch preview` prints. So neither can silently fall behind the CLI.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { allExplanations } from '../../compiler/index.js';
import { runCli } from '../../test/support/cli-in-process.js';
import { REPO_ROOT } from './cli.js';

const DOC = readFileSync(path.join(REPO_ROOT, 'docs/cli.md'), 'utf8');
const README = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');

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
    const subs = commandsIn(help.stdout);
    // A group with options of its own (`runs`) runs as a command too; a bare group (`auth`) does not.
    if (subs.length === 0 || optionsIn(help.stdout).length > 0) expect(help.stdout, `orch ${command} --help: no example or exit codes`).toMatch(EXAMPLE_OR_EXIT);
    for (const sub of subs) {
      expect(section, `${command} ${sub}`).toContain(`orch ${command} ${sub}`);
      const subHelp = await runCli([command, sub, '--help'], REPO_ROOT);
      expect(subHelp.code).toBe(0);
      for (const option of optionsIn(subHelp.stdout)) expect(section, `${command} ${sub} ${option}`).toContain(option);
      expect(subHelp.stdout, `orch ${command} ${sub} --help: no example or exit codes`).toMatch(EXAMPLE_OR_EXIT);
    }
  });
});

describe('docs/cli.md, orch explain', () => {
  it('lists every diagnostic code orch explain knows, with its severity', () => {
    const rows = new Map([...sectionOf('explain').matchAll(/^\| ([EWI]\d{4}) \| (\w+) \|/gm)].map((m) => [m[1]!, m[2]!]));
    for (const e of allExplanations()) expect(rows.get(e.code), e.code).toBe(e.severity);
  });
});

/** What every leaf command's help ends with, like its siblings: examples, or its exit codes. */
const EXAMPLE_OR_EXIT = /^(Examples?:|.*Exit (codes|status))/m;

describe('README.md', () => {
  /** Inline `orch …` commands outside code blocks, with escaped table pipes restored. */
  const commands = [...README.replace(/```[\s\S]*?```/g, '').matchAll(/`(orch [^`]+)`/g)].map((m) => m[1]!.replaceAll('\\|', '|'));

  it('shows only options the commands have', async () => {
    expect(commands.length).toBeGreaterThan(20);
    const helps = new Map<string, string>();
    const helpOf = async (args: string[]): Promise<string> => {
      const key = args.join(' ');
      if (!helps.has(key)) helps.set(key, (await runCli([...args, '--help'], REPO_ROOT)).stdout);
      return helps.get(key)!;
    };
    for (const shown of commands) {
      for (const segment of shown.split(/ · /)) {
        const words = /^orch ([a-z|-]+)(?: ([a-z-]+))?/.exec(segment.replace(/^(?!orch )/, 'orch '));
        if (!words) continue;
        const flags = segment.match(/--[a-z][a-z-]*/g) ?? [];
        if (flags.length === 0) continue;
        for (const command of words[1]!.split('|')) {
          expect(COMMANDS, shown).toContain(command);
          const sub = words[2] !== undefined && commandsIn(await helpOf([command])).includes(words[2]) ? [words[2]] : [];
          const options = optionsIn(await helpOf([command, ...sub]));
          for (const flag of flags) expect(options, `README: ${shown}`).toContain(flag);
        }
      }
    }
  });

  it("shows a plan that checks against the weekly report's declarations", async () => {
    const plan = /^```orch\n([\s\S]*?)^```/m.exec(README)![1]!;
    const dir = mkdtempSync(path.join(tmpdir(), 'orch-readme-'));
    try {
      cpSync(path.join(REPO_ROOT, 'examples/weekly_report'), dir, { recursive: true, filter: (f) => !f.endsWith('.test.orch') });
      // The example's plan and its invariants (until the simulate blocks) give way to the README's.
      const file = path.join(dir, 'weekly_report.orch');
      const source = readFileSync(file, 'utf8');
      const from = source.indexOf('\nplan weekly_sales_report {');
      const to = source.indexOf('\nsimulate ', from);
      expect(from).toBeGreaterThan(0);
      writeFileSync(file, `${source.slice(0, from)}\n${plan}${source.slice(to)}`);
      const check = await runCli(['check', file], REPO_ROOT);
      expect(check.stdout + check.stderr).toMatch(/^0 errors|no problems/m);
      expect(check.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shows lines of what orch preview prints for the weekly report, in order', async () => {
    const block = /`npx orch preview examples\/weekly_report\/weekly_report.orch` answers what will happen:\s*```\n([\s\S]*?)```/.exec(README);
    expect(block, 'the preview excerpt').not.toBeNull();
    const preview = await runCli(['preview', 'examples/weekly_report/weekly_report.orch'], REPO_ROOT);
    expect(preview.code).toBe(0);
    const printed = preview.stdout.split('\n');
    let at = 0;
    for (const line of block![1]!.split('\n')) {
      if (line === '…' || line === '') continue;
      const found = printed.indexOf(line, at);
      expect(found, `README preview line not printed (in this order): ${line}`).toBeGreaterThanOrEqual(0);
      at = found + 1;
    }
  });
});
