/**
 * Every ```orch block of LANGUAGE.md is a fixture (language/test/fixtures/spec-N.orch) and parses
 * with zero diagnostics. The fixtures are compared with the spec when it is available, so an
 * edit to the spec that is not reflected here fails loudly.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from '../index.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const SPEC = '/work/shared/LANGUAGE.md';

const fixtureFiles = readdirSync(FIXTURES)
  .filter((f) => /^spec-\d+\.orch$/.test(f))
  .sort((a, b) => Number(a.match(/\d+/)![0]) - Number(b.match(/\d+/)![0]));

describe('LANGUAGE.md examples', () => {
  it('has one fixture per orch code block of the spec', () => {
    expect(fixtureFiles.length).toBeGreaterThanOrEqual(4);
    if (!existsSync(SPEC)) return;
    const blocks = [...readFileSync(SPEC, 'utf8').matchAll(/```orch\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(fixtureFiles.map((f) => readFileSync(FIXTURES + f, 'utf8'))).toEqual(blocks);
  });

  for (const f of fixtureFiles) {
    it(`${f} parses with zero diagnostics`, () => {
      const { module, diagnostics } = parse({ file: f, text: readFileSync(FIXTURES + f, 'utf8') });
      expect(diagnostics).toEqual([]);
      expect(module.declarations.length).toBeGreaterThan(0);
    });
  }

  it('spec-1 declares every top-level form of section 4', () => {
    const { module } = parse({ file: 'spec-1.orch', text: readFileSync(FIXTURES + 'spec-1.orch', 'utf8') });
    expect(module.module?.name.parts.map((p) => p.name)).toEqual(['marketing', 'campaigns']);
    expect(module.imports.map((i) => i.kind)).toEqual(['StdImport', 'StdImport', 'FileImport']);
    expect(module.declarations.map((d) => d.kind)).toEqual([
      'CapabilityDecl', 'ResourceDecl', 'PolicyDecl', 'GuardrailDecl', 'GuardrailDecl', 'GuardrailDecl', 'GuardrailDecl', 'ContextDecl',
    ]);
  });
});
