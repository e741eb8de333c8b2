/**
 * The consent scopes a `consent` property names (LANGUAGE.md §4 "comma-separated list allowed",
 * §7.2). `consent "a", "b"` and `consent "a, b"` name the same two scopes: a scope is granted by
 * name (`--consent a,b`, config, `POST /runs`), and a name holding a comma or blanks around it
 * could never be granted from the command line.
 */
import type { StringLit } from '../language/index.js';

export function consentScopes(lits: readonly StringLit[]): { readonly scopes: string[]; readonly blank: StringLit[] } {
  const scopes: string[] = [];
  const blank: StringLit[] = [];
  for (const lit of lits) {
    const pieces = lit.parts
      .map((p) => (typeof p === 'string' ? p : ''))
      .join('')
      .split(',')
      .map((s) => s.trim());
    if (pieces.some((s) => s === '')) blank.push(lit);
    for (const s of pieces) if (s !== '' && !scopes.includes(s)) scopes.push(s);
  }
  return { scopes, blank };
}
