/**
 * A run's plan IR as the journals store it: JSON, redacted, raw-deflated. A 100,000-step IR is
 * about 85 MB of JSON; stringifying it whole, then handing that string to `deflateRawSync`, holds
 * the string, its UTF-8 copy and the stringify buffers at once — a few hundred MB at the moment
 * the compiler's garbage is still on the heap, the peak of a large `orch run`. Here the JSON is
 * written value by value into a deflate stream, so no more than a small batch of it exists at a
 * time. The bytes inflate to exactly `JSON.stringify(ir)` (redacted). The run's version is taken
 * apart from this (`irHash` at `plan_created`, over the IR without its file's name): its text differs.
 */
import { once } from 'node:events';
import { createDeflateRaw, deflateRawSync, inflateRawSync } from 'node:zlib';
import { jsonPieces } from '../../compiler/index.js';
import { JournalCorrupt, reason } from '../journal-corrupt.js';

export { jsonPieces };

/** Pieces joined into batches of about `size` characters (fewer, larger writes). */
function* batches(pieces: Iterable<string>, size = 64 * 1024): Generator<string> {
  let batch = '';
  for (const p of pieces) {
    batch += p;
    if (batch.length >= size) {
      yield batch;
      batch = '';
    }
  }
  if (batch) yield batch;
}

/** The redaction of a journal that has nothing to hide: its blobs of one IR are all the same. */
export const keepText = (text: string): string => text;

/**
 * Each IR object's blob, made without redaction (`keepText`): an IR is never changed once built,
 * so a plan started again (`orch serve`, a runtime running one plan many times) stores the bytes
 * it stored before instead of writing its whole JSON out again — ~60 ms of the scheduler's
 * thread for a 10,000-step plan, as much as a few hundred steps. Kept as long as its IR is.
 */
const made = new WeakMap<object, Promise<Buffer>>();

/**
 * The stored form of an IR; none (null) for a sub-plan run, whose parent's IR holds it. `redact`
 * runs on each batch: a secret value sits inside a JSON string, and a batch boundary never falls
 * inside one (pieces are whole values, keys or punctuation).
 */
export function irBlob(ir: unknown, redact: (text: string) => string): Promise<Buffer | null> {
  if (ir === null || ir === undefined) return Promise.resolve(null);
  if (redact !== keepText || typeof ir !== 'object') return deflated(ir, redact);
  let blob = made.get(ir);
  if (blob === undefined) {
    blob = deflated(ir, redact);
    made.set(ir, blob);
    // A failed write is not kept: the next run tries again.
    blob.catch(() => made.delete(ir));
  }
  return blob;
}

async function deflated(ir: unknown, redact: (text: string) => string): Promise<Buffer> {
  const all = batches(jsonPieces(ir));
  const first = all.next();
  const second = first.done ? first : all.next();
  // One batch (an IR under 64 KB of JSON, the common case): deflated at once on this thread. A
  // trip through the thread pool and back cost a run's start more than the deflate itself, and
  // on a loaded machine that trip was the tail of `when` trigger → run started.
  if (second.done) return deflateRawSync(redact(first.done ? '' : first.value), { level: 1 });
  const z = createDeflateRaw({ level: 1 });
  const out: Buffer[] = [];
  z.on('data', (b: Buffer) => out.push(b));
  const ended = once(z, 'end');
  for (const batch of resumed([first.value as string, second.value], all)) {
    if (!z.write(redact(batch))) await once(z, 'drain');
  }
  z.end();
  await ended;
  return Buffer.concat(out);
}

/** The batches already taken, then the rest of the generator, one at a time. */
function* resumed<T>(taken: readonly T[], rest: Iterator<T>): Generator<T> {
  yield* taken;
  for (let r = rest.next(); !r.done; r = rest.next()) yield r.value;
}

/** `irBlob` for synchronous callers (small IRs: tests, tools). */
export function irBlobSync(ir: unknown, redact: (text: string) => string): Buffer | null {
  if (ir === null || ir === undefined) return null;
  return deflateRawSync(redact(JSON.stringify(ir)), { level: 1 });
}

/** The IR text of a stored blob; bytes that do not inflate are `JournalCorrupt`, naming the run. */
export function inflatedIr(runId: string, blob: Uint8Array): string {
  try {
    return inflateRawSync(blob).toString('utf8');
  } catch (err) {
    throw new JournalCorrupt(runId, 'its plan IR', `does not inflate (${reason(err)})`);
  }
}
