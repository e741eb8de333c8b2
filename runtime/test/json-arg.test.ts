/** `--input` / `--context` JSON from a file (`@path`): what editors save is read, what is no file is said plainly. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readJsonArg } from '../load-plan.js';

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
