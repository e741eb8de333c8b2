/**
 * The server's picture of the project: open documents (their unsaved text wins over disk),
 * other `.orch` files under the workspace folders, one cached parse per text, and the import
 * graph so a change in one file re-checks the files that import it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { TextDocuments } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Module } from '../language/index.js';
import type { Diagnostic } from '../language/index.js';
import { reparse } from '../language/index.js';
import { mcpModuleSource, orchFilesUnder } from '../compiler/index.js';
import type { ParseOutput } from '../language/index.js';
import { pathToUri, uriToPath } from './convert.js';
import { collectDeclarations } from './symbol-index/declarations.js';
import type { DeclarationTable, FileIndex } from './symbol-index/model.js';
import { buildFileIndex, fileImportsOf } from './symbol-index/references.js';

export interface ParsedFile {
  readonly path: string;
  readonly text: string;
  /** Document version for open files, `null` for files read from disk. */
  readonly version: number | null;
  readonly module: Module;
  readonly diagnostics: readonly Diagnostic[];
}

interface CacheEntry {
  readonly parsed: ParsedFile;
  decls?: DeclarationTable;
  index?: { readonly generation: number; readonly value: FileIndex };
}

const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'out', '.vscode-test']);
const MAX_SCANNED_FILES = 5000;

export class Workspace {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly disk = new Map<string, { mtimeMs: number; text: string }>();
  /** Bumped on every text change: indexes and compile results depend on other files' text. */
  private gen = 0;
  private scanned: { at: number; files: string[] } | undefined;
  roots: string[] = [];

  constructor(
    readonly documents: TextDocuments<TextDocument>,
    readonly stdDir: () => string | undefined,
  ) {}

  touch(): void {
    this.gen++;
  }

  get generation(): number {
    return this.gen;
  }

  documentFor(path: string): TextDocument | undefined {
    // Clients may percent-encode URIs differently from Node; fall back to comparing paths.
    return this.documents.get(pathToUri(path)) ?? this.documents.all().find((d) => uriToPath(d.uri) === path);
  }

  /** The URI the client uses for a file (its open document's), else the file URI. */
  uriOf(path: string): string {
    return this.documentFor(path)?.uri ?? pathToUri(path);
  }

  /** Current text of a file: the editor buffer when open, else the file on disk. */
  textOf(path: string): string | undefined {
    const doc = this.documentFor(path);
    if (doc) return doc.getText();
    // `import mcp "server"`: the module generated from orch.lock.json (LANGUAGE.md §8.3).
    if (path.includes('#')) return mcpModuleSource(path);
    try {
      const st = statSync(path);
      if (!st.isFile()) return undefined;
      const hit = this.disk.get(path);
      if (hit && hit.mtimeMs === st.mtimeMs) return hit.text;
      const text = readFileSync(path, 'utf8');
      this.disk.set(path, { mtimeMs: st.mtimeMs, text });
      return text;
    } catch {
      return undefined;
    }
  }

  /** Parse of the current text (cached until the text changes). Never throws. */
  parsed(path: string): ParsedFile | undefined {
    const text = this.textOf(path);
    if (text === undefined) return undefined;
    const doc = this.documentFor(path);
    const hit = this.cache.get(path);
    if (hit && hit.parsed.text === text) return hit.parsed;
    const parsed = this.parseText(path, text, doc?.version ?? null, hit?.parsed);
    this.cache.set(path, { parsed });
    return parsed;
  }

  /** The compiler's `SourceHost.parse`: the workspace's parse when the text is current. */
  parseFor(path: string, text: string): ParseOutput {
    const current = this.parsed(path);
    return current && current.text === text ? { module: current.module, diagnostics: [...current.diagnostics] } : reparse({ file: path, text });
  }

  /** The parse this thread holds for a file, whatever its text; never parses. */
  held(path: string): ParsedFile | undefined {
    return this.cache.get(path)?.parsed;
  }

  /** The last parse, even if the text has changed since (cheap context for completion). */
  lastParsed(path: string): ParsedFile | undefined {
    return this.cache.get(path)?.parsed ?? this.parsed(path);
  }

