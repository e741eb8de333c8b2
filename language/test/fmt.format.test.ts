/** `format()`, its self-check `sameMeaning`, and `checkFormatted` (`orch fmt --check`). */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkFormatted, format, sameMeaning } from '../format.js';
import { parse } from '../index.js';

const tree = (text: string) => parse({ file: 'm.orch', text }).module;

describe('format', () => {
  it('reports changed only when the text differs, and never throws on bad input', () => {
    const tidy = 'resource r {\n  kind pool\n}\n';
    expect(format('m.orch', tidy)).toMatchObject({ text: tidy, changed: false });
    expect(format('m.orch', 'resource r { kind pool }')).toMatchObject({ text: tidy, changed: true });
    for (const junk of ['}}}{{{', 'plan', '"unterminated', '/* open', '\u0000\u0001', 'step x = y('.repeat(50)]) {
      const r = format('m.orch', junk);
      expect(r.changed).toBe(false);
      expect(r.text).toBe(junk);
      expect(r.diagnostics.length).toBeGreaterThan(0);
    }
  });

  it('sameMeaning ignores layout, comment order and trailing spaces but not the tree or comment texts', () => {
    const a = tree('resource r { kind pool cost 0.5usd } // c\n/* d */');
    expect(sameMeaning(a, tree('/* d */\nresource r {\n  cost 0.50usd\n  kind pool // c   \n}\n'))).toBe(true);
    expect(sameMeaning(a, tree('resource r { kind pool cost 0.6usd } // c\n/* d */'))).toBe(false);
    expect(sameMeaning(a, tree('resource r { kind pool cost 0.5usd } // changed\n/* d */'))).toBe(false);
    expect(sameMeaning(a, tree('resource r { kind pool cost 0.5usd } // c\n'))).toBe(false);
    expect(sameMeaning(tree('/// doc  \nresource r {}'), tree('/// doc\nresource r {}'))).toBe(true);
    expect(sameMeaning(tree('/// doc\nresource r {}'), tree('resource r {}'))).toBe(false);
  });
});

describe('checkFormatted (orch fmt --check)', () => {
  const fixtures = new URL('./fixtures/', import.meta.url);
  const sources = readdirSync(fixtures).filter((f) => f.endsWith('.orch')).map((f) => readFileSync(new URL(f, fixtures), 'utf8'));

  it('answers as format does: changed for each fixture as written, unchanged once formatted', () => {
    expect(sources.length).toBeGreaterThan(3);
    for (const text of sources) {
      const full = format('m.orch', text);
      expect(full.refused).toBeUndefined();
      expect(checkFormatted('m.orch', text)).toMatchObject({ changed: full.changed, diagnostics: full.diagnostics });
      expect(checkFormatted('m.orch', full.text)).toMatchObject({ changed: false });
    }
  });

  it('finds a difference in the last declaration, at the very end, or only in line breaks', () => {
    const tidy = format('m.orch', sources.join('\n')).text;
    expect(checkFormatted('m.orch', tidy).changed).toBe(false);
    const lastBrace = tidy.lastIndexOf('}');
    for (const changed of [
      `${tidy.slice(0, lastBrace)} }\n`, // the last declaration
      tidy.slice(0, -1), // no final line break
      `${tidy}\n`, // an extra blank line
      tidy.replace(/\n/g, '\r\n'),
      `\n${tidy}`,
    ]) {
      expect(checkFormatted('m.orch', changed).changed).toBe(true);
      expect(format('m.orch', changed).changed).toBe(true);
    }
    expect(checkFormatted('m.orch', '')).toMatchObject({ changed: false });
    expect(checkFormatted('m.orch', '\n')).toMatchObject({ changed: true });
    expect(checkFormatted('m.orch', '// only a comment\n')).toMatchObject({ changed: false });
  });

  it('reports syntax errors and never throws on bad input', () => {
    for (const junk of ['}}}{{{', 'plan', '"unterminated', '/* open', '\u0000\u0001']) {
      const r = checkFormatted('m.orch', junk);
      expect(r.changed).toBe(false);
      expect(r.diagnostics.length).toBeGreaterThan(0);
      expect(r.diagnostics).toEqual(format('m.orch', junk).diagnostics);
    }
  });
});
