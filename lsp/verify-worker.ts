/**
 * Worker thread that runs the verifier for `orch/verify`: exploring hundreds of simulated runs
 * takes seconds, during which the server keeps answering every other request.
 * Messages in: `{ id, entry, files, plan?, runs?, seed? }`; out: `{ id, result }` or `{ id, error }`.
 */
import { readFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { verifyDocument, type VerifyOptionsIn, type VerifyOutcome } from './features/verify.js';
import { bufferHost, serveWorker } from './worker-thread.js';

export interface VerifyRequest extends VerifyOptionsIn {
  readonly entry: string;
  readonly files: Readonly<Record<string, string>>;
}

if (parentPort) {
  serveWorker<VerifyRequest, VerifyOutcome>(parentPort, (req) =>
    verifyDocument(req.entry, bufferHost(req.files, (p) => readFileSync(p, 'utf8')), req),
  );
}
