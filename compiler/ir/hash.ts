/**
 * A plan's version (LANGUAGE.md §8.6): the SHA-256 of its IR as JSON text, in the order the
 * compiler writes its keys (the form the journal records, so a run's recorded IR hashes to the
 * version it runs). Two compilations of the same source give the same hash.
 */
import { createHash } from 'node:crypto';

export function irHash(ir: unknown): string {
  return irTextHash(JSON.stringify(ir));
}

/** The hash of an IR already in its JSON text form (a journal's recorded IR). */
export function irTextHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The short form shown in tables (like a git commit). */
export function shortHash(hash: string): string {
  return hash.slice(0, 12);
}
