/**
 * The canonical printer (`orch fmt`): AST → text in one style.
 *
 * - 2-space indentation, one property per line, properties in a fixed order per declaration;
 * - one blank line between top-level declarations; lists, records and argument lists stay on one
 *   line when they fit in `width` columns, otherwise one element per line;
 * - parentheses: every `ParenExpr` is reproduced, and parentheses are added where precedence
 *   needs them, so re-parsing the output gives back the same tree;
 * - every comment of `Module.comments` is printed, next to the item it was written next to.
 *
 * `print` without `source` still places comments using node ranges; with the source text it can
 * also keep comments next to properties that have no range of their own (`kind agent // …`).
 *
 * The printer is one class in layers, each in a module of its own: `print-blocks.ts` (line items,
 * blocks, lists and where comments go), `print-expressions.ts` (types, literals, expressions),
 * `print-statements.ts` (plan bodies), `print-declarations.ts` (declarations); this module prints
 * the module's header, imports and top-level chunks. `print-literals.ts` and `print-precedence.ts`
 * are the pure helpers.
 */
import type { Comment, Declaration, Expr, ImportDecl, Module, ModuleDecl } from './ast.js';
import { SourceIndex } from './comments.js';
import { hardline, render, type Doc } from './layout.js';
import type { Item } from './print-blocks.js';
import { DeclarationPrinter } from './print-declarations.js';
import { commentText } from './print-literals.js';
import { endLine, endOffset, startLine, startOffset } from './source.js';

export { commentText, escapeStringText, formatMoneyAmount, formatNumber, recordKeyText, stringLiteral } from './print-literals.js';
export { parenthesize } from './print-precedence.js';

const text = commentText;

export interface PrintOptions {
  /** The text the module was parsed from; improves comment placement. */
  readonly source?: string;
  /** Target line width for wrapping; default 100. */
  readonly width?: number;
  /**
   * Declarations printed as they are written in `source` (format.ts: one whose tree dropped a
   * repeated property, which printing the tree would delete).
   */
  readonly asWritten?: ReadonlySet<Declaration>;
}

export function print(module: Module, options: PrintOptions = {}): string {
  const text = [...printChunks(module, options)].join('');
  return text.length === 0 ? '' : `${text}\n`;
}

/**
 * `print`'s text in pieces, one top-level item (with the line breaks before it) at a time, in
 * order; `print` is their concatenation and a final line break when there is any. Lets
 * `orch fmt --check` stop at the first piece that differs from the file.
 */
export function* printChunks(module: Module, options: PrintOptions = {}): Generator<string> {
  for (const chunk of printModuleChunks(module, options)) yield chunk.text;
}

/** A piece of `printChunks`, with the top-level item it prints. */
export interface PrintedChunk {
  readonly text: string;
  /** The module's item this piece prints; none for the comments after the last item. */
  readonly item?: TopLevelItem;
}

export type TopLevelItem = ModuleDecl | ImportDecl | Declaration;

/** `printChunks` with the item each piece prints (for `format`'s self-check, piece by piece). */
export function* printModuleChunks(module: Module, options: PrintOptions = {}): Generator<PrintedChunk> {
  const printer = new Printer(options.source === undefined ? undefined : new SourceIndex(options.source));
  const width = options.width ?? 100;
  // Top-level chunks are separated by hard line breaks at indent 0, so each lays out alone exactly
  // as within the whole; built and rendered one at a time, only one chunk's document is alive —
  // the whole module's at once took gigabytes for a 10 MB file of small plans.
  for (const chunk of printer.moduleChunks(module, options.asWritten)) yield { text: chunk.before + render(chunk.doc(), width), item: chunk.item };
}

/** One expression on one line, exactly as `orch fmt` writes it (hovers, messages). */
export function printExpr(e: Expr): string {
  return render(new Printer(undefined).expr(e), Number.POSITIVE_INFINITY);
}

