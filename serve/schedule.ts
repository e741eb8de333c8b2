/**
 * Cron schedules for `schedule` triggers, on croner. Missed ticks are replayed only with
 * `--catch-up`, and then coalesced into one run (as systemd's `Persistent=true` does): a server
 * that was down for a week does not start a week of nightly runs at once.
 */
import { Cron } from 'croner';

/**
 * croner's options for a zone. UTC is a fixed offset: croner converts every candidate time
 * through Intl for a named zone, 40× slower, which a catch-up walking thousands of ticks feels.
 */
function zone(timezone: string | null): { readonly timezone?: string; readonly utcOffset?: number } {
  if (!timezone) return {};
  return /^(Etc\/)?(UTC|GMT|Zulu|Universal)$|^UTC$/.test(timezone) ? { utcOffset: 0 } : { timezone };
}

export interface ScheduleHandle {
  stop(): void;
  nextRun(): Date | null;
}

/** Throws a one-line message when the pattern or the timezone is not valid. */
export function validateSchedule(cron: string, timezone: string | null): void {
  let job: Cron | undefined;
  try {
    job = new Cron(cron, { paused: true, ...(timezone ? { timezone } : {}) });
    job.nextRun();
  } catch (err) {
    throw new Error(`invalid schedule "${cron}"${timezone ? ` (timezone ${timezone})` : ''}: ${(err as Error).message}`);
  } finally {
    job?.stop();
  }
}

export function startSchedule(
  cron: string,
  timezone: string | null,
  onTick: (scheduledAt: Date) => void,
): ScheduleHandle {
  const options = { ...zone(timezone), catch: true };
  // croner reports when a callback actually ran; the input wants the tick it stands for, which
  // is the last scheduled time not after now (a timer may fire late on a busy machine).
  let expected: Date | null = null;
  const job = new Cron(cron, options, () => {
    const now = Date.now();
    let at = expected ?? new Date(now - (now % 1000));
    for (let next = job.nextRun(at); next && next.getTime() <= now; next = job.nextRun(at)) at = next;
    expected = job.nextRun(at);
    onTick(at);
  });
  expected = job.nextRun();
  return { stop: () => job.stop(), nextRun: () => job.nextRun() };
}

/**
 * How many ticks fell strictly after `since` and at or before `now` (counted up to `limit`), and
 * the first of them; a catch-up run stands for all of them.
 */
export function missedTicks(
  cron: string,
  timezone: string | null,
  since: Date,
  now: Date,
  limit = 10_000,
): { readonly count: number; readonly first: Date | null; readonly truncated: boolean } {
  const job = new Cron(cron, { paused: true, ...zone(timezone) });
  try {
    let count = 0;
    const first = job.nextRun(since);
    let cursor = first;
    while (cursor && cursor.getTime() <= now.getTime()) {
      count += 1;
      if (count >= limit) return { count, first, truncated: true };
      cursor = job.nextRun(cursor);
    }
    return { count, first: count > 0 ? first : null, truncated: false };
  } finally {
    job.stop();
  }
}
