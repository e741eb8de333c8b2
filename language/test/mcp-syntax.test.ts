import { describe, expect, it } from 'vitest';
import { format, parse, parseViaCst } from '../index.js';

const text = `import mcp "files" as files
import "./x.orch" as x

capability read_notes from files.read_text_file {
  cost 0usd
  destructive true
}

capability wipe {
  kind tool
  destructive false
}
`;

describe('LANGUAGE.md §8.3 syntax', () => {
  for (const [name, p] of [['live', parse], ['cst', parseViaCst]] as const) {
    it(`parses import mcp, capability … from, destructive (${name})`, () => {
      const r = p({ file: 'a.orch', text });
      expect(r.diagnostics).toEqual([]);
      const [mcp, file] = r.module.imports;
      expect(mcp).toMatchObject({ kind: 'FileImport', path: 'files', mcp: true, alias: { name: 'files' } });
      expect(file).toMatchObject({ kind: 'FileImport', path: './x.orch' });
      expect(file && 'mcp' in file).toBe(false);
      const [refined, wipe] = r.module.declarations;
      expect(refined).toMatchObject({ kind: 'CapabilityDecl', destructive: true, from: { parts: [{ name: 'files' }, { name: 'read_text_file' }] } });
      expect(wipe).toMatchObject({ destructive: false });
    });
  }

  it('formats the new forms back to themselves', () => {
    expect(format("a.orch", text)).toMatchObject({ text, diagnostics: [] });
  });

  it('`mcp`, `from` and `destructive` stay usable as names', () => {
    const r = parse({ file: 'b.orch', text: 'import mcp.x\nplan p { input { from: string, mcp: int } step destructive = log(message: input.from) }\n' });
    expect(r.diagnostics).toEqual([]);
  });
});
