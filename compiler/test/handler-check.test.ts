/**
 * Issue 34 item 2: `orch check` resolves handler modules and exports from files alone (E0104,
 * with a did-you-mean), without running the module, and leaves alone what it cannot analyse.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, moduleExports } from '../index.js';

function project(handler: string, moduleText: string | null, moduleName = 'greet.mjs'): string {
  const dir = mkdtempSync(join(tmpdir(), 'orch-hcheck-'));
  mkdirSync(join(dir, 'handlers'));
  if (moduleText !== null) writeFileSync(join(dir, 'handlers', moduleName), moduleText);
  const file = join(dir, 'hello.orch');
  writeFileSync(
    file,
    `capability greet {\n  kind tool\n  input { name: string }\n  output { message: string }\n  handler "${handler}"\n}\nplan hello {\n  step say = greet(name: "x")\n}\n`,
  );
  return file;
}

const GREET = 'export function greet(input) { return { message: input.name }; }\nexport const shout = (i) => i;\n';

function e0104(file: string) {
  return compile({ entry: file }).diagnostics.filter((d) => d.code === 'E0104');
}

describe('E0104: handler module or export not found', () => {
  it('accepts a handler whose module and export exist', () => {
    expect(e0104(project('./handlers/greet.mjs#greet', GREET))).toEqual([]);
    expect(e0104(project('./handlers/greet.mjs#shout', GREET))).toEqual([]);
  });

  it('reports a misspelt export with a did-you-mean and a quick fix, at the handler string', () => {
    const [d, ...rest] = e0104(project('./handlers/greet.mjs#gret', GREET));
    expect(rest).toEqual([]);
    expect(d!.severity).toBe('error');
    expect(d!.message).toMatch(/has no export "gret".*did you mean "greet"\?/);
    expect(d!.range.start.line).toBe(5);
    expect(d!.fixes?.[0]?.edits[0]?.newText).toBe('"./handlers/greet.mjs#greet"');
  });

  it('reports a misspelt module with the closest file of its folder', () => {
    const [d] = e0104(project('./handlers/gret.mjs#greet', GREET));
    expect(d!.message).toMatch(/handler module \.\/handlers\/gret\.mjs .*not found.*did you mean "\.\/handlers\/greet\.mjs"\?/);
    expect(d!.fixes?.[0]?.edits[0]?.newText).toBe('"./handlers/greet.mjs#greet"');
  });

  it('finds export lists, renames and default exports', () => {
    const text = 'function a() {}\nfunction b() {}\nexport { a, b as greet2 };\nexport default function () {}\n';
    expect([...moduleExports(text)!].sort()).toEqual(['a', 'default', 'greet2']);
    expect(e0104(project('./handlers/greet.mjs#greet2', text))).toEqual([]);
    expect(e0104(project('./handlers/greet.mjs', text))).toEqual([]);
    expect(e0104(project('./handlers/greet.mjs', GREET))[0]!.message).toMatch(/no export "default"/);
  });

  it('does not judge what it cannot analyse, nor a folder that does not exist yet', () => {
    expect(moduleExports("export * from './other.js';\n")).toBeNull();
    expect(moduleExports('module.exports = { greet() {} };\n')).toBeNull();
    expect(e0104(project('./handlers/greet.mjs#anything', "export * from './x.mjs';\n"))).toEqual([]);
    expect(e0104(project('./dist/greet.js#greet', null))).toEqual([]);
  });

  it('never runs the module while checking', () => {
    const file = project('./handlers/greet.mjs#greet', "throw new Error('ran');\nexport function greet() {}\n");
    expect(e0104(file)).toEqual([]);
  });
});

describe('W0105: a handler module whose folder does not exist', () => {
  const w0105 = (file: string) => compile({ entry: file }).diagnostics.filter((d) => d.code === 'W0105');

  it('warns with the folder beside it as a did-you-mean and a quick fix', () => {
    const file = project('./handler/greet.mjs#greet', GREET);
    const [d, ...rest] = w0105(file);
    expect(rest).toEqual([]);
    expect(d!.severity).toBe('warning');
    expect(d!.message).toMatch(/handler module \.\/handler\/greet\.mjs of capability greet: its folder .*handler does not exist; did you mean "\.\/handlers\/greet\.mjs"\?/);
    expect(d!.range.start.line).toBe(5);
    expect(d!.fixes?.[0]?.edits[0]?.newText).toBe('"./handlers/greet.mjs#greet"');
    expect(e0104(file)).toEqual([]);
  });

  it('says nothing when the folder exists, or when no folder beside it is close (handlers built later into dist/)', () => {
    expect(w0105(project('./dist/greet.js#greet', null))).toEqual([]);
    expect(w0105(project('./handlers/greet.mjs#greet', GREET))).toEqual([]);
    expect(w0105(project('./handlers/gret.mjs#greet', GREET))).toEqual([]);
  });
});
