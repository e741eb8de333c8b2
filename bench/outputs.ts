/**
 * The cost of the output hardening: converting a handler output to bounded JSON text in the
 * worker (`toJsonOutput`, instead of handing the object to structured cloning) and redacting
 * journal events by walking values (`Redactor.value`).
 */
import { DEFAULT_MAX_OUTPUT_BYTES, Redactor, toJsonOutput } from '../runtime/index.js';
import { smoke, type BenchFigure } from './figure.js';

/** ~1 MiB of typical output: records of strings and numbers. */
function output(): unknown {
  return {
    items: Array.from({ length: smoke(8000, 100) }, (_, i) => ({ id: i, name: `item-${i}`, tags: ['a', 'b', 'c'], score: i / 7, note: 'x'.repeat(60) })),
  };
}

/** A journal-event-like batch: step events with small outputs. */
function events(n: number): unknown[] {
  return Array.from({ length: n }, (_, i) => ({
    runId: 'r',
    seq: i,
    type: 'step_completed',
    data: { attempt: 1, duration: 12, output: { value: i, text: `result ${i} for user`, list: [1, 2, 3] } },
  }));
}

/** Calls of `f` per second over at least `minMs` (once in smoke mode). */
function perSecond(f: () => void, minMs = smoke(500, 0)): number {
  let n = 0;
  const t0 = performance.now();
  do {
    f();
    n++;
  } while (performance.now() - t0 < minMs);
  return n / ((performance.now() - t0) / 1000);
}

export async function bench(): Promise<readonly BenchFigure[]> {
  const out = output();
  const bytes = Buffer.byteLength(JSON.stringify(out));
  const convert = perSecond(() => {
    const r = toJsonOutput(out, DEFAULT_MAX_OUTPUT_BYTES * 4);
    if (!r.ok) throw new Error(r.error);
  });
  const stringify = perSecond(() => JSON.stringify(out));
  const batch = events(smoke(1000, 10));
  const redactor = new Redactor();
  for (const s of ['tok-0123456789abcdef', 'hunter2-password', 'AKIAEXAMPLEKEY', '1', 'run']) redactor.add(s);
  const redact = perSecond(() => redactor.value(batch));
  return [
    { name: `handler output → checked JSON text (${(bytes / 1048576).toFixed(2)} MiB output)`, value: (convert * bytes) / 1048576, unit: 'MiB/s', target: '', met: true },
    { name: 'same output, plain JSON.stringify (for comparison)', value: (stringify * bytes) / 1048576, unit: 'MiB/s', target: '', met: true },
    { name: 'structural redaction of journal events (5 secrets)', value: redact * batch.length, unit: 'events/s', target: '≥ 100,000 events/s', met: redact * batch.length >= 100_000 },
  ];
}
