import type { IToken } from 'chevrotain';

/**
 * Doc comments (`/// text`) waiting to attach to the next declaration, field or step that
 * follows them with only whitespace in between. Those never taken end up as plain comments.
 */
export class DocComments {
  private readonly taken = new Set<IToken>();

  constructor(private readonly docs: IToken[]) {}

  take(startOffset: number, text: string): string | undefined {
    // Last doc token ending before startOffset.
    let lo = 0;
    let hi = this.docs.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.docs[mid]!.endOffset! < startOffset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    // Every step and declaration asks; a file without a doc comment before one allocates nothing.
    if (found < 0) return undefined;
    const lines: string[] = [];
    let next = startOffset;
    for (let i = found; i >= 0; i--) {
      const d = this.docs[i]!;
      // A `///` after code on its line is a trailing comment of that code, not a doc comment of
      // what follows (the formatter moves such comments behind a `,`: that must not change meaning).
      if (this.taken.has(d) || !onlyWhitespace(text, d.endOffset! + 1, next) || codeBefore(text, d.startOffset)) break;
      lines.push(d.image.slice(3).replace(/^ /, '')); // walked backwards: reversed below (unshift is quadratic)
      this.taken.add(d);
      next = d.startOffset;
    }
    return lines.length ? lines.reverse().join('\n') : undefined;
  }

  isTaken(t: IToken): boolean {
    return this.taken.has(t);
  }
}

/** Whether code (not only whitespace and block comments) comes before `offset` on its line. */
function codeBefore(text: string, offset: number): boolean {
  let i = offset;
  while (i > 0 && text.charCodeAt(i - 1) !== 10 && text.charCodeAt(i - 1) !== 13) i--;
  const prefix = text.slice(i, offset);
  const afterComment = prefix.includes('*/') ? prefix.slice(prefix.lastIndexOf('*/') + 2) : prefix;
  return afterComment.replace(/\/\*[\s\S]*?\*\//g, '').trim() !== '';
}

function onlyWhitespace(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    // The lexer's whitespace: a byte-order mark or form feed anywhere is whitespace too.
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13 && c !== 12 && c !== 11 && c !== 0xfeff) return false;
  }
  return true;
}
