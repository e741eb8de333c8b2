/**
 * What the `held` test handlers of the partition and nemesis tests record: a JSON line per start
 * and end of each execution (`aborted` when its ctx.signal ended it), with the pid running it.
 */
import { existsSync, readFileSync } from 'node:fs';

/**
 * The `held` handler module: sleeps `input.ms` (cut short by ctx.signal) and appends a line to
 * `input.log` at its start and end.
 */
export const HELD_HANDLER = `
import { appendFileSync } from 'node:fs';
const line = (input, ctx, phase) =>
  appendFileSync(input.log, JSON.stringify({ pid: process.pid, step: ctx.stepId, attempt: ctx.attempt, phase, t: Date.now() }) + '\\n');
export async function held(input, ctx) {
  line(input, ctx, 'start');
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, input.ms);
    ctx.signal?.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });
  line(input, ctx, ctx.signal?.aborted ? 'aborted' : 'end');
  return { done: true };
}
`;

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
