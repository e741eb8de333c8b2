/**
 * LANGUAGE.md §8.3 from files alone: `import mcp` against a hand-written orch.lock.json (no server,
 * as CI checks): optional properties of any type, and nothing reported past an import's E0802.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../index.js';
import { lockTool, lockText, LOCK_VERSION } from '../mcp-lock.js';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'orch-mcp-import-'));
  writeFileSync(join(dir, 'orch.config.json'), JSON.stringify({ mcp: { t: { command: 'x' }, clash: { command: 'x' }, pclash: { command: 'x' } } }));
  const obj = (properties: Record<string, unknown>, required: string[]) => ({ type: 'object', properties, required });
  writeFileSync(
    join(dir, 'orch.lock.json'),
    lockText({
      lockVersion: LOCK_VERSION,
      servers: {
        t: {
          name: 't', version: '1',
          tools: [
            lockTool({ name: 'do-it', inputSchema: obj({ s: { type: 'string' }, u: { anyOf: [{ type: 'string' }, { type: 'number' }] }, v: {}, w: { $ref: '#/x' } }, ['s', 'w']) }),
            lockTool({
              name: 'read-file',
              inputSchema: obj({ 'file-path': { type: 'string' }, '2nd': { type: 'integer' }, opts: obj({ 'x.y': { type: 'string' } }, ['x.y']), mode: { enum: ['r', null] } }, ['file-path', 'opts', 'mode']),
              outputSchema: obj({ 'full-path': { type: 'string' }, lines: { type: 'array', items: obj({ 'line-no': { type: 'integer' } }, ['line-no']) } }, ['full-path', 'lines']),
            }),
            lockTool({ name: 'save', inputSchema: obj({}, []), outputSchema: obj({ saved: { type: 'integer' } }, ['saved']), annotations: { idempotentHint: true, destructiveHint: true } }),
          ],
        },
        clash: {
          name: 'clash', version: '1',
          tools: [
            lockTool({ name: 'get-sum', inputSchema: obj({ a: { type: 'number' } }, ['a']) }),
            lockTool({ name: 'get_sum', inputSchema: obj({ a: { type: 'number' } }, ['a']) }),
            lockTool({ name: 'echo', inputSchema: obj({ message: { type: 'string' } }, ['message']) }),
          ],
        },
        pclash: {
          name: 'pclash', version: '1',
          tools: [
            // Two properties of one nested object map to one field name.
            lockTool({ name: 'write', inputSchema: obj({ opts: obj({ 'x-y': { type: 'string' }, x_y: { type: 'string' } }, []) }, []) }),
            lockTool({ name: 'echo', inputSchema: obj({ message: { type: 'string' } }, ['message']) }),
          ],
        },
      },
    }),
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function compileFile(name: string, text: string) {
  const file = join(dir, name);
  writeFileSync(file, text);
  return compile({ entry: file });
}

describe('tool inputs', () => {
  it('leaves a property that is not required optional whatever its type, `any` included', () => {
    const out = compileFile('optional.orch', 'import mcp "t" as t\nplan p { step a = t.do_it(s: "x", w: 1) step b = t.do_it(s: "y", w: 2, u: 3, v: [1]) }\n');
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const input = out.plans[0]!.capabilities['mcp.t.do_it']!.input as { required?: string[] };
    expect([...(input.required ?? [])].sort()).toEqual(['s', 'w']);
    // A required `any` stays required.
    const missing = compileFile('missing.orch', 'import mcp "t" as t\nplan p { step a = t.do_it(s: "x") }\n').diagnostics;
    expect(missing.map((d) => [d.code, d.message])).toEqual([['E0202', expect.stringMatching(/missing required argument "w"/)]]);
  });
});

describe('tool annotations and outputs', () => {
  it('idempotentHint sets idempotent and destructiveHint destructive; the outputSchema types the output, else { text, content }', () => {
    const out = compileFile('annotated.orch', 'import mcp "t" as t\nplan p { step a = t.save()  step b = t.do_it(s: "x", w: a.output.saved)  step c = log(message: b.output.text) }\n');
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const caps = Object.values(out.plans[0]!.capabilities);
    const save = caps.find((c) => c.name.endsWith('.save'))!;
    const doIt = caps.find((c) => c.name.endsWith('.do_it'))!;
    expect([save.kind, save.idempotent, save.destructive]).toEqual(['tool', true, true]);
    expect([doIt.idempotent, doIt.destructive ?? false]).toEqual([false, false]);
    // A field no schema gives is E0201: the output types are the schema's, and the default's.
    const wrong = compileFile('wrong-out.orch', 'import mcp "t" as t\nplan p { step a = t.save()  step b = t.do_it(s: "x", w: a.output.text)  step c = log(message: b.output.saved) }\n');
    expect(wrong.diagnostics.filter((d) => d.code === 'E0201').map((d) => d.message)).toEqual([expect.stringContaining('text'), expect.stringContaining('saved')]);
  });
});

describe('nothing more after an import says E0802', () => {
  it('a refinement of a tool of a failed import, and calls of it, report nothing', () => {
    const ds = compileFile(
      'failed.orch',
      `import mcp "ghost" as g
capability read_notes from g.read_text_file { cost 0usd data personal }
plan p {
  step n = read_notes(path: "notes/today.md")
  step m = g.other(x: 1) { fallback read_notes(path: "x") }
  output { n: n.output.text }
}
`,
    ).diagnostics;
    expect(ds.map((d) => d.code)).toEqual(['E0802']);
  });

  it('a refinement of a tool the lock does not list reports only that tool', () => {
    const ds = compileFile('unlisted.orch', 'import mcp "t" as t\ncapability x from t.nothing { cost 0usd }\nplan p { step s = x(a: 1, b: "2") }\n').diagnostics;
    expect(ds.map((d) => d.code)).toEqual(['E0802']);
    expect(ds[0]!.message).toMatch(/no tool "nothing"/);
  });

  it('a mistyped tool name says which tool it may have meant (issue 47)', () => {
    const ds = compileFile('typo.orch', 'import mcp "t" as t\nplan p { step s = t.doit(s: "x", w: 1) }\n').diagnostics.filter((d) => d.code === 'E0802');
    expect(ds.map((d) => d.message)).toEqual([expect.stringMatching(/no tool "doit" in the lock file; did you mean "do_it"\?; run `orch mcp lock`/)]);
  });

  it('a refinement of itself still checks its calls against its own declaration', () => {
    const ds = compileFile('self.orch', 'capability x from x { input { a: int } cost 0usd }\nplan p { step s = x(b: 1) }\n').diagnostics;
    expect(ds.map((d) => [d.code, d.message])).toEqual(expect.arrayContaining([['E0202', expect.stringMatching(/unknown argument "b"/)]]));
  });

  it('a call of a name two tools map to reports only the collision at the import', () => {
    const ds = compileFile('clash.orch', 'import mcp "clash" as demo\ncapability s2 from demo.get_sum { }\nplan p { step s = demo.get_sum(a: 1, b: 2) step r = s2(z: 1) step e = demo.echo(message: "hi") }\n').diagnostics;
    expect(ds.map((d) => d.code)).toEqual(['E0802']);
    expect(ds[0]!.message).toMatch(/"get-sum" and "get_sum" .*both map to the name demo\.get_sum/);
  });

  it('two properties of one object mapping to one field name: E0802 at the import naming both; the tool cannot be called, other tools can', () => {
    const ds = compileFile('propclash.orch', 'import mcp "pclash" as demo\nplan p { step w = demo.write(opts: { x_y: "a" }) step e = demo.echo(message: "hi") }\n').diagnostics;
    expect(ds.filter((d) => d.code === 'E0802').map((d) => d.message)).toEqual([expect.stringMatching(/properties "x-y" and "x_y" of tool "write" of MCP server "pclash" both map to the field name x_y; demo\.write cannot be called/)]);
    expect(ds.filter((d) => d.code !== 'E0802')).toEqual([]);
  });
});

describe('property names that are not identifiers', () => {
  it('become fields as tool names become names (`file-path` → file_path, `2nd` → _2nd), nested and in outputs too', () => {
    const out = compileFile('props.orch', `import mcp "t" as t
plan p {
  step r = t.read_file(file_path: "a", _2nd: 2, opts: { x_y: "z" }, mode: "r")
  step n = t.read_file(file_path: r.output.full_path, opts: { x_y: "z" }, mode: null)
  output { first: r.output.lines[0].line_no }
}
`);
    expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const input = out.plans[0]!.capabilities['mcp.t.read_file']!.input as { required?: string[] };
    expect([...(input.required ?? [])].sort()).toEqual(['file_path', 'opts']);
    // A required property left out is reported at the call, under its Orch name.
    const missing = compileFile('props-missing.orch', 'import mcp "t" as t\nplan p { step r = t.read_file(opts: { x_y: "z" }) }\n').diagnostics;
    expect(missing.map((d) => [d.code, d.message])).toEqual([['E0202', expect.stringMatching(/missing required argument "file_path"/)]]);
  });

  it('an enum of strings with null is an optional enum: another string is an error', () => {
    const ds = compileFile('props-enum.orch', 'import mcp "t" as t\nplan p { step r = t.read_file(file_path: "a", opts: { x_y: "z" }, mode: "w") }\n').diagnostics;
    expect(ds.map((d) => d.code)).toEqual(['E0201']);
  });
});
