/**
 * One notification channel of a listener connection, LISTENed to only while its process wants it
 * (a worker's `orch_dispatch` and `orch_abandon`, worker.ts; an owner's `orch_attempt`,
 * remote-executor.ts): Postgres has every listening backend run a transaction for every NOTIFY of
 * the database, whatever its channel, so a process listens no longer than it must.
 * At most one LISTEN/UNLISTEN is in flight; once it lands, what the worker wants is asked again.
 */
import type pg from 'pg';

export class ListenSwitch {
  private on = false;
  private switching = false;

  constructor(
    /** The listener connection, or null once it is gone (then nothing switches). */
    private readonly client: () => pg.Client | null,
    private readonly channel: string,
    /** Whether to listen now, given whether it listens. */
    private readonly want: (listening: boolean) => boolean,
    /** Called each time a LISTEN lands. */
    private readonly onListening: () => void = () => {},
  ) {}

  get listening(): boolean {
    return this.on;
  }

  /** The connection LISTENs already (it did so as it was opened). */
  listened(): void {
    this.on = true;
  }

  tune(): void {
    const client = this.client();
    if (client === null || this.switching) return;
    const want = this.want(this.on);
    if (want === this.on) return;
    this.switching = true;
    client.query(want ? `LISTEN ${this.channel}` : `UNLISTEN ${this.channel}`).then(
      () => {
        this.switching = false;
        this.on = want;
        if (want) this.onListening();
        this.tune();
      },
      () => {
        // The connection is broken: the worker goes on without the channel.
        this.switching = false;
      },
    );
  }
}
