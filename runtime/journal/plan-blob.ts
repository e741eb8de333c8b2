/**
 * A run's IR as the journal stores it (`run_plans.ir`): its JSON text, deflated. For a large plan
 * the text is written and compressed a slice at a time: JSON.stringify of a 100,000-step IR is an
 * 85 MB string, and deflating it first copied it into a buffer as large — the biggest allocation
 * of a large run's start, at the moment the compile's garbage was still around.
 */
import { createDeflateRaw } from 'node:zlib';

/** The stored form of an IR, ready for `SqliteJournal.registerRun`. */
export class DeflatedPlan {
  constructor(readonly bytes: Uint8Array) {}
}

/** Items of a top-level array per piece of text. */
const PER_PIECE = 500;

/** The IR's JSON text — exactly `JSON.stringify(ir)` — in pieces that split only top-level arrays. */
export function* jsonPieces(ir: object): Generator<string> {
  let first = true;
  yield '{';
  for (const key of Object.keys(ir)) {
    const value = (ir as Record<string, unknown>)[key];
    if (!Array.isArray(value)) {
      const text = JSON.stringify(value);
      if (text === undefined) continue; // as JSON.stringify leaves such a property out
      yield `${first ? '' : ','}${JSON.stringify(key)}:${text}`;
      first = false;
      continue;
    }
    yield `${first ? '' : ','}${JSON.stringify(key)}:[`;
    first = false;
    for (let i = 0; i < value.length; i += PER_PIECE) {
      const items = value.slice(i, i + PER_PIECE).map((v) => JSON.stringify(v) ?? 'null');
      yield `${i === 0 ? '' : ','}${items.join(',')}`;
    }
    yield ']';
  }
  yield '}';
}

/** Deflates the IR's JSON text (each piece through `redact`) as the journal stores it. */
export async function deflatePlan(ir: object, redact: (text: string) => string = (t) => t): Promise<DeflatedPlan> {
  const deflate = createDeflateRaw({ level: 1 });
  const out: Buffer[] = [];
  deflate.on('data', (b: Buffer) => out.push(b));
  const ended = new Promise<void>((resolve, reject) => {
    deflate.once('end', resolve);
    deflate.once('error', reject);
  });
  for (const piece of jsonPieces(ir))
    if (!deflate.write(redact(piece))) await new Promise((resolve) => deflate.once('drain', resolve));
  deflate.end();
  await ended;
  return new DeflatedPlan(Buffer.concat(out));
}
