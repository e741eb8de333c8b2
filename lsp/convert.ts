/**
 * Conversions between the toolchain's coordinates (1-based line/column, exclusive end, absolute
 * file paths) and the LSP's (0-based line/character, URIs).
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Position as LspPosition, Range as LspRange } from 'vscode-languageserver';
import type { Position, Range } from '../language/index.js';

export function toLspPosition(p: Position): LspPosition {
  return { line: Math.max(0, p.line - 1), character: Math.max(0, p.column - 1) };
}

export function toLspRange(r: Range): LspRange {
  return { start: toLspPosition(r.start), end: toLspPosition(r.end) };
}

/** True when the 0-based offset lies inside the range or touches its end (cursor after a name). */
export function containsOffset(r: Range, offset: number): boolean {
  return r.start.offset <= offset && offset <= r.end.offset;
}

/**
 * File URIs become paths so diagnostics, imports and the compiler's host all speak one language;
 * other schemes (`untitled:`) keep their URI as their "path" and resolve imports against the cwd.
 */
export function uriToPath(uri: string): string {
  if (uri.startsWith('file:')) {
    try {
      return fileURLToPath(uri);
    } catch {
      return uri;
    }
  }
  return uri;
}

export function pathToUri(path: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(path) && !/^[a-z]:[\\/]/i.test(path)) return path;
  return pathToFileURL(path).href;
}
