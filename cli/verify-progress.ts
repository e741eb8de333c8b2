/**
 * What `orch verify` shows while it searches, in a terminal only: one line redrawn in place (the
 * plan, the current search's scenarios against the runs asked, invariants violated so far),
 * erased before the result prints. Outside a terminal nothing: CI logs and `--format json` pipes
 * get the result alone.
 */
import type { VerifyProgress } from '../verify/index.js';

/** How often the line may be redrawn: more often is flicker and writes, not information. */
const REDRAW_MS = 100;

export interface SearchProgress {
  readonly onProgress: (p: VerifyProgress) => void;
  /** Erases the line; call before printing the result (or an error). */
  stop(): void;
}

export function searchProgress(stream: NodeJS.WriteStream, now: () => number = Date.now): SearchProgress {
  if (stream.isTTY !== true) return { onProgress() {}, stop() {} };
  let drawn = false;
  let last = -Infinity;
  const n = (x: number) => x.toLocaleString('en-US');
  return {
    onProgress(p) {
      const t = now();
      if (t - last < REDRAW_MS) return;
      last = t;
      const found = p.violations === 0 ? '' : ` · ${n(p.violations)} violated, searching for the others`;
      stream.write(`\r\x1b[2Kverifying ${p.plan}: ${n(p.explored)}/${n(p.runs)} scenarios${found}`);
      drawn = true;
    },
    stop() {
      if (drawn) stream.write('\r\x1b[2K');
      drawn = false;
    },
  };
}
