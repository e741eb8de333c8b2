/** `--input` / `--context` JSON from a file (`@path`): what editors save is read, what is no file is said plainly. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPlan, readJsonArg } from '../load-plan.js';

describe('readJsonArg', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orch-json-arg-'));

  it('reads a file that starts with a UTF-8 byte-order mark (Windows PowerShell and Notepad write one)', () => {
    writeFileSync(join(dir, 'bom.json'), '\uFEFF{"name":"Ada"}');
    expect(readJsonArg(`@${join(dir, 'bom.json')}`, '--input')).toEqual({ name: 'Ada' });
  });

  it('a directory is said to be one, not as a Node error code', () => {
    expect(() => readJsonArg(`@${dir}`, '--input')).toThrow(`cannot read --input file ${dir}: is a directory`);
  });

  it('a file named without its @ is not read as JSON text, and the error says how to read it', () => {
    const file = join(dir, 'input.json');
    writeFileSync(file, '{"name":"Ada"}');
    expect(() => readJsonArg(file, '--input')).toThrow(`(to read the file ${file}, write --input @${file})`);
    // Text that is no file gets no such hint.
    expect(() => readJsonArg('nope.json', '--context')).toThrow(/^--context is not valid JSON: (?![\s\S]*to read the file)/);
  });
});

describe('loadPlan of a .json that is no JSON', () => {
  it('says where, on one line, without quoting the file (as --input does)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-json-arg-'));
    writeFileSync(join(dir, 'plan.json'), 'not json\nsecret: hunter2\n');
    const loaded = await loadPlan(join(dir, 'plan.json'));
    expect(loaded.kind).toBe('usage');
    const message = (loaded as { message: string }).message;
    expect(message).toMatch(/^cannot read .*plan\.json: not valid JSON: /);
    expect(message).not.toContain('\n');
    expect(message).not.toContain('hunter2');
  });
});
