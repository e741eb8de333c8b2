/** `format()` and its self-check `sameMeaning`. */
import { describe, expect, it } from 'vitest';
import { format, sameMeaning } from '../format.js';
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
