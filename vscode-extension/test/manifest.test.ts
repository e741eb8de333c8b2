/**
 * What the extension manifest contributes besides code, checked against the real thing: the
 * `$orch` problem pattern reads `orch check`'s actual output, the orch.config.json schema accepts
 * the examples' configs and rejects mistakes, and every file the manifest names exists.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from '../../lsp/test/client.js';

const ext = join(REPO, 'vscode-extension');
const manifest = JSON.parse(readFileSync(join(ext, 'package.json'), 'utf8')) as {
  contributes: {
    problemPatterns: { name: string; regexp: string; file: number; line: number; column: number; severity: number; code: number; message: number }[];
    problemMatchers: { name: string; pattern: string }[];
    jsonValidation: { fileMatch: string; url: string }[];
    languages: { icon: { light: string; dark: string } }[];
    taskDefinitions: { type: string }[];
  };
};
const dir = mkdtempSync(join(tmpdir(), 'orch-manifest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the extension manifest', () => {
  it('has a $orch problem matcher whose pattern reads every line orch check prints for a problem', () => {
    const [pattern] = manifest.contributes.problemPatterns;
    expect(manifest.contributes.problemMatchers[0]!.pattern).toBe(`$${pattern!.name}`);
    const file = join(dir, 'bad.orch');
    writeFileSync(file, 'plan p {\n  step a = nope()\n  step b = a.output.zz\n}\n');
    const r = spawnSync(process.execPath, [join(REPO, 'bin', 'orch.js'), 'check', file], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    // The same problems, as `--format json` states them.
    const expected = (JSON.parse(spawnSync(process.execPath, [join(REPO, 'bin', 'orch.js'), 'check', file, '--format', 'json'], { encoding: 'utf8' }).stdout) as
      { diagnostics: { code: string; severity: string; range: { start: { line: number; column: number } } }[] }).diagnostics;
    expect(expected.length).toBeGreaterThan(0);
    const re = new RegExp(pattern!.regexp);
    const matched = r.stdout.split('\n').map((l) => re.exec(l)).filter((m): m is RegExpExecArray => m !== null).map((m) => ({
      file: m[pattern!.file], line: Number(m[pattern!.line]), column: Number(m[pattern!.column]), severity: m[pattern!.severity], code: m[pattern!.code],
    }));
    expect(matched).toEqual(expected.map((d) => ({ file, line: d.range.start.line, column: d.range.start.column, severity: d.severity, code: d.code })));
  });

  it('validates orch.config.json with a schema that takes the examples and rejects mistakes', () => {
    const [validation] = manifest.contributes.jsonValidation;
    expect(validation!.fileMatch).toBe('orch.config.json');
    const schema = JSON.parse(readFileSync(join(ext, validation!.url), 'utf8')) as object;
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    const example = JSON.parse(readFileSync(join(REPO, 'examples', 'weekly_report', 'orch.config.json'), 'utf8')) as unknown;
    expect(validate(example), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({})).toBe(true);
    expect(validate({ secret: { A: 'x' } })).toBe(false); // a typo of "secrets"
    expect(validate({ secrets: { A: { nested: true } } })).toBe(false);
    expect(validate({ secrets: { 'not a name': 'x' } })).toBe(false);
    expect(validate({ hooks: { preExecution: 'x' } })).toBe(false); // hooks need orch.config.js
  });

  it('names only files that exist: the file icon and the schema', () => {
    const icon = manifest.contributes.languages[0]!.icon;
    for (const f of [icon.light, icon.dark, manifest.contributes.jsonValidation[0]!.url]) expect(existsSync(join(ext, f)), f).toBe(true);
    expect(readFileSync(join(ext, icon.light), 'utf8')).toMatch(/^<svg /);
    expect(manifest.contributes.taskDefinitions[0]!.type).toBe('orch');
  });
});
