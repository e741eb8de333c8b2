import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orchFilesUnder, type OrchWalk } from '../index.js';

let root: string;
const rel = (files: string[]): string[] => files.map((f) => f.slice(root.length + 1));

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'orch-files-'));
  const file = (path: string): void => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), 'plan p {}\n');
  };
  for (const f of ['a.orch', 'B.orch', 'notes.txt', 'm/c.orch', 'm/deep/er/d.orch', 'node_modules/x/n.orch', '.hidden/h.orch', 'dist/out.orch', 'y.orch/inside.orch']) file(f);
  symlinkSync(root, join(root, 'loop')); // a folder link back to the root: never followed
  symlinkSync(join(root, 'a.orch'), join(root, 'linked.orch')); // a file link: listed only with linkedFiles
  symlinkSync(join(root, 'm'), join(root, 'folder-link.orch')); // a folder link named like a file: never
  symlinkSync(join(root, 'nowhere'), join(root, 'dangling.orch'));
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

const base: OrchWalk = { skip: new Set(['node_modules', 'dist']), skipHidden: true, order: 'code-units', unreadable: 'skip' };

describe('orchFilesUnder', () => {
  it('lists regular .orch files depth first in code-unit order, skipping the named and hidden folders and never following links', () => {
    expect(rel(orchFilesUnder(root, base))).toEqual(['B.orch', 'a.orch', 'm/c.orch', 'm/deep/er/d.orch', 'y.orch/inside.orch']);
  });

  it('orders by localeCompare when asked (lower case before upper case of the same letter, not after every capital)', () => {
    expect(rel(orchFilesUnder(root, { ...base, order: 'locale' }))).toEqual(['a.orch', 'B.orch', 'm/c.orch', 'm/deep/er/d.orch', 'y.orch/inside.orch']);
  });

  it('enters hidden folders unless told to skip them, and only skips the folder names given', () => {
    const found = rel(orchFilesUnder(root, { ...base, skip: new Set(['node_modules']), skipHidden: false }));
    expect(found).toContain('.hidden/h.orch');
    expect(found).toContain('dist/out.orch');
    expect(found).not.toContain('node_modules/x/n.orch');
  });

  it('with linkedFiles also lists links to files, never links to folders or dangling ones', () => {
    expect(rel(orchFilesUnder(root, { ...base, linkedFiles: true }))).toEqual(['B.orch', 'a.orch', 'linked.orch', 'm/c.orch', 'm/deep/er/d.orch', 'y.orch/inside.orch']);
  });

  it('in the file system order lists the same files', () => {
    expect(rel(orchFilesUnder(root, { ...base, order: 'as-listed' })).sort()).toEqual(rel(orchFilesUnder(root, base)).sort());
  });

  it('stops at maxFiles; excluded files are not listed and do not count', () => {
    expect(rel(orchFilesUnder(root, { ...base, maxFiles: 3 }))).toEqual(['B.orch', 'a.orch', 'm/c.orch']);
    const exclude = new Set([join(root, 'a.orch')]);
    expect(rel(orchFilesUnder(root, { ...base, maxFiles: 3, exclude }))).toEqual(['B.orch', 'm/c.orch', 'm/deep/er/d.orch']);
  });

  it('reads folders at most maxDepth levels below the root', () => {
    expect(rel(orchFilesUnder(root, { ...base, maxDepth: 0 }))).toEqual(['B.orch', 'a.orch']);
    expect(rel(orchFilesUnder(root, { ...base, maxDepth: 2 }))).toEqual(['B.orch', 'a.orch', 'm/c.orch', 'y.orch/inside.orch']);
    expect(rel(orchFilesUnder(root, { ...base, maxDepth: 3 }))).toContain('m/deep/er/d.orch');
  });

  it('walks several roots in turn, the limit counting across them', () => {
    const roots = [join(root, 'y.orch'), join(root, 'm')];
    expect(rel(orchFilesUnder(roots, base))).toEqual(['y.orch/inside.orch', 'm/c.orch', 'm/deep/er/d.orch']);
    expect(rel(orchFilesUnder(roots, { ...base, maxFiles: 2 }))).toEqual(['y.orch/inside.orch', 'm/c.orch']);
  });

  it('leaves out a folder it cannot read, or ends with the error the caller makes of it', () => {
    const notAFolder = join(root, 'a.orch');
    const gone = join(root, 'vanished');
    expect(orchFilesUnder([notAFolder, gone, join(root, 'm')], base)).toEqual([join(root, 'm/c.orch'), join(root, 'm/deep/er/d.orch')]);
    const seen: string[] = [];
    const unreadable = (dir: string, error: NodeJS.ErrnoException): never => {
      seen.push(`${dir} ${error.code}`);
      throw new Error(`cannot read ${dir}`);
    };
    expect(() => orchFilesUnder(notAFolder, { ...base, unreadable })).toThrow(`cannot read ${notAFolder}`);
    expect(() => orchFilesUnder(gone, { ...base, unreadable })).toThrow(`cannot read ${gone}`);
    expect(seen).toEqual([`${notAFolder} ENOTDIR`, `${gone} ENOENT`]);
  });
});
