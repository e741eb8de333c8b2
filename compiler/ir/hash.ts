/**
 * A plan's version (LANGUAGE.md §8.6): the SHA-256 of its IR as JSON text, in the order the
 * compiler writes its keys (the form the journal records, so a run's recorded IR hashes to the
 * version it runs). Two compilations of the same source give the same hash; so do the same
 * declarations in a file renamed or moved (issue 47): the hash is taken without `source_file` and
 * `base_dir`, and with an entry module named after its file (no `module` line) named `$entry`.
 *
 * Every run journals its plan's hash as it starts. Stringifying a 100,000-step IR whole (~85 MB
 * of text, then its UTF-8 copy for the hash) is a few hundred MB at the peak of a large `orch run`,
 * so the text is hashed in pieces (`jsonPieces`) and never exists whole, and a hash once taken is
 * kept with its IR object (an IR is never changed once built; a plan started again, or a sub-plan
 * run per item, is not hashed again).
 */
import { createHash } from 'node:crypto';
import { withoutFileName } from '../diff/entry-module.js';
import { jsonPieces } from './json-pieces.js';
import type { PlanIR } from './types.js';

/** What no module can be called (not an identifier): the name a file-derived entry module is hashed under. */
const ENTRY = '$entry';

const taken = new WeakMap<object, string>();

export function irHash(ir: unknown): string {
  if (ir === null || typeof ir !== 'object') return sha256(JSON.stringify(ir) ?? 'null');
  let hash = taken.get(ir);
  if (hash === undefined) {
    const h = createHash('sha256');
    for (const piece of jsonPieces(isPlan(ir) ? withoutFileName(ir, ENTRY) : ir)) h.update(piece);
    taken.set(ir, (hash = h.digest('hex')));
  }
  return hash;
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
