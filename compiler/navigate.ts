/** Lookups on the bound model for editors: what is at an offset, where a symbol is used. */
import type { BoundModel, OrchSymbol, Reference } from './model.js';
import { resolve } from 'node:path';

function sameFile(a: string, b: string): boolean {
  return a === b || resolve(a) === resolve(b);
}

/** The reference (or declaration name) covering `offset` in `file`, innermost first. */
export function symbolAt(model: BoundModel, file: string, offset: number): { symbol: OrchSymbol; reference: Reference } | undefined {
  let best: Reference | undefined;
  for (const r of model.references) {
    if (!sameFile(r.file, file)) continue;
    if (r.range.start.offset <= offset && offset <= r.range.end.offset) {
      if (!best || r.range.end.offset - r.range.start.offset < best.range.end.offset - best.range.start.offset) best = r;
    }
  }
  const symbol = best ? model.symbols[best.symbol] : undefined;
  return best && symbol ? { symbol, reference: best } : undefined;
}

export function declarationOf(model: BoundModel, file: string, offset: number): OrchSymbol | undefined {
  return symbolAt(model, file, offset)?.symbol;
}

/** Every reference to a symbol, declaration included (first). */
export function referencesOf(model: BoundModel, symbolId: number): Reference[] {
  return model.references.filter((r) => r.symbol === symbolId).sort((a, b) => Number(b.isDeclaration) - Number(a.isDeclaration));
}

/** The innermost recorded type covering `offset`. */
export function typeAt(model: BoundModel, file: string, offset: number): string | undefined {
  let best: { type: string; size: number } | undefined;
  for (const t of model.types) {
    if (!sameFile(t.file, file)) continue;
    if (t.range.start.offset <= offset && offset <= t.range.end.offset) {
      const size = t.range.end.offset - t.range.start.offset;
      if (!best || size < best.size) best = { type: t.type, size };
    }
  }
  return best?.type;
}
