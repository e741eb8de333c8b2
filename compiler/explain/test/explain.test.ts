import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { orch } from '../../../examples/test/cli.js';
import { runCli } from '../../../test/support/cli-in-process.js';
import { format } from '../../../language/index.js';
import { compile } from '../../index.js';
import { allExplanations, explanationFor } from '../catalog.js';

function codesOf(source: string): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'orch-explain-'));
  // A project as a newcomer's looks: a handlers/ folder beside the plan (W0105's typo is near it).
  mkdirSync(path.join(dir, 'handlers'));
  const file = path.join(dir, 'snippet.orch');
  writeFileSync(file, source);
  // With its test blocks, as `orch check` and `orch test` see them (the codes of §9.2).
  return compile({ entry: file, tests: true }).diagnostics.map((d) => d.code);
}

/** The codes of LANGUAGE.md §5, §8.9 and §9.5, which must all be explained. */
const SPEC_CODES = [
  'E0001', 'E0101', 'E0102', 'E0103', 'E0201', 'E0202', 'E0203', 'E0301',
  'E0401', 'W0402', 'E0501', 'W0502', 'W0601', 'E0701',
  'E0801', 'E0802', 'W0803',
  'E0901', 'E0902', 'E0903', 'E0905', 'E0906', 'W0907', 'E0908',
];

describe('explanation catalogue', () => {
  it('explains every code of the spec table', () => {
    const codes = allExplanations().map((e) => e.code);
    for (const code of SPEC_CODES) expect(codes).toContain(code);
  });

  it('gives each code a title, details, a trigger and a different fix', () => {
    for (const e of allExplanations()) {
      expect(e.title.length, e.code).toBeGreaterThan(5);
      expect(e.details.length, e.code).toBeGreaterThan(100);
      expect(e.trigger, e.code).toMatch(/\S/);
      expect(e.fix, e.code).not.toEqual(e.trigger);
      expect(e.severity, e.code).toBe(e.code.startsWith('E') ? 'error' : e.code.startsWith('W') ? 'warning' : 'hint');
    }
  });

  it('has snippets that really trigger the code, and fixes that really remove it', () => {
    for (const e of allExplanations()) {
      expect(codesOf(e.trigger), `${e.code} trigger`).toContain(e.code);
      expect(codesOf(e.fix), `${e.code} fix`).not.toContain(e.code);
    }
  });

  it('shows snippets in the canonical format (fixes and syntactically valid triggers)', () => {
    for (const e of allExplanations()) {
      for (const [which, text] of [['trigger', e.trigger], ['fix', e.fix]] as const) {
        const result = format(`${e.code}.orch`, text);
        // A snippet with a syntax error (E0001's trigger) is left alone by the formatter.
        if (result.diagnostics.some((d) => d.severity === 'error')) continue;
        expect(result.changed, `${e.code} ${which}`).toBe(false);
      }
    }
  });

  it('has fixes without errors of any kind', () => {
    for (const e of allExplanations()) {
      expect(codesOf(e.fix).filter((c) => c.startsWith('E')), `${e.code} fix`).toEqual([]);
    }
  });

  it('looks codes up case-insensitively and rejects unknown ones', () => {
    expect(explanationFor('e0301')?.code).toBe('E0301');
    expect(explanationFor(' W0601 ')?.code).toBe('W0601');
    expect(explanationFor('E9999')).toBeUndefined();
  });
});

/**
 * The first test runs the real CLI (bin/orch.js → dist/) end to end; the rest run the same CLI core
 * in this process (test/support/cli-in-process.ts): one spawn per diagnostic code cost a minute.
 */
const cli = (args: readonly string[]) => runCli(args, process.cwd());

describe('orch explain', () => {
  it('prints the explanation, the triggering example and the fix', () => {
    const r = orch(['explain', 'E0301']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('E0301 (error): dependency cycle');
    expect(r.stdout).toContain('Example that triggers it:');
    expect(r.stdout).toContain('step ping = echo(text: pong.output.text)');
    expect(r.stdout).toContain('Fixed:');
    expect(r.stdout).toContain('step ping = echo(text: "start")');
  });

  it('explains every code it lists', async () => {
    for (const e of allExplanations()) {
      const r = await cli(['explain', e.code.toLowerCase()]);
      expect(r.code, e.code).toBe(0);
      expect(r.stdout, e.code).toContain(`${e.code} (${e.severity}): ${e.title}`);
    }
  });

  it('lists all codes without an argument, in the order of the spec tables (by number)', async () => {
    const r = await cli(['explain']);
    expect(r.code).toBe(0);
    for (const code of SPEC_CODES) expect(r.stdout).toContain(code);
    const listed = [...r.stdout.matchAll(/^ {2}([EWI]\d{4}) /gm)].map((m) => m[1]!);
    expect(listed.filter((c) => SPEC_CODES.includes(c))).toEqual(SPEC_CODES);
    expect(listed).toEqual([...listed].sort((a, b) => a.slice(1).localeCompare(b.slice(1))));
  });

  it('prints JSON with --format json', async () => {
    const r = await cli(['explain', 'E0501', '--format', 'json']);
    expect(r.code).toBe(0);
    const parsed = JSON.parse(r.stdout) as { code: string; trigger: string; fix: string };
    expect(parsed.code).toBe('E0501');
    expect(parsed.trigger).toContain('requires gpu');
  });

  it('rejects an unknown code with exit 2, one line, and the list of codes', async () => {
    const r = await cli(['explain', 'E9999']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^orch: unknown diagnostic code 'E9999'; known codes: E0001, .*E0701/);
  });

  it('rejects an unknown format with exit 2', async () => {
    const r = await cli(['explain', 'E0301', '--format', 'yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("orch: unknown format 'yaml'");
  });
});
