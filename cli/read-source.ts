/**
 * Reads an `.orch` source file for a CLI command, turning every way it can be unusable into one
 * clear `CliError` (exit 2): missing, unreadable, a directory, empty, binary, not UTF-8.
 */
import { readFile, stat } from 'node:fs/promises';
import { CliError } from './errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Why `path` cannot be used as source text, or the text itself. */
export async function readSource(path: string): Promise<string> {
  let bytes: Buffer;
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw new CliError(`${path}: is a directory, not an .orch file`, 2);
    if (!info.isFile()) throw new CliError(`${path}: not a regular file`, 2);
    bytes = await readFile(path);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`${path}: ${ioReason(err)}`, 2);
  }
  if (bytes.length === 0) throw new CliError(`${path}: empty file`, 2);
  if (bytes.includes(0)) throw new CliError(`${path}: binary file (contains NUL bytes), not .orch source`, 2);
  try {
    return utf8.decode(bytes);
  } catch {
    throw new CliError(`${path}: not valid UTF-8 text`, 2);
  }
}

/** Why a file could not be read or written, in plain words (a Node error code is no message). */
export function ioReason(err: unknown, isDirectory = 'is a directory, not an .orch file'): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return isDirectory;
    case 'ENOTDIR':
      return 'a part of the path is a file, not a directory';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'ENAMETOOLONG':
      return 'file name too long';
    case 'ELOOP':
      return 'too many symbolic links';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}

/** The name standard input goes by in diagnostics (`orch check -`, `orch fmt -`). */
export const STDIN_NAME = '<stdin>';

/**
 * Standard input as `.orch` source text (`orch check -`, `orch fmt -`): refused as a file would be
 * when it is binary or not UTF-8, never decoded with replacement characters.
 */
export async function readStdinSource(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  if (bytes.includes(0)) throw new CliError('standard input is binary (contains NUL bytes), not .orch source', 2);
  try {
    return utf8.decode(bytes);
  } catch {
    throw new CliError('standard input is not valid UTF-8 text', 2);
  }
}
