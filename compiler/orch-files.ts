/**
 * The one walk of a folder tree for `.orch` files, shared by `orch check DIR`, `orch fmt DIR`,
 * the project scope (`orch draft`, the MCP server), `orch mcp lock` and the language server.
 * Each caller states what genuinely differs between them (folders skipped, order, limits, what
 * an unreadable folder means); the rest is the same everywhere:
 *
 * - Regular files named `*.orch` are listed, as `join(folder, name)` of the root as given.
 * - A symbolic link to a folder is never entered (its directory entry is not a folder), so a
 *   link loop cannot trap the walk; a link to a file is listed only when `linkedFiles` says so.
 * - Depth first: a folder's files and subfolders in the folder's order, a subfolder's files
 *   where the subfolder falls in that order.
 *
 * Synchronous: these are one-off scans of a project at the command line or in the editor's
 * background, and a sync walk serves the sync callers (lock, scope, language server) and the
 * async commands alike.
 */
import { readdirSync, statSync, type Dirent } from 'node:fs';
import { join } from 'node:path';

export interface OrchWalk {
  /** Folder names never entered, at any depth. */
  readonly skip: ReadonlySet<string>;
  /** Whether folders whose name starts with a dot are never entered either. */
  readonly skipHidden: boolean;
  /**
   * The order of a folder's entries: as the file system lists them, by UTF-16 code units (what
   * `<` compares: `B` before `a`, `-` before `_`), or by `localeCompare` (`a` before `B`).
   */
  readonly order: 'as-listed' | 'code-units' | 'locale';
  /** What a folder that cannot be read means: nothing (left out), or an error the walk ends with. */
  readonly unreadable: 'skip' | ((dir: string, error: NodeJS.ErrnoException) => never);
  /** Stop once this many files are listed. */
  readonly maxFiles?: number;
  /** Read folders at most this many levels below a root (a root is level 0). */
  readonly maxDepth?: number;
  /** Also list links named `*.orch` whose target is a regular file (default: regular files only). */
  readonly linkedFiles?: boolean;
  /** Files not listed (paths as the walk forms them), nor counted toward `maxFiles`. */
  readonly exclude?: ReadonlySet<string>;
}

const COMPARE = {
  'code-units': (a: Dirent, b: Dirent) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  locale: (a: Dirent, b: Dirent) => a.name.localeCompare(b.name),
} as const;

/** Every `.orch` file under the roots (each walked in turn), by the rules of `walk`. */
export function orchFilesUnder(roots: string | readonly string[], walk: OrchWalk): string[] {
  const found: string[] = [];
  const maxFiles = walk.maxFiles ?? Infinity;
  const maxDepth = walk.maxDepth ?? Infinity;
  const enters = (name: string): boolean => !walk.skip.has(name) && !(walk.skipHidden && name.startsWith('.'));
  const visit = (dir: string, depth: number): void => {
    if (depth > maxDepth || found.length >= maxFiles) return;
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      if (walk.unreadable === 'skip') return;
      return walk.unreadable(dir, err as NodeJS.ErrnoException);
    }
    if (walk.order !== 'as-listed') entries.sort(COMPARE[walk.order]);
    for (const e of entries) {
      if (found.length >= maxFiles) return;
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        if (enters(e.name)) visit(path, depth + 1);
      } else if (e.name.endsWith('.orch') && (e.isFile() || (walk.linkedFiles && e.isSymbolicLink() && linksToFile(path))) && !walk.exclude?.has(path)) {
        found.push(path);
      }
    }
  };
  for (const root of typeof roots === 'string' ? [roots] : roots) visit(root, 0);
  return found;
}

/**
 * The walk of a folder named on the command line (`orch check .`, `orch fmt .`, `orch test .`):
 * one rule for every command, so CI's `check`, `fmt --check` and `test` of one folder read the
 * same files. Dependencies, build output and coverage reports are not the user's plans; neither are
 * dot-folders (`.git`, `.orch`'s journals, `.venv`, editor state), as linters and formatters skip
 * them by default. Files in name order (code units), so a report reads the same on every machine.
 */
export function givenFolderWalk(unreadable: OrchWalk['unreadable']): OrchWalk {
  return { skip: GIVEN_FOLDER_SKIP, skipHidden: true, order: 'code-units', unreadable };
}

const GIVEN_FOLDER_SKIP: ReadonlySet<string> = new Set(['node_modules', 'dist', 'coverage']);

function linksToFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false; // a dangling or looping link, or one into a folder it may not read
  }
}
