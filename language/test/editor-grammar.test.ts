/**
 * The VS Code extension's TextMate grammar (vscode-extension/syntaxes) keeps up with the lexer:
 * every keyword is highlighted somewhere, every declaration keyword as a declaration, and its
 * patterns are valid regular expressions.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DECLARATION_KEYWORDS, SOFT_KEYWORDS } from '../lexer.js';

const LINES: Record<string, string> = { test: 'test "name" {', type: 'type T = int', context: 'context {', import: 'import std.policies', module: 'module a.b' };
const grammar = JSON.parse(readFileSync(new URL('../../vscode-extension/syntaxes/orch.tmLanguage.json', import.meta.url), 'utf8'));

/** Every `match` / `begin` / `end` pattern of the grammar. */
function patterns(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => patterns(n, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if ((k === 'match' || k === 'begin' || k === 'end') && typeof v === 'string') out.push(v);
      else patterns(v, out);
    }
  }
  return out;
}

describe('the TextMate grammar', () => {
  const all = patterns(grammar);

  it('has only patterns that compile', () => {
    for (const p of all) expect(() => new RegExp(p), p).not.toThrow();
  });

  it('highlights every keyword of the lexer, the v0.4 ones included', () => {
    const mentioned = (w: string) => all.some((p) => new RegExp(`[|(]${w}[|)]`).test(p));
    expect(SOFT_KEYWORDS.filter((w) => !mentioned(w))).toEqual([]);
  });

  it('marks each declaration keyword as a declaration where it starts one', () => {
    const rules: { match: string; scope: string }[] = [];
    const collect = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(collect);
      else if (node && typeof node === 'object') {
        const r = node as { match?: string; captures?: Record<string, { name?: string }> };
        if (typeof r.match === 'string' && r.captures?.['1']?.name) rules.push({ match: r.match, scope: r.captures['1'].name });
        Object.values(node).forEach(collect);
      }
    };
    collect(grammar);
    for (const w of DECLARATION_KEYWORDS) {
      const line = LINES[w] ?? `${w} name {`;
      const hit = rules.find((r) => new RegExp(r.match).exec(line)?.[1] === w);
      expect(hit?.scope ?? 'none', line).toMatch(/^keyword\.(declaration|control)/);
    }
  });
});