class Printer extends DeclarationPrinter {
  /** The module as chunks that each start a line at indent 0, after `before` (line breaks). */
  moduleChunks(m: Module, asWritten?: ReadonlySet<Declaration>): { readonly before: string; readonly doc: () => Doc; readonly item?: TopLevelItem }[] {
    const header: Item[] = [];
    if (m.module) {
      const md = m.module;
      header.push({ range: md.range, print: (inner) => this.withTrailing(this.moduleDecl(md), inner) });
    }
    const imports: Item[] = m.imports.map((imp) => ({ range: imp.range, print: (inner) => this.withTrailing(this.importDecl(imp), inner) }));
    const decls: Item[] = m.declarations.map((d) => ({ range: d.range, doc: d.doc, print: (inner) => (asWritten?.has(d) ? this.written(d) : this.declaration(d, inner)) }));
    const absorbs = new Set(m.declarations.filter((d) => d.kind !== 'InvariantDecl' && d.kind !== 'TypeAliasDecl').map((d) => d.range));
    const all = [...header, ...imports, ...decls];
    const nodes: TopLevelItem[] = [...(m.module ? [m.module] : []), ...m.imports, ...m.declarations];
    const comments = [...m.comments].sort((a, b) => a.range.start.offset - b.range.start.offset);
    const { items: attached, dangling } = this.distribute(all, comments);
    /** An import after the first: printed right below the one before it. */
    const sameGroupAt = (index: number): boolean => index > header.length && index < header.length + imports.length;
    const chunks: { before: string; doc: () => Doc; item?: TopLevelItem }[] = all.map((item, index) => ({
      before: index === 0 ? '' : sameGroupAt(index) ? '\n' : '\n\n',
      item: nodes[index],
      doc: () => {
        const a = attached[index]!;
        // `trigger t { … }  // note` on one line becomes a block: the note goes to its first line.
        const oneLine = item.range !== undefined && absorbs.has(item.range) && startLine(item.range) === endLine(item.range);
        const placed = oneLine ? { ...a, inner: [...a.inner, ...a.trailing], trailing: [] } : a;
        // Imports are one group without blank lines: a blank line kept after a comment above an
        // import would make that comment close the import before it the next time round.
        return [this.topLeading(a.leading, item, !sameGroupAt(index)), this.itemDoc(item, { ...placed, leading: [] })];
      },
    }));
    // Comments after the last declaration: keep a blank line where the source had one.
    const last = attached.at(-1);
    let prevLine = last && all.length > 0 ? this.lastLine(all.at(-1)!, last) : undefined;
    const tail: Doc[] = [];
    for (const c of dangling) {
      if (chunks.length > 0 || tail.length > 0) tail.push(hardline, prevLine === undefined || c.range.start.line - prevLine > 1 ? hardline : '');
      tail.push(text(c));
      prevLine = c.range.end.line;
    }
    if (tail.length) chunks.push({ before: '', doc: () => tail });
    return chunks;
  }

  /** A declaration's own text, line by line (the comments inside it with it). */
  private written(d: Declaration): Doc {
    const lines = this.source!.text.slice(startOffset(d.range), endOffset(d.range)).split(/\r?\n/);
    return lines.map((l, i) => (i === 0 ? l : [hardline, l]));
  }

  protected moduleDecl(md: ModuleDecl): Doc {
    return ['module ', this.qname(md.name)];
  }

  protected importDecl(imp: ImportDecl): Doc {
    if (imp.kind === 'FileImport') return ['import ', imp.mcp ? 'mcp ' : '', this.string(imp.path), ' as ', imp.alias.name];
    if (!imp.names) return ['import ', this.qname(imp.path)];
    const names = imp.names.map((n) => ({ range: n.range, print: (inner: Comment[]) => this.withTrailing(n.name, inner) }));
    return ['import ', this.qname(imp.path), ' ', this.commaList('{', '}', names, [], true)];
  }
}
