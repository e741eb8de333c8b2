/**
 * The editor's W0601 agrees with `orch check` on the workspace's files: a plan-less file that
 * another workspace file imports and uses shows no "never used" warning; alone, it does.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TextDocuments } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { STD_DIR } from '../../compiler/index.js';
import { Checker } from '../checker.js';
import { Workspace } from '../workspace.js';

const LIB = 'capability c { kind tool input { x: string } output { y: string } cost 5usd }\ncapability d { kind tool input { x: string } output { y: string } }\n';
const MAIN = 'import "./lib.orch" as lib\nplan p { step a = lib.c(x: "1") output { y: a.output.y } }\n';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function unusedIn(files: Record<string, string>): string[] {
  dir = mkdtempSync(join(tmpdir(), 'orch-unused-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const workspace = new Workspace(new TextDocuments(TextDocument), () => STD_DIR);
  workspace.roots = [dir];
  const checker = new Checker(workspace);
  try {
    return checker.diagnostics(join(dir, 'lib.orch')).filter((d) => d.code === 'W0601').map((d) => d.message);
  } finally {
    checker.dispose();
  }
}

describe('W0601 in the editor, across the workspace', () => {
  it('a plan-less file another workspace file imports is a library: nothing is reported in it', () => {
    expect(unusedIn({ 'lib.orch': LIB, 'main.orch': MAIN })).toEqual([]);
  });

  it('the file alone reports its unused capabilities', () => {
    expect(unusedIn({ 'lib.orch': LIB })).toEqual(['capability "c" is never used', 'capability "d" is never used']);
  });

  it('with plans of its own: what an importer uses is not reported, the rest is', () => {
    const lib = `${LIB}plan own { step s = d(x: "1") output { y: s.output.y } }\ncapability e { kind tool input { x: string } output { y: string } }\n`;
    expect(unusedIn({ 'lib.orch': lib, 'main.orch': MAIN })).toEqual(['capability "e" is never used']);
  });
});