  private parseText(path: string, text: string, version: number | null, previous: ParsedFile | undefined): ParsedFile {
    try {
      // Only what the edit touched is parsed again.
      const { module, diagnostics } = reparse({ file: path, text, previous: previous && { text: previous.text, output: { module: previous.module, diagnostics: [...previous.diagnostics] } } });
      return { path, text, version, module, diagnostics };
    } catch (err) {
      // The parser promises never to throw; if it does, the editor still gets an (empty) answer.
      const message = err instanceof Error ? err.message : String(err);
      const at = { line: 1, column: 1, offset: 0 };
      return {
        path, text, version,
        module: { kind: 'Module', file: path, range: { start: at, end: at }, imports: [], declarations: [], comments: [] },
        diagnostics: [{ code: 'E0001', severity: 'error', message: `internal parser error: ${message}`, file: path, range: { start: at, end: at } }],
      };
    }
  }

  declarations(path: string): DeclarationTable | undefined {
    const parsed = this.parsed(path);
    if (!parsed) return undefined;
    const entry = this.cache.get(path)!;
    entry.decls ??= collectDeclarations(parsed.module, path);
    return entry.decls;
  }

  /** Declarations and resolved references of a file (rebuilt lazily after any change). */
  index(path: string, options: { stale?: boolean } = {}): FileIndex | undefined {
    const parsed = options.stale ? this.lastParsed(path) : this.parsed(path);
    if (!parsed) return undefined;
    const entry = this.cache.get(path)!;
    if (entry.index && (entry.index.generation === this.gen || options.stale)) return entry.index.value;
    entry.decls ??= collectDeclarations(parsed.module, path);
    const value = buildFileIndex(parsed.module, path, {
      fileTable: (p) => this.declarations(p),
      stdTable: (name) => this.stdTable(name),
      isStd: (file) => this.isStd(file),
    }, entry.decls);
    entry.index = { generation: this.gen, value };
    return value;
  }

  stdPath(name: string): string | undefined {
    const dir = this.stdDir();
    if (!dir || !name.startsWith('std.')) return undefined;
    return join(dir, ...name.slice(4).split('.')) + '.orch';
  }

  isStd(file: string): boolean {
    const dir = this.stdDir();
    return !!dir && file.startsWith(dir);
  }

  stdTable(name: string): DeclarationTable | undefined {
    const path = this.stdPath(name);
    return path ? this.declarations(path) : undefined;
  }

  /** Std module names available for `import std.…` completion. */
  stdModules(): string[] {
    const dir = this.stdDir();
    if (!dir) return [];
    try {
      return readdirSync(dir).filter((f) => f.endsWith('.orch')).map((f) => `std.${f.slice(0, -5)}`).sort();
    } catch {
      return [];
    }
  }

  /** Files imported (directly) by `path`, as absolute paths. */
  importsOf(path: string): string[] {
    const parsed = this.parsed(path);
    if (!parsed) return [];
    return fileImportsOf(parsed.module, path);
  }

  /** Open documents that import `path`, directly or through other files. */
  importersOf(path: string): string[] {
    const open = this.documents.all().map((d) => uriToPath(d.uri));
    return open.filter((p) => p !== path && this.imports(p, path));
  }

  /**
   * `file` and every workspace file that imports it (directly or not); std files: all files.
   * `only` picks the files worth asking (cheaper than following every file's imports).
   */
  filesReferencing(file: string, only: (p: string) => boolean = () => true): string[] {
    const all = this.allFiles().filter((p) => p !== file && only(p));
    if (this.isStd(file)) return [file, ...all];
    return [file, ...all.filter((p) => this.imports(p, file))];
  }

  /**
   * Whether `path` imports `target`, directly or not. The search never reads `target`'s own
   * imports: after an edit of `target`, asking who imports it must not parse it again on the
   * server's main thread (its check worker parses it; issue #47 item 13).
   */
  private imports(path: string, target: string): boolean {
    const seen = new Set<string>([path]);
    const queue = [path];
    while (queue.length) {
      for (const next of this.importsOf(queue.pop()!)) {
        if (next === target) return true;
        if (!seen.has(next)) {
          seen.add(next);
          queue.push(next);
        }
      }
    }
    return false;
  }

  /** Every `.orch` file the workspace knows: open documents plus files under the roots. */
  allFiles(): string[] {
    const now = Date.now();
    if (!this.scanned || now - this.scanned.at > 2000) this.scanned = { at: now, files: this.scan() };
    const open = this.documents.all().map((d) => uriToPath(d.uri));
    return [...new Set([...open, ...this.scanned.files])];
  }

  private scan(): string[] {
    return orchFilesUnder(this.roots, { skip: SKIP_DIRS, skipHidden: true, order: 'as-listed', unreadable: 'skip', maxFiles: MAX_SCANNED_FILES, maxDepth: 12 });
  }

  forget(path: string): void {
    this.cache.delete(path);
    this.disk.delete(path);
    this.touch();
  }
}
