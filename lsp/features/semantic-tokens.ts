/**
 * Semantic tokens for names: what each identifier *is* (capability, resource, step, …), which
 * TextMate scopes cannot know. Keywords, literals and comments stay with the grammar.
 */
import { SemanticTokensBuilder, type SemanticTokens, type SemanticTokensLegend } from 'vscode-languageserver';
import type { Range } from '../../language/index.js';
import type { FileIndex, OrchSymbol, OrchSymbolKind } from '../symbol-index/model.js';

const TOKEN_TYPES = [
  'namespace', 'type', 'class', 'interface', 'struct', 'parameter', 'variable', 'property', 'event', 'function',
  'decorator', 'enumMember',
] as const;
const TOKEN_MODIFIERS = ['declaration', 'readonly', 'defaultLibrary', 'documentation'] as const;

export const SEMANTIC_TOKENS_LEGEND: SemanticTokensLegend = {
  tokenTypes: [...TOKEN_TYPES],
  tokenModifiers: [...TOKEN_MODIFIERS],
};

type TokenType = (typeof TOKEN_TYPES)[number];

function tokenType(kind: OrchSymbolKind, role: OrchSymbol['role']): TokenType | undefined {
  switch (kind) {
    case 'module':
    case 'alias':
    case 'context':
      return 'namespace';
    case 'type':
      return 'type';
    case 'capability':
      return 'function';
    case 'resource':
      return 'struct';
    case 'policy':
      return 'interface';
    case 'guardrail':
      return 'decorator';
    case 'plan':
      return 'class';
    case 'trigger':
      return 'event';
    case 'invariant':
      return 'enumMember';
    case 'step':
    case 'race':
    case 'repeat':
    case 'item':
      return 'variable';
    case 'field':
      return role === 'input' ? 'parameter' : 'property';
    default:
      return undefined;
  }
}

interface Token {
  readonly range: Range;
  readonly type: number;
  readonly modifiers: number;
}

export function semanticTokens(index: FileIndex): SemanticTokens {
  const tokens: Token[] = [];
  const push = (range: Range, kind: OrchSymbolKind, role: OrchSymbol['role'], mods: number): void => {
    const t = tokenType(kind, role);
    if (!t || range.start.line !== range.end.line || range.end.offset <= range.start.offset) return;
    tokens.push({ range, type: TOKEN_TYPES.indexOf(t), modifiers: mods });
  };
  const bit = (m: (typeof TOKEN_MODIFIERS)[number]): number => 1 << TOKEN_MODIFIERS.indexOf(m);
  for (const sym of index.symbols) {
    if (sym.kind === 'simulate' || sym.kind === 'foreach' || sym.kind === 'context') continue;
    // Quoted invariant names are strings; only identifiers get a token.
    if (sym.nameRange.end.offset - sym.nameRange.start.offset !== sym.name.length) continue;
    push(sym.nameRange, sym.kind, sym.role, bit('declaration') | (sym.kind === 'item' ? bit('readonly') : 0));
  }
  for (const r of index.references) {
    push(r.range, r.kind, r.role, r.std ? bit('defaultLibrary') : 0);
  }
  tokens.sort((a, b) => a.range.start.offset - b.range.start.offset);
  const builder = new SemanticTokensBuilder();
  let lastEnd = -1;
  for (const t of tokens) {
    if (t.range.start.offset < lastEnd) continue;
    builder.push(t.range.start.line - 1, t.range.start.column - 1, t.range.end.column - t.range.start.column, t.type, t.modifiers);
    lastEnd = t.range.end.offset;
  }
  return builder.build();
}
