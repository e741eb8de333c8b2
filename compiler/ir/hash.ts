/**
 * A plan's version (LANGUAGE.md §8.6): the SHA-256 of its IR as JSON text, in the order the
 * compiler writes its keys (the form the journal records, so a run's recorded IR hashes to the
 * version it runs). Two compilations of the same source give the same hash; so do the same
 * declarations in a file renamed or moved (issue 47): the hash is taken without `source_file` and
 * `base_dir`, and with an entry module named after its file (no `module` line) named `$entry`.
 */
import { createHash } from 'node:crypto';
import { withoutFileName } from '../diff/entry-module.js';
import type { PlanIR } from './types.js';

/** What no module can be called (not an identifier): the name a file-derived entry module is hashed under. */
const ENTRY = '$entry';

export function irHash(ir: unknown): string {
  return sha256(JSON.stringify(isPlan(ir) ? withoutFileName(ir, ENTRY) : ir));
}

/** The hash of an IR already in its JSON text form (a journal's recorded IR). */
export function irTextHash(text: string): string {
  let ir: unknown;
  try {
    ir = JSON.parse(text);
  } catch {
    return sha256(text);
  }
  return irHash(ir);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function isPlan(ir: unknown): ir is PlanIR {
  const p = ir as Partial<PlanIR> | null;
  return !!p && typeof p === 'object' && typeof p.module === 'string' && typeof p.plan === 'string' && Array.isArray(p.steps) && !!p.capabilities;
}

/** The short form shown in tables (like a git commit). */
export function shortHash(hash: string): string {
  return hash.slice(0, 12);
}
