/**
 * Chevrotain, loaded from its single-file ESM bundle when possible. The package entry point
 * pulls in lodash-es as hundreds of modules, which costs 0.4–0.6 s of start-up on a small
 * machine — half of `orch check`'s budget. The bundle (same package, same version) loads in
 * ~20 ms. Falls back to the normal entry where `import.meta.resolve` is unavailable (bundlers,
 * test runners).
 */
type Chevrotain = typeof import('chevrotain');

async function load(): Promise<Chevrotain> {
  try {
    const resolve = (import.meta as { resolve?: (s: string) => string }).resolve;
    if (typeof resolve === 'function') {
      const entry = resolve('chevrotain');
      if (entry.startsWith('file:') && entry.endsWith('/lib/src/api.js')) {
        return (await import(new URL('../chevrotain.mjs', entry).href)) as Chevrotain;
      }
    }
  } catch {
    // fall through to the regular entry point
  }
  return import('chevrotain');
}

const chevrotain = await load();

export const { CstParser, EmbeddedActionsParser, EOF, Lexer, LLkLookaheadStrategy, MismatchedTokenException, createToken, getLookaheadPaths, tokenLabel, tokenMatcher } = chevrotain;
/** The grammar tree's production classes (grammar-cache.ts makes productions of them). */
export const { Alternation, Alternative, NonTerminal, Option, Repetition, RepetitionMandatory, RepetitionMandatoryWithSeparator, RepetitionWithSeparator, Rule, Terminal } = chevrotain;
