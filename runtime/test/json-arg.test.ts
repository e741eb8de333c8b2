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
