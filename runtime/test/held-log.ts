/**
 * What the `held` test handlers of the partition and nemesis tests record: a JSON line per start
 * and end of each execution (`aborted` when its ctx.signal ended it), with the pid running it.
 */
import { existsSync, readFileSync } from 'node:fs';

export interface HeldLine {
  pid: number;
  step: string;
  attempt: number;
  phase: 'start' | 'end' | 'aborted';
  t: number;
}

/** The lines of `file`, in the order written (none before the first is written). */
export const readHeldLines = (file: string): HeldLine[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as HeldLine)
    : [];
