/**
 * A plan's version (LANGUAGE.md §8.6): the SHA-256 of its IR as JSON text, in the order the
 * compiler writes its keys (the form the journal records, so a run's recorded IR hashes to the
 * version it runs). Two compilations of the same source give the same hash.
 *
 * Every run journals its plan's hash as it starts. Stringifying a 100,000-step IR whole (~85 MB
 * of text, then its UTF-8 copy for the hash) is a few hundred MB at the peak of a large `orch run`
 * and a few percent of a 10,000-step one, so the text is not made twice: the journal, which writes
 * the IR out in pieces anyway, feeds the same pieces to `irHashing`, and a hash once taken is kept
 * with its IR object (an IR is never changed once built; a plan started again, or a sub-plan run
 * per item, is not serialized again).
 */
import { createHash } from 'node:crypto';

const taken = new WeakMap<object, string>();

export function irHash(ir: unknown): string {
  if (ir === null || typeof ir !== 'object') return irTextHash(JSON.stringify(ir));
  let hash = taken.get(ir);
  if (hash === undefined) taken.set(ir, (hash = irTextHash(JSON.stringify(ir))));
  return hash;
}

/**
 * The hash of `ir` from its JSON text given in consecutive pieces (exactly `JSON.stringify(ir)`
 * once joined), by a caller that writes that text anyway; `irHash(ir)` then answers from it.
 */
export function irHashing(ir: object): { update(piece: string): void; done(): string } {
  const h = createHash('sha256');
  return {
    update: (piece) => void h.update(piece),
    done: () => {
      const hash = h.digest('hex');
      taken.set(ir, hash);
      return hash;
    },
  };
}

/** The hash of an IR already in its JSON text form (a journal's recorded IR). */
export function irTextHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The short form shown in tables (like a git commit). */
export function shortHash(hash: string): string {
  return hash.slice(0, 12);
}
