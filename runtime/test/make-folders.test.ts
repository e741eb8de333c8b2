/**
 * `makeFolders`: a file's folders made a level at a time. Node 20's recursive mkdir loops for ever
 * on a path whose parent cannot be made (under /proc); a journal opened there (`--db
 * /proc/x/j.db`) spun a CPU instead of failing.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeFolders } from '../index.js';
import { SqliteJournal } from '../backend/sqlite/journal.js';

const dir = mkdtempSync(join(tmpdir(), 'orch-folders-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('makeFolders', () => {
  it('makes every missing level, and is a no-op on a folder that exists', () => {
    makeFolders(join(dir, 'a', 'b', 'c'));
    expect(existsSync(join(dir, 'a', 'b', 'c'))).toBe(true);
    expect(() => makeFolders(join(dir, 'a', 'b'))).not.toThrow();
  });

  it('a file on the path is ENOTDIR; a folder that cannot be made is its error, not a loop', () => {
    writeFileSync(join(dir, 'f'), '');
    expect(() => makeFolders(join(dir, 'f', 'x'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
    expect(() => makeFolders('/proc/orch-no-such/dir')).toThrow(expect.objectContaining({ code: expect.stringMatching(/^(ENOENT|EACCES|EPERM)$/) }));
    expect(() => new SqliteJournal('/proc/orch-no-such/j.db')).toThrow(expect.objectContaining({ code: expect.stringMatching(/^(ENOENT|EACCES|EPERM)$/) }));
  });
});
